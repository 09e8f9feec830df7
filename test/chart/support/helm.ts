/**
 * The real helm binary for chart tests: where to find it, and `helm template` / `helm lint` runs
 * whose output is parsed into plain objects. No mock: without helm the chart tests skip locally
 * and fail in CI.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../../local/repo.js';
import { missingTool } from '../../support/tools.js';
import { CHART_KUBE_VERSION, findHelm } from '../../../local/helm.js';

export { findHelm };

const run = promisify(execFile);

export const CHART_DIR = join(REPO_ROOT, 'charts', 'lab');

/** The Kubernetes version the chart is rendered for and validated against. */
export const KUBE_VERSION = CHART_KUBE_VERSION;

/** A Kubernetes object as rendered; fields are read with the accessors in manifests.ts. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

export interface Rendering {
  /** helm's output, as printed. */
  text: string;
  objects: K8sObject[];
}

/**
 * helm for a suite's `before` hook. Without helm the suite fails in CI (CI=true) and is skipped
 * elsewhere, with a notice that cannot be missed.
 */
export function requireHelm(ctx: Mocha.Context): string {
  const helm = findHelm();
  if (helm) return helm;
  return missingTool(
    ctx,
    'chart tests',
    'helm v3 not found ($HELM, .kube/bin, PATH, $(go env GOBIN) or $(go env GOPATH)/bin); build it with `npm run kube -- build helm`',
  );
}

export type SetValues = Record<string, string | number | boolean>;

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  set?: SetValues;
  /** Values given as JSON (`--set-json`): lists and objects, e.g. a component's tolerations. */
  setJson?: Record<string, unknown>;
  /** Leave out the `helm test` pod, as `--skip-tests` does. */
  skipTests?: boolean;
  chartDir?: string;
}

const setArgs = (set: SetValues = {}) => Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

/** Parses multi-document YAML (helm's output) into objects, dropping empty documents. */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** The objects of a rendering by the template file that rendered them (`templates/...`, from helm's `# Source:` lines). */
export function objectsBySource(text: string): Map<string, K8sObject[]> {
  const bySource = new Map<string, K8sObject[]>();
  for (const chunk of text.split(/^---$/m)) {
    const source = /^# Source: [^/]+\/(.+)$/m.exec(chunk)?.[1];
    const objects = parseManifests(chunk);
    if (source && objects.length > 0) bySource.set(source, [...(bySource.get(source) ?? []), ...objects]);
  }
  return bySource;
}

/** `helm template` of charts/lab; rejects with helm's own message when it fails (e.g. a schema error). */
export async function helmTemplate(helm: string, o: TemplateOptions = {}): Promise<Rendering> {
  const args = [
    'template', o.release ?? 'lab', o.chartDir ?? CHART_DIR,
    '--namespace', o.namespace ?? 'default',
    '--kube-version', KUBE_VERSION,
    ...(o.skipTests ? ['--skip-tests'] : []),
    ...setArgs(o.set),
    ...Object.entries(o.setJson ?? {}).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]),
  ];
  try {
    const { stdout } = await run(helm, args, { maxBuffer: 16 * 1024 * 1024 });
    return { text: stdout, objects: parseManifests(stdout) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

/**
 * `helm template` of a copy of charts/lab that `edit` changed first (a bumped Chart.yaml, a chart
 * inside a parent chart, NOTES.txt turned into an object); the copy is removed afterwards.
 * @param edit gets the copy's directory, named `lab`, in a temporary directory of its own
 * @returns the rendering, from the directory `edit` returns (default: the copy itself)
 */
export async function helmTemplateOfCopy(
  helm: string, edit: (chartDir: string) => string | void, o: Omit<TemplateOptions, 'chartDir'> = {},
): Promise<Rendering> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-chart-'));
  try {
    const chartDir = join(dir, 'lab');
    cpSync(CHART_DIR, chartDir, { recursive: true });
    return await helmTemplate(helm, { ...o, chartDir: edit(chartDir) ?? chartDir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs helm with any arguments; resolves with its exit code and output instead of throwing. */
export async function helmRun(helm: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(helm, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}
