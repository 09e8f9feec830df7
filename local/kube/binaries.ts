/**
 * Kubernetes' own binaries, built from the Go module proxy through the wrapper module in
 * k8s/control-plane (k8s.io/kubernetes itself cannot be `go install`ed: its go.mod replaces its
 * staging modules with local folders). They go to `.kube/bin/<version>/`, git-ignored; a build is
 * skipped when the binary is there, so only the first run pays for it (about 4 minutes for
 * kube-apiserver on 2 cores; the Go build cache makes later builds in a fresh clone a link step).
 * helm and skaffold are built the same way, each with the -ldflags of its own release build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../repo.js';

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
 * plugins, iptables, buildah, debootstrap and docker-registry (the node's image registry).
 */
export function missingNodeTools(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (a node sets up a bridge, iptables rules and containers)');
  for (const [cmd, pkg] of [['containerd', 'containerd'], ['runc', 'runc'], ['iptables', 'iptables'], ['buildah', 'buildah'], ['debootstrap', 'debootstrap'], ['gcc', 'gcc'], ['docker-registry', 'docker-registry']] as const) {
    if (!has('sh', ['-c', `command -v ${cmd}`])) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
  if (!existsSync('/usr/lib/cni/bridge')) missing.push('the CNI plugins (apt-get install containernetworking-plugins)');
  return missing;
}

/** What several nodes need besides one node's tools: nsenter (util-linux) and ipset (kube-router's firewall). */
export function missingNodesTools(): string[] {
  const missing = missingNodeTools();
  for (const [cmd, pkg] of [['nsenter', 'util-linux'], ['ipset', 'ipset']] as const) {
    if (!has('sh', ['-c', `command -v ${cmd}`])) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
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

function goBuild(args: string[], log: (line: string) => void, env: Record<string, string> = {}, cwd = MODULE_DIR): Promise<void> {
  return new Promise((resolve, reject) => {
    // go.sum is committed; -mod=mod only lets go add what a newer Go asks for. The module proxy
    // is the one source; the checksum database is not reachable here, so go.sum is the check.
    const child = spawn('go', args, {
      cwd,
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

/** helm, built from the Go module proxy with its release -ldflags (see ensureHelm). */
export const HELM_VERSION = 'v3.22.0';
export const helmBinary = () => join(KUBE_DIR, 'bin', `helm-${HELM_VERSION}`, 'helm');

/**
 * The Kubernetes minor version a helm release defaults to, as helm's Makefile works it out: one
 * more than the major of its k8s.io/client-go (v0.37.0: Kubernetes 1.37), from its go.mod.
 */
function helmKubeDefault(): { major: string; minor: string } {
  const r = spawnSync('go', ['mod', 'download', '-json', `helm.sh/helm/v3@${HELM_VERSION}`], { encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOSUMDB: 'off' } });
  if (r.status !== 0) throw new Error(`go mod download helm.sh/helm/v3@${HELM_VERSION}: ${r.stderr.trim()}`);
  const goMod = readFileSync((JSON.parse(r.stdout) as { GoMod: string }).GoMod, 'utf8');
  const m = /^\s*k8s\.io\/client-go v(\d+)\.(\d+)\./m.exec(goMod);
  if (!m) throw new Error(`helm ${HELM_VERSION}'s go.mod names no k8s.io/client-go`);
  return { major: String(Number(m[1]) + 1), minor: m[2]! };
}

/**
 * helm with the -ldflags of its Makefile: its version (without them `helm version` says only
 * v3.22) and its default Kubernetes version (without them 1.20, which a chart that asks for
 * kubeVersion >=1.25 refuses whenever no cluster is asked: `helm template`, `skaffold render`).
 */
export async function ensureHelm(log: (line: string) => void = () => undefined): Promise<string> {
  const target = helmBinary();
  if (existsSync(target)) return target;
  const t0 = Date.now();
  log(`building helm ${HELM_VERSION} with go, once…`);
  const { major, minor } = helmKubeDefault();
  const ldflags = [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/internal/version.metadata=',
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((pkg) => [`-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=${major}`, `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${minor}`]),
  ].join(' ');
  mkdirSync(join(target, '..'), { recursive: true });
  await goBuild(['install', '-trimpath', '-ldflags', ldflags, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], log, { GOBIN: join(target, '..') }, KUBE_DIR);
  log(`built helm in ${Math.round((Date.now() - t0) / 1000)} s`);
  return target;
}

const SKAFFOLD_MODULE_DIR = join(REPO_ROOT, 'k8s', 'skaffold');

/** The skaffold release the wrapper module k8s/skaffold requires: its go.mod is the one place it is written. */
export const SKAFFOLD_VERSION = ((): string => {
  const m = /^require github\.com\/GoogleContainerTools\/skaffold\/v2 (v\S+)$/m.exec(readFileSync(join(SKAFFOLD_MODULE_DIR, 'go.mod'), 'utf8'));
  if (!m) throw new Error('k8s/skaffold/go.mod requires no skaffold release');
  return m[1]!;
})();
export const skaffoldBinary = () => join(KUBE_DIR, 'bin', `skaffold-${SKAFFOLD_VERSION}`, 'skaffold');

/**
 * skaffold, through the wrapper module k8s/skaffold (its go.mod has replace lines, which `go
 * install` refuses), with the tags and -ldflags of its Makefile: without the version,
 * `skaffold version` prints nothing. 3½ to 8 minutes on 2 cores the first time (214 s and 469 s seen).
 */
export async function ensureSkaffold(log: (line: string) => void = () => undefined): Promise<string> {
  const target = skaffoldBinary();
  if (existsSync(target)) return target;
  const t0 = Date.now();
  log(`building skaffold ${SKAFFOLD_VERSION} with go, once (minutes on a small machine the first time)…`);
  const pkg = 'github.com/GoogleContainerTools/skaffold/v2';
  const ldflags = `-s -w -X ${pkg}/pkg/skaffold/version.version=${SKAFFOLD_VERSION} -X ${pkg}/pkg/skaffold/version.buildDate=1970-01-01T00:00:00Z`;
  mkdirSync(join(target, '..'), { recursive: true });
  const partial = `${target}.partial`;
  await goBuild(['build', '-trimpath', '-tags', 'timetzdata osusergo netgo', '-ldflags', ldflags, '-o', partial, `${pkg}/cmd/skaffold`], log, {}, SKAFFOLD_MODULE_DIR);
  renameSync(partial, target);
  log(`built skaffold in ${Math.round((Date.now() - t0) / 1000)} s`);
  return target;
}

/**
 * kube-router, whose NetworkPolicy firewall (iptables and ipset in each node's namespace) enforces
 * the chart's policies on the nodes of `up --nodes N`. Its module installs as is (no replace lines),
 * with the version -ldflags of its Makefile. About 2 minutes on 2 cores the first time.
 */
export const KUBE_ROUTER_VERSION = 'v2.1.0';
export const kubeRouterBinary = () => join(KUBE_DIR, 'bin', `kube-router-${KUBE_ROUTER_VERSION}`, 'kube-router');

export async function ensureKubeRouter(log: (line: string) => void = () => undefined): Promise<string> {
  const target = kubeRouterBinary();
  if (existsSync(target)) return target;
  const t0 = Date.now();
  log(`building kube-router ${KUBE_ROUTER_VERSION} with go, once…`);
  const pkg = 'github.com/cloudnativelabs/kube-router/v2';
  const ldflags = `-s -w -X ${pkg}/pkg/version.Version=${KUBE_ROUTER_VERSION} -X ${pkg}/pkg/version.BuildDate=1970-01-01T00:00:00Z`;
  mkdirSync(join(target, '..'), { recursive: true });
  await goBuild(['install', '-trimpath', '-ldflags', ldflags, `${pkg}/cmd/kube-router@${KUBE_ROUTER_VERSION}`], log, { GOBIN: join(target, '..') }, KUBE_DIR);
  log(`built kube-router in ${Math.round((Date.now() - t0) / 1000)} s`);
  return target;
}
