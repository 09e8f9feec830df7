/**
 * A single Kubernetes node on this machine, joined to a ControlPlane: containerd (Debian's, with
 * runc through k8s/node/runc-oom-clamp), the bridge CNI plugin on `lab0`, kubelet, kube-proxy in
 * iptables mode, and CoreDNS as a host process answering on the bridge.
 *
 * Network safety: pods get addresses in POD_CIDR on the bridge only, Services in the control
 * plane's SERVICE_CIDR; the chain LAB-NODE-GUARD drops any packet from or for those ranges that
 * would leave the machine, and pods cannot reach the kubelet. Nothing is masqueraded to the
 * outside. Everything it starts it stops, and its rules and bridge are removed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, waitFor, type LineHandler } from '../processes.js';
import { REPO_ROOT } from '../repo.js';
import { KUBE_DIR, corednsBinary, kubeBinary } from './binaries.js';
import { KUBE_CONTEXT, SERVICE_CIDR, type ControlPlane } from './control-plane.js';
import { PAUSE_IMAGE } from './images.js';
import { chainCounters, installChain, removeChain, type OwnChain } from './chains.js';
import { sh } from './shell.js';
import { isPortFree } from '../ports.js';

export const NODE_NAME = 'lab-node';
export const BRIDGE = 'lab0';
export const POD_CIDR = '10.244.0.0/16';
const POD_SUBNET = '10.244.0.0/24';
/**
 * The node's image registry (Debian's docker-registry), on loopback: skaffold's local-node profile
 * pushes what it builds here, and containerd pulls it from here (skaffold.yaml names it; a test
 * keeps the two equal). It holds only what was pushed since the node started.
 */
export const REGISTRY_PORT = 5001;
export const REGISTRY = `localhost:${REGISTRY_PORT}`;
const REGISTRY_ADDRESS = `127.0.0.1:${REGISTRY_PORT}`;

/** The bridge's own address: the pods' gateway, CoreDNS, and the kubelet's (and node's) address. */
export const BRIDGE_IP = '10.244.0.1';
const GUARD = 'LAB-NODE-GUARD';
const INPUT_GUARD = 'LAB-NODE-INPUT';

/** The guard rules, in order; a test reads their counters. */
export function guardRules(): string[][] {
  return [
    ['-o', 'lo', '-j', 'RETURN', '-m', 'comment', '--comment', "this machine's own addresses"],
    ['-s', POD_CIDR, '!', '-o', BRIDGE, '-j', 'DROP', '-m', 'comment', '--comment', 'pods never leave the machine'],
    ['-d', POD_CIDR, '!', '-o', BRIDGE, '-j', 'DROP', '-m', 'comment', '--comment', 'nothing for a pod address leaves the machine'],
    ['-d', SERVICE_CIDR, '-j', 'DROP', '-m', 'comment', '--comment', 'a service address kube-proxy did not rewrite goes nowhere'],
  ];
}

const guard = (): OwnChain => ({ name: GUARD, hooks: ['FORWARD', 'OUTPUT'], rules: guardRules() });
const inputGuard = (): OwnChain => ({
  name: INPUT_GUARD,
  hooks: ['INPUT'],
  rules: [['-i', BRIDGE, '-p', 'tcp', '--dport', '10250', '-j', 'DROP', '-m', 'comment', '--comment', 'pods do not reach the kubelet']],
});

/** Puts the guard in place (before anything else in FORWARD, OUTPUT and INPUT). Idempotent. */
export function installGuard(): void {
  installChain(guard());
  installChain(inputGuard());
}

export function removeGuard(): void {
  removeChain(guard());
  removeChain(inputGuard());
}

/** Removes what kubelet and kube-proxy leave in iptables (their KUBE-* chains and the jumps to them). */
export function removeKubeChains(): void {
  for (const table of ['filter', 'nat', 'mangle']) {
    const rules = sh('iptables', ['-w', '-t', table, '-S'], { allowFail: true }).out.split('\n');
    for (const rule of rules) {
      const m = /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) (.*-j KUBE-\S+.*)$/.exec(rule);
      if (m) sh('sh', ['-c', `iptables -w -t ${table} -D ${m[1]} ${m[2]}`], { allowFail: true });
    }
    const chains = rules.map((r) => /^-N (KUBE-\S+)$/.exec(r)?.[1]).filter((c): c is string => c !== undefined);
    for (const c of chains) sh('iptables', ['-w', '-t', table, '-F', c], { allowFail: true });
    for (const c of chains) sh('iptables', ['-w', '-t', table, '-X', c], { allowFail: true });
  }
}

/** Packets each guard rule has dropped (or let through, for the first), in guardRules() order. */
export const guardCounters = (): number[] => chainCounters(guard());

/** docker-registry's configuration: loopback only, storage in the node's folder, no other source. */
function registryConfig(storage: string): string {
  return `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: ${REGISTRY_ADDRESS}
`;
}

/** Starts the node's image registry, its storage in `dir`, and waits until it serves. */
export async function startRegistry(dir: string, spawn: (name: string, command: string, args: string[]) => ManagedProcess): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (!(await isPortFree(REGISTRY_PORT))) throw new Error(`${REGISTRY_ADDRESS}, the node's image registry, is taken`);
  writeFileSync(join(dir, 'config.yml'), registryConfig(join(dir, 'storage')));
  const registry = spawn('registry', 'docker-registry', ['serve', join(dir, 'config.yml')]);
  await waitFor(registry, 'the image registry to serve', async () => ((await fetch(`http://${REGISTRY_ADDRESS}/v2/`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
}

export class LocalNode {
  readonly dir = join(KUBE_DIR, 'node');
  readonly socket = join(this.dir, 'containerd.sock');
  private readonly processes: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;
  /** Network namespaces there were before the node; the node removes only the ones its pods made. */
  private readonly netnsBefore = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);

  constructor(
    private readonly plane: ControlPlane,
    private readonly onLine?: LineHandler,
  ) {}

  /** Starts the registry, then containerd (and waits for each); images are imported next, then start(). */
  async startRuntime(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    for (const d of ['containerd', 'cni', 'kubelet', 'pki']) mkdirSync(join(this.dir, d), { recursive: true });
    await startRegistry(join(this.dir, 'registry'), (...a) => this.spawn(...a));
    writeFileSync(join(this.dir, 'containerd', 'config.toml'), containerdConfig({ dir: this.dir, socket: this.socket, registry: `http://${REGISTRY_ADDRESS}` }));
    writeFileSync(join(this.dir, 'cni', '10-lab.conflist'), JSON.stringify(cniConfig(), null, 2));
    const containerd = this.spawn('containerd', 'containerd', ['--config', join(this.dir, 'containerd', 'config.toml')]);
    await waitFor(containerd, 'containerd to serve', async () => (existsSync(this.socket) && sh('ctr', ['-a', this.socket, 'version'], { allowFail: true }).ok ? true : undefined), 60_000);
  }

  /** The bridge, forwarding, the guard, CoreDNS, kube-proxy and the kubelet; waits until the node is Ready. */
  async start(): Promise<void> {
    sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge'], { allowFail: true });
    sh('ip', ['addr', 'replace', `${BRIDGE_IP}/24`, 'dev', BRIDGE]);
    sh('ip', ['link', 'set', BRIDGE, 'up']);
    sh('modprobe', ['br_netfilter'], { allowFail: true });
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
    installGuard();

    writeFileSync(join(this.dir, 'Corefile'), corefile(this.plane.kubeconfig, BRIDGE_IP));
    this.spawn('coredns', corednsBinary(), ['-conf', join(this.dir, 'Corefile')]);
    this.spawn('kube-proxy', kubeBinary('kube-proxy'), [
      `--kubeconfig=${this.plane.kubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      `--cluster-cidr=${POD_CIDR}`,
      '--proxy-mode=iptables',
      `--bind-address=${BRIDGE_IP}`,
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      '--conntrack-max-per-core=0',
      `--nodeport-addresses=${BRIDGE_IP}/32`,
    ]);
    writeFileSync(join(this.dir, 'resolv.conf'), `nameserver ${BRIDGE_IP}\n`);
    writeFileSync(join(this.dir, 'kubelet', 'config.yaml'), kubeletConfig({ address: BRIDGE_IP, socket: this.socket, dns: BRIDGE_IP, resolvConf: join(this.dir, 'resolv.conf') }));
    this.spawn('kubelet', kubeBinary('kubelet'), [
      `--config=${join(this.dir, 'kubelet', 'config.yaml')}`,
      `--kubeconfig=${this.plane.kubeconfig}`,
      `--root-dir=${join(this.dir, 'kubelet', 'root')}`,
      `--cert-dir=${join(this.dir, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${BRIDGE_IP}`,
    ]);
    await waitFor(undefined, `node ${NODE_NAME} to be Ready`, async () => {
      for (const p of this.processes) if (!p.running) throw new Error(`${p.name} exited (${p.exitCode}): ${p.logTail(5).join(' | ')}`);
      const { stdout } = await this.plane.kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).catch(() => ({ stdout: '' }));
      return stdout.trim() === 'True' ? true : undefined;
    }, 120_000, 1_000);
    // kube-proxy puts its own jumps first; the guard goes back in front of them.
    installGuard();
  }

  /**
   * Stops the kubelet, then every container (the kubelet leaves them running), then kube-proxy,
   * CoreDNS and containerd; removes the pods' network namespaces, the iptables rules, the bridge,
   * the mounts and the folder. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const byName = (n: string) => this.processes.find((p) => p.name === n);
      await byName('kubelet')?.stop(20_000);
      const runc = ['--root', '/run/containerd/runc/k8s.io'];
      const ids = sh('runc', [...runc, 'list', '-q'], { allowFail: true }).out.split('\n').filter(Boolean);
      for (const id of ids) sh('runc', [...runc, 'kill', id, 'KILL'], { allowFail: true });
      await new Promise((r) => setTimeout(r, 1_000));
      for (const id of ids) sh('runc', [...runc, 'delete', '-f', id], { allowFail: true });
      for (const p of [...this.processes].reverse()) await p.stop(20_000);
      sh('pkill', ['-f', `containerd-shim-runc-v2 .*-address ${this.socket}`], { allowFail: true });
      if (existsSync('/run/netns')) for (const ns of readdirSync('/run/netns')) if (ns.startsWith('cni-') && !this.netnsBefore.has(ns)) sh('ip', ['netns', 'delete', ns], { allowFail: true });
      rmSync('/var/lib/cni/networks/lab', { recursive: true, force: true });
      removeKubeChains();
      removeGuard();
      sh('ip', ['link', 'del', BRIDGE], { allowFail: true });
      for (const m of sh('sh', ['-c', `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r`], { allowFail: true }).out.split('\n').filter(Boolean)) sh('umount', ['-l', m.trim()], { allowFail: true });
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private spawn(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess(name, command, args, { env: process.env, cwd: this.dir, onLine: this.onLine, tailLines: 200 });
    this.processes.push(p);
    return p;
  }
}

/** Where a node's containerd keeps its files and listens, and where it pulls `${REGISTRY}/…` from. */
export interface ContainerdOptions {
  dir: string;
  socket: string;
  /** The registry's endpoint as this containerd reaches it (`http://host:port`), if it has one. */
  registry?: string;
  /** runc's state folder; default runc's own (/run/containerd/runc/<namespace>). */
  runcRoot?: string;
}

/** containerd's configuration: CRI with runc through k8s/node/runc-oom-clamp, the node's CNI folder, the registry mirror. */
export function containerdConfig(o: ContainerdOptions): string {
  const d = o.dir;
  return `version = 2
root = "${d}/containerd/root"
state = "${d}/containerd/state"
[grpc]
  address = "${o.socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "${join(REPO_ROOT, 'k8s', 'node', 'runc-oom-clamp')}"${o.runcRoot ? `
        Root = "${o.runcRoot}"` : ''}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${d}/cni"
${o.registry ? `  # The node's own registry, over plain HTTP.
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${REGISTRY}"]
    endpoint = ["${o.registry}"]
` : ''}`;
}

export interface KubeletOptions {
  /** The node's address: the kubelet listens there, and the API server reaches it there. */
  address: string;
  socket: string;
  /** The cluster DNS server's address. */
  dns: string;
  resolvConf: string;
  /** Several kubelets on one host keep their pods' cgroups apart under a root each. */
  cgroupRoot?: string;
  /** …and their pods' logs (default /var/log/pods). */
  podLogsDir?: string;
}

export function kubeletConfig(o: KubeletOptions): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The kubelet listens on the node's address only (the API server reaches it there; a guard keeps pods out).
address: ${o.address}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${o.socket}
failSwapOn: false
clusterDNS: [${o.dns}]
clusterDomain: cluster.local
resolvConf: ${o.resolvConf}
serializeImagePulls: false
evictionHard: {memory.available: "200Mi", nodefs.available: "5%", imagefs.available: "5%"}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
${o.cgroupRoot ? `cgroupRoot: ${o.cgroupRoot}
` : ''}${o.podLogsDir ? `podLogsDir: ${o.podLogsDir}
` : ''}`;
}

function cniConfig(): object {
  return {
    cniVersion: '0.4.0',
    name: 'lab',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET, gateway: BRIDGE_IP }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
}

/** Cluster DNS on one address; every other name is answered NXDOMAIN, never forwarded. */
export function corefile(kubeconfig: string, bind: string): string {
  return `cluster.local:53 in-addr.arpa:53 {
    bind ${bind}
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${kubeconfig} ${KUBE_CONTEXT}
        pods insecure
    }
    cache 5
}
.:53 {
    bind ${bind}
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`;
}
