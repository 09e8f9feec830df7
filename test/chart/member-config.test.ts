/**
 * The chart's own hazelcast.yaml boots a real member of the pinned version: the ConfigMap as
 * rendered, with only discovery switched from Kubernetes DNS to TCP-IP on loopback (onLoopback).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HAZELCAST_VERSION, ensureHazelcastJar, memberHealth, startMember } from '../../local/hazelcast.js';
import { ManagedProcess, probeHttp, waitFor } from '../../local/processes.js';
import { freePorts } from '../support/ports.js';
import { helmTemplate, requireHelm } from './support/helm.js';
import { onLoopback } from './support/member.js';

describe(`the chart's hazelcast.yaml on a real Hazelcast ${HAZELCAST_VERSION} member`, function () {
  let dir: string;
  let jar: string;
  let configText: string;
  const started: ManagedProcess[] = [];

  before(async function () {
    const helm = requireHelm(this);
    jar = ensureHazelcastJar();
    dir = mkdtempSync(join(tmpdir(), 'lab-member-config-'));
    const { objects } = await helmTemplate(helm);
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'hazelcast');
    configText = configMap!.data['hazelcast.yaml'];
  });

  after(async () => {
    await Promise.all(started.map((m) => m.stop(10_000)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a member on a free loopback port with the configuration `configFor(port)` gives. */
  const boot = async (name: string, configFor: (port: number) => string) => {
    const [port] = await freePorts(1);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, configFor(port!));
    const member = startMember({ name, port: port!, members: [`127.0.0.1:${port!}`], clusterName: 'unused', mapName: 'unused', jar, configFile: file, heapMb: 128 });
    started.push(member);
    return { member, port: port! };
  };

  it('starts with it, reports ready on /hazelcast/health/ready, and runs the cluster the chart names', async () => {
    const { member, port } = await boot('chart-member', (p) => onLoopback(configText, p));
    await waitFor(member, '/hazelcast/health/ready to answer 200', async () => ((await probeHttp(`http://127.0.0.1:${port}/hazelcast/health/ready`)).status === 200 ? true : undefined), 90_000, 250);
    const health = await memberHealth(`127.0.0.1:${port}`);
    expect(health).to.include({ nodeState: 'ACTIVE', clusterState: 'ACTIVE', clusterSize: 1 });
    expect(member.logTail(200).join('\n')).to.match(/\[lab\] \[/).and.to.include(`${HAZELCAST_VERSION}`);
  });

  it('refuses a configuration with a misspelled key (so the boot above is a real check of the keys)', async () => {
    const { member } = await boot('misspelled-member', (p) => onLoopback(configText, p).replace('backup-count: 2', 'backup-cnt: 2'));
    const status = await Promise.race([member.exited, new Promise((r) => setTimeout(r, 60_000, 'still running'))]);
    expect(status, member.logTail(5).join('\n')).to.not.equal(0).and.to.not.equal('still running');
    expect(member.logTail(200).join('\n')).to.include('backup-cnt');
  });
});
