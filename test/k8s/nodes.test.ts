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
 *  - no pod packet leaves the machine.
 * Needs root, the node suite's tools, nsenter and ipset (missingNodesTools).
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinary, missingControlPlaneTools, missingNodesTools } from '../../local/kube/binaries.js';
import { startLocalKube, type LocalKube } from '../../local/kube/cluster.js';
import type { ControlPlane } from '../../local/kube/control-plane.js';
import { labImage } from '../../local/kube/images.js';
import { HOST_IP, nodesGuardCounters } from '../../local/kube/nodes.js';
import { freePorts } from '../../local/ports.js';
import { CHART_DIR, findHelm } from '../chart/support/helm.js';
import { eventually } from '../support/eventually.js';
import { missingTool } from '../support/tools.js';
import { describeLoad, paceWrites } from './support/load.js';
import { scenarioAsOperator } from './support/scenario.js';

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: { nodeName: string };
  status: { podIP: string };
}

const run = promisify(execFile);
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
  let helm: string;
  let forward: ChildProcess | undefined;
  let facade = '';

  const kubectl = (...args: string[]) => plane!.kubectl(args);
  const helmOk = async (...args: string[]) => {
    try {
      return await run(helm, args, { env: plane!.env(), maxBuffer: 16 << 20 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`helm ${args.join(' ')}: ${e.stderr || e.stdout || e.message}`, { cause: err });
    }
  };
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
    helm = h!;
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
    await helmOk('install', 'lab', CHART_DIR, '-n', NS, '--wait', '--timeout', '8m');
    process.stderr.write(`      helm install --wait on ${NODES} nodes: ${Math.round((Date.now() - t0) / 1000)} s\n`);
    for (const c of ['hazelcast', 'logging']) {
      const nodes = (await component(c)).map((p) => p.spec.nodeName);
      expect(nodes, c).to.have.length(3);
      expect(new Set(nodes).size, `${c} pods' nodes: ${nodes.join(', ')}`).to.equal(3);
    }
    const { stdout } = await helmOk('test', 'lab', '-n', NS, '--timeout', '3m');
    expect(stdout).to.match(/Phase:\s+Succeeded/);
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
    await helmOk('upgrade', 'lab', CHART_DIR, '-n', NS, '--reset-then-reuse-values', '--wait', '--set', 'networkPolicy.metricsScraper.podSelector.matchLabels.app=scraper');
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
    await helmOk('upgrade', 'lab', CHART_DIR, '-n', NS, '--reset-then-reuse-values', '--wait', '--set', 'networkPolicy.egress.enabled=true');
    await eventually(async () => {
      expect(await connect(logging!.metadata.name, probe.status.podIP, 9000), 'logging → a pod outside the release').to.not.equal('open');
    }, { timeoutMs: 30_000, intervalMs: 2_000 });
    expect(await connect(logging!.metadata.name, member!.status.podIP, PORTS.member), 'logging → a member').to.equal('open');
    expect(await connect(logging!.metadata.name, HOST_IP, 53), 'logging → DNS').to.equal('open');
    const lookup = await kubectl('exec', '-n', NS, logging!.metadata.name, '--', 'node', '-e',
      "require('dns').lookup('lab-hazelcast',(e,a)=>console.log(e?e.code:a))");
    expect(lookup.stdout.trim(), 'a name looked up through DNS').to.match(/^10\.(96|244)\./);
  });

  it('keeps every node and pod packet on the machine: one for an outside address is dropped before it leaves', async () => {
    const before = nodesGuardCounters();
    // From the pod outside the release, whose egress no policy restricts. TEST-NET-3: an address
    // that exists nowhere; the host's guard must drop it on the way out.
    expect(await connect('probe', '203.0.113.7', 80)).to.equal('timeout');
    const after = nodesGuardCounters();
    expect(after[1]! - before[1]!, 'dropped by "pods never leave the machine"').to.be.greaterThan(0);
  });
  it("passes the lab's five steps through port-forward, deleting a member pod and a logging pod twice", async () => {
    const [port] = await freePorts(1);
    forward = spawn(kubeBinary('kubectl'), ['port-forward', '-n', NS, 'svc/lab-facade', `${port}:8080`], { env: plane!.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    facade = `http://127.0.0.1:${port}`;
    await eventually(async () => expect((await fetch(`${facade}/readyz`)).status).to.equal(200), { timeoutMs: 30_000, intervalMs: 500 });
    const { code, stdout, asked } = await scenarioAsOperator(facade, NS, plane!.env());
    expect(code, stdout).to.equal(0);
    expect(stdout).to.include('Result: all 5 steps passed.');
    expect(asked).to.have.length(4);
  });

  it("drains a member's node under a paced write load: the members' PDB holds, and no write fails or is lost", async () => {
    // The probe pods have no controller, and a drain refuses such pods.
    await kubectl('delete', 'pod', '-n', NS, 'probe', 'scraper', '--wait=true');
    // Not the facade's node: the port-forward this test writes through ends with its pod.
    const [facadePod] = await component('facade');
    const node = (await component('hazelcast')).find((m) => m.spec.nodeName !== facadePod!.spec.nodeName)!.spec.nodeName;
    const readyMembers = async () => Number(JSON.parse((await kubectl('get', 'statefulset', 'lab-hazelcast', '-n', NS, '-o', 'json')).stdout).status.readyReplicas ?? 0);
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

});
