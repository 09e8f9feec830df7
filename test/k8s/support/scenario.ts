/**
 * `npm run scenario -- --kubernetes` against a cluster, with this process as the person at the
 * keyboard: each `kubectl delete` the scenario asks for (on its stderr) is run as asked.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../../local/repo.js';
import { kubeBinary } from '../../../local/kube/binaries.js';

/**
 * Runs the lab report through `facade` in `namespace`, with `env` (a kubeconfig) and the built
 * kubectl on PATH.
 * @returns its exit code, its report (stdout) and the commands it asked for
 */
export async function scenarioAsOperator(
  facade: string, namespace: string, env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; asked: string[] }> {
  const withKubectl = { ...env, PATH: `${dirname(kubeBinary('kubectl'))}:${process.env.PATH}` };
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'drills', 'scenario.js'), '--facade', facade, '--kubernetes', '--namespace', namespace, '--wait-timeout', '300'], {
    env: withKubectl, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const asked: string[] = [];
  const request = new RegExp(`^\\s*kubectl -n ${namespace} delete`);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (request.test(line)) {
      asked.push(line.trim());
      spawn('sh', ['-c', line.trim()], { env: withKubectl, stdio: 'ignore' });
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, asked };
}
