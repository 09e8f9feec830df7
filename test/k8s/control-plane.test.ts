/**
 * The chart against a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler; local/kube), in namespaces that enforce the `restricted` Pod Security profile:
 * helm install (default values and the optional components), a server-side dry run of
 * k8s/lab.yaml, Pods created by the controllers and admitted by the server, a violating Pod
 * refused, the `helm test` Pod admitted, then upgrade, rollback and uninstall.
 * There is no node: Pods are admitted and stay Pending, so nothing here runs the lab's code.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../local/repo.js';
import { KUBE_VERSION, missingControlPlaneTools } from '../../local/kube/binaries.js';
import { startLocalKube } from '../../local/kube/cluster.js';
import type { ControlPlane } from '../../local/kube/control-plane.js';
import { CHART_DIR, findHelm } from '../chart/support/helm.js';
import { eventually } from '../support/eventually.js';
import { missingTool } from '../support/tools.js';

const run = promisify(execFile);

/** An object as kubectl prints it: the fields these tests read, each kind having its own of them. */
interface Obj {
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec: {
    replicas: number;
    template: { metadata: { annotations: Record<string, string> }; spec: { containers: { image: string }[] } };
    policyTypes: string[];
    ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }[];
  };
  status: { replicas: number; phase: string };
  /** An Event's. */
  reason?: string;
  message?: string;
}

/** Server-side warnings (e.g. `would violate PodSecurity`), as kubectl and helm print them. */
const WARNING = /warning|would violate|PodSecurity/i;

describe('the chart on a real Kubernetes control plane', function () {
  // The first run builds the binaries (kube-apiserver alone takes minutes on 2 cores).
  this.timeout(45 * 60_000);
  let plane: ControlPlane | undefined;
  let helm: string;
  const NS = 'lab';
  const NS_FULL = 'lab-full';
  const NS_PLAIN = 'lab-plain';

  const kubectl = (...args: string[]) => plane!.kubectl(args);
  const getJson = async <T = { items: Obj[] }>(...args: string[]): Promise<T> => JSON.parse((await kubectl('get', ...args, '-o', 'json')).stdout) as T;
  const helmCmd = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(helm, args, { env: plane!.env(), maxBuffer: 16 << 20 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const helmOk = async (...args: string[]) => {
    const r = await helmCmd(...args);
    expect(r.code, `helm ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r;
  };
  const restrictedNamespace = async (name: string) => {
    await kubectl('create', 'namespace', name);
    // enforce refuses; warn makes the server report any violation to helm and kubectl; audit logs it.
    await kubectl('label', 'namespace', name, ...['enforce', 'warn', 'audit'].map((m) => `pod-security.kubernetes.io/${m}=restricted`));
  };
  const events = async (ns: string) => (await getJson('events', '-n', ns)).items;

  before(async function () {
    const missing = missingControlPlaneTools();
    const h = findHelm();
    if (!h) missing.push('helm v3 (go install helm.sh/helm/v3/cmd/helm@v3.22.0)');
    if (missing.length > 0) missingTool(this, 'control-plane tests', `missing: ${missing.join('; ')}`);
    helm = h!;
    ({ plane } = await startLocalKube('control-plane', (line) => process.stderr.write(`      ${line}\n`)));
    for (const ns of [NS, NS_FULL, NS_PLAIN]) await restrictedNamespace(ns);
  });
  after(async () => {
    await plane?.stop();
  });

  it(`is Kubernetes ${KUBE_VERSION}, whose version the chart's kubeVersion accepts`, async () => {
    expect(await plane!.serverVersion()).to.equal(KUBE_VERSION);
  });

  it('refuses a Pod that violates the restricted profile (enforcement is on)', async () => {
    // A Pod as most examples write it: no security context at all.
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'careless' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const err = await plane!.kubectl(['apply', '-n', NS, '-f', '-'], JSON.stringify(pod)).then(() => undefined, (e: { stderr: string }) => e);
    expect(err?.stderr).to.match(/violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false.*runAsNonRoot != true.*seccompProfile/);
  });

  it('installs the chart with default values: every object accepted, no warning', async () => {
    const r = await helmOk('install', 'lab', CHART_DIR, '-n', NS);
    expect(r.stderr).to.not.match(WARNING);
    expect(r.stdout).to.include('STATUS: deployed');
  });

  it('has its controllers create every Pod of the release, and the server admit each one', async () => {
    const deployments = (await getJson('deployments', '-n', NS)).items;
    expect(deployments.map((d) => d.metadata.name).sort()).to.deep.equal(['lab-config-server', 'lab-facade', 'lab-logging', 'lab-messages']);
    const wanted = deployments.reduce((n, d) => n + d.spec.replicas, 0);
    await eventually(async () => {
      const pods = (await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=lab')).items;
      const byOwner = (kind: string) => pods.filter((p) => p.metadata.ownerReferences?.[0]?.kind === kind);
      expect(byOwner('ReplicaSet')).to.have.length(wanted);
      // OrderedReady: the StatefulSet makes member 0 and waits for it to be Ready (no node runs it).
      expect(byOwner('StatefulSet').map((p) => p.metadata.name)).to.deep.equal(['lab-hazelcast-0']);
    }, { timeoutMs: 60_000, intervalMs: 500 });
    // Each ReplicaSet writes its status after it made its Pods, so the count may lag them: wait for it.
    await eventually(async () => {
      const replicaSets = (await getJson('replicasets', '-n', NS)).items;
      expect(replicaSets).to.have.length(4);
      for (const rs of replicaSets) expect(rs.status.replicas, rs.metadata.name).to.equal(rs.spec.replicas);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const failed = (await events(NS)).filter((e) => e.reason === 'FailedCreate');
    expect(failed.map((e) => e.message)).to.deep.equal([]);
  });

  it('admits the helm test Pod', async () => {
    // It cannot run without a node, so helm's wait times out; the Pod must still exist, admitted.
    await helmCmd('test', 'lab', '-n', NS, '--timeout', '5s');
    const pod = await getJson<Obj>('pod', 'lab-test', '-n', NS);
    expect(pod.metadata.annotations?.['helm.sh/hook']).to.equal('test');
    expect(pod.status.phase).to.equal('Pending');
    // A test that did not succeed keeps its Pod for `helm test --logs` (hook-succeeded deletes it
    // only after a pass), and uninstall leaves hooks alone: remove it, as after reading its logs.
    await kubectl('delete', 'pod', 'lab-test', '-n', NS, '--wait=true');
  });

  it('installs with the optional components on (Management Center, autoscalers, a metrics scraper, egress policies): accepted, no warning, every Pod admitted', async () => {
    const r = await helmOk('install', 'lab-full', CHART_DIR, '-n', NS_FULL,
      '--set', 'managementCenter.enabled=true', '--set', 'logging.autoscaling.enabled=true', '--set', 'facade.autoscaling.enabled=true',
      '--set', 'networkPolicy.metricsScraper.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
      '--set', 'networkPolicy.metricsScraper.podSelector.matchLabels.app=prometheus', '--set', 'networkPolicy.egress.enabled=true');
    expect(r.stderr).to.not.match(WARNING);
    expect((await getJson('hpa', '-n', NS_FULL)).items).to.have.length(2);
    const policies = (await getJson('networkpolicies', '-n', NS_FULL)).items;
    expect(policies.filter((p) => p.spec.policyTypes.includes('Egress'))).to.have.length(policies.length);
    expect(policies.find((p) => p.metadata.name === 'lab-full-logging')!.spec.ingress[1].from[0].namespaceSelector.matchLabels).to.deep.equal({ 'kubernetes.io/metadata.name': 'monitoring' });
    await eventually(async () => {
      const pods = (await getJson('pods', '-n', NS_FULL)).items.map((p) => p.metadata.labels?.['app.kubernetes.io/component']);
      expect(pods).to.include('management-center').and.include('logging').and.include('facade').and.include('hazelcast');
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect((await events(NS_FULL)).filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).to.deep.equal([]);
  });

  it('accepts k8s/lab.yaml, the plain rendering for clusters without helm, in a server-side dry run with no warning', async () => {
    const { stdout, stderr } = await kubectl('apply', '--dry-run=server', '-n', NS_PLAIN, '-f', join(REPO_ROOT, 'k8s', 'lab.yaml'));
    expect(stderr).to.not.match(WARNING);
    expect(stdout).to.match(/statefulset\.apps\/lab-hazelcast created \(server dry run\)/);
    expect(stdout.trim().split('\n').every((l) => l.endsWith('(server dry run)'))).to.equal(true);
  });

  it('upgrades with changed values: more logging replicas, a new image tag, and a member configuration that rolls the members', async () => {
    const before = await getJson<Obj>('statefulset', 'lab-hazelcast', '-n', NS);
    const r = await helmOk('upgrade', 'lab', CHART_DIR, '-n', NS, '--set', 'logging.replicas=4', '--set', 'image.tag=0.1.1', '--set', 'hazelcast.maxNoHeartbeatSeconds=30');
    expect(r.stderr).to.not.match(WARNING);
    const logging = await getJson<Obj>('deployment', 'lab-logging', '-n', NS);
    expect(logging.spec.replicas).to.equal(4);
    expect(logging.spec.template.spec.containers[0].image).to.match(/:0\.1\.1$/);
    const after = await getJson<Obj>('statefulset', 'lab-hazelcast', '-n', NS);
    const checksum = (s: Obj) => s.spec.template.metadata.annotations['checksum/config'];
    expect(checksum(after)).to.not.equal(checksum(before));
    await eventually(async () => {
      const rs = (await getJson('replicasets', '-n', NS, '-l', 'app.kubernetes.io/component=logging')).items;
      expect(rs.map((x) => x.spec.template.spec.containers[0].image).filter((i: string) => i.endsWith(':0.1.1'))).to.have.length(1);
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('rolls back to the first revision', async () => {
    await helmOk('rollback', 'lab', '1', '-n', NS);
    const logging = await getJson<Obj>('deployment', 'lab-logging', '-n', NS);
    expect(logging.spec.replicas).to.equal(3);
    expect(logging.spec.template.spec.containers[0].image).to.not.match(/:0\.1\.1$/);
    const history = JSON.parse((await helmOk('history', 'lab', '-n', NS, '-o', 'json')).stdout) as { revision: number; status: string }[];
    expect(history.map((h) => h.status)).to.deep.equal(['superseded', 'superseded', 'deployed']);
  });

  it('uninstalls, leaving no object of the release behind', async () => {
    for (const [release, ns] of [['lab', NS], ['lab-full', NS_FULL]] as const) {
      await helmOk('uninstall', release, '-n', ns, '--wait', '--timeout', '60s');
      await eventually(async () => {
        const { stdout } = await kubectl('get', 'all,configmaps,secrets,serviceaccounts,networkpolicies,poddisruptionbudgets,roles,rolebindings,horizontalpodautoscalers,persistentvolumeclaims',
          '-n', ns, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name');
        expect(stdout.trim(), `left in ${ns}`).to.equal('');
      }, { timeoutMs: 60_000, intervalMs: 1_000 });
    }
  });
});
