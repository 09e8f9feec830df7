#!/usr/bin/env node
// Writes k8s/lab.yaml, the plain rendering of charts/lab for users without helm
// (`kubectl apply -f k8s/lab.yaml`): release `lab`, namespace `default`, default values,
// without the `helm test` pod.
//
//   node scripts/render-k8s.mjs          rewrite k8s/lab.yaml
//   node scripts/render-k8s.mjs --check  exit 1 if k8s/lab.yaml differs from the chart
//
// helm is taken from $HELM, else PATH, else $GOBIN or $(go env GOPATH)/bin.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = join(ROOT, 'k8s', 'lab.yaml');
/** The Kubernetes version the chart is checked against (kubernetes-models' schema, kind's node image). */
const KUBE_VERSION = '1.33.0';
export const HELM_ARGS = ['template', 'lab', join(ROOT, 'charts', 'lab'), '--namespace', 'default', '--kube-version', KUBE_VERSION, '--skip-tests'];

const HEADER = `# Generated from charts/lab by \`node scripts/render-k8s.mjs\`; do not edit (a test keeps it in step).
# helm template lab charts/lab --namespace default --kube-version ${KUBE_VERSION} --skip-tests
# For clusters without helm: kubectl apply -f k8s/lab.yaml   (namespace "default", release "lab")
`;

function findHelm() {
  if (process.env.HELM) return process.env.HELM;
  if (spawnSync('helm', ['version', '--short'], { stdio: 'ignore' }).status === 0) return 'helm';
  const dirs = [process.env.GOBIN];
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  if (gopath.status === 0) dirs.push(join(gopath.stdout.trim(), 'bin'));
  for (const dir of dirs) if (dir && existsSync(join(dir, 'helm'))) return join(dir, 'helm');
  throw new Error('helm not found: install helm v3, or set HELM to its path');
}

export function render(helm = findHelm()) {
  return HEADER + execFileSync(helm, HELM_ARGS, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = render();
  if (process.argv.includes('--check')) {
    const current = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '';
    if (current !== rendered) {
      process.stderr.write('k8s/lab.yaml is out of date with charts/lab: run `node scripts/render-k8s.mjs`\n');
      process.exit(1);
    }
    process.stdout.write('k8s/lab.yaml is up to date\n');
  } else {
    writeFileSync(OUTPUT, rendered);
    process.stdout.write(`wrote ${OUTPUT}\n`);
  }
}
