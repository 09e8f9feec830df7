/**
 * The Dockerfile, without a container engine: its steps replayed on a clean copy of the build
 * context (the repository as .dockerignore lets it through), then the image's own command started
 * for each service, answering /healthz and exiting 0 on SIGTERM.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../local/repo.js';
import { ManagedProcess, probeHttp, waitFor } from '../../local/processes.js';
import { SERVICES } from '../../services/index.js';
import { freePorts } from '../support/ports.js';
import { baseImage, execForm, isIgnored, last, makeBuildContext, parseDockerfile, parseDockerignore, replay, type Dockerfile, type Stage, type ReplayedStage } from './support/dockerfile.js';

const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : [p.slice(base.length + 1)];
  });

describe('the Dockerfile, replayed without an engine', function () {
  this.timeout(15 * 60_000);
  let dockerfile: Dockerfile;
  let workspace: string;
  let contextFiles: string[];
  let runtime: ReplayedStage;
  const started: ManagedProcess[] = [];

  before(async function () {
    dockerfile = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
    workspace = mkdtempSync(join(tmpdir(), 'lab-dockerfile-'));
    const context = join(workspace, 'context');
    mkdirSync(context);
    contextFiles = makeBuildContext(REPO_ROOT, context);
    const started = Date.now();
    // The replay only: prefer the local npm cache (the image build downloads the same locked versions).
    const stages = await replay(dockerfile, context, workspace, { extraEnv: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' } });
    runtime = stages.at(-1)!;
    process.stdout.write(`      (Dockerfile replayed in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  });

  after(async () => {
    await Promise.all(started.map((p) => p.stop(5_000)));
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('is multi-stage, on a Node LTS slim base pinned to a release, for both the build and the runtime', () => {
    expect(dockerfile.stages.length).to.be.at.least(2);
    for (const stage of dockerfile.stages) {
      const image = baseImage(dockerfile, stage);
      const m = /^node:(\d+)\.(\d+)\.(\d+)-([a-z]+-)?slim(@sha256:[a-f0-9]{64})?$/.exec(image);
      expect(m, `${stage.name} is FROM ${image}`).to.not.equal(null);
      expect(Number(m![1]) % 2, 'an even major: an LTS line').to.equal(0);
    }
  });

  it("takes its dependencies from the manifest and lockfile alone, so a source edit rebuilds only the compile (skaffold dev's loop)", () => {
    const stage = (name: string) => dockerfile.stages.find((s) => s.name === name)!;
    // Every file a stage and the stages it is FROM copy in from the build context.
    const contextInputs = (s: Stage): string[] => [
      ...(dockerfile.stages.some((p) => p.name === s.from) ? contextInputs(stage(s.from)) : []),
      ...s.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from).flatMap((i) => i.args.split(/\s+/).slice(0, -1)),
    ];
    const runtimeStage = dockerfile.stages.at(-1)!;
    const modules = runtimeStage.instructions.find((i) => i.keyword === 'COPY' && /\/node_modules\s/.test(i.args));
    expect(modules?.flags.from, 'node_modules copied from an earlier stage').to.be.a('string');
    expect(contextInputs(stage(modules!.flags.from!))).to.have.members(['package.json', 'package-lock.json']);
  });

  it('runs as a non-root user given by number, with an exec-form ENTRYPOINT so SIGTERM reaches node', () => {
    const stage = dockerfile.stages.at(-1)!;
    const user = last(stage, 'USER')?.args ?? '';
    expect(user).to.match(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(execForm(last(stage, 'ENTRYPOINT'))).to.deep.equal(['node', 'dist/bin/lab.js']);
    expect(Object.keys(SERVICES)).to.include(execForm(last(stage, 'CMD'))[0]);
  });

  it('keeps tests, secrets, the chart, git history, node_modules and dist out of the build context (.dockerignore)', () => {
    expect(contextFiles).to.include.members(['package.json', 'package-lock.json', 'tsconfig.json', 'bin/lab.ts']);
    // Only the manifest, the lockfile, the compiler settings and the three source folders.
    const outside = contextFiles.filter((f) => !/^(package\.json|package-lock\.json|tsconfig\.json|(bin|lib|services)\/.+)$/.test(f));
    expect(outside).to.deep.equal([]);
    expect(contextFiles.filter((f) => /(^|\/)\.env|\.pem$|\.key$|\.test\.ts$/.test(f))).to.deep.equal([]);
  });

  it('ships production dependencies and the compiled services only: no dev tools, tests or sources', () => {
    const root = join(runtime.root, runtime.workdir);
    const modules = readdirSync(join(root, 'node_modules'));
    expect(modules).to.include.members(['koa', 'hazelcast-client', 'zod']);
    for (const dev of ['typescript', 'mocha', 'chai', 'yaml', 'kubernetes-models']) expect(modules, dev).not.to.include(dev);
    const own = filesUnder(root).filter((f) => !f.startsWith('node_modules/'));
    expect(own.filter((f) => /\.ts$|\.test\.js$|^dist\/(test|local)\//.test(f))).to.deep.equal([]);
    expect(own).to.include.members(['package.json', 'dist/bin/lab.js']);
    // The dashboard's static files, which the build copies beside the compiled facade.
    const dashboard = ['index.html', 'dashboard.js', 'dashboard.css', 'favicon.svg'].map((f) => `dist/services/facade/dashboard/public/${f}`);
    expect(own).to.include.members(dashboard);
    expect(runtime.env.NODE_ENV).to.equal('production');
  });

  for (const service of Object.keys(SERVICES)) {
    it(`starts ${service} with the image's command: /healthz answers 200, and SIGTERM makes it exit 0`, async () => {
      const stage = runtime.stage;
      const command = [...execForm(last(stage, 'ENTRYPOINT')), service];
      const [port, unused] = await freePorts(2);
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...runtime.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' };
      if (service === 'logging') Object.assign(env, { HZ_MEMBERS: `127.0.0.1:${unused}`, HZ_CONNECT_TIMEOUT_MS: '500' });
      if (service === 'facade') env.CONFIG_SERVER_URL = `http://127.0.0.1:${unused}`;
      if (service === 'config-server') {
        const file = join(workspace, 'service-config.json');
        writeFileSync(file, JSON.stringify({ logging: { dns: 'localhost', port: 8081, path: '/logging' }, messages: ['http://localhost:8082/messages'] }));
        env.REGISTRY_FILE = file;
      }
      const proc = new ManagedProcess(service, command[0]!, command.slice(1), { env, cwd: join(runtime.root, runtime.workdir) });
      started.push(proc);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(proc, '/healthz to answer 200', async () => ((await probeHttp(`${url}/healthz`)).status === 200 ? true : undefined), 20_000, 100);
      if (service === 'logging') {
        // Alive but not ready: there is no Hazelcast member at HZ_MEMBERS.
        expect((await probeHttp(`${url}/readyz`)).status).to.equal(503);
      }
      const t0 = Date.now();
      proc.kill('SIGTERM');
      const status = await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 8_000, 'still running after 8 s'))]);
      expect(status, proc.logTail(10).join('\n')).to.equal(0);
      expect(Date.now() - t0).to.be.below(8_000);
      expect(existsSync(join(runtime.root, runtime.workdir, 'dist', 'bin', 'lab.js'))).to.equal(true);
    });
  }
});

describe('the .dockerignore reading used by the replay (Docker\'s rules)', () => {
  it('lets the last matching rule decide, for a path or any folder above it', () => {
    const rules = parseDockerignore('*\n!lib\n**/*.test.ts\n!lib/keep.test.ts\n# comment\n/dist/\n');
    expect(isIgnored(rules, 'README.md')).to.equal(true);
    expect(isIgnored(rules, 'lib/config.ts')).to.equal(false);
    expect(isIgnored(rules, 'lib/deep/a.test.ts')).to.equal(true);
    expect(isIgnored(rules, 'lib/keep.test.ts')).to.equal(false);
    expect(isIgnored(rules, 'dist/bin/lab.js')).to.equal(true);
    expect(isIgnored(rules, 'test/unit/x.test.ts')).to.equal(true);
  });

  it('reads `?`, `*` within one folder, and `**` across folders', () => {
    const rules = parseDockerignore('a?c\nsrc/*.map\nnotes/**/draft*');
    expect(isIgnored(rules, 'abc')).to.equal(true);
    expect(isIgnored(rules, 'abbc')).to.equal(false);
    expect(isIgnored(rules, 'src/x.map')).to.equal(true);
    expect(isIgnored(rules, 'src/deep/x.map')).to.equal(false);
    expect(isIgnored(rules, 'notes/draft1.md')).to.equal(true);
    expect(isIgnored(rules, 'notes/a/b/draft2.md')).to.equal(true);
  });
});
