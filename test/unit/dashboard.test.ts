/**
 * The dashboard in-process: its page and files (self-contained, strict CSP, data never rendered as
 * markup), the JSON endpoints it reads, and the store metrics the logging service adds.
 */
import { expect } from 'chai';
import http from 'node:http';
import vm from 'node:vm';
import { createApp as createFacade } from '../../services/facade/app.js';
import { createApp as createConfigServer } from '../../services/config-server/app.js';
import type { RegistryEntry } from '../../services/config-server/registry.js';
import { readinessUrl } from '../../services/facade/cluster-view.js';
import { DASHBOARD_CSP, DASHBOARD_FILES } from '../../services/facade/dashboard/files.js';
import { createMetrics } from '../../lib/metrics.js';
import { StoreError } from '../../lib/store-errors.js';
import { newMessageId } from '../../lib/ids.js';
import { ServiceClient } from '../../lib/service-client.js';
import { InMemoryMessageStore, silentLogger } from '../support/fakes.js';
import { freePorts } from '../support/ports.js';
import {
  get, postForm, postJson, request, serve, type ClusterView, type ErrorAnswer, type FacadePosted, type FacadeRecords,
} from '../support/http.js';
import { serveBackends } from '../support/backends.js';

/** A GET of `target` exactly as written, which fetch() would normalise first. */
function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(`${base}/`, { path: target }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe('dashboard', () => {
  const store = new InMemoryMessageStore();
  const closers: (() => Promise<void>)[] = [];
  const lists: Record<string, string[]> = { logging: [], messages: [] };
  let registryUp = true;
  let base: string;
  let loggingUrl: string;
  let deadUrl: string;
  let configServer: string;
  let client: ServiceClient;

  before(async () => {
    const logger = silentLogger();
    const backends = await serveBackends(store, logger, { messagesText: 'stub' });
    closers.push(backends.close);
    lists.logging = backends.logging;
    lists.messages = backends.messages;
    loggingUrl = lists.logging[0]!;
    deadUrl = `http://127.0.0.1:${(await freePorts(1))[0]}/logging`;
    const cs = await serve(
      createConfigServer({
        logger,
        metrics: createMetrics('config-server'),
        registry: () => {
          if (!registryUp) throw new Error('registry down');
          return new Map<string, RegistryEntry>(Object.entries(lists));
        },
      }),
    );
    closers.push(cs.close);
    configServer = cs.url;
    client = new ServiceClient({ timeoutMs: 1000, policy: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, cooldownMs: 0 }, logger });
    const f = await serve(
      createFacade({
        logger,
        metrics: createMetrics('facade'),
        serviceRegistry: { instances: async (name: string) => lists[name] ?? [] },
        client,
        loggingService: 'logging',
        messagesService: 'messages',
        bodyLimitBytes: 1024,
        configServerUrl: configServer,
        probeTimeoutMs: 500,
      }),
    );
    closers.push(f.close);
    base = f.url;
  });
  after(async () => {
    client.close();
    await Promise.all(closers.map((c) => c()));
  });
  beforeEach(() => {
    store.map.clear();
    store.failWith = undefined;
    registryUp = true;
  });

  describe('page and files', () => {
    it('serves the page at / with a strict Content-Security-Policy', async () => {
      const r = await get(`${base}/`);
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/html/);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("default-src 'self'");
      expect(csp).to.include("script-src 'self'");
      expect(csp).not.to.include('unsafe');
      expect(r.headers.get('x-content-type-options')).to.equal('nosniff');
    });

    it('needs nothing from outside the facade: every src and href is a path on the same origin', async () => {
      const html = (await get(`${base}/`)).text;
      const refs = [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]!);
      expect(refs.length).to.be.greaterThan(3);
      for (const ref of refs) expect(ref, ref).to.match(/^\/(?!\/)/);
      expect(html).not.to.match(/<script>|<style>|\son\w+=/i); // no inline code for the CSP to forbid
      for (const ref of refs.filter((r) => r.startsWith('/dashboard/'))) {
        expect((await get(`${base}${ref}`)).status, ref).to.equal(200);
      }
      const css = DASHBOARD_FILES.get('dashboard.css')!.body;
      expect(css).not.to.match(/url\(|@import/);
    });

    it('has a script that parses and never writes data as markup', () => {
      const js = DASHBOARD_FILES.get('dashboard.js')!.body;
      expect(() => new vm.Script(js)).not.to.throw();
      expect(js).not.to.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    });

    it('answers a repeated load with 304, and an unknown file with a JSON 404', async () => {
      const first = await get(`${base}/dashboard/dashboard.js`);
      expect(first.headers.get('content-type')).to.match(/javascript/);
      // A browser revalidates with max-age=0; fetch() would otherwise add `no-cache`, which forbids a 304.
      const again = await request(`${base}/dashboard/dashboard.js`, { headers: { 'if-none-match': first.headers.get('etag')!, 'cache-control': 'max-age=0' } });
      expect(again.status).to.equal(304);
      const missing = await get(`${base}/dashboard/../app.ts`);
      expect(missing.status).to.equal(404);
      expect((await get<ErrorAnswer>(`${base}/dashboard/nope.js`)).body.error.code).to.equal('NOT_FOUND');
    });

    it('serves each file with its type and the dashboard headers, on a 200 and on a 304', async () => {
      const types: Record<string, RegExp> = {
        '/': /^text\/html; charset=utf-8$/,
        '/dashboard/dashboard.js': /^(text|application)\/javascript; charset=utf-8$/,
        '/dashboard/dashboard.css': /^text\/css; charset=utf-8$/,
        '/dashboard/favicon.svg': /^image\/svg\+xml/,
      };
      for (const [path, type] of Object.entries(types)) {
        const first = await get(`${base}${path}`);
        expect(first.status, path).to.equal(200);
        expect(first.headers.get('content-type'), path).to.match(type);
        expect(first.headers.get('cache-control'), path).to.equal('no-cache');
        expect(first.headers.get('content-security-policy'), path).to.equal(DASHBOARD_CSP);
        const etag = first.headers.get('etag');
        expect(etag, path).to.be.a('string');
        const again = await request(`${base}${path}`, { headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' } });
        expect(again.status, path).to.equal(304);
        expect(again.text, path).to.equal('');
        expect(again.headers.get('content-security-policy'), path).to.equal(DASHBOARD_CSP);
        const changed = await request(`${base}${path}`, { headers: { 'if-none-match': '"other"', 'cache-control': 'max-age=0' } });
        expect(changed.status, path).to.equal(200);
      }
    });

    it('serves only the files of public/: a path out of it, a hidden or odd name, or the page under /dashboard/ is a JSON 404', async () => {
      // Raw request targets: fetch() would resolve the dots before sending them.
      for (const target of [
        '/dashboard/..%2fapp.ts', '/dashboard/%2e%2e%2fapp.ts', '/dashboard/..%2F..%2F..%2Fpackage.json', '/dashboard/%2e%2e',
        '/dashboard/..%5capp.ts', '/dashboard/%2fetc%2fpasswd', '/dashboard/dashboard.js%00.css', '/dashboard/.hidden',
        '/dashboard/index.html', '/dashboard/', '/dashboard', '/dashboard/dashboard.js/x', '/dashboard/%E0%A4%A',
      ]) {
        const r = await rawGet(base, target);
        expect(r.status, target).to.equal(404);
        expect((JSON.parse(r.body) as ErrorAnswer).error.code, target).to.equal('NOT_FOUND');
      }
    });
  });

  describe('GET /facade/messages', () => {
    it('lists the stored messages with uuid, time and the instance that stored them, in creation order', async () => {
      const posted = [];
      for (const msg of ['one', 'two', '<b>three</b>']) posted.push((await postForm<FacadePosted>(`${base}/facade`, { msg })).body);
      const r = await get<FacadeRecords>(`${base}/facade/messages`);
      expect(r.status).to.equal(200);
      expect(lists.logging).to.include(r.body.readFrom);
      expect(r.body.messages.map((m) => m.msg)).to.deep.equal(['one', 'two', '<b>three</b>']);
      for (const [i, m] of r.body.messages.entries()) {
        expect(m.uuid).to.equal(posted[i]!.message.uuid);
        expect(m.loggedBy).to.match(/^logging-[01]$/);
        expect(Number.isNaN(Date.parse(m.storedAt)), m.storedAt).to.equal(false);
      }
      const after = await get<FacadeRecords>(`${base}/facade/messages?limit=1&after=${posted[0]!.message.uuid}`);
      expect(after.body.messages.map((m) => m.msg)).to.deep.equal(['two']);
    });

    it('reads from one registered instance on request, and refuses any other URL', async () => {
      await postJson(`${base}/facade`, { msg: 'x' });
      const r = await get<FacadeRecords>(`${base}/facade/messages?instance=${encodeURIComponent(loggingUrl)}`);
      expect(r.body.readFrom).to.equal(loggingUrl);
      const other = await get<ErrorAnswer>(`${base}/facade/messages?instance=${encodeURIComponent('http://169.254.169.254/latest')}`);
      expect(other.status).to.equal(400);
      expect(other.body.error.code).to.equal('UNKNOWN_INSTANCE');
      expect((await get<ErrorAnswer>(`${base}/facade/messages?limit=0`)).body.error.code).to.equal('INVALID_LIMIT');
    });

    it("answers 503 as JSON with logging's reason when it cannot list them (its store is unavailable)", async () => {
      store.failWith = new StoreError('STORE_UNAVAILABLE', 'down');
      const r = await get<ErrorAnswer>(`${base}/facade/messages`);
      expect(r.status).to.equal(503);
      expect(r.body.error.code).to.equal('STORE_UNAVAILABLE');
    });
  });

  describe('GET /facade/cluster', () => {
    it("shows config-server's registry with each instance's readiness, and the map's entries per member", async () => {
      await postForm(`${base}/facade`, { msg: 'a' });
      await postForm(`${base}/facade`, { msg: 'b' });
      const live = lists.logging!;
      lists.logging = [...live, deadUrl];
      try {
        const r = await get<ClusterView>(`${base}/facade/cluster`);
        expect(r.status).to.equal(200);
        const view = r.body;
        expect(view.configServer).to.deep.equal({ url: configServer, reachable: true, error: null });
        expect(view.registry.map((e) => e.name)).to.deep.equal(['logging', 'messages']);
        const logging = view.registry.find((e) => e.name === 'logging')!;
        expect(logging.usedFor).to.equal('logging');
        const byUrl = Object.fromEntries(logging.instances.map((i) => [i.url, i.health]));
        expect(byUrl).to.deep.equal({ [live[0]!]: 'ready', [live[1]!]: 'ready', [deadUrl]: 'down' });
        expect(logging.instances.find((i) => i.url === deadUrl)!.detail).to.equal('refused');
        expect(view.hazelcast).to.include({ mapSize: 2, ownedEntriesTotal: 2, clusterSize: 1, backupCount: null, connected: true });
        expect(live).to.include(view.hazelcast!.reportedBy);
        expect(view.hazelcastError).to.equal(null);
      } finally {
        lists.logging = live;
      }
    });

    it("falls back to the facade's cached lists while config-server is down", async () => {
      registryUp = false;
      const view = (await get<ClusterView>(`${base}/facade/cluster`)).body;
      expect(view.configServer.reachable).to.equal(false);
      expect(view.configServer.error).to.equal('HTTP 500');
      expect(view.registry.map((e) => e.name)).to.deep.equal(['logging', 'messages']);
      expect(view.hazelcast!.mapSize).to.equal(0);
    });

    it('reports why the cluster cannot be read instead of failing', async () => {
      store.failWith = new StoreError('STORE_UNAVAILABLE', 'down');
      const r = await get<ClusterView>(`${base}/facade/cluster`);
      expect(r.status).to.equal(200);
      expect(r.body.hazelcast).to.equal(null);
      expect(r.body.hazelcastError).to.match(/no logging instance could report the cluster/);
    });

    it("probes each instance's process at /readyz", () => {
      expect(readinessUrl('http://10.0.0.7:8081/logging')).to.equal('http://10.0.0.7:8081/readyz');
      expect(readinessUrl('http://[fd00::1]:8081/a/b')).to.equal('http://[fd00::1]:8081/readyz');
    });
  });

  describe('logging store metrics', () => {
    it('times every store operation, counts failures, and reports the map and cluster size', async () => {
      await postJson(loggingUrl, { uuid: newMessageId(), msg: 'm' });
      await get(loggingUrl);
      store.failWith = new StoreError('STORE_UNAVAILABLE', 'down');
      await get(loggingUrl);
      const text = (await get(`${new URL(loggingUrl).origin}/metrics`)).text;
      expect(text).to.match(/hazelcast_operation_duration_seconds_count\{[^}]*operation="put"[^}]*outcome="ok"[^}]*\} [1-9]/);
      expect(text).to.match(/hazelcast_operation_errors_total\{[^}]*operation="read"[^}]*kind="unavailable"[^}]*\} [1-9]/);
      for (const gauge of ['hazelcast_map_size', 'hazelcast_cluster_size', 'hazelcast_client_connected']) {
        expect(text).to.include(`# TYPE ${gauge} gauge`);
      }
    });
  });
});
