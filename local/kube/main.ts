/**
 * `npm run kube -- up [--node]|down|build`: a real Kubernetes control plane on this machine (see
 * control-plane.ts), to install the chart against, and with `--node` a node that runs its pods.
 *  - `up` builds what is missing, starts etcd, kube-apiserver, kube-controller-manager and
 *    kube-scheduler on loopback, prints the KUBECONFIG to use, and runs until Ctrl+C or `down`;
 *    `--node` (root; Linux) adds containerd, kubelet, kube-proxy and CoreDNS (node.ts) and loads
 *    the images (images.ts: the lab image built from the Dockerfile, Hazelcast, pause);
 *  - `down` stops the one `up` started (from another terminal);
 *  - `build` only builds the binaries.
 * Exit codes: 0 done, 1 failed, 2 usage.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKubeBinaries, kubeBinary, KUBE_DIR, KUBE_VERSION, missingControlPlaneTools, missingNodeTools } from './binaries.js';
import { startLocalKube, type LocalKube } from './cluster.js';
import { isAlive } from '../listeners.js';
import { waitUntil } from '../wait.js';

const STATE = join(KUBE_DIR, 'control-plane.json');
const USAGE = 'usage: npm run kube -- up [--node] | down | build\n';

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
      `  export PATH=${join(KUBE_DIR, 'bin', KUBE_VERSION)}:$PATH     # its kubectl`,
      '  kubectl create namespace lab && kubectl label namespace lab pod-security.kubernetes.io/enforce=restricted',
      `  helm install lab charts/lab -n lab${node ? ' --wait && helm test lab -n lab' : ''}`,
      ...(node ? ['  kubectl -n lab port-forward svc/lab-facade 8080:8080     # then: npm run scenario -- --kubernetes --namespace lab'] : []),
      '',
      'Ctrl+C (or npm run kube -- down) stops it.',
    ].join('\n'),
  );
  for (;;) await sleep(60_000);
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
  if (rest.length > (withNode ? 1 : 0) || !['up', 'down', 'build'].includes(command ?? '')) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  try {
    if (command === 'up') await up(withNode);
    else if (command === 'down') await down();
    else {
      await ensureKubeBinaries((line) => console.log(line));
      console.log(`binaries ${KUBE_VERSION}: ${kubeBinary('kube-apiserver').replace(/kube-apiserver$/, '')}`);
    }
  } catch (err) {
    process.stderr.write(`kube ${command}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

void main();
