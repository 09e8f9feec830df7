/** The pieces `npm start` reports with: busy ports and who holds them, member log levels, how a process stopped. */
import { expect } from 'chai';
import net from 'node:net';
import { MemberLogLevels } from '../../local/hazelcast.js';
import { portHolder } from '../../local/ports.js';
import { LocalSystem, PortsBusyError, stopDetail } from '../../local/system.js';
import { freePorts } from '../support/ports.js';

describe('npm start: its checks and reports', () => {
  it('names the busy port, the component that wanted it and the process holding it, in one line', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as net.AddressInfo).port;
    const free = await freePorts(11);
    try {
      const system = new LocalSystem({
        runDir: '/nonexistent',
        ports: {
          facade: free[0]!, messages: free[1]!, configServer: taken,
          logging: free.slice(2, 5), members: free.slice(5, 8), memberMetrics: free.slice(8, 11),
        },
      });
      const err = await system.checkPorts().then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(PortsBusyError);
      const message = (err as Error).message;
      expect(message).to.not.include('\n');
      expect(message).to.match(new RegExp(`^port ${taken} \\(config-server\\) is in use`));
      if (process.platform === 'linux') expect(message).to.include(`by pid ${process.pid} (node `);
      expect(message).to.include('Is the lab already running?');
    } finally {
      server.close();
    }
  });

  it('finds the holder of a listening port through /proc, and nobody for a free one', async function () {
    if (process.platform !== 'linux') this.skip();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(portHolder(port)).to.match(new RegExp(`^pid ${process.pid} \\(node .*mocha`));
    } finally {
      server.close();
    }
    const [free] = await freePorts(1);
    expect(portHolder(free!)).to.equal(undefined);
  });

  it('sorts member output by the level of the record each line belongs to', () => {
    const levels = new MemberLogLevels();
    const lines: [string, boolean][] = [
      ['OpenJDK 64-Bit Server VM warning: something before any record', true],
      ['13:36:07.326 INFO com.hazelcast.system.logo [127.0.0.1]:5701 [lab] [5.5.0] ', false],
      ['    o    o     o     o---o   o--o o      o---o', false],
      ['13:36:08.001 WARNING com.hazelcast.cluster [127.0.0.1]:5701 [lab] [5.5.0] member gone', true],
      ['\tat com.hazelcast.Something.run(Something.java:1)', true],
      ['13:36:08.002 INFO com.hazelcast.system [127.0.0.1]:5701 [lab] [5.5.0] Cluster name: lab', false],
      ['13:36:09.000 SEVERE com.hazelcast.instance [127.0.0.1]:5701 [lab] [5.5.0] java.lang.OutOfMemoryError', true],
    ];
    for (const [line, shown] of lines) expect(levels.isWarningOrWorse('hz-1', line), line).to.equal(shown);
    // Each member has its own current record.
    expect(levels.isWarningOrWorse('hz-2', '    o    o')).to.equal(true);
  });

  it('says "stopped" for a process that ended as asked, and why for one that did not', () => {
    for (const asked of [0, 143, 'SIGTERM', 'SIGINT']) expect(stopDetail(asked)).to.equal(undefined);
    expect(stopDetail('SIGKILL')).to.match(/killed/);
    expect(stopDetail(1)).to.equal('exit 1');
  });
});
