/**
 * The chart on three nodes (`npm run kube -- up --nodes 3`: local/kube/nodes.ts), each a network
 * namespace with its own containerd, kubelet, kube-proxy and kube-router, whose firewall enforces
 * NetworkPolicies. What only several nodes can show:
 *  - the members spread one per node, and so do the logging pods;
 *  - the chart's NetworkPolicies hold, tried from inside real pods across nodes: who may open the
 *    members' cluster port and exporter port, the metrics scraper's reach, and egress locked to
 *    the release and DNS;
 *  - the lab's five steps through `kubectl port-forward`;
 *  - `kubectl drain` of a member's node under a write load: the PDB holds, nothing fails or is lost;
 *  - a whole node lost at once under a write load: writes go on, nothing acknowledged is lost,
 *    and the operator's out-of-service taint brings a replacement member;
 *  - no pod packet leaves the machine.
 * Needs root, the node suite's tools, nsenter and ipset (missingNodesTools).
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { missingControlPlaneTools, missingNodesTools } from '../../local/kube/binaries.js';
import { startLocalKube, type LocalKube } from '../../local/kube/cluster.js';
import type { ControlPlane } from '../../local/kube/control-plane.js';
import { labImage } from '../../local/kube/images.js';
import { HOST_IP, nodesGuardCounters } from '../../local/kube/nodes.js';
import { CHART_DIR, findHelm } from '../chart/support/helm.js';
import { eventually } from '../support/eventually.js';
import { missingTool } from '../support/tools.js';
import { describeLoad, paceWrites } from './support/load.js';
import { forwardFacade, helmOk, memAvailableBytes, restingCost } from './support/cluster.js';
import { scenarioAsOperator } from './support/scenario.js';

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: { nodeName: string };
  status: { podIP: string; conditions?: { type: string; status: string }[] };
}

const NS = 'lab';
const NODES = 3;
const PORTS = { facade: 8080, logging: 8081, messages: 8082, configServer: 8888, member: 5701, exporter: 8090 };

/** Run in a pod: connects to argv host:port and prints `open`, or why not (a policy rejects: ECONNREFUSED, or drops: timeout). */
const CONNECT = "const s=require('net').connect(+process.argv[2],process.argv[1]);s.setTimeout(3000);"
  + "s.on('connect',()=>{console.log('open');process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})";

/** A pod of the lab image outside the release, serving a TCP port, with the labels given (restricted profile). */
function probePod(name: string, labels: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'probe',
        image: labImage(),
        imagePullPolicy: 'IfNotPresent',
        command: ['node', '-e', "require('net').createServer((s)=>s.end('hi')).listen(9000)"],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
      }],
    },
  });
}

describe('the chart on three nodes, with NetworkPolicies enforced', function () {
  this.timeout(40 * 60_000);
  let kube: LocalKube | undefined;
  let plane: ControlPlane | undefined;
  let helmBinary: string;
  let forward: ChildProcess | undefined;
  let facade = '';
  let memAvailableBefore = 0;

  const kubectl = (...args: string[]) => plane!.kubectl(args);
  const helm = (...args: string[]) => helmOk(helmBinary, plane!.env(), ...args);

  const pods = async (selector: string): Promise<Pod[]> =>
    JSON.parse((await kubectl('get', 'pods', '-n', NS, '-l', selector, '-o', 'json')).stdout).items as Pod[];
  const component = (c: string) => pods(`app.kubernetes.io/component=${c}`);
  /** What a connection from pod `from` to host:port comes to: `open`, or the error code. */
  const connect = async (from: string, host: string, port: number) =>
    (await kubectl('exec', '-n', NS, from, '--', 'node', '-e', CONNECT, host, String(port))).stdout.trim();

  before(async function () {
    const missing = [...missingControlPlaneTools(), ...missingNodesTools()];
    const h = findHelm();
    if (!h) missing.push('helm v3');
    if (missing.length > 0) missingTool(this, 'three-node tests', `missing: ${missing.join('; ')}`);
    helmBinary = h!;
    memAvailableBefore = memAvailableBytes();
    const t0 = Date.now();
    kube = await startLocalKube({ nodes: NODES }, (line) => process.stderr.write(`      ${line}\n`));
    process.stderr.write(`      ${NODES} nodes Ready in ${Math.round((Date.now() - t0) / 1000)} s (image build included)\n`);
    plane = kube.plane;
    await kubectl('create', 'namespace', NS);
    await kubectl('label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted');
  });
  after(async () => {
    forward?.kill();
    await kube?.stop();
  });

  it('installs the chart with --wait: the three members on three nodes, and the three logging pods too', async () => {
    const t0 = Date.now();
    await helm('install', 'lab', CHART_DIR, '-n', NS, '--wait', '--timeout', '8m');
    process.stderr.write(`      helm install --wait on ${NODES} nodes: ${Math.round((Date.now() - t0) / 1000)} s\n`);
    for (const c of ['hazelcast', 'logging']) {
      const nodes = (await component(c)).map((p) => p.spec.nodeName);
      expect(nodes, c).to.have.length(3);
      expect(new Set(nodes).size, `${c} pods' nodes: ${nodes.join(', ')}`).to.equal(3);
    }
    const { stdout } = await helm('test', 'lab', '-n', NS, '--timeout', '3m');
    expect(stdout).to.match(/Phase:\s+Succeeded/);
    // A figure for the docs, not a check: what the control plane, the nodes and the release cost at rest.
    await new Promise((r) => setTimeout(r, 10_000));
    process.stderr.write(`      ${await restingCost(20_000, kube!.nodes!.cgroupRoots, memAvailableBefore)}\n`);
  });

  it("lets only logging (and members) open the members' cluster port; the facade and a pod of no component cannot", async () => {
    await plane!.kubectl(['apply', '-f', '-'], probePod('probe', { app: 'probe' }));
    await kubectl('wait', '-n', NS, '--for=condition=Ready', 'pod/probe', '--timeout=120s');
    const members = await component('hazelcast');
    const [facade] = await component('facade');
    for (const logging of await component('logging')) {
      for (const m of members) expect(await connect(logging.metadata.name, m.status.podIP, PORTS.member), `${logging.spec.nodeName} → ${m.spec.nodeName}`).to.equal('open');
    }
    for (const m of members) {
      expect(await connect(facade!.metadata.name, m.status.podIP, PORTS.member), `facade → ${m.metadata.name}`).to.not.equal('open');
      expect(await connect('probe', m.status.podIP, PORTS.member), `probe → ${m.metadata.name}`).to.not.equal('open');
      expect(await connect('probe', m.status.podIP, PORTS.exporter), `probe → ${m.metadata.name}'s exporter`).to.not.equal('open');
    }
    const [logging] = await component('logging');
    expect(await connect('probe', logging!.status.podIP, PORTS.logging), 'probe → logging').to.not.equal('open');
    expect(await connect('probe', facade!.status.podIP, PORTS.facade), 'probe → facade (open to anyone)').to.equal('open');
  });

  it('lets the configured metrics scraper reach every metrics port, and no other pod', async () => {
    await helm('upgrade', 'lab', CHART_DIR, '-n', NS, '--reset-then-reuse-values', '--wait', '--set', 'networkPolicy.metricsScraper.podSelector.matchLabels.app=scraper');
    await plane!.kubectl(['apply', '-f', '-'], probePod('scraper', { app: 'scraper' }));
    await kubectl('wait', '-n', NS, '--for=condition=Ready', 'pod/scraper', '--timeout=120s');
    const targets: [string, string, number][] = [];
    for (const [c, port] of [['logging', PORTS.logging], ['messages', PORTS.messages], ['config-server', PORTS.configServer], ['hazelcast', PORTS.exporter]] as const) {
      for (const p of await component(c)) targets.push([p.metadata.name, p.status.podIP, port]);
    }
    await eventually(async () => {
      for (const [name, ip, port] of targets) expect(await connect('scraper', ip, port), `scraper → ${name}:${port}`).to.equal('open');
    }, { timeoutMs: 30_000, intervalMs: 2_000 });
    for (const [name, ip, port] of targets) expect(await connect('probe', ip, port), `probe → ${name}:${port}`).to.not.equal('open');
    const [member] = await component('hazelcast');
    expect(await connect('scraper', member!.status.podIP, PORTS.member), "scraper → a member's cluster port").to.not.equal('open');
  });

  it('with networkPolicy.egress.enabled, lets a pod reach its own paths and DNS, and nothing outside the release', async () => {
    const probe = JSON.parse((await kubectl('get', 'pod', 'probe', '-n', NS, '-o', 'json')).stdout) as Pod;
    const [logging] = await component('logging');
    const [member] = await component('hazelcast');
    expect(await connect(logging!.metadata.name, probe.status.podIP, 9000), 'before: logging → a pod outside the release').to.equal('open');
    await helm('upgrade', 'lab', CHART_DIR, '-n', NS, '--reset-then-reuse-values', '--wait', '--set', 'networkPolicy.egress.enabled=true');
    await eventually(async () => {
      expect(await connect(logging!.metadata.name, probe.status.podIP, 9000), 'logging → a pod outside the release').to.not.equal('open');
    }, { timeoutMs: 30_000, intervalMs: 2_000 });
    expect(await connect(logging!.metadata.name, member!.status.podIP, PORTS.member), 'logging → a member').to.equal('open');
    expect(await connect(logging!.metadata.name, HOST_IP, 53), 'logging → DNS').to.equal('open');
    const lookup = await kubectl('exec', '-n', NS, logging!.metadata.name, '--', 'node', '-e',
      "require('dns').lookup('lab-hazelcast',(e,a)=>console.log(e?e.code:a))");
    expect(lookup.stdout.trim(), 'a name looked up through DNS').to.match(/^10\.(96|244)\./);
  });

  it('keeps every node and pod packet on the machine (one for an outside address is dropped before it leaves), and pods away from the kubelets', async () => {
    const before = nodesGuardCounters();
    // From the pod outside the release, whose egress no policy restricts. TEST-NET-3: an address
    // that exists nowhere; the host's guard must drop it on the way out.
    expect(await connect('probe', '203.0.113.7', 80)).to.equal('timeout');
    const after = nodesGuardCounters();
    expect(after[1]! - before[1]!, 'dropped by "pods never leave the machine"').to.be.greaterThan(0);
    // Nor does a pod reach a kubelet, whether or not a policy restricts its egress (logging's does now).
    const [logging] = await component('logging');
    for (const ip of kube!.nodes!.nodes.map((n) => n.spec.ip)) {
      expect(await connect('probe', ip, 10250), `probe → the kubelet at ${ip}`).to.equal('timeout');
      expect(await connect(logging!.metadata.name, ip, 10250), `logging → the kubelet at ${ip}`).to.not.equal('open');
    }
  });
  it("passes the lab's five steps through port-forward, deleting a member pod and a logging pod twice", async () => {
    ({ forward, facade } = await forwardFacade(plane!.env(), NS));
    const { code, stdout, asked } = await scenarioAsOperator(facade, NS, plane!.env());
    expect(code, stdout).to.equal(0);
    expect(stdout).to.include('Result: all 5 steps passed.');
    expect(asked).to.have.length(4);
  });

  /** Members the StatefulSet counts Ready. */
  const readyMembers = async () => Number(JSON.parse((await kubectl('get', 'statefulset', 'lab-hazelcast', '-n', NS, '-o', 'json')).stdout).status.readyReplicas ?? 0);

  /** A member's node that is not the facade's: the port-forward the tests write through ends with the facade's pod. */
  async function memberNodeApartFromFacade(): Promise<string> {
    const [facadePod] = await component('facade');
    return (await component('hazelcast')).find((m) => m.spec.nodeName !== facadePod!.spec.nodeName)!.spec.nodeName;
  }

  /**
   * The operator's step after an uncordon: the evicted member was made again beside another (the
   * members' anti-affinity is preferred, not required), and nothing moves it back. Deleting a member
   * that shares its node (gracefully: its partitions migrate first) lets the scheduler put it on
   * the node with none; then each node holds one member again.
   */
  async function spreadMembers(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const members = await component('hazelcast');
      const nodes = members.map((m) => m.spec.nodeName);
      const doubled = members.filter((m, i) => nodes.indexOf(m.spec.nodeName) !== i);
      if (doubled.length === 0) break;
      await kubectl('delete', 'pod', '-n', NS, doubled[0]!.metadata.name, '--wait=true');
      await eventually(async () => {
        const ready = (await component('hazelcast')).filter((m) => m.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        expect(ready).to.have.length(3);
      }, { timeoutMs: 5 * 60_000, intervalMs: 1_000 });
    }
    const nodes = (await component('hazelcast')).map((m) => m.spec.nodeName);
    expect(new Set(nodes).size, `members' nodes: ${nodes.join(', ')}`).to.equal(3);
  }

  it("drains a member's node under a paced write load: the members' PDB holds, and no write fails or is lost", async () => {
    // The probe pods have no controller, and a drain refuses such pods.
    await kubectl('delete', 'pod', '-n', NS, 'probe', 'scraper', '--wait=true');
    const node = await memberNodeApartFromFacade();
    let fewestReady = await readyMembers();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        fewestReady = Math.min(fewestReady, await readyMembers().catch(() => fewestReady));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const load = paceWrites(facade, 'drain');
    const t0 = Date.now();
    await kubectl('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=8m');
    const drained = Date.now();
    await eventually(async () => expect(await readyMembers()).to.equal(3), { timeoutMs: 8 * 60_000, intervalMs: 1_000 });
    const back = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const figures = await load.stop();
    watching = false;
    await watch;
    await kubectl('uncordon', node);
    const stored = new Set(((await (await fetch(`${facade}/facade/messages`)).json()) as { messages: { uuid: string }[] }).messages.map((m) => m.uuid));
    const lost = figures.acked.filter((u) => !stored.has(u));
    process.stderr.write(`      drained ${node} in ${Math.round((drained - t0) / 1000)} s, 3 members Ready again ${Math.round((back - drained) / 1000)} s later (fewest Ready ${fewestReady}); ${describeLoad(figures)}, lost ${lost.length}\n`);
    expect(fewestReady, 'members Ready at the fewest (the PDB allows one down)').to.be.at.least(2);
    expect(figures.acked.length, 'writes acknowledged during the drain').to.be.greaterThan(100);
    expect(lost, 'acknowledged but lost').to.deep.equal([]);
    expect(figures.failed, 'writes refused during the drain').to.equal(0);
    const members = (await component('hazelcast')).map((m) => m.spec.nodeName);
    expect(members, 'no member left on the drained node').to.not.include(node);
  });

  it('force-deletes a member pod under a paced write load, as a crash: no write fails or is lost', async () => {
    const [victim] = (await component('hazelcast')).map((m) => m.metadata.name);
    const load = paceWrites(facade, 'force');
    await new Promise((r) => setTimeout(r, 5_000));
    const deletedAt = Date.now();
    // No grace: the kubelet kills the container and its sandbox, and the pod's address is gone at once.
    await kubectl('delete', 'pod', '-n', NS, victim!, '--grace-period=0', '--force');
    await eventually(async () => expect(await readyMembers()).to.equal(3), { timeoutMs: 5 * 60_000, intervalMs: 1_000 });
    const back = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const figures = await load.stop();
    const stored = new Set(((await (await fetch(`${facade}/facade/messages`)).json()) as { messages: { uuid: string }[] }).messages.map((m) => m.uuid));
    const lost = figures.acked.filter((u) => !stored.has(u));
    process.stderr.write(`      force-deleted ${victim}: 3 members Ready again ${Math.round((back - deletedAt) / 1000)} s later; ${describeLoad(figures)}, lost ${lost.length}\n`);
    expect(lost, 'acknowledged but lost').to.deep.equal([]);
    expect(figures.failed, 'writes refused').to.equal(0);
  });

  it('loses a whole node under a write load: writes go on with two members, every logging pod reads every acknowledged message, and the out-of-service taint brings a replacement member', async () => {
    await spreadMembers();
    const node = await memberNodeApartFromFacade();
    const load = paceWrites(facade, 'loss');
    await new Promise((r) => setTimeout(r, 5_000));
    const killedAt = Date.now();
    kube!.nodes!.kill(node);
    // The node controller marks the node's Ready condition Unknown once its grace period (50 s) passes without a heartbeat.
    await eventually(async () => {
      const { stdout } = await kubectl('get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');
      expect(stdout.trim()).to.not.equal('True');
    }, { timeoutMs: 3 * 60_000, intervalMs: 1_000 });
    const notReadyAt = Date.now();
    // The operator's step: Kubernetes does not move a StatefulSet's pod off an unreachable node by
    // itself. The out-of-service taint has the pods there deleted, and the StatefulSet makes the
    // member again on a node that is up.
    await kubectl('taint', 'node', node, 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute');
    await eventually(async () => {
      const members = await component('hazelcast');
      expect(members.map((m) => m.spec.nodeName), 'members\' nodes').to.not.include(node);
      expect(await readyMembers()).to.equal(3);
    }, { timeoutMs: 6 * 60_000, intervalMs: 1_000 });
    const replacedAt = Date.now();
    await kubectl('rollout', 'status', '-n', NS, 'deployment/lab-logging', '--timeout=5m');
    await new Promise((r) => setTimeout(r, 5_000));
    const figures = await load.stop();

    const after = figures.outcomes.filter((o) => o.at >= killedAt);
    const failures = after.filter((o) => !o.ok);
    let longestGap = 0;
    let lastAck = killedAt;
    for (const o of after) {
      if (!o.ok) continue;
      longestGap = Math.max(longestGap, o.at - lastAck);
      lastAck = o.at;
    }
    const retries = (await (await fetch(`${facade}/metrics`)).text()).split('\n').filter((l) => l.startsWith('facade_upstream_retries_total'));
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    // Acknowledgements in each 5 s after the kill, up to the replacement: where the writes slowed.
    const perFive = Array.from({ length: Math.ceil((replacedAt - killedAt) / 5_000) }, (_, k) =>
      after.filter((o) => o.ok && o.at >= killedAt + k * 5_000 && o.at < killedAt + (k + 1) * 5_000).length);
    const loggingPods = await component('logging');
    const missing: Record<string, number> = {};
    // A read answered 503 (with its reason, and Retry-After) is asked again, as a client would, for up
    // to a minute; each such answer is reported below. CI once saw one here, its reason unrecorded.
    const refusedReads: string[] = [];
    for (const p of loggingPods) {
      expect(p.spec.nodeName, `${p.metadata.name}'s node`).to.not.equal(node);
      for (const until = Date.now() + 60_000; ;) {
        const { stdout } = await kubectl('exec', '-n', NS, p.metadata.name, '--', 'node', '-e',
          "fetch('http://127.0.0.1:8081/logging?format=ndjson&fields=uuid').then(async (r)=>{const t=await r.text();if(!r.ok){console.log('HTTP '+r.status+' '+t.slice(0,300));return}for(const l of t.split('\\n'))if(l)console.log(JSON.parse(l).uuid)})");
        if (!stdout.startsWith('HTTP ')) {
          const stored = new Set(stdout.split('\n').filter(Boolean));
          missing[p.metadata.name] = figures.acked.filter((u) => !stored.has(u)).length;
          break;
        }
        refusedReads.push(`${p.metadata.name}: ${stdout.trim()}`);
        expect(stdout, `${p.metadata.name}'s read`).to.match(/^HTTP 503 /);
        if (Date.now() > until) expect.fail(`${p.metadata.name}'s read still refused after a minute: ${stdout.trim()}`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    process.stderr.write(`      lost ${node}: NotReady ${seconds(notReadyAt - killedAt)} s after the kill, a replacement member Ready ${seconds(replacedAt - notReadyAt)} s after the taint; `
      + `${describeLoad(figures)}; after the kill ${after.length} writes, ${failures.length} failed`
      + `${failures.length ? ` (from ${seconds(failures[0]!.at - killedAt)} s to ${seconds(failures.at(-1)!.at - killedAt)} s)` : ''}, longest stretch without an acknowledgement ${seconds(longestGap)} s; `
      + `acknowledged per 5 s from the kill to the replacement: ${perFive.join(' ')}; acknowledged but missing, per logging pod: ${JSON.stringify(missing)}; `
      + `reads refused and asked again: ${refusedReads.length ? refusedReads.join(' | ') : 'none'}; the facade's retries: ${retries.join(', ')}\n`);
    expect(loggingPods, 'logging pods').to.have.length(3);
    for (const [pod, n] of Object.entries(missing)) expect(n, `acknowledged messages ${pod} cannot read`).to.equal(0);
    expect(after.slice(-20).every((o) => o.ok), 'the last 20 writes acknowledged').to.equal(true);
    // Two members take writes once the cluster has dropped the third (its 20 s heartbeat timeout),
    // before Kubernetes has noticed anything: half a second's worth of them at least.
    expect(after.filter((o) => o.ok && o.at > killedAt + 20_000 && o.at < notReadyAt).length,
      'writes acknowledged after the member was dropped and before the node was NotReady').to.be.at.least(10);
  });
});
