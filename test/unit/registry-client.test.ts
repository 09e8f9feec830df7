/** The facade's registry cache: stale lists served while a refresh runs, except a stale empty one. */
import { expect } from 'chai';
import { RegistryClient } from '../../services/facade/registry-client.js';
import type { ServiceClient } from '../../lib/service-client.js';
import { silentLogger } from '../support/fakes.js';

describe('registry client', () => {
  let now = 0;
  let lists: Record<string, string[]> | undefined;
  let calls = 0;
  const client = {
    request: async () => {
      calls++;
      if (!lists) throw new Error('connect ECONNREFUSED');
      return { status: 200, text: JSON.stringify(lists['logging-service'] ?? []) };
    },
  } as unknown as ServiceClient;
  const registry = () => new RegistryClient('http://config-server', 2_000, client, silentLogger(), () => now);

  beforeEach(() => {
    now = 0;
    calls = 0;
    lists = { 'logging-service': [] };
  });

  it('waits for a fresh list when the one it has is stale and empty (pods not ready at start-up)', async () => {
    const r = registry();
    expect(await r.instances('logging-service')).to.deep.equal([]);
    lists = { 'logging-service': ['http://10.244.0.5:8081/logging'] };
    now = 2_500;
    expect(await r.instances('logging-service')).to.deep.equal(['http://10.244.0.5:8081/logging']);
  });

  it('serves a stale list that has instances at once, and refreshes it in the background', async () => {
    lists = { 'logging-service': ['http://a/logging'] };
    const r = registry();
    await r.instances('logging-service');
    lists = { 'logging-service': ['http://b/logging'] };
    now = 2_500;
    expect(await r.instances('logging-service')).to.deep.equal(['http://a/logging']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await r.instances('logging-service')).to.deep.equal(['http://b/logging']);
  });

  it('keeps a stale empty list, without throwing, while config-server is down', async () => {
    const r = registry();
    await r.instances('logging-service');
    lists = undefined;
    now = 2_500;
    expect(await r.instances('logging-service')).to.deep.equal([]);
    expect(calls).to.equal(2);
  });

  it('asks config-server at once when told the cached list may be behind (an instance it does not know yet)', async () => {
    lists = { 'logging-service': ['http://a/logging'] };
    const r = registry();
    await r.instances('logging-service');
    lists = { 'logging-service': ['http://a/logging', 'http://new/logging'] };
    expect(await r.instances('logging-service')).to.deep.equal(['http://a/logging']);
    expect(await r.instances('logging-service', undefined, true)).to.deep.equal(['http://a/logging', 'http://new/logging']);
    lists = undefined;
    expect(await r.instances('logging-service', undefined, true), 'config-server down: the cached list').to.deep.equal(['http://a/logging', 'http://new/logging']);
  });
});
