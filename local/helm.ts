/**
 * helm, and the Kubernetes version the chart is rendered for: one place for the render script
 * (scripts/render-k8s.ts), the chart tests and the Kubernetes suites.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { helmBinary } from './kube/binaries.js';

/** The Kubernetes version the chart is rendered for and validated against (kubernetes-models carries its 1.33.0 schema). */
export const CHART_KUBE_VERSION = '1.33.0';

const works = (cmd: string) => spawnSync(cmd, ['version', '--short'], { stdio: 'ignore' }).status === 0;

/**
 * helm, looked for in order: $HELM, the project's own build (`npm run kube -- build`: helm with its
 * release defaults, local/kube/binaries.ts), `helm` on PATH, then where `go install` puts it
 * ($GOBIN, else $(go env GOPATH)/bin).
 * @returns the command to run, or undefined when there is none
 */
export function findHelm(): string | undefined {
  const candidates: string[] = [];
  if (process.env.HELM) candidates.push(process.env.HELM);
  candidates.push(helmBinary(), 'helm');
  const go = (name: string) => {
    const r = spawnSync('go', ['env', name], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  const gobin = go('GOBIN') || (go('GOPATH') && join(go('GOPATH'), 'bin'));
  if (gobin) candidates.push(join(gobin, 'helm'));
  return candidates.find((c) => (c.includes('/') ? existsSync(c) && works(c) : works(c)));
}
