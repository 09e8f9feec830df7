import { expect } from 'chai';
import { createApp } from '../../services/config-server/app.js';
import { parseRegistry, RegistryError } from '../../services/config-server/registry.js';
import { DNS_CACHE_MAX_ENTRIES, DNS_NEGATIVE_CACHE_MS, DnsExpansions } from '../../services/config-server/registry-dns.js';
import { createMetrics } from '../../lib/metrics.js';
import { silentLogger } from '../support/fakes.js';
import { get, serve, type ErrorAnswer } from '../support/http.js';

/** A fake clock's start: not 0, which lru-cache reads as "no start time". */
const T0 = 1_700_000_000_000;

const LAB = {
  'logging-service': ['http://localhost:8081/logging', 'http://localhost:8083/logging', 'http://localhost:8085/logging'],
  'messages-service': ['http://localhost:8082/messages'],
};

describe('registry parsing', () => {
  it("accepts the lab's service-config.json", () => {
    const r = parseRegistry(JSON.stringify(LAB));
    expect(r.get('logging-service')).to.deep.equal(LAB['logging-service']);
  });

  it('accepts a DNS entry and fills its defaults', () => {
    const r = parseRegistry(JSON.stringify({ logging: { dns: 'lab-logging-headless', port: 8081, path: '/logging' } }));
    expect(r.get('logging')).to.deep.equal({ dns: 'lab-logging-headless', port: 8081, path: '/logging', scheme: 'http' });
  });

  const bad: [string, string, RegExp][] = [
    ['invalid JSON', '{"logging": [', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a string instead of a list', '{"logging": "http://x"}', /logging: must be a list/],
    ['a non-http URL', '{"logging": ["ftp://x/logging"]}', /logging/],
    ['a bad service name', '{"Logging Service": []}', /service names/],
    ['a prototype key', '{"__proto__": ["http://x"]}', /service names/],
    ['a DNS entry with an unknown key', '{"l": {"dns": "x", "port": 1, "evil": true}}', /l: must be/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what}`, () => expect(() => parseRegistry(text)).to.throw(RegistryError, message));
  }

});

describe('DNS expansion of registry entries', () => {
  const entry = (dns: string) => ({ dns, port: 8081, path: '/logging', scheme: 'http' as const });
  /** A resolver whose answers the test sets, counting the lookups per name; a name with no answer fails. */
  const fakeDns = () => {
    const answers = new Map<string, string[]>();
    const lookups = new Map<string, number>();
    const resolve = async (host: string) => {
      lookups.set(host, (lookups.get(host) ?? 0) + 1);
      const found = answers.get(host);
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    };
    return { answers, lookups, resolve };
  };

  it('expands a DNS entry to one URL per address, IPv6 bracketed', async () => {
    const { answers, resolve } = fakeDns();
    answers.set('svc', ['10.0.0.2', '10.0.0.3', 'fd00::1']);
    const urls = await new DnsExpansions({ resolve, ttlMs: 1_000 }).expand(entry('svc'));
    expect(urls).to.deep.equal(['http://10.0.0.2:8081/logging', 'http://10.0.0.3:8081/logging', 'http://[fd00::1]:8081/logging']);
  });

  it('reuses a good answer for its TTL, and shares one lookup between callers at once', async () => {
    const { answers, lookups, resolve } = fakeDns();
    answers.set('svc', ['10.0.0.2']);
    let t = T0;
    const dns = new DnsExpansions({ resolve, ttlMs: 1_000, now: () => t });
    await Promise.all([dns.expand(entry('svc')), dns.expand(entry('svc')), dns.expand(entry('svc'))]);
    expect(lookups.get('svc')).to.equal(1);
    answers.set('svc', ['10.0.0.3']);
    t = T0 + 999;
    expect(await dns.expand(entry('svc'))).to.deep.equal(['http://10.0.0.2:8081/logging']);
    t = T0 + 1_001;
    expect(await dns.expand(entry('svc'))).to.deep.equal(['http://10.0.0.3:8081/logging']);
    expect(lookups.get('svc')).to.equal(2);
  });

  it('answers no instances for a name that does not resolve, and looks it up again once the short negative TTL has passed', async () => {
    const { answers, lookups, resolve } = fakeDns();
    let t = T0;
    const dns = new DnsExpansions({ resolve, ttlMs: 30_000, now: () => t });
    expect(await dns.expand(entry('pods'))).to.deep.equal([]);
    t = T0 + DNS_NEGATIVE_CACHE_MS - 1;
    expect(await dns.expand(entry('pods'))).to.deep.equal([]);
    expect(lookups.get('pods'), 'within the negative TTL: no new lookup').to.equal(1);
    answers.set('pods', ['10.0.0.9']); // the first pod is ready
    t = T0 + DNS_NEGATIVE_CACHE_MS + 1;
    expect(await dns.expand(entry('pods'))).to.deep.equal(['http://10.0.0.9:8081/logging']);
    expect(lookups.get('pods')).to.equal(2);
    // The good answer is kept for the whole TTL, not the negative one.
    t += 29_000;
    expect(await dns.expand(entry('pods'))).to.deep.equal(['http://10.0.0.9:8081/logging']);
    expect(lookups.get('pods')).to.equal(2);
    // A name that resolves to nothing counts as a failure too.
    const empty = new DnsExpansions({ resolve: async () => [], ttlMs: 30_000, now: () => t });
    expect(await empty.expand(entry('none'))).to.deep.equal([]);
  });

  it('never holds more than its bound, however many names it is asked for', async () => {
    const { answers, resolve } = fakeDns();
    let t = T0;
    const dns = new DnsExpansions({ resolve, ttlMs: 60_000, now: () => t });
    for (let i = 0; i < DNS_CACHE_MAX_ENTRIES * 4; i++) {
      if (i % 2) answers.set(`svc-${i}`, ['10.0.0.1']); // half of them do not resolve
      await dns.expand(entry(`svc-${i}`));
      t += 1;
      expect(dns.size).to.be.at.most(DNS_CACHE_MAX_ENTRIES);
    }
    expect(dns.size).to.equal(DNS_CACHE_MAX_ENTRIES);
    const small = new DnsExpansions({ resolve, ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 10; i++) await small.expand(entry(`svc-${i}`));
    expect(small.size).to.equal(3);
  });

  it('looks up on every call with a TTL of 0 (DNS_CACHE_MS=0), and keeps nothing', async () => {
    const { answers, lookups, resolve } = fakeDns();
    answers.set('svc', ['10.0.0.2']);
    const dns = new DnsExpansions({ resolve, ttlMs: 0 });
    for (let i = 0; i < 3; i++) await dns.expand(entry('svc'));
    expect(lookups.get('svc')).to.equal(3);
    expect(dns.size).to.equal(0);
  });
});

describe('config-server app', () => {
  let url: string;
  let close: () => Promise<void>;
  const registry = parseRegistry(JSON.stringify({ ...LAB, pods: { dns: 'svc', port: 9, path: '/x' } }));

  before(async () => {
    ({ url, close } = await serve(createApp({ logger: silentLogger(), metrics: createMetrics('config-server'), registry: () => registry, resolve: async () => ['10.1.1.1'] })));
  });
  after(() => close());

  it('lists the instances of a service', async () => {
    const r = await get(`${url}/services/logging-service`);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal(LAB['logging-service']);
  });

  it('expands DNS entries', async () => {
    expect((await get(`${url}/services/pods`)).body).to.deep.equal(['http://10.1.1.1:9/x']);
  });

  it('asks DNS again for a name that did not resolve once its short negative TTL has passed', async () => {
    let t = T0;
    let ready = false;
    const app = createApp({
      logger: silentLogger(), metrics: createMetrics('config-server'), registry: () => registry, dnsCacheMs: 30_000, now: () => t,
      resolve: async () => {
        if (!ready) throw new Error('ENOTFOUND');
        return ['10.1.1.2'];
      },
    });
    const other = await serve(app);
    try {
      expect((await get(`${other.url}/services/pods`)).body).to.deep.equal([]);
      ready = true;
      expect((await get(`${other.url}/services/pods`)).body, 'within the negative TTL').to.deep.equal([]);
      t = T0 + DNS_NEGATIVE_CACHE_MS + 1;
      expect((await get(`${other.url}/services/pods`)).body).to.deep.equal(['http://10.1.1.2:9/x']);
    } finally {
      await other.close();
    }
  });

  it('serves the whole registry', async () => {
    expect((await get(`${url}/services`)).body).to.deep.equal({ ...LAB, pods: ['http://10.1.1.1:9/x'] });
  });

  for (const name of ['unknown', 'constructor']) {
    it(`answers 404 for ${name}`, async () => {
      const r = await get<ErrorAnswer>(`${url}/services/${name}`);
      expect(r.status).to.equal(404);
      expect(r.body.error.code).to.equal('NOT_FOUND');
    });
  }

  for (const name of ['__proto__', 'hasOwnProperty', '..%2F..%2Fetc', '%252e%252e', 'UPPER', 'a%00b', 'x'.repeat(64)]) {
    it(`answers 400 for the name ${name}`, async () => {
      const r = await get<ErrorAnswer>(`${url}/services/${name}`);
      expect(r.status).to.equal(400);
      expect(r.body.error.code).to.equal('INVALID_NAME');
    });
  }
});
