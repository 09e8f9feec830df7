import { expect } from 'chai';
import { createApp } from '../../services/config-server/app.js';
import { expandEntry, parseRegistry, RegistryError } from '../../services/config-server/registry.js';
import { createMetrics } from '../../lib/metrics.js';
import { silentLogger } from '../support/fakes.js';
import { get, serve, type ErrorAnswer } from '../support/http.js';

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

  it('expands a DNS entry to one URL per address, IPv6 bracketed', async () => {
    const urls = await expandEntry({ dns: 'svc', port: 8081, path: '/logging', scheme: 'http' }, async () => ['10.0.0.2', '10.0.0.3', 'fd00::1']);
    expect(urls).to.deep.equal(['http://10.0.0.2:8081/logging', 'http://10.0.0.3:8081/logging', 'http://[fd00::1]:8081/logging']);
  });

  it('expands a name that does not resolve to no instances', async () => {
    expect(await expandEntry({ dns: 'nowhere', port: 1, path: '/', scheme: 'http' }, async () => { throw new Error('ENOTFOUND'); })).to.deep.equal([]);
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
