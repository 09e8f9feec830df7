/** config-server's registry file: validated at start-up, hot-reloaded, last good kept on a bad edit. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../../services/config-server/main.js';
import { loadConfigServerConfig } from '../../services/config-server/config.js';
import { start as startFacade } from '../../services/facade/main.js';
import { loadFacadeConfig } from '../../services/facade/config.js';
import { RegistryError } from '../../services/config-server/registry.js';
import { REPO_ROOT } from '../../local/repo.js';
import type { RunningService } from '../../services/index.js';
import { eventually } from '../support/eventually.js';
import { captureLogger } from '../support/fakes.js';
import { get } from '../support/http.js';

describe('config-server registry file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-registry-'));
  const file = join(dir, 'service-config.json');
  const { logger, lines } = captureLogger('config-server');
  let server: RunningService;
  const config = () => loadConfigServerConfig({ PORT: '0', REGISTRY_FILE: file, REGISTRY_POLL_MS: '50' });

  before(async () => {
    writeFileSync(file, JSON.stringify({ logging: ['http://127.0.0.1:8081/logging'] }));
    server = await start(config(), logger);
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the file it started with', async () => {
    expect((await get(`${server.url}/services/logging`)).body).to.deep.equal(['http://127.0.0.1:8081/logging']);
  });

  it('picks up a good edit without a restart', async () => {
    writeFileSync(file, JSON.stringify({ logging: ['http://127.0.0.1:8081/logging', 'http://127.0.0.1:8083/logging'], messages: ['http://127.0.0.1:8082/messages'] }));
    await eventually(async () => expect((await get(`${server.url}/services/messages`)).body).to.deep.equal(['http://127.0.0.1:8082/messages']));
    expect((await get(`${server.url}/services/logging`)).body).to.have.length(2);
  });

  for (const [what, text] of [['invalid JSON', '{"logging": ['], ['the wrong shape', '{"logging": "http://x"}'], ['an empty file', '']] as const) {
    it(`keeps the last good registry and logs an error when the file becomes ${what}`, async () => {
      const errorsBefore = lines.filter((l) => l.level === 'error').length;
      writeFileSync(file, text);
      await eventually(() => expect(lines.filter((l) => l.level === 'error').length).to.be.greaterThan(errorsBefore));
      expect((await get(`${server.url}/services/logging`)).body).to.have.length(2);
      expect((await get(`${server.url}/healthz`)).status).to.equal(200);
    });
  }

  it('recovers when the file is fixed again', async () => {
    writeFileSync(file, JSON.stringify({ logging: ['http://127.0.0.1:9999/logging'] }));
    await eventually(async () => expect((await get(`${server.url}/services/logging`)).body).to.deep.equal(['http://127.0.0.1:9999/logging']));
  });

  it('refuses to start on an invalid file, naming the problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"logging": [1]}');
    const err = await start(loadConfigServerConfig({ PORT: '0', REGISTRY_FILE: bad }), logger).catch((e) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect(err.message).to.include('logging');
    const missing = await start(loadConfigServerConfig({ PORT: '0', REGISTRY_FILE: join(dir, 'nope.json') }), logger).catch((e) => e);
    expect(missing.message).to.include('cannot read registry file');
  });

  it('exits non-zero with a clear message when started from the entry point with a bad file', () => {
    const bad = join(dir, 'bad2.json');
    writeFileSync(bad, 'not json');
    const res = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/bin/lab.js'), 'config-server'], {
      env: { ...process.env, PORT: '0', REGISTRY_FILE: bad },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(res.status).to.equal(1);
    expect(res.stdout + res.stderr).to.include('registry is not valid JSON');
  });

  it('exits 2 on an invalid environment, listing every problem', () => {
    const res = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/bin/lab.js'), 'facade'], {
      env: { ...process.env, PORT: 'x', UPSTREAM_TIMEOUT_MS: '-5' },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(res.status).to.equal(2);
    expect(res.stderr).to.include('PORT').and.include('UPSTREAM_TIMEOUT_MS');
  });
});

describe("the lab's own service-config.json", () => {
  // Exactly the file of the lab's text, names and `localhost` URLs included.
  const LAB_FILE = join(REPO_ROOT, 'test', 'fixtures', 'lab-service-config.json');
  const lab = JSON.parse(readFileSync(LAB_FILE, 'utf8')) as Record<string, string[]>;
  const { logger } = captureLogger('lab-file');
  let configServer: RunningService;
  let facade: RunningService;

  before(async () => {
    configServer = await start(loadConfigServerConfig({ PORT: '0', REGISTRY_FILE: LAB_FILE }), logger);
    facade = await startFacade(loadFacadeConfig({ PORT: '0', CONFIG_SERVER_URL: configServer.url, UPSTREAM_TIMEOUT_MS: '500' }), logger);
  });
  after(async () => {
    await facade?.stop();
    await configServer?.stop();
  });

  it('is served unchanged, under the names the lab asks for', async () => {
    expect((await get(`${configServer.url}/services/logging-service`)).body).to.deep.equal(lab['logging-service']);
    expect((await get(`${configServer.url}/services/messages-service`)).body).to.deep.equal(['http://localhost:8082/messages']);
  });

  it("is what the facade reads at its default settings: the lab's two names are its upstreams", async () => {
    const view = (await get(`${facade.url}/facade/cluster`)).body as { registry: { name: string; usedFor: string | null; instances: { url: string }[] }[] };
    expect(view.registry.map((e) => [e.name, e.usedFor])).to.deep.equal([['logging-service', 'logging'], ['messages-service', 'messages']]);
    expect(view.registry[0]!.instances.map((i) => i.url)).to.deep.equal(lab['logging-service']);
  });
});
