/** What the suites on a running cluster (node, three nodes) each need: helm that explains its failures, and a forward to the facade. */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
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
