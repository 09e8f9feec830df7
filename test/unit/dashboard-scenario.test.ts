/** The pure parts of `npm run scenario`: options, the commands it prints, finding listeners, the report. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { table } from '../../local/console.js';
import { renderReport, type LabReport } from '../../drills/lab-report.js';
import { isAlive, listenersOn, listeningInodes } from '../../local/listeners.js';
import { UsageError, isLoopback, kubectlCommands, localKillCommands, parseScenarioArgs } from '../../drills/scenario.js';
import { splitAddress } from '../../local/ports.js';

describe('scenario', () => {
  describe('options', () => {
    it('defaults to finding or starting a local system', () => {
      expect(parseScenarioArgs([])).to.deep.equal({
        facade: undefined,
        kubernetes: false,
        namespace: undefined,
        ownSystem: false,
        freePorts: false,
        waitTimeoutMs: 600_000,
        help: false,
      });
    });

    it('takes a facade URL, Kubernetes mode and a namespace', () => {
      const a = parseScenarioArgs(['--facade', 'http://127.0.0.1:8080/', '--kubernetes', '--namespace', 'lab', '--wait-timeout', '30']);
      expect(a).to.include({ facade: 'http://127.0.0.1:8080', kubernetes: true, namespace: 'lab', waitTimeoutMs: 30_000 });
    });

    const bad: [string, string[]][] = [
      ['an unknown option', ['--bogus']],
      ['a facade that is not a URL', ['--facade', 'localhost:8080']],
      ['a namespace that could inject a command', ['--namespace', 'lab;rm -rf /']],
      ['--own-system with --facade', ['--own-system', '--facade', 'http://x:1']],
      ['--free-ports alone', ['--free-ports']],
      ['a zero wait', ['--wait-timeout', '0']],
    ];
    for (const [what, argv] of bad) it(`rejects ${what}`, () => expect(() => parseScenarioArgs(argv)).to.throw(UsageError));

    it('exits 2 with the usage on a bad option, without starting anything', () => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/drills/scenario.js'), '--bogus'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).to.equal(2);
      expect(r.stderr).to.include('usage: npm run scenario');
    });
  });

  describe('stopping by hand', () => {
    const target = { logging: 'http://10.244.1.5:8081/logging', member: { address: '10.244.2.7:5701', uuid: 'u' } };

    it('prints kubectl commands that find each pod by its IP', () => {
      expect(kubectlCommands(target, 'lab')).to.deep.equal([
        'kubectl -n lab delete --wait=false $(kubectl -n lab get pod -o name --field-selector status.podIP=10.244.1.5)',
        'kubectl -n lab delete --wait=false $(kubectl -n lab get pod -o name --field-selector status.podIP=10.244.2.7)',
      ]);
      expect(kubectlCommands({ logging: 'http://[fd00::5]:8081/logging', member: { address: '[fd00::7]:5701', uuid: 'u' } })[1]).to.equal(
        'kubectl delete --wait=false $(kubectl get pod -o name --field-selector status.podIP=fd00::7)',
      );
    });

    it('prints local kill commands by port', () => {
      expect(localKillCommands(target)).to.deep.equal(['kill -9 $(lsof -t -iTCP:8081 -sTCP:LISTEN)', 'kill -9 $(lsof -t -iTCP:5701 -sTCP:LISTEN)']);
    });

    it('splits addresses and knows loopback hosts', () => {
      expect(splitAddress('127.0.0.1:5701')).to.deep.equal({ host: '127.0.0.1', port: 5701 });
      expect(splitAddress('[::1]:5702')).to.deep.equal({ host: '::1', port: 5702 });
      expect(['127.0.0.1', 'localhost', '::1'].every(isLoopback)).to.equal(true);
      expect(isLoopback('10.0.0.1')).to.equal(false);
    });
  });

  describe('finding the process on a port', () => {
    it('reads listening sockets from a /proc/net/tcp table', () => {
      const tableText = [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0',
        '   1: 0100007F:1F91 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0',
        '   2: 00000000:1F93 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0 100 0 0 10 0',
      ].join('\n');
      expect(listeningInodes(tableText, 8081)).to.deep.equal(['4242']); // the established connection is not a listener
      expect(listeningInodes(tableText, 8083)).to.deep.equal(['4444']);
      expect(listeningInodes(tableText, 9999)).to.deep.equal([]);
    });

    it('finds this very process listening on a port', async function () {
      const server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const found = listenersOn((server.address() as net.AddressInfo).port);
        if (found === undefined) this.skip();
        expect(found!.map((l) => l.pid)).to.deep.equal([process.pid]);
        expect(found![0]!.command).to.include('mocha');
        expect(isAlive(process.pid)).to.equal(true);
      } finally {
        server.close();
      }
    });
  });

  describe('report', () => {
    it('aligns tables, numbers to the right', () => {
      expect(table(['name', 'n'], [['a', 1], ['long name', 10]], '')).to.deep.equal(['name        n', '─────────  ──', 'a           1', 'long name  10']);
    });

    it('says which step failed and why, and that not all passed', () => {
      const report: LabReport = {
        startedAt: new Date('2026-01-02T03:04:05Z'),
        facadeUrl: 'http://127.0.0.1:8080',
        mode: 'test',
        runId: 'scenario-abc',
        steps: [
          { n: 1, title: 'up', ok: true, lines: ['   fine'], ms: 100 },
          { n: 2, title: 'posted', ok: false, lines: [], error: 'not stored: msg3: 503', ms: 2500 },
        ],
        ok: false,
      };
      const text = renderReport(report);
      expect(text).to.include('when      2026-01-02 03:04:05 UTC');
      expect(text).to.include('Step 1  ✔ PASS  up  (0.1 s)');
      expect(text).to.include('Step 2  ✘ FAIL  posted  (2.5 s)\n   failed: not stored: msg3: 503');
      expect(text).to.include('Result: 1 of 5 steps passed.');
      expect(text).not.to.include('\x1b[');
    });
  });
});
