/**
 * Capacity on the real system: with a 1 MB capacity, writes of 10 KB messages are refused with the
 * documented 507 STORE_FULL at the capacity, through the facade as through logging, and every
 * message acknowledged before stays readable. Entries an earlier version stored, before the
 * floor that reads start from existed, are still read.
 */
import { expect } from 'chai';
import { v7 as uuidv7 } from 'uuid';
import type { LocalSystem } from '../../local/system.js';
import { HazelcastConnection } from '../../lib/hazelcast.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, postForm, postJson, type ErrorAnswer, type FacadeList, type FacadeRecords, type Reply } from '../support/http.js';
import { silentLogger } from '../support/fakes.js';

const BIG = 'y'.repeat(10_000);

describe('capacity of the store on the real system', function () {
  this.timeout(300_000);
  let system: LocalSystem;

  before(async () => {
    system = await createTestSystem({ serviceEnv: { STORE_CAPACITY_MB: '1' } });
    await system.start();
  });
  after(() => stopAll());

  it('reads entries an earlier version stored (no floor yet) together with the new ones', async () => {
    const old = await HazelcastConnection.start(
      { clusterName: system.clusterName, members: system.memberAddresses, connectTimeoutMs: 5_000, invocationTimeoutMs: 10_000, heartbeatTimeoutMs: 6_000, reconnectMaxBackoffMs: 1_000, instanceName: 'earlier-version' },
      silentLogger(),
    );
    try {
      await eventually(() => expect(old.isConnected()).to.equal(true));
      // Written the way the version before floors did: straight into the map, nothing in the meta map.
      const map = await old.getMap<string, object>(system.mapName);
      const ids = [uuidv7(), uuidv7()];
      await map.put(ids[0]!, { msg: 'old one', loggedBy: 'earlier-version', storedAt: '2026-01-01T00:00:00.000Z' });
      await map.put(ids[1]!, { msg: 'old two', loggedBy: 'earlier-version', storedAt: '2026-01-01T00:00:01.000Z' });
      await (await old.getMap(`${system.mapName}-meta`)).clear();
      await postForm(`${system.facadeUrl}/facade`, { msg: 'new one' });
      expect((await get<FacadeList>(`${system.facadeUrl}/facade`)).body['logging-service']).to.deep.equal(['old one', 'old two', 'new one']);
      const detail = (await get<FacadeRecords>(`${system.facadeUrl}/facade/messages?limit=1`)).body.messages;
      expect(detail).to.deep.equal([{ uuid: ids[0], msg: 'old one', loggedBy: 'earlier-version', storedAt: '2026-01-01T00:00:00.000Z' }]);
    } finally {
      await old.shutdown();
    }
  });

  it('refuses writes with 507 STORE_FULL at the capacity, and loses nothing acknowledged', async () => {
    const acknowledged: string[] = [];
    let refused: Reply<ErrorAnswer> | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const r = await postForm<ErrorAnswer>(`${system.facadeUrl}/facade`, { msg: `${i}:${BIG}` });
      if (r.status === 201) acknowledged.push(`${i}:${BIG}`);
      else refused = r;
    }
    expect(refused, 'a write was refused').to.not.equal(undefined);
    expect(refused!.status).to.equal(507);
    expect(refused!.body.error.code).to.equal('STORE_FULL');
    expect(refused!.body.error.message).to.match(/full/);
    // 1 MB at about 10.4 KB a message: 100 fit, and near the capacity each write leases its own room in the counter.
    expect(acknowledged.length).to.be.within(90, 101);

    // Straight to logging too, with the same error (a message as big: a small one may still fit).
    // That instance may still hold room it leased before the store was near full, and spends it
    // first (capacity.ts: a lease is at most an eighth of the room left, 12 such messages at the
    // most here); the store as a whole never takes more than its capacity.
    let direct: Reply<ErrorAnswer> | undefined;
    let spent = 0;
    for (; spent <= 12; spent++) {
      direct = await postJson<ErrorAnswer>(`${system.loggingUrl(2)}/logging`, { uuid: uuidv7(), msg: BIG });
      if (direct.status !== 201) break;
    }
    expect(direct!.status, `after ${spent} more acknowledged`).to.equal(507);
    expect(direct!.body.error.code).to.equal('STORE_FULL');
    expect(acknowledged.length + spent, 'messages acknowledged in all').to.be.at.most(101);

    const texts: string[] = (await get<FacadeList>(`${system.facadeUrl}/facade`)).body['logging-service'];
    for (const msg of acknowledged) expect(texts.includes(msg), msg.slice(0, 8)).to.equal(true);
    const metrics = (await get(`${system.loggingUrl(0)}/metrics`)).text;
    expect(metrics).to.match(/^hazelcast_store_capacity_bytes\{[^}]*\} 1048576$/m);
  });
});
