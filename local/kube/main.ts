/**
 * `npm run kube -- up [--node]|down|build|image`: a real Kubernetes control plane on this machine (see
 * control-plane.ts), to install the chart against, and with `--node` a node that runs its pods.
 *  - `up` builds what is missing, starts etcd, kube-apiserver, kube-controller-manager and
 *    kube-scheduler on loopback, prints the KUBECONFIG to use, and runs until Ctrl+C or `down`;
 *    `--node` (root; Linux) adds containerd, kubelet, kube-proxy and CoreDNS (node.ts) and loads
 *    the images (images.ts: the lab image built from the Dockerfile, Hazelcast, pause);
 *  - `down` stops the one `up` started (from another terminal);
 *  - `build [kubernetes|helm|skaffold]…` only builds binaries: all of them (Kubernetes' own and
 *    CoreDNS, helm, skaffold), or those named;
 *  - `image` builds the Dockerfile as $IMAGE and pushes it to the node's registry: skaffold's
 *    custom builder in the local-node profile runs it (as `node dist/local/kube/main.js image`).
 * Exit codes: 0 done, 1 failed, 2 usage.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ensureCoreDNS, ensureHelm, ensureKubeBinaries, ensureSkaffold, helmBinary, kubeBinary, KUBE_COMMANDS, KUBE_DIR, KUBE_VERSION,
  missingControlPlaneTools, missingNodeTools, NODE_COMMANDS, skaffoldBinary,
} from './binaries.js';
import { buildAndPush } from './images.js';
import { REGISTRY } from './node.js';
import { startLocalKube, type LocalKube } from './cluster.js';
import { isAlive } from '../listeners.js';
import { waitUntil } from '../wait.js';

const STATE = join(KUBE_DIR, 'control-plane.json');
const USAGE = 'usage: npm run kube -- up [--node] | down | build [kubernetes|helm|skaffold]… | image (with $IMAGE)\n';
const BUILDS = ['kubernetes', 'helm', 'skaffold'];

async function up(withNode: boolean): Promise<void> {
  if (existsSync(STATE)) {
    const { pid, kubeconfig } = JSON.parse(readFileSync(STATE, 'utf8')) as { pid: number; kubeconfig: string };
    if (isAlive(pid)) throw new Error(`a control plane is already up (pid ${pid}); KUBECONFIG=${kubeconfig}; npm run kube -- down stops it`);
  }
  const missing = [...missingControlPlaneTools(), ...(withNode ? missingNodeTools() : [])];
  if (missing.length) throw new Error(`missing: ${missing.join('; ')}`);
  // A signal during start-up stops what has started once start-up has settled (a failed start
  // stops itself); a second signal leaves at once.
  const kube: Promise<LocalKube | undefined> = startLocalKube(withNode, (line) => console.log(line));
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${why}: stopping ${withNode ? 'the node and ' : ''}the control plane (again to leave at once)…`);
    await (await kube.catch(() => undefined))?.stop();
    rmSync(STATE, { force: true });
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const { plane, node } = (await kube)!;
  writeFileSync(STATE, `${JSON.stringify({ pid: process.pid, kubeconfig: plane.kubeconfig, server: plane.server })}\n`);
  console.log(
    [
      '',
      node
        ? `Kubernetes ${await plane.serverVersion()} is up at ${plane.server}, with node lab-node running pods on the bridge lab0 (10.244.0.0/24).`
        : `Kubernetes ${await plane.serverVersion()} control plane is up at ${plane.server} (no node: Pods are admitted and stay Pending).`,
      '',
      `  export KUBECONFIG=${plane.kubeconfig}`,
      `  export PATH=${[join(KUBE_DIR, 'bin', KUBE_VERSION), dirname(helmBinary()), dirname(skaffoldBinary())].join(':')}:$PATH     # kubectl, helm, skaffold (npm run kube -- build)`,
      '  kubectl create namespace lab && kubectl label namespace lab pod-security.kubernetes.io/enforce=restricted',
      `  helm install lab charts/lab -n lab${node ? ' --wait && helm test lab -n lab' : ''}`,
      ...(node ? [
        '  kubectl -n lab port-forward svc/lab-facade 8080:8080     # then: npm run scenario -- --kubernetes --namespace lab',
        `  skaffold dev     # or: the edit-build-deploy loop (profile local-node: buildah, the node's registry ${REGISTRY})`,
      ] : []),
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
  const [command, ...rest] = process.argv.slice(2);
  const withNode = rest[0] === '--node' && command === 'up';
  const builds = command === 'build' ? (rest.length ? rest : BUILDS) : [];
  const usage = command === 'build' ? builds.some((b) => !BUILDS.includes(b)) : rest.length > (withNode ? 1 : 0);
  if (usage || !['up', 'down', 'build', 'image'].includes(command ?? '')) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  try {
    if (command === 'up') await up(withNode);
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
    }
  } catch (err) {
    process.stderr.write(`kube ${command}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

void main();
