/**
 * Several Kubernetes worker nodes on this machine (`npm run kube -- up --nodes 3`), joined to a
 * ControlPlane, the way kind lays out its nodes but with no container engine under them:
 *
 *  - each node is a network namespace (`lab-node-N`) on the host bridge `lab-nodes`
 *    (NODE_NETWORK, the host at HOST_IP, node N at 10.243.0.(10+N)), with its own containerd
 *    (root, state, socket, runc state), kubelet (root directory, certificates, cgroup root
 *    `/lab-node-N`, pod logs), kube-proxy and kube-router (its NetworkPolicy firewall only), all
 *    entered with `nsenter --net` so that they share the host's mounts, as a node's do;
 *  - node N's pods get 10.244.N.0/24 on the bridge `cni0` inside its namespace; every node and the
 *    host have a route to each other node's pod range through that node's address, as kindnet
 *    installs them, so pod traffic crosses nodes unmasqueraded;
 *  - the API server stays on 127.0.0.1: the host forwards HOST_IP:<its port>, from the bridge only,
 *    to it (route_localnet on `lab-nodes`). CoreDNS runs on the host at HOST_IP, the cluster DNS
 *    of every node.
 *
 * Network safety: the chain LAB-NODES-GUARD drops any packet from or for a node or pod address
 * that would leave through anything but `lab-nodes`, and anything for a Service address that no
 * kube-proxy rewrote; pods reach nothing on the host but DNS, and no kubelet. Everything it starts
 * it stops, and the namespaces, bridge, routes, rules, cgroups and folder are removed, also after a
 * failed start.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, waitFor, type LineHandler } from '../processes.js';
import { KUBE_DIR, corednsBinary, kubeBinary, kubeRouterBinary } from './binaries.js';
import { SERVICE_CIDR, type ControlPlane } from './control-plane.js';
import { POD_CIDR, containerdConfig, corefile, kubeletConfig } from './node.js';
import { chainCounters, installChain, removeChain, type OwnChain } from './chains.js';
import { sh } from './shell.js';
import { waitUntil } from '../wait.js';

export const NODES_BRIDGE = 'lab-nodes';
export const NODE_NETWORK = '10.243.0.0/24';
/** The host's address on the nodes' bridge: their cluster DNS and API server. */
export const HOST_IP = '10.243.0.1';
const GUARD = 'LAB-NODES-GUARD';
const INPUT_GUARD = 'LAB-NODES-INPUT';
const FORWARD_NAT = 'LAB-NODES-DNAT';

/** One node's names and addresses (N counts from 1). */
export interface NodeSpec {
  name: string;
  /** Its network namespace (the same as its name) and the host end of its link. */
  netns: string;
  hostLink: string;
  ip: string;
  podSubnet: string;
  podGateway: string;
}

export function nodeSpec(n: number): NodeSpec {
  return {
    name: `lab-node-${n}`,
    netns: `lab-node-${n}`,
    hostLink: `lab-n${n}`,
    ip: `10.243.0.${10 + n}`,
    podSubnet: `10.244.${n}.0/24`,
    podGateway: `10.244.${n}.1`,
  };
}

/** A command in a node's network namespace (and nothing else of it: mounts stay the host's). */
const inNode = (node: NodeSpec, cmd: string, args: string[], allowFail = false) =>
  sh('nsenter', [`--net=/run/netns/${node.netns}`, '--', cmd, ...args], { allowFail });

/** The host guard's rules, in order; a test reads their counters. */
export function nodesGuardRules(): string[][] {
  const keep = (dir: '-s' | '-d', range: string, what: string) => [dir, range, '!', '-o', NODES_BRIDGE, '-j', 'DROP', '-m', 'comment', '--comment', what];
  return [
    ['-o', 'lo', '-j', 'RETURN', '-m', 'comment', '--comment', "this machine's own addresses"],
    keep('-s', POD_CIDR, 'pods never leave the machine'),
    keep('-d', POD_CIDR, 'nothing for a pod address leaves the machine'),
    keep('-s', NODE_NETWORK, 'nodes never leave the machine'),
    keep('-d', NODE_NETWORK, 'nothing for a node address leaves the machine'),
    ['-d', SERVICE_CIDR, '-j', 'DROP', '-m', 'comment', '--comment', 'a service address kube-proxy did not rewrite goes nowhere'],
  ];
}

const guard = (): OwnChain => ({ name: GUARD, hooks: ['FORWARD', 'OUTPUT'], rules: nodesGuardRules() });
/** Pods reach nothing on the host but DNS (answers to what the host opened pass). */
const inputGuard = (): OwnChain => ({
  name: INPUT_GUARD,
  hooks: ['INPUT'],
  rules: [
    ...['udp', 'tcp'].map((proto) => ['-s', POD_CIDR, '-d', HOST_IP, '-p', proto, '--dport', '53', '-j', 'RETURN']),
    ['-s', POD_CIDR, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP', '-m', 'comment', '--comment', 'pods reach nothing on the host but DNS'],
  ],
});
/** The nodes reach the host's loopback servers (the API server) at HOST_IP, from the bridge only. */
const forwards = (ports: number[]): OwnChain => ({
  table: 'nat',
  name: FORWARD_NAT,
  hooks: ['PREROUTING'],
  rules: ports.map((port) => ['-i', NODES_BRIDGE, '-s', NODE_NETWORK, '-d', HOST_IP, '-p', 'tcp', '--dport', String(port), '-j', 'DNAT', '--to-destination', `127.0.0.1:${port}`]),
});

/** Packets each host guard rule has matched, in nodesGuardRules() order. */
export const nodesGuardCounters = (): number[] => chainCounters(guard());

/** A LineHandler that also appends each line to `file` (kept until stop() removes the folder). */
function logTo(file: string, onLine?: LineHandler): LineHandler {
  const out = createWriteStream(file, { flags: 'a' });
  return (name, line) => {
    out.write(`${line}\n`);
    onLine?.(name, line);
  };
}

/** The cgroup v1 hierarchies (or the one v2 tree) a kubelet's cgroup root is made in. */
function cgroupHierarchies(): string[] {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  return mounts.filter((m) => m[2] === 'cgroup' || m[2] === 'cgroup2').map((m) => m[1]!);
}

/** One worker node: its processes, and what it made. */
class WorkerNode {
  readonly dir: string;
  readonly socket: string;
  readonly runcRoot: string;
  readonly processes: ManagedProcess[] = [];

  constructor(readonly spec: NodeSpec, base: string, private readonly onLine?: LineHandler) {
    this.dir = join(base, spec.name);
    this.socket = join(this.dir, 'containerd.sock');
    this.runcRoot = `/run/lab-kube/${spec.name}/runc`;
  }

  /** Runs `command` in the node's network namespace; its output goes to `<node folder>/<name>.log`. */
  spawn(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess(`${this.spec.name}/${name}`, 'nsenter', [`--net=/run/netns/${this.spec.netns}`, '--', command, ...args], {
      env: process.env, cwd: this.dir, onLine: logTo(join(this.dir, `${name}.log`), this.onLine), tailLines: 200,
    });
    this.processes.push(p);
    return p;
  }

  /**
   * Every container of the node, killed at once (the kubelet leaves them running when it stops):
   * every process in the node's cgroup root, then the shims, then runc's records of them.
   */
  killContainers(): void {
    const pids = new Set<string>();
    for (const hierarchy of cgroupHierarchies()) {
      const root = join(hierarchy, this.cgroupRoot);
      if (!existsSync(root)) continue;
      const files = sh('find', [root, '-name', 'cgroup.procs'], { allowFail: true }).out.split('\n').filter(Boolean);
      for (const f of files) for (const pid of readFileSync(f, 'utf8').split('\n').filter(Boolean)) pids.add(pid);
    }
    if (pids.size) sh('kill', ['-KILL', ...pids], { allowFail: true });
    // A shim's command line: containerd-shim-runc-v2 -namespace k8s.io -id <id> -address <socket>
    sh('pkill', ['-KILL', '-f', `containerd-shim-runc-v2 .*-address ${this.socket}`], { allowFail: true });
    const runc = ['--root', this.runcRoot];
    for (const id of sh('runc', [...runc, 'list', '-q'], { allowFail: true }).out.split('\n').filter(Boolean)) sh('runc', [...runc, 'delete', '-f', id], { allowFail: true });
  }

  get cgroupRoot(): string {
    return `/${this.spec.name}`;
  }
}

export class LocalNodes {
  readonly dir = join(KUBE_DIR, 'nodes');
  readonly nodes: WorkerNode[];
  private readonly host: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;
  private readonly netnsBefore = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);

  constructor(
    private readonly plane: ControlPlane,
    count: number,
    private readonly onLine?: LineHandler,
  ) {
    this.nodes = Array.from({ length: count }, (_, i) => new WorkerNode(nodeSpec(i + 1), this.dir, onLine));
  }

  /** Each node's containerd socket, to load images into. */
  get sockets(): string[] {
    return this.nodes.map((n) => n.socket);
  }

  /** The bridge, the namespaces and their routes, the host's rules, then each node's containerd (waited for). */
  async startRuntime(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    sh('modprobe', ['br_netfilter'], { allowFail: true });
    sh('ip', ['link', 'add', NODES_BRIDGE, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', NODES_BRIDGE]);
    sh('ip', ['link', 'set', NODES_BRIDGE, 'up']);
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1', `net.ipv4.conf.${NODES_BRIDGE}.route_localnet=1`]);
    for (const chain of [guard(), inputGuard(), forwards([this.plane.apiPort])]) installChain(chain);
    for (const { spec } of this.nodes) {
      sh('ip', ['netns', 'add', spec.netns]);
      sh('ip', ['link', 'add', spec.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', spec.netns]);
      sh('ip', ['link', 'set', spec.hostLink, 'master', NODES_BRIDGE, 'up']);
      sh('ip', ['-n', spec.netns, 'addr', 'add', `${spec.ip}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', spec.netns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', spec.netns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', spec.netns, 'route', 'add', 'default', 'via', HOST_IP]);
      for (const other of this.nodes) if (other.spec !== spec) sh('ip', ['-n', spec.netns, 'route', 'add', other.spec.podSubnet, 'via', other.spec.ip]);
      sh('ip', ['route', 'add', spec.podSubnet, 'via', spec.ip, 'dev', NODES_BRIDGE]);
      inNode(spec, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
      // Pods reach no kubelet (their own node's, or another's); in the raw table, which comes
      // before any chain kube-proxy or kube-router keeps.
      inNode(spec, 'iptables', ['-w', '-t', 'raw', '-A', 'PREROUTING', '-s', POD_CIDR, '-d', NODE_NETWORK, '-p', 'tcp', '--dport', '10250', '-j', 'DROP', '-m', 'comment', '--comment', 'pods do not reach a kubelet']);
    }
    for (const hierarchy of cgroupHierarchies()) {
      for (const node of this.nodes) {
        const dir = join(hierarchy, node.cgroupRoot);
        mkdirSync(dir, { recursive: true });
        // cpuset v1: a new group has no CPUs or memory nodes until given its parent's.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(join(hierarchy, f))) writeFileSync(join(dir, f), readFileSync(join(hierarchy, f)));
      }
    }
    const kubeconfig = this.nodeKubeconfig();
    writeFileSync(join(this.dir, 'kubeconfig'), kubeconfig, { mode: 0o600 });
    for (const node of this.nodes) {
      for (const d of ['containerd', 'cni', 'kubelet', 'pki', 'pod-logs']) mkdirSync(join(node.dir, d), { recursive: true });
      writeFileSync(join(node.dir, 'containerd', 'config.toml'), containerdConfig({
        // No registry: skaffold's local-node profile is the single node's (node.ts).
        dir: node.dir, socket: node.socket, runcRoot: node.runcRoot,
      }));
      writeFileSync(join(node.dir, 'cni', '10-lab.conflist'), JSON.stringify(nodeCniConfig(node.spec, join(node.dir, 'cni', 'ipam')), null, 2));
      node.spawn('containerd', 'containerd', ['--config', join(node.dir, 'containerd', 'config.toml')]);
    }
    for (const node of this.nodes) {
      const containerd = node.processes[0]!;
      await waitFor(containerd, `${node.spec.name}'s containerd to serve`, async () => (existsSync(node.socket) && sh('ctr', ['-a', node.socket, 'version'], { allowFail: true }).ok ? true : undefined), 60_000);
    }
  }

  /** CoreDNS on the host, then each node's kube-proxy and kubelet; once every node is Ready, each node's kube-router. */
  async start(): Promise<void> {
    writeFileSync(join(this.dir, 'Corefile'), corefile(this.plane.kubeconfig, HOST_IP));
    this.spawnOnHost('coredns', corednsBinary(), ['-conf', join(this.dir, 'Corefile')]);
    const kubeconfig = join(this.dir, 'kubeconfig');
    writeFileSync(join(this.dir, 'resolv.conf'), `nameserver ${HOST_IP}\n`);
    for (const node of this.nodes) {
      const { spec } = node;
      node.spawn('kube-proxy', kubeBinary('kube-proxy'), [
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${spec.name}`,
        `--cluster-cidr=${POD_CIDR}`,
        '--proxy-mode=iptables',
        `--bind-address=${spec.ip}`,
        '--healthz-bind-address=127.0.0.1:10256',
        '--metrics-bind-address=127.0.0.1:10249',
        '--conntrack-max-per-core=0',
        `--nodeport-addresses=${spec.ip}/32`,
      ]);
      writeFileSync(join(node.dir, 'kubelet', 'config.yaml'), kubeletConfig({
        address: spec.ip, socket: node.socket, dns: HOST_IP, resolvConf: join(this.dir, 'resolv.conf'),
        cgroupRoot: node.cgroupRoot, podLogsDir: join(node.dir, 'pod-logs'),
      }));
      node.spawn('kubelet', kubeBinary('kubelet'), [
        `--config=${join(node.dir, 'kubelet', 'config.yaml')}`,
        `--kubeconfig=${kubeconfig}`,
        `--root-dir=${join(node.dir, 'kubelet', 'root')}`,
        `--cert-dir=${join(node.dir, 'pki')}`,
        `--hostname-override=${spec.name}`,
        `--node-ip=${spec.ip}`,
      ]);
    }
    const all = () => [...this.host, ...this.nodes.flatMap((n) => n.processes)];
    const giveUpIf = () => {
      const p = all().find((q) => !q.running);
      return p && `${p.name} exited (${p.exitCode}): ${p.logTail(5).join(' | ')}`;
    };
    await waitUntil(`nodes ${this.nodes.map((n) => n.spec.name).join(', ')} to be Ready`, async () => {
      const { stdout } = await this.plane.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).catch(() => ({ stdout: '' }));
      const ready = stdout.split('\n').filter((l) => l.endsWith('=True')).length;
      return ready === this.nodes.length ? true : undefined;
    }, {
      timeoutMs: 180_000, intervalMs: 1_000, who: 'system',
      giveUpIf,
    });
    // kube-router finds its node in the API, so it starts once the kubelets have registered them;
    // it has set its firewall up once its chains are in the node's iptables.
    for (const node of this.nodes) {
      node.spawn('kube-router', kubeRouterBinary(), [
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${node.spec.name}`,
        '--run-firewall=true',
        '--run-router=false',
        '--run-service-proxy=false',
        '--health-port=0',
        '--metrics-port=0',
      ]);
    }
    for (const node of this.nodes) {
      await waitUntil(`${node.spec.name}'s kube-router to install its firewall`, () => (inNode(node.spec, 'iptables', ['-w', '-S', 'KUBE-ROUTER-FORWARD'], true).ok || undefined), {
        timeoutMs: 60_000, intervalMs: 500, who: `${node.spec.name}/kube-router`, giveUpIf,
      });
    }
  }

  /** Each node's cgroup root (the kubelet's --cgroup-root), under which its pods run. */
  get cgroupRoots(): string[] {
    return this.nodes.map((n) => n.cgroupRoot);
  }

  /**
   * A node lost at once, as when its machine dies: its kubelet, kube-proxy, kube-router, containerd
   * and every container SIGKILLed, and its link cut, so that what it ran is gone mid-flight and its
   * address answers nothing. The namespace stays for stop() to remove.
   */
  kill(name: string): void {
    const node = this.nodes.find((n) => n.spec.name === name);
    if (!node) throw new Error(`no node ${name}`);
    for (const p of node.processes) p.kill('SIGKILL');
    node.killContainers();
    sh('ip', ['link', 'set', node.spec.hostLink, 'down'], { allowFail: true });
  }

  /**
   * Stops every kubelet, then every container, then the other node processes and CoreDNS; removes
   * the pods' and the nodes' namespaces, the bridge and its routes, the rules, the cgroups, the
   * mounts and the folder. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.nodes.map((n) => n.processes.find((p) => p.name.endsWith('/kubelet'))?.stop(20_000)));
      for (const node of this.nodes) node.killContainers();
      await Promise.all(this.nodes.flatMap((n) => n.processes).map((p) => p.stop(20_000)));
      for (const p of this.host) await p.stop(10_000);
      if (existsSync('/run/netns')) for (const ns of readdirSync('/run/netns')) if (ns.startsWith('cni-') && !this.netnsBefore.has(ns)) sh('ip', ['netns', 'delete', ns], { allowFail: true });
      for (const { spec } of this.nodes) {
        sh('ip', ['netns', 'delete', spec.netns], { allowFail: true });
        sh('ip', ['link', 'del', spec.hostLink], { allowFail: true });
      }
      for (const chain of [guard(), inputGuard(), forwards([])]) removeChain(chain);
      sh('ip', ['link', 'del', NODES_BRIDGE], { allowFail: true });
      for (const m of sh('sh', ['-c', `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r`], { allowFail: true }).out.split('\n').filter(Boolean)) sh('umount', ['-l', m.trim()], { allowFail: true });
      for (const hierarchy of cgroupHierarchies()) {
        for (const node of this.nodes) {
          const dir = join(hierarchy, node.cgroupRoot);
          if (existsSync(dir)) sh('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { allowFail: true });
        }
      }
      rmSync('/run/lab-kube', { recursive: true, force: true });
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private spawnOnHost(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess(name, command, args, { env: process.env, cwd: this.dir, onLine: logTo(join(this.dir, `${name}.log`), this.onLine), tailLines: 200 });
    this.host.push(p);
    return p;
  }

  /** The control plane's kubeconfig, for the nodes: its server at HOST_IP (forwarded to loopback), its name still `localhost`. */
  private nodeKubeconfig(): string {
    const own = readFileSync(this.plane.kubeconfig, 'utf8');
    const loopback = `server: https://127.0.0.1:${this.plane.apiPort}`;
    if (!own.includes(loopback)) throw new Error(`the control plane's kubeconfig has no '${loopback}'`);
    return own.replace(loopback, `server: https://${HOST_IP}:${this.plane.apiPort}\n    tls-server-name: localhost`);
  }
}

/** A node's pod network: the bridge `cni0` in its namespace, its own range, and its own IPAM state. */
function nodeCniConfig(spec: NodeSpec, ipamDir: string): object {
  return {
    cniVersion: '0.4.0',
    name: 'lab',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet: spec.podSubnet, gateway: spec.podGateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
}
