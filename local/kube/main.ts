/**
 * `npm run kube -- up [--node | --nodes N]|down|build|image`: a real Kubernetes control plane on this
 * machine (see control-plane.ts), to install the chart against, and with `--node` a node that runs
 * its pods, or with `--nodes N` (2 to 9) N nodes in network namespaces of their own (nodes.ts).
 *  - `up` builds what is missing, starts etcd, kube-apiserver, kube-controller-manager and
 *    kube-scheduler on loopback, prints the KUBECONFIG to use, and runs until Ctrl+C or `down`;
 *    `--node` (root; Linux) adds containerd, kubelet, kube-proxy and CoreDNS (node.ts) and loads
 *    the images (images.ts: the lab image built from the Dockerfile, Hazelcast, pause); `--nodes N`
 *    adds kube-router's firewall on each node, which enforces NetworkPolicies;
 *  - `down` stops the one `up` started (from another terminal);
 *  - `build [kubernetes|helm|skaffold|kube-router]…` only builds binaries: all of them (Kubernetes'
 *    own and CoreDNS, helm, skaffold, kube-router), or those named;
 *  - `image` builds the Dockerfile as $IMAGE and pushes it to the node's registry: skaffold's
 *    custom builder in the local-node profile runs it (as `node dist/local/kube/main.js image`).
 * Exit codes: 0 done, 1 failed, 2 usage.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ensureCoreDNS, ensureHelm, ensureKubeBinaries, ensureKubeRouter, ensureSkaffold, helmBinary, kubeBinary,
  KUBE_COMMANDS, KUBE_DIR, KUBE_VERSION, missingControlPlaneTools, missingNodeTools, missingNodesTools, NODE_COMMANDS, skaffoldBinary,
} from './binaries.js';
import { buildAndPush } from './images.js';
import { REGISTRY } from './node.js';
import { startLocalKube, type KubeShape, type LocalKube } from './cluster.js';
import { isAlive } from '../listeners.js';
import { waitUntil } from '../wait.js';

const STATE = join(KUBE_DIR, 'control-plane.json');
const USAGE = 'usage: npm run kube -- up [--node | --nodes N] | down | build [kubernetes|helm|skaffold|kube-router]… | image (with $IMAGE)\n';
const BUILDS = ['kubernetes', 'helm', 'skaffold', 'kube-router'];

async function up(shape: KubeShape): Promise<void> {
  const withNode = shape !== 'control-plane';
  if (existsSync(STATE)) {
    const { pid, kubeconfig } = JSON.parse(readFileSync(STATE, 'utf8')) as { pid: number; kubeconfig: string };
    if (isAlive(pid)) throw new Error(`a control plane is already up (pid ${pid}); KUBECONFIG=${kubeconfig}; npm run kube -- down stops it`);
  }
  const missing = [...missingControlPlaneTools(), ...(shape === 'node' ? missingNodeTools() : typeof shape === 'object' ? missingNodesTools() : [])];
  if (missing.length) throw new Error(`missing: ${missing.join('; ')}`);
  // A signal during start-up stops what has started once start-up has settled (a failed start
  // stops itself); a second signal leaves at once.
  const kube: Promise<LocalKube | undefined> = startLocalKube(shape, (line) => console.log(line));
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${why}: stopping ${shape === 'node' ? 'the node and ' : withNode ? 'the nodes and ' : ''}the control plane (again to leave at once)…`);
    await (await kube.catch(() => undefined))?.stop();
    rmSync(STATE, { force: true });
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const { plane, node, nodes } = (await kube)!;
  writeFileSync(STATE, `${JSON.stringify({ pid: process.pid, kubeconfig: plane.kubeconfig, server: plane.server })}\n`);
  console.log(
    [
      '',
      node
        ? `Kubernetes ${await plane.serverVersion()} is up at ${plane.server}, with node lab-node running pods on the bridge lab0 (10.244.0.0/24).`
        : nodes
          ? `Kubernetes ${await plane.serverVersion()} is up at ${plane.server}, with nodes ${nodes.nodes.map((n) => `${n.spec.name} (${n.spec.ip}, pods ${n.spec.podSubnet})`).join(', ')}, NetworkPolicies enforced by kube-router.`
          : `Kubernetes ${await plane.serverVersion()} control plane is up at ${plane.server} (no node: Pods are admitted and stay Pending).`,
      '',
      `  export KUBECONFIG=${plane.kubeconfig}`,
      `  export PATH=${[join(KUBE_DIR, 'bin', KUBE_VERSION), dirname(helmBinary()), dirname(skaffoldBinary())].join(':')}:$PATH     # kubectl, helm, skaffold (npm run kube -- build)`,
      '  kubectl create namespace lab && kubectl label namespace lab pod-security.kubernetes.io/enforce=restricted',
      `  helm install lab charts/lab -n lab${withNode ? ' --wait && helm test lab -n lab' : ''}`,
      ...(withNode ? [
        '  kubectl -n lab port-forward svc/lab-facade 8080:8080     # then: npm run scenario -- --kubernetes --namespace lab',
      ] : []),
      ...(node ? [`  skaffold dev     # or: the edit-build-deploy loop (profile local-node: buildah, the node's registry ${REGISTRY})`] : []),
      '',
      'Ctrl+C (or npm run kube -- down) stops it.',
    ].join('\n'),
  );
  for (;;) await sleep(60_000);
}

/**
 * skaffold's custom build: the Dockerfile in $BUILD_CONTEXT as $IMAGE, which must name the node's
 * registry, where skaffold then reads the digest.
 */
function image(): void {
  const { IMAGE: name, BUILD_CONTEXT: context } = process.env;
  if (!name || !context) throw new Error('no $IMAGE or $BUILD_CONTEXT: skaffold sets them for a custom build (skaffold.yaml, profile local-node)');
  if (!name.startsWith(`${REGISTRY}/`)) throw new Error(`$IMAGE is ${name}, not in the node's registry ${REGISTRY}`);
  buildAndPush(name, context, (line) => console.log(line));
}

async function down(): Promise<void> {
  if (!existsSync(STATE)) {
    console.log('no control plane is up.');
    return;
  }
  const { pid } = JSON.parse(readFileSync(STATE, 'utf8')) as { pid: number };
  if (!isAlive(pid)) {
    rmSync(STATE, { force: true });
    console.log('no control plane is up (removed a stale record).');
    return;
  }
  process.kill(pid, 'SIGTERM');
  await waitUntil(`pid ${pid} to exit`, () => !isAlive(pid) || undefined, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
  if (isAlive(pid)) throw new Error(`pid ${pid} is still running after 60 s`);
  console.log('stopped.');
}

async function main(): Promise<void> {
  let command: string | undefined;
  let rest: string[];
  let flags: { node?: boolean; nodes?: string };
  try {
    const parsed = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { node: { type: 'boolean' }, nodes: { type: 'string' } } });
    [command, ...rest] = parsed.positionals;
    flags = parsed.values;
  } catch {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const builds = command === 'build' ? (rest.length ? rest : BUILDS) : [];
  const nodeCount = flags.nodes === undefined ? undefined : Number(flags.nodes);
  const usage =
    !['up', 'down', 'build', 'image'].includes(command ?? '') ||
    (command === 'build' ? builds.some((b) => !BUILDS.includes(b)) : rest.length > 0) ||
    (command !== 'up' && (flags.node || flags.nodes !== undefined)) ||
    (flags.node && flags.nodes !== undefined) ||
    (nodeCount !== undefined && !(Number.isInteger(nodeCount) && nodeCount >= 2 && nodeCount <= 9));
  if (usage) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const shape: KubeShape = nodeCount !== undefined ? { nodes: nodeCount } : flags.node ? 'node' : 'control-plane';
  try {
    if (command === 'up') await up(shape);
    else if (command === 'down') await down();
    else if (command === 'image') image();
    else {
      const log = (line: string) => console.log(line);
      if (builds.includes('kubernetes')) {
        await ensureKubeBinaries(log, [...KUBE_COMMANDS, ...NODE_COMMANDS]);
        await ensureCoreDNS(log);
        console.log(`kubernetes ${KUBE_VERSION}: ${kubeBinary('kube-apiserver').replace(/kube-apiserver$/, '')}`);
      }
      if (builds.includes('helm')) console.log(`helm: ${await ensureHelm(log)}`);
      if (builds.includes('skaffold')) console.log(`skaffold: ${await ensureSkaffold(log)}`);
      if (builds.includes('kube-router')) console.log(`kube-router: ${await ensureKubeRouter(log)}`);
    }
  } catch (err) {
    process.stderr.write(`kube ${command}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

void main();
