/**
 * What the suites on a running cluster (node, three nodes) each need: helm that explains its
 * failures, a forward to the facade, and what the cluster costs the machine at rest.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { machineCpuMs } from '../../../bench/process-stats.js';
import { kubeBinary } from '../../../local/kube/binaries.js';
import { freePorts } from '../../../local/ports.js';
import { eventually } from '../../support/eventually.js';

const run = promisify(execFile);

/** Runs `helm` with `env` (a kubeconfig); rejects with helm's own words when it fails. */
export async function helmOk(helm: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(helm, args, { env, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${e.stderr || e.stdout || e.message}`, { cause: err });
  }
}

/**
 * `kubectl port-forward svc/lab-facade` in `namespace` on a free loopback port, once the facade
 * answers /readyz through it. The caller kills `forward`.
 */
export async function forwardFacade(env: NodeJS.ProcessEnv, namespace: string): Promise<{ forward: ChildProcess; facade: string }> {
  const [port] = await freePorts(1);
  const forward = spawn(kubeBinary('kubectl'), ['port-forward', '-n', namespace, 'svc/lab-facade', `${port}:8080`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const facade = `http://127.0.0.1:${port}`;
  await eventually(async () => expect((await fetch(`${facade}/readyz`)).status).to.equal(200), { timeoutMs: 30_000, intervalMs: 500 });
  return { forward, facade };
}

/** Bytes the kernel says could be given to new work without swapping (`MemAvailable`). */
export function memAvailableBytes(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('MemAvailable:'));
  return Number(line?.match(/(\d+) kB/)?.[1] ?? NaN) * 1024;
}

/** CPU time (ms) the processes under a cgroup have used: cgroup v1's cpuacct, or v2's cpu.stat. */
function cgroupCpuMs(root: string): number | undefined {
  const v1 = `/sys/fs/cgroup/cpuacct${root}/cpuacct.usage`;
  if (existsSync(v1)) return Number(readFileSync(v1, 'utf8')) / 1e6;
  const v2 = `/sys/fs/cgroup${root}/cpu.stat`;
  if (existsSync(v2)) return Number(readFileSync(v2, 'utf8').match(/usage_usec (\d+)/)?.[1]) / 1e3;
  return undefined;
}

/**
 * What a cluster costs the machine while nothing is asked of it: the cores busy over `windowMs`
 * (the whole machine: control plane, nodes and pods), the share of them the pods under `podRoots`
 * (their cgroup roots) took, and the memory in use beyond `memAvailableBefore`.
 */
export async function restingCost(windowMs: number, podRoots: readonly string[], memAvailableBefore: number): Promise<string> {
  const pods = () => podRoots.reduce((sum, r) => sum + (cgroupCpuMs(r) ?? NaN), 0);
  const [m0, p0, t0] = [machineCpuMs(), pods(), Date.now()];
  await new Promise((r) => setTimeout(r, windowMs));
  const [m1, p1, elapsed] = [machineCpuMs(), pods(), Date.now() - t0];
  const cores = (ms: number) => (ms / elapsed).toFixed(2);
  const gib = ((memAvailableBefore - memAvailableBytes()) / 2 ** 30).toFixed(1);
  return `at rest over ${Math.round(elapsed / 1000)} s: ${m0 && m1 ? cores(m1.busy - m0.busy) : '?'} of ${cpus().length} cores busy, `
    + `the pods ${Number.isNaN(p1 - p0) ? '?' : cores(p1 - p0)} of them; ${gib} GiB of memory in use that was free before the start`;
}
