/**
 * Pods that really run: a control plane and a single node on this machine (local/kube), the images
 * made here (the lab image from the unchanged Dockerfile), the chart installed with --wait into a
 * namespace that enforces the restricted profile, `helm test`, and the lab's five steps through
 * `kubectl port-forward` with `npm run scenario -- --kubernetes` (this test plays the person who
 * runs the kubectl deletes it asks for). Also: the guard that keeps pod traffic on the machine.
 * Needs root and Debian's containerd, runc, CNI plugins, iptables, buildah and debootstrap.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { REPO_ROOT } from '../../local/repo.js';
import { missingControlPlaneTools, missingNodeTools } from '../../local/kube/binaries.js';
import { startLocalKube, type LocalKube } from '../../local/kube/cluster.js';
import type { ControlPlane } from '../../local/kube/control-plane.js';
import { guardCounters } from '../../local/kube/node.js';
import type { ClusterView } from '../../services/facade/cluster-view.js';
import { CHART_DIR, findHelm } from '../chart/support/helm.js';
import { eventually } from '../support/eventually.js';
import { missingTool } from '../support/tools.js';
import { describeLoad, paceWrites } from './support/load.js';
import { forwardFacade, helmOk } from './support/cluster.js';
import { scenarioAsOperator } from './support/scenario.js';

/** A Pod as kubectl prints it: the fields these tests read. */
interface Pod {
  metadata: { name: string };
  status: { phase: string; podIP: string; conditions: { type: string; status: string }[] };
}

const NS = 'lab';

describe('the chart on a real node: pods running', function () {
  this.timeout(40 * 60_000);
  let kube: LocalKube | undefined;
  let plane: ControlPlane | undefined;
  let helmBinary: string;
  let forward: ChildProcess | undefined;
  let facade = '';

  const kubectl = (...args: string[]) => plane!.kubectl(args);
  const helm = (...args: string[]) => helmOk(helmBinary, plane!.env(), ...args);

  before(async function () {
    const missing = [...missingControlPlaneTools(), ...missingNodeTools()];
    const h = findHelm();
    if (!h) missing.push('helm v3');
    if (missing.length > 0) missingTool(this, 'node tests', `missing: ${missing.join('; ')}`);
    helmBinary = h!;
    kube = await startLocalKube('node', (line) => process.stderr.write(`      ${line}\n`));
    plane = kube.plane;
    await kubectl('create', 'namespace', NS);
    await kubectl('label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted');
  });
  after(async () => {
    forward?.kill();
    await kube?.stop();
  });

  it('installs the chart with --wait: every pod of the release Running and Ready on the node', async () => {
    const { stderr } = await helm('install', 'lab', CHART_DIR, '-n', NS, '--wait', '--timeout', '6m');
    expect(stderr).to.not.match(/PodSecurity|would violate/);
    const pods = JSON.parse((await kubectl('get', 'pods', '-n', NS, '-o', 'json')).stdout).items as Pod[];
    expect(pods).to.have.length(9);
    for (const p of pods) {
      expect(p.status.phase, p.metadata.name).to.equal('Running');
      expect(p.status.conditions.find((c) => c.type === 'Ready')?.status, p.metadata.name).to.equal('True');
      expect(p.status.podIP, p.metadata.name).to.match(/^10\.244\.0\.\d+$/);
    }
  });

  it('passes helm test (the lab image posts through the facade, reads back, counts the members)', async () => {
    const { stdout } = await helm('test', 'lab', '-n', NS, '--timeout', '3m');
    expect(stdout).to.match(/TEST SUITE:\s+lab-test[\s\S]*Phase:\s+Succeeded/);
  });

  it('has members that found each other by DNS, and a config-server that lists one URL per logging pod', async () => {
    ({ forward, facade } = await forwardFacade(plane!.env(), NS));
    const view = (await (await fetch(`${facade}/facade/cluster`)).json()) as ClusterView;
    expect(view.hazelcast?.clusterSize).to.equal(3);
    const loggingPods = await kubectl('get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=logging', '-o', 'json');
    const podIps = (JSON.parse(loggingPods.stdout).items as Pod[]).map((p) => `http://${p.status.podIP}:8081/logging`).sort();
    expect(view.registry.find((e) => e.name === 'logging-service')?.instances.map((i) => i.url).sort()).to.deep.equal(podIps);
  });

  it("shows each member's heap, which logging reads from the exporter the image's hz start runs with the chart's rules", async () => {
    await eventually(async () => {
      const view = (await (await fetch(`${facade}/facade/cluster`)).json()) as ClusterView;
      const views = view.hazelcast?.memberViews ?? [];
      expect(views, JSON.stringify(views)).to.have.length(3);
      for (const v of views) {
        expect(v.heapMaxBytes, v.address).to.be.greaterThan(64 * 1024 * 1024);
        expect(v.heapUsedBytes, v.address).to.be.greaterThan(1024 * 1024).and.lessThan(v.heapMaxBytes!);
      }
    }, { timeoutMs: 60_000, intervalMs: 2_000 });
  });

  it('rolls the members one at a time under a paced write load (helm upgrade), losing no acknowledged message', async () => {
    const load = paceWrites(facade, 'roll');
    const before = JSON.parse((await kubectl('get', 'statefulset', 'lab-hazelcast', '-n', NS, '-o', 'json')).stdout).status.updateRevision;
    const rollStart = Date.now();
    // A member configuration change: its checksum rolls the StatefulSet, one member at a time.
    await helm('upgrade', 'lab', CHART_DIR, '-n', NS, '--reset-then-reuse-values', '--set', 'hazelcast.maxNoHeartbeatSeconds=25');
    await kubectl('rollout', 'status', '-n', NS, 'statefulset/lab-hazelcast', '--timeout=10m');
    const sts = JSON.parse((await kubectl('get', 'statefulset', 'lab-hazelcast', '-n', NS, '-o', 'json')).stdout);
    expect(sts.status.updateRevision).to.not.equal(before);
    expect(sts.status.updatedReplicas).to.equal(3);
    await new Promise((r) => setTimeout(r, 3_000));
    const figures = await load.stop();
    const rollSeconds = Math.round((Date.now() - rollStart) / 1000);
    const stored = new Set(((await (await fetch(`${facade}/facade/messages`)).json()) as { messages: { uuid: string }[] }).messages.map((m) => m.uuid));
    const acked = figures.acked;
    process.stderr.write(`      members rolled in ${rollSeconds} s; ${describeLoad(figures)}, lost ${acked.filter((u) => !stored.has(u)).length}\n`);
    expect(acked.length, 'writes acknowledged during the roll').to.be.greaterThan(200);
    expect(acked.filter((u) => !stored.has(u)), 'acknowledged but lost').to.deep.equal([]);
    expect(figures.failed, 'writes refused during the roll').to.equal(0);
  });

  it("passes the lab's five steps through port-forward, deleting a member pod and a logging pod twice", async () => {
    // The person at the keyboard: each kubectl delete the scenario asks for is run.
    const { code, stdout, asked } = await scenarioAsOperator(facade, NS, plane!.env());
    mkdirSync(join(REPO_ROOT, '.run'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.run', 'scenario-kubernetes.txt'), stdout);
    expect(code, stdout).to.equal(0);
    expect(stdout).to.include('Result: all 5 steps passed.');
    expect(asked).to.have.length(4);
  });

  it('keeps pod traffic on the machine: a packet from a pod to an outside address is dropped before it leaves', async () => {
    const before = guardCounters();
    const pod = JSON.parse((await kubectl('get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=messages', '-o', 'json')).stdout).items[0].metadata.name;
    // TEST-NET-3: an address that exists nowhere; the guard must drop it on the way out.
    const attempt = await kubectl('exec', '-n', NS, pod, '--', 'node', '-e',
      "require('net').connect({host:'203.0.113.7',port:80,timeout:2000}).on('error',e=>{console.log(e.code);process.exit(0)}).on('timeout',()=>{console.log('TIMEOUT');process.exit(0)}).on('connect',()=>{console.log('CONNECTED');process.exit(1)})");
    expect(attempt.stdout.trim()).to.equal('TIMEOUT');
    const after = guardCounters();
    expect(after[1]! - before[1]!, 'dropped by "pods never leave the machine"').to.be.greaterThan(0);
  });
});
