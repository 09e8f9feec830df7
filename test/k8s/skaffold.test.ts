/**
 * `skaffold dev` on a real node, as a user runs it (issue 21): a skaffold built here from the Go
 * module proxy, against the local node (local/kube), in a copy of the project's sources so that
 * an edit never touches the working tree. skaffold.yaml's local-node profile turns itself on for
 * the node's kube context: buildah builds the unchanged Dockerfile and pushes it to the node's
 * registry, and the release pins the image by digest.
 *  - the first deploy: release `lab`, 9 pods Ready, the facade forwarded to localhost, the lab's
 *    five steps through it;
 *  - one edit of a service's source (the messages stub's text): rebuilt and rolled out on its own,
 *    the new text served through the same forward, no stored message lost; the time from the save
 *    to the new text, and its parts, printed;
 *  - Ctrl+C: the release and its pods gone, the forward closed;
 *  - skaffold render equal to helm template for the same values; skaffold run / delete of the
 *    fast profile, which takes a write; skaffold diagnose.
 * Needs what the node suite needs, and Go (skaffold's first build takes minutes).
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../local/repo.js';
import { ensureSkaffold, kubeBinary, missingControlPlaneTools, missingNodeTools } from '../../local/kube/binaries.js';
import { startLocalKube, type LocalKube } from '../../local/kube/cluster.js';
import { REGISTRY } from '../../local/kube/node.js';
import { findHelm } from '../chart/support/helm.js';
import { eventually } from '../support/eventually.js';
import { missingTool } from '../support/tools.js';
import { scenarioAsOperator } from './support/scenario.js';

const run = promisify(execFile);
/** The image skaffold.yaml's local-node profile builds, as a pattern (registry from local/kube/node.ts). */
const LAB_IMAGE = `${REGISTRY}/lab`.replace(/[.:/]/g, (c) => `\\${c}`);

/** What a copy of the project needs for skaffold: the build context (the Dockerfile's COPYs), the chart and skaffold.yaml. */
const COPIED = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'bin', 'lib', 'services', 'charts', 'skaffold.yaml'];
/**
 * The messages service's handler, and the line the edit changes. (Its text is also a chart value,
 * messages.settings.MESSAGES_TEXT, which overrides the code's default: so the edit is to the code.)
 */
const STUB_FILE = join('services', 'messages', 'app.ts');
const STUB_LINE = '    ctx.body = text;';
const STUB_TEXT = "I'm not implemented yet ^_^";

/** Manifests as a sorted list of objects with sorted keys, whatever order a renderer writes them in. */
function canonical(text: string): string[] {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
    return v;
  };
  return parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o).map((o) => JSON.stringify(sortKeys(o))).sort();
}

interface Line {
  at: number;
  text: string;
}

/** `skaffold dev` as a child process: every line it prints, with when it printed it. */
class SkaffoldDev {
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(skaffold: string, cwd: string, env: NodeJS.ProcessEnv) {
    // -v info: skaffold also says when it noticed a change ("files modified").
    this.child = spawn(skaffold, ['dev', '--tail=false', '--update-check=false', '--interactive=false', '-v', 'info'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (text) => this.lines.push({ at: Date.now(), text }));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The first line from `from` on that matches, once it is printed. */
  async line(pattern: RegExp, from = 0, timeoutMs = 15 * 60_000): Promise<Line> {
    return eventually(() => {
      const found = this.lines.slice(from).find((l) => pattern.test(l.text));
      expect(found, `skaffold dev to print ${pattern}; its last lines:\n${this.tail()}`).to.not.equal(undefined);
      return found!;
    }, { timeoutMs, intervalMs: 200 });
  }

  tail(n = 25): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  interrupt(): void {
    this.child.kill('SIGINT');
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

describe('skaffold dev on the local node', function () {
  this.timeout(45 * 60_000);
  let kube: LocalKube | undefined;
  let skaffold: string;
  let env: NodeJS.ProcessEnv;
  let top = '';
  let work = '';
  let dev: SkaffoldDev | undefined;
  let facade = '';
  const stored: string[] = [];

  const kubectl = (...args: string[]) => kube!.plane.kubectl(args);
  const sk = async (...args: string[]) => {
    try {
      return await run(skaffold, [...args, '--update-check=false'], { cwd: work, env, maxBuffer: 32 << 20 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`skaffold ${args.join(' ')}: ${e.stderr || e.stdout || e.message}`, { cause: err });
    }
  };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  before(async function () {
    const missing = [...missingControlPlaneTools(), ...missingNodeTools()];
    const helm = findHelm();
    if (!helm) missing.push('helm v3 (npm run kube -- build helm)');
    if (missing.length > 0) missingTool(this, 'skaffold tests', `missing: ${missing.join('; ')}`);
    const log = (line: string) => process.stderr.write(`      ${line}\n`);
    skaffold = await ensureSkaffold(log);
    kube = await startLocalKube('node', log);
    // skaffold calls helm and kubectl from PATH; its own settings stay in the copy, and it asks nobody about updates.
    // The project's copy in work/lab, and a HOME beside it (kubectl's cache must not look like an edit).
    top = mkdtempSync(join(tmpdir(), 'lab-skaffold-'));
    work = join(top, 'lab');
    mkdirSync(join(top, 'home'));
    env = {
      ...kube.plane.env(),
      PATH: `${dirname(helm!)}:${dirname(kubeBinary('kubectl'))}:${process.env.PATH}`,
      HOME: join(top, 'home'),
      SKAFFOLD_UPDATE_CHECK: 'false',
      SKAFFOLD_COLLECT_METRICS: 'false',
    };
    for (const entry of COPIED) cpSync(join(REPO_ROOT, entry), join(work, entry), { recursive: true });
    // The custom build command (node dist/local/kube/main.js image) is the project's own, built already.
    symlinkSync(join(REPO_ROOT, 'dist'), join(work, 'dist'));
    for (const [key, value] of [['collect-metrics', 'false'], ['update-check', 'false']]) {
      await sk('config', 'set', '--global', key!, value!);
    }
  });
  after(async () => {
    dev?.kill();
    await kube?.stop();
    if (top) rmSync(top, { recursive: true, force: true });
  });

  it('is the skaffold release it was built from', async () => {
    const { stdout } = await sk('version');
    expect(stdout.trim()).to.match(/^v2\.\d+\.\d+$/);
  });

  it('deploys release lab on the first run: 9 pods Ready, the facade forwarded to localhost', async () => {
    const t0 = Date.now();
    dev = new SkaffoldDev(skaffold, work, env);
    const forwarded = await dev.line(/Port forwarding service\/lab-facade .* -> http:\/\/(127\.0\.0\.1|localhost):\d+/);
    facade = /-> (http:\/\/\S+)/.exec(forwarded.text)![1]!.replace('localhost', '127.0.0.1');
    const watching = await dev.line(/Watching for changes/);
    process.stderr.write(`      skaffold dev, cold: first deploy served after ${seconds(watching.at - t0)} (the node up before it)\n`);
    const pods = JSON.parse((await kubectl('get', 'pods', '-n', 'default', '-l', 'app.kubernetes.io/instance=lab', '-o', 'json')).stdout).items as {
      spec: { containers: { image: string }[] }; status: { conditions: { type: string; status: string }[] }; metadata: { name: string };
    }[];
    expect(pods.filter((p) => !p.metadata.name.includes('-test'))).to.have.length(9);
    for (const p of pods) expect(p.status.conditions.find((c) => c.type === 'Ready')?.status, p.metadata.name).to.equal('True');
    const labImages = pods.flatMap((p) => p.spec.containers.map((c) => c.image)).filter((i) => i.startsWith(`${REGISTRY}/lab`));
    expect(labImages.length).to.be.greaterThan(0);
    for (const image of labImages) expect(image, 'pinned by digest').to.match(new RegExp(`^${LAB_IMAGE}:[^@]+@sha256:[0-9a-f]{64}$`));
    expect((await fetch(`${facade}/readyz`)).status).to.equal(200);
  });

  it("passes the lab's five steps through the forward", async () => {
    const { code, stdout } = await scenarioAsOperator(facade, 'default', env);
    expect(code, stdout).to.equal(0);
    expect(stdout).to.include('Result: all 5 steps passed.');
  });

  it('rebuilds and rolls out an edit of a service on its own: the new text through the same forward, nothing stored lost', async () => {
    // Step 5 deleted two members and two logging pods: until their replacements are Ready, a write
    // may rightly be refused (one member alone is a minority). CI saw a 503 here once.
    await kubectl('rollout', 'status', 'statefulset/lab-hazelcast', '-n', 'default', '--timeout=5m');
    await kubectl('rollout', 'status', 'deployment/lab-logging', '-n', 'default', '--timeout=5m');
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${facade}/facade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msg: `before-edit-${i}` }) });
      const body = await r.text();
      expect(r.status, `write ${i}: ${body}`).to.equal(201);
      stored.push((JSON.parse(body) as { message: { uuid: string } }).message.uuid);
    }
    const suffix = ` (rebuilt by skaffold at ${new Date().toISOString()})`;
    const newText = `${STUB_TEXT}${suffix}`;
    const file = join(work, STUB_FILE);
    const source = readFileSync(file, 'utf8');
    expect(source).to.include(STUB_LINE);
    const from = dev!.lines.length;
    const savedAt = Date.now();
    writeFileSync(file, source.replace(STUB_LINE, `    ctx.body = \`\${text}${suffix}\`;`));
    const served = await eventually(async () => {
      const body = (await (await fetch(`${facade}/facade`, { signal: AbortSignal.timeout(10_000) })).json()) as { 'messages-service': string };
      expect(body['messages-service'], `the new text; skaffold dev's last lines:\n${dev!.tail()}`).to.equal(newText);
      return Date.now();
    }, { timeoutMs: 5 * 60_000, intervalMs: 250 });
    const at = async (pattern: RegExp) => (await dev!.line(pattern, from, 1_000)).at;
    const noticed = await at(/files modified/);
    const building = await at(new RegExp(`Building \\[${LAB_IMAGE}\\]`));
    const pushing = await at(new RegExp(`pushing ${LAB_IMAGE}`));
    const built = await at(new RegExp(`Build \\[${LAB_IMAGE}\\] succeeded`));
    const stable = await at(/Deployments stabilized|Waiting for deployments to stabilize/);
    process.stderr.write(
      `      save to serving ${seconds(served - savedAt)}: noticed after ${seconds(noticed - savedAt)}, building from ${seconds(building - savedAt)}, build ${seconds(pushing - building)}, `
      + `push ${seconds(built - pushing)}, deploy and rollout ${seconds(served - built)} (stabilizing from ${seconds(stable - savedAt)})\n`,
    );
    // Every pod of the lab image was replaced; the read may answer 503 for a moment while the new
    // facade learns the new logging pods (a CI run saw one), so it is asked again for up to 30 s.
    const listed = await eventually(async () => {
      const res = await fetch(`${facade}/facade/messages`, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { messages?: { uuid: string }[] };
      expect(res.status, JSON.stringify(body).slice(0, 500)).to.equal(200);
      return new Set(body.messages!.map((m) => m.uuid));
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(stored.filter((u) => !listed.has(u)), 'stored before the edit, missing after it').to.deep.equal([]);
  });

  it('Ctrl+C removes the release and its pods, and closes the forward', async () => {
    dev!.interrupt();
    expect(await dev!.exited).to.equal(0);
    const helm = findHelm()!;
    expect((await run(helm, ['list', '-A', '-q'], { env })).stdout.trim()).to.equal('');
    await eventually(async () => {
      const left = JSON.parse((await kubectl('get', 'pods', '-n', 'default', '-o', 'json')).stdout).items as unknown[];
      expect(left).to.have.length(0);
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
    const closed = await fetch(`${facade}/readyz`, { signal: AbortSignal.timeout(3_000) }).then(() => false, () => true);
    expect(closed, 'the forward is closed').to.equal(true);
  });

  it('runs the fast profile (one member, split-brain protection off), which takes a write, and deletes it', async () => {
    await sk('run', '-p', 'fast', '--status-check=true');
    const pods = JSON.parse((await kubectl('get', 'pods', '-n', 'default', '-l', 'app.kubernetes.io/component=hazelcast', '-o', 'json')).stdout).items as unknown[];
    expect(pods).to.have.length(1);
    const forward = spawn(kubeBinary('kubectl'), ['port-forward', 'svc/lab-facade', '0:8080'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        createInterface({ input: forward.stdout! }).on('line', (l) => {
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(l);
          if (m) resolve(m[1]!);
        });
        forward.once('exit', () => reject(new Error('kubectl port-forward exited')));
      });
      const r = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/facade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msg: 'fast' }) });
        expect(res.status).to.equal(201);
        return res;
      }, { timeoutMs: 60_000, intervalMs: 1_000 });
      expect(r.status).to.equal(201);
    } finally {
      forward.kill();
    }
    await sk('delete', '-p', 'fast');
    const helm = findHelm()!;
    expect((await run(helm, ['list', '-A', '-q'], { env })).stdout.trim()).to.equal('');
  });

  it('renders what helm template renders for the same values (the local-node profile on by itself)', async () => {
    // The last build's image, by the digest the registry holds (as skaffold dev deployed it).
    const rendered = (await sk('render', '--digest-source=remote')).stdout;
    const images = [...new Set([...rendered.matchAll(new RegExp(`image: (${LAB_IMAGE}:\\S+)`, 'g'))].map((m) => m[1]!))];
    expect(images, rendered.slice(0, 2000)).to.have.length(1);
    const [, tag, digest] = new RegExp(`^${LAB_IMAGE}:([^@]+)@(sha256:[0-9a-f]{64})$`).exec(images[0]!)!;
    const helm = findHelm()!;
    // The values skaffold.yaml sets itself, and the image it injects.
    const setValues = (parse(readFileSync(join(work, 'skaffold.yaml'), 'utf8')) as { deploy: { helm: { releases: { setValues?: Record<string, unknown> }[] } } })
      .deploy.helm.releases[0]!.setValues ?? {};
    const sets = Object.entries({ ...setValues, 'image.repository': `${REGISTRY}/lab`, 'image.tag': tag, 'image.digest': digest }).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);
    const plain = (await run(helm, ['template', 'lab', join(work, 'charts', 'lab'), ...sets], { env, maxBuffer: 32 << 20 })).stdout;
    expect(canonical(rendered)).to.deep.equal(canonical(plain));
  });

  it('diagnoses the configuration it runs with', async () => {
    const { stdout } = await sk('diagnose', '--yaml-only');
    expect(stdout).to.include(`${REGISTRY}/lab`).and.to.include('buildCommand: node dist/local/kube/main.js image');
  });
});
