/**
 * `npm run kube -- up|down|build`: a real Kubernetes control plane on this machine (see
 * control-plane.ts), to install the chart against.
 *  - `up` builds what is missing, starts etcd, kube-apiserver, kube-controller-manager and
 *    kube-scheduler on loopback, prints the KUBECONFIG to use, and runs until Ctrl+C or `down`;
 *  - `down` stops the one `up` started (from another terminal);
 *  - `build` only builds the binaries.
 * Exit codes: 0 done, 1 failed, 2 usage.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKubeBinaries, kubeBinary, KUBE_DIR, KUBE_VERSION, missingControlPlaneTools } from './binaries.js';
import { ControlPlane } from './control-plane.js';

const STATE = join(KUBE_DIR, 'control-plane.json');
const USAGE = 'usage: npm run kube -- up | down | build\n';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function up(): Promise<void> {
  if (existsSync(STATE)) {
    const { pid, kubeconfig } = JSON.parse(readFileSync(STATE, 'utf8')) as { pid: number; kubeconfig: string };
    if (alive(pid)) throw new Error(`a control plane is already up (pid ${pid}); KUBECONFIG=${kubeconfig}; npm run kube -- down stops it`);
  }
  const missing = missingControlPlaneTools();
  if (missing.length) throw new Error(`missing: ${missing.join('; ')}`);
  await ensureKubeBinaries((line) => console.log(line));
  const plane = new ControlPlane();
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping the control plane…`);
    await plane.stop();
    rmSync(STATE, { force: true });
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log('starting etcd, kube-apiserver, kube-controller-manager and kube-scheduler on 127.0.0.1…');
  await plane.start();
  writeFileSync(STATE, `${JSON.stringify({ pid: process.pid, kubeconfig: plane.kubeconfig, server: plane.server })}\n`);
  console.log(
    [
      '',
      `Kubernetes ${await plane.serverVersion()} control plane is up at ${plane.server} (no node: Pods are admitted and stay Pending).`,
      '',
      `  export KUBECONFIG=${plane.kubeconfig}`,
      `  export PATH=${join(KUBE_DIR, 'bin', KUBE_VERSION)}:$PATH     # its kubectl`,
      '  kubectl create namespace lab && kubectl label namespace lab pod-security.kubernetes.io/enforce=restricted',
      '  helm install lab charts/lab -n lab',
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
  if (!alive(pid)) {
    rmSync(STATE, { force: true });
    console.log('no control plane is up (removed a stale record).');
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) throw new Error(`pid ${pid} is still running after 60 s`);
  console.log('stopped.');
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (rest.length > 0 || !['up', 'down', 'build'].includes(command ?? '')) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  try {
    if (command === 'up') await up();
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
