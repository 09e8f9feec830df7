/**
 * A real Kubernetes control plane on loopback, for the chart to face: etcd (Debian's), then
 * kube-apiserver, kube-controller-manager and kube-scheduler (built by ./binaries.ts). Admission
 * is the server's own, Pod Security included; the controllers create ReplicaSets and Pods as in
 * any cluster. There is no node: Pods are admitted and stay Pending.
 *
 * Nothing listens beyond 127.0.0.1. The service IP range is configuration only: with no node and
 * no kube-proxy, nothing is ever sent to it. Everything it starts it stops, and its folder
 * (certificates, token, etcd's data) is removed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { ManagedProcess, waitFor, type LineHandler } from '../processes.js';
import { freePorts } from '../ports.js';
import { KUBE_DIR, kubeBinary } from './binaries.js';
import { sh } from './shell.js';

const run = promisify(execFile);

/** Service addresses exist only as numbers in the API; no packet is ever sent to them. */
export const SERVICE_CIDR = '10.96.0.0/16';

export interface ControlPlaneOptions {
  /** Where its folder goes (default: a new one under .kube/run). */
  dir?: string;
  onLine?: LineHandler;
  startTimeoutMs?: number;
}

export class ControlPlane {
  readonly dir: string;
  /** A kubeconfig with an admin token for this server; KUBECONFIG for kubectl and helm. */
  readonly kubeconfig: string;
  apiPort = 0;
  private readonly processes: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ControlPlaneOptions = {}) {
    mkdirSync(KUBE_DIR, { recursive: true });
    this.dir = options.dir ?? mkdtempSync(join(KUBE_DIR, 'run-'));
    this.kubeconfig = join(this.dir, 'kubeconfig');
  }

  get server(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  /** Environment for kubectl and helm run against this server. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.kubeconfig };
  }

  /** Runs kubectl against this server; resolves with its stdout and stderr, rejects on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    if (input === undefined) return run(kubeBinary('kubectl'), args, { env: this.env(), maxBuffer: 64 << 20 });
    return new Promise((resolve, reject) => {
      const child = execFile(kubeBinary('kubectl'), args, { env: this.env(), maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr }),
      );
      child.stdin!.end(input);
    });
  }

  async start(): Promise<void> {
    try {
      const [etcdClient, etcdPeer, api] = await freePorts(3);
      this.apiPort = api!;
      const f = (name: string) => join(this.dir, name);
      this.certificates();
      const token = randomBytes(24).toString('hex');
      writeFileSync(f('tokens.csv'), `${token},lab-admin,lab-admin,"system:masters"\n`, { mode: 0o600 });
      writeFileSync(f('kubeconfig'), kubeconfig(this.server, f('ca.crt'), token), { mode: 0o600 });

      const etcd = this.spawn('etcd', 'etcd', [
        '--name', 'lab',
        '--data-dir', f('etcd'),
        '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
        '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
        '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
        '--initial-cluster', `lab=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync', // a throw-away store: speed over durability
      ]);
      await waitFor(etcd, 'etcd to serve', async () => ((await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok ? true : undefined), this.timeout);

      const apiserver = this.spawn('kube-apiserver', kubeBinary('kube-apiserver'), [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${this.apiPort}`,
        // A loopback address cannot be the endpoint of the `kubernetes` Service; keep none.
        '--endpoint-reconciler-type=none',
        `--token-auth-file=${f('tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--tls-cert-file=${f('apiserver.crt')}`,
        `--tls-private-key-file=${f('apiserver.key')}`,
        `--client-ca-file=${f('ca.crt')}`,
        `--service-account-key-file=${f('sa.pub')}`,
        `--service-account-signing-key-file=${f('sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--cert-dir=${f('certs')}`,
        // A node (local/kube/node.ts) is reached at its InternalIP: loopback, not a host name.
        '--kubelet-preferred-address-types=InternalIP',
      ]);
      await waitFor(apiserver, 'kube-apiserver to be ready', async () => ((await this.kubectl(['get', '--raw', '/readyz'])).stdout.trim() === 'ok' ? true : undefined), this.timeout, 500);

      // Both talk to the API server as its admin, serve nothing (secure port 0), and lead alone.
      const controller = [
        `--kubeconfig=${this.kubeconfig}`,
        `--authentication-kubeconfig=${this.kubeconfig}`,
        `--authorization-kubeconfig=${this.kubeconfig}`,
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--leader-elect=false',
      ];
      this.spawn('kube-controller-manager', kubeBinary('kube-controller-manager'), [
        ...controller,
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${f('sa.key')}`,
        `--root-ca-file=${f('ca.crt')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
      ]);
      this.spawn('kube-scheduler', kubeBinary('kube-scheduler'), controller);
      // The controller-manager is working once it has made the default ServiceAccount.
      await waitFor(undefined, 'kube-controller-manager to create the default ServiceAccount', async () => {
        for (const p of this.processes) if (!p.running) throw new Error(`${p.name} exited (${p.exitCode}): ${p.logTail(5).join(' | ')}`);
        return (await this.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'])).stdout.trim() ? true : undefined;
      }, this.timeout, 500).catch((err: Error) => {
        const dead = this.processes.find((p) => !p.running);
        throw dead ? new Error(`${dead.name} exited (${dead.exitCode}): ${dead.logTail(8).join('\n')}`) : err;
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The server's version, as it reports it (`v1.33.13`). */
  async serverVersion(): Promise<string> {
    const { stdout } = await this.kubectl(['version', '-o', 'json']);
    return (JSON.parse(stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion;
  }

  /** Stops the scheduler and the controller-manager, then the API server, then etcd; removes the folder. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.processes].reverse()) await p.stop(10_000);
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private get timeout(): number {
    return this.options.startTimeoutMs ?? 120_000;
  }

  private spawn(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess(name, command, args, { env: process.env, cwd: this.dir, onLine: this.options.onLine, tailLines: 200 });
    this.processes.push(p);
    return p;
  }

  /** A CA, the API server's serving certificate (for 127.0.0.1) and the service-account key pair. */
  private certificates(): void {
    const openssl = (...args: string[]) => sh('openssl', args, { cwd: this.dir });
    writeFileSync(join(this.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n');
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=lab-control-plane-ca');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver');
    openssl('x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '7', '-extfile', 'san.ext');
    openssl('genrsa', '-out', 'sa.key', '2048');
    openssl('rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  }
}

/**
 * The kubeconfig's context: skaffold.yaml's `local-node` profile turns itself on for it (a name
 * no other cluster of the user's is likely to have).
 */
export const KUBE_CONTEXT = 'lab-local';

function kubeconfig(server: string, caFile: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${KUBE_CONTEXT}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    '- name: lab-admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${KUBE_CONTEXT}`,
    // A namespace, as kind's and minikube's contexts have: skaffold's port-forward needs one named.
    `  context: {cluster: ${KUBE_CONTEXT}, user: lab-admin, namespace: default}`,
    `current-context: ${KUBE_CONTEXT}`,
    '',
  ].join('\n');
}

