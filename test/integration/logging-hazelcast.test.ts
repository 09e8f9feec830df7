/**
 * The logging service against a real three-member Hazelcast cluster: put-if-absent semantics, one
 * shared map across instances, creation order, and recovery of the same process after every
 * member has gone and come back.
 */
import { expect } from 'chai';
import { start } from '../../services/logging/main.js';
import { loadLoggingConfig } from '../../services/logging/config.js';
import { newMessageId } from '../../lib/ids.js';
import type { RunningService } from '../../services/index.js';
import type { LocalSystem } from '../../local/system.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, postJson, type ClusterSummary, type ErrorAnswer, type LoggingStored } from '../support/http.js';
import { silentLogger } from '../support/fakes.js';

describe('logging service on a real Hazelcast cluster', function () {
  this.timeout(240_000);
  let system: LocalSystem;
  const instances: RunningService[] = [];
  let a: string;
  let b: string;

  before(async () => {
    system = await createTestSystem();
    await system.startCluster();
    for (let i = 0; i < 2; i++) {
      const config = loadLoggingConfig({
        PORT: '0',
        INSTANCE_NAME: `logging-${i}`,
        HZ_CLUSTER_NAME: system.clusterName,
        HZ_MEMBERS: system.memberAddresses.join(","),
        SHUTDOWN_TIMEOUT_MS: '3000',
      });
      instances.push(await start(config, silentLogger()));
    }
    [a, b] = instances.map((i) => `${i.url}/logging`) as [string, string];
    for (const i of instances) await eventually(async () => expect((await get(`${i.url}/readyz`)).status).to.equal(200));
  });

  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await stopAll();
  });

  it('starts with an empty list on every instance', async () => {
    expect((await get(a)).body).to.deep.equal([]);
    expect((await get(b)).body).to.deep.equal([]);
  });

  it('stores through one instance and reads through another: the map is the cluster\'s', async () => {
    const uuid = newMessageId();
    expect((await postJson(a, { uuid, msg: 'shared' })).status).to.equal(201);
    const seen = (await get(`${b}?fields=all`)).body as { uuid: string; msg: string; loggedBy: string }[];
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include({ uuid, msg: 'shared', loggedBy: 'logging-0' });
  });

  it('is atomic put-if-absent: replay 200, conflict 409, one entry', async () => {
    const uuid = newMessageId();
    const tries = await Promise.all([
      postJson(a, { uuid, msg: 'once' }),
      postJson(b, { uuid, msg: 'once' }),
      postJson(a, { uuid, msg: 'once' }),
      postJson(b, { uuid, msg: 'once' }),
    ]);
    expect(tries.map((t) => t.status).sort()).to.deep.equal([200, 200, 200, 201]);
    expect((await postJson(b, { uuid, msg: 'different' })).status).to.equal(409);
    const all = (await get(`${a}?fields=all`)).body as { uuid: string; msg: string }[];
    expect(all.filter((m) => m.uuid === uuid)).to.deep.equal([{ ...all.find((m) => m.uuid === uuid)!, msg: 'once' }]);
  });

  it('lists many concurrent writes in creation order, and pages by key on the members', async () => {
    const before = ((await get(a)).body as unknown[]).length;
    const ids = Array.from({ length: 60 }, () => newMessageId());
    await Promise.all(ids.map((uuid, i) => postJson(i % 2 ? a : b, { uuid, msg: `c${i}` })));
    const all = (await get(`${b}?fields=uuid`)).body as { uuid: string }[];
    expect(all).to.have.length(before + 60);
    expect(all.slice(before).map((m) => m.uuid)).to.deep.equal(ids);
    const page = (await get(`${a}?after=${ids[9]}&limit=5&fields=uuid`)).body as { uuid: string }[];
    expect(page.map((m) => m.uuid)).to.deep.equal(ids.slice(10, 15));
  });

  it('pages by key, not by text: the members sort a window by key and send only the page', async () => {
    // Texts that fall as the keys rise, so an order by value would give the page's opposite.
    const ids = Array.from({ length: 40 }, () => newMessageId());
    for (const [i, uuid] of ids.entries()) await postJson(a, { uuid, msg: `d${String(99 - i).padStart(2, '0')}` });
    const page = (await get(`${b}?after=${ids[9]}&limit=5&fields=uuid,msg`)).body as { uuid: string; msg: string }[];
    expect(page.map((m) => m.uuid)).to.deep.equal(ids.slice(10, 15));
    expect(page.map((m) => m.msg)).to.deep.equal(['d89', 'd88', 'd87', 'd86', 'd85']);
  });

  it('reports how the entries spread over the three members', async () => {
    const s = (await get<ClusterSummary>(`${a}/cluster`)).body;
    expect(s.members).to.have.length(3);
    const total = s.members.reduce((n, m) => n + m.ownedEntries, 0);
    expect(total).to.equal(s.mapSize);
    expect(s.mapSize).to.equal(((await get(a)).body as unknown[]).length);
  });

  it('is not ready and answers 503 promptly while no member is reachable, then recovers in the same process', async () => {
    const kept = (await get(a)).body as unknown[];
    system.members.forEach((m) => m?.kill('SIGKILL'));
    await Promise.all(system.members.map((m) => m?.exited));

    await eventually(async () => expect((await get(`${instances[0]!.url}/readyz`)).status).to.equal(503), { timeoutMs: 20_000 });
    const startedAt = Date.now();
    const refused = await postJson<ErrorAnswer>(a, { uuid: newMessageId(), msg: 'nobody home' });
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal('STORE_UNAVAILABLE');
    expect(Date.now() - startedAt, 'a 503 comes within the invocation timeout, not after a hang').to.be.below(5_000);
    expect((await get(b)).status).to.equal(503);
    expect((await get(`${instances[0]!.url}/healthz`)).status, 'alive while not ready').to.equal(200);

    await Promise.all(system.ports.members.map((_, i) => system.startMember(i, false)));
    await system.waitForCluster(3);
    for (const i of instances) await eventually(async () => expect((await get(`${i.url}/readyz`)).status).to.equal(200), { timeoutMs: 30_000 });
    const uuid = newMessageId();
    const t0 = Date.now();
    const r = await eventually(async () => {
      const res = await postJson<LoggingStored>(b, { uuid, msg: 'back again' });
      expect(res.status).to.be.oneOf([200, 201]);
      return res;
    });
    expect(r.body.msg).to.equal('back again');
    expect(kept.length, 'the data did not survive: every member was killed').to.be.greaterThan(0);
    // Writes are fast again (backup acknowledgements reach the client after the reconnect).
    const t1 = Date.now();
    expect((await postJson(a, { uuid: newMessageId(), msg: 'fast again' })).status).to.equal(201);
    expect(Date.now() - t1).to.be.below(1_000);
    expect(Date.now() - t0).to.be.below(30_000);
  });
});
