/**
 * `npm run render:k8s [-- --check]`: writes k8s/lab.yaml, the plain rendering of charts/lab for
 * users without helm (`kubectl apply -f k8s/lab.yaml`): release `lab`, namespace `default`,
 * default values, without the `helm test` pod. `--check` exits 1 if k8s/lab.yaml differs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commandLineOrExit } from '../local/args.js';
import { REPO_ROOT } from '../local/repo.js';
import { CHART_KUBE_VERSION, findHelm } from '../local/helm.js';

const OUTPUT = join(REPO_ROOT, 'k8s', 'lab.yaml');
const HELM_ARGS = ['template', 'lab', join(REPO_ROOT, 'charts', 'lab'), '--namespace', 'default', '--kube-version', CHART_KUBE_VERSION, '--skip-tests'];
const HEADER = `# Generated from charts/lab by \`npm run render:k8s\`; do not edit (a test keeps it in step).
# helm template lab charts/lab --namespace default --kube-version ${CHART_KUBE_VERSION} --skip-tests
# For clusters without helm: kubectl apply -f k8s/lab.yaml   (namespace "default", release "lab")
`;

export function render(helm: string): string {
  return HEADER + execFileSync(helm, HELM_ARGS, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

const USAGE = 'usage: npm run render:k8s [-- --check]';

function main(): void {
  const { values } = commandLineOrExit(USAGE, { options: { check: { type: 'boolean' } } });
  const helm = findHelm();
  if (!helm) {
    process.stderr.write('helm not found: install helm v3 (go install helm.sh/helm/v3/cmd/helm@v3.22.0), or set HELM to its path\n');
    process.exit(2);
  }
  const rendered = render(helm);
  if (values.check) {
    if ((existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '') !== rendered) {
      process.stderr.write('k8s/lab.yaml is out of date with charts/lab: run `npm run render:k8s`\n');
      process.exit(1);
    }
    process.stdout.write('k8s/lab.yaml is up to date\n');
  } else {
    writeFileSync(OUTPUT, rendered);
    process.stdout.write(`wrote ${OUTPUT}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
