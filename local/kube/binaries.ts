/**
 * Kubernetes' own binaries, built from the Go module proxy through the wrapper module in
 * k8s/control-plane (k8s.io/kubernetes itself cannot be `go install`ed: its go.mod replaces its
 * staging modules with local folders). They go to `.kube/bin/<version>/`, git-ignored; a build is
 * skipped when the binary is there, so only the first run pays for it (about 4 minutes for
 * kube-apiserver on 2 cores; the Go build cache makes later builds in a fresh clone a link step).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../hazelcast.js';

/** The Kubernetes release built and run; the chart's kubeVersion must accept it. */
export const KUBE_VERSION = 'v1.33.13';
export const KUBE_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
/** What a node adds: built only when a node is brought up. */
export const NODE_COMMANDS = ['kubelet', 'kube-proxy'] as const;
export type KubeCommand = (typeof KUBE_COMMANDS)[number] | (typeof NODE_COMMANDS)[number];

export const KUBE_DIR = join(REPO_ROOT, '.kube');
const BIN_DIR = join(KUBE_DIR, 'bin', KUBE_VERSION);
const MODULE_DIR = join(REPO_ROOT, 'k8s', 'control-plane');

export const kubeBinary = (command: KubeCommand) => join(BIN_DIR, command);

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/**
 * What is missing to build and run a control plane here, in one line each: Go (builds the
 * binaries), etcd (Debian's etcd-server) and openssl (certificates).
 */
export function missingControlPlaneTools(): string[] {
  const missing: string[] = [];
  if (!KUBE_COMMANDS.every((c) => existsSync(kubeBinary(c))) && !has('go', ['version'])) missing.push('Go (builds kube-apiserver and the other binaries: install Go 1.24 or newer)');
  if (!has('etcd', ['--version'])) missing.push('etcd (apt-get install etcd-server)');
  if (!has('openssl', ['version'])) missing.push('openssl (apt-get install openssl)');
  return missing;
}

/**
 * What a node needs besides the control plane's tools: root, and Debian's containerd, runc, CNI
 * plugins, iptables, buildah and debootstrap.
 */
export function missingNodeTools(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (a node sets up a bridge, iptables rules and containers)');
  for (const [cmd, pkg] of [['containerd', 'containerd'], ['runc', 'runc'], ['iptables', 'iptables'], ['buildah', 'buildah'], ['debootstrap', 'debootstrap'], ['gcc', 'gcc']] as const) {
    if (!has('sh', ['-c', `command -v ${cmd}`])) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
  if (!existsSync('/usr/lib/cni/bridge')) missing.push('the CNI plugins (apt-get install containernetworking-plugins)');
  return missing;
}

/** `-X` flags that give the binaries their release version; without them they report v0.0.0. */
function versionFlags(): string {
  const [major, minor] = KUBE_VERSION.slice(1).split('.');
  const pkg = 'k8s.io/component-base/version';
  return [
    `-X ${pkg}.gitVersion=${KUBE_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ].join(' ');
}

/**
 * Builds every missing binary, one at a time (each build takes most of the machine).
 * @param log receives progress lines, and go's output when a build fails
 * @throws Error with the end of go's output when a build fails
 */
export async function ensureKubeBinaries(
  log: (line: string) => void = () => undefined, commands: readonly KubeCommand[] = KUBE_COMMANDS,
): Promise<void> {
  mkdirSync(BIN_DIR, { recursive: true });
  for (const command of commands) {
    const target = kubeBinary(command);
    if (existsSync(target)) continue;
    const t0 = Date.now();
    log(`building ${command} ${KUBE_VERSION} with go, once (minutes on a small machine the first time)…`);
    const partial = `${target}.partial`;
    await goBuild(['build', '-trimpath', '-ldflags', `-s -w ${versionFlags()}`, '-o', partial, `k8s.io/kubernetes/cmd/${command}`], log);
    renameSync(partial, target);
    log(`built ${command} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

function goBuild(args: string[], log: (line: string) => void, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    // go.sum is committed; -mod=mod only lets go add what a newer Go asks for. The module proxy
    // is the one source; the checksum database is not reachable here, so go.sum is the check.
    const child = spawn('go', args, {
      cwd: MODULE_DIR,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOSUMDB: 'off', CGO_ENABLED: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const keep = (line: string) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) return resolve();
      for (const line of tail) log(`  ${line}`);
      reject(new Error(`go ${args.slice(0, 1).join(' ')} ${args.at(-1)} failed (exit ${code}): ${tail.slice(-3).join(' | ')}`));
    });
  });
}

/** CoreDNS, the cluster DNS of a local node, from the Go module proxy (its own module installs as is). */
export const COREDNS_VERSION = 'v1.12.4';
export const corednsBinary = () => join(KUBE_DIR, 'bin', `coredns-${COREDNS_VERSION}`, 'coredns');

export async function ensureCoreDNS(log: (line: string) => void = () => undefined): Promise<void> {
  if (existsSync(corednsBinary())) return;
  const t0 = Date.now();
  log(`building coredns ${COREDNS_VERSION} with go, once…`);
  await goBuild(['install', `github.com/coredns/coredns@${COREDNS_VERSION}`], log, { GOBIN: join(KUBE_DIR, 'bin', `coredns-${COREDNS_VERSION}`) });
  log(`built coredns in ${Math.round((Date.now() - t0) / 1000)} s`);
}
