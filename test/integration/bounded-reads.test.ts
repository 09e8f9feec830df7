/**
 * Reads of a large map on the real system: streamed reads equal the same messages read page by
 * page, the cluster view stays O(members), members refuse oversized query answers, a client that
 * stops reading holds the whole pipeline back (backpressure), and one that disconnects stops the
 * work all the way down.
 */
import http from 'node:http';
import { expect } from 'chai';
import { Predicates } from 'hazelcast-client';
import type { LocalSystem } from '../../local/system.js';
import { isResultTooLarge } from '../../services/logging/store.js';
import type { HazelcastConnection } from '../../lib/hazelcast.js';
import { BulkLoadingStore, addMessages, connect } from '../../local/fill.js';
import { parsePrometheusText, samplesOf } from '../../lib/prometheus-text.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, type ClusterView, type FacadeList, type FacadeRecords } from '../support/http.js';
import { silentLogger } from '../support/fakes.js';

/** 40,000 messages of about 1 KB; the backpressure test adds more, to 160,000. */
const COUNT = 40_000;
const BIG_COUNT = 160_000;
const text = (i: number) => `m${i}:${'x'.repeat(1_000)}`;

/** The sum of one metric, every series of it, over the logging instances. */
async function loggingMetric(system: LocalSystem, name: string): Promise<number> {
  let sum = 0;
  for (let i = 0; i < system.ports.logging.length; i++) {
    for (const s of samplesOf(parsePrometheusText((await get(`${system.loggingUrl(i)}/metrics`)).text), name)) sum += s.value;
  }
  return sum;
}
const fetchedEntries = (system: LocalSystem) => loggingMetric(system, 'hazelcast_read_entries_total');

describe('bounded reads of a large map on the real system', function () {
  this.timeout(300_000);
  let system: LocalSystem;
  let hz: HazelcastConnection;

  before(async () => {
    system = await createTestSystem();
    await system.start();
    hz = await connect(system.memberAddresses, system.clusterName, silentLogger());
    await addMessages(new BulkLoadingStore(hz, system.mapName), COUNT, text);
  });

  after(async () => {
    await hz?.shutdown();
    await stopAll();
  });

  it('streams GET /facade and GET /logging equal to the same messages read page by page', async () => {
    const full = await get<FacadeList>(`${system.facadeUrl}/facade`, {});
    expect(full.status).to.equal(200);
    const streamed: string[] = full.body['logging-service'];
    expect(streamed).to.have.length(COUNT);
    expect(streamed.slice(0, 3)).to.deep.equal([text(0), text(1), text(2)]);
    expect(full.body['messages-service']).to.be.a('string');

    const paged: string[] = [];
    let after = '';
    for (;;) {
      const page = await get<FacadeRecords>(`${system.facadeUrl}/facade/messages?limit=997${after ? `&after=${after}` : ''}`);
      expect(page.status).to.equal(200);
      const messages: { uuid: string; msg: string }[] = page.body.messages;
      if (messages.length === 0) break;
      paged.push(...messages.map((m) => m.msg));
      after = messages.at(-1)!.uuid;
    }
    expect(paged).to.deep.equal(streamed);
    expect(streamed).to.deep.equal(Array.from({ length: COUNT }, (_, i) => text(i)));

    const direct = await get(`${system.loggingUrl(1)}/logging?fields=msg`);
    expect(direct.body).to.deep.equal(streamed);
  });

  it('answers /facade/cluster without listing the map: entries per member shared out by partitions, adding up to the map size', async () => {
    const r = await get<ClusterView>(`${system.facadeUrl}/facade/cluster`);
    expect(r.status).to.equal(200);
    const hzView = r.body.hazelcast!;
    expect(hzView.mapSize).to.equal(COUNT);
    expect(hzView.entriesCounted).to.equal('estimated');
    expect(hzView.members).to.have.length(3);
    expect(hzView.ownedEntriesTotal).to.equal(COUNT);
    for (const m of hzView.members) expect(m.ownedEntries).to.be.within(COUNT * 0.25, COUNT * 0.42);
  });

  it('has members that refuse any query answer over 100,000 entries, which the store recognises (and a read then narrows its window)', async () => {
    const scratch = await hz.getMap<string, string>('bounded-reads-limit');
    for (let from = 0; from < 120_000; from += 10_000) {
      await scratch.putAll(Array.from({ length: 10_000 }, (_, i) => [`k${from + i}`, 'v'] as [string, string]));
    }
    const err = await scratch.entrySet().catch((e: unknown) => e);
    expect(isResultTooLarge(err), String(err)).to.equal(true);
    expect((await scratch.keySetWithPredicate(Predicates.sql("__key like 'k1%'"))).length).to.be.below(100_000);
    await scratch.destroy();
  });

  it('holds a read that the client stops reading (backpressure), and stops all the work when it disconnects', async () => {
    // Kernel buffers on loopback take up to 36 MB a connection (tcp_rmem 32 MB + tcp_wmem 4 MB),
    // two connections deep: 160 MB of messages, so that what they hold is well under the whole.
    await addMessages(new BulkLoadingStore(hz, system.mapName), BIG_COUNT - COUNT, (i) => text(COUNT + i));
    const before = await fetchedEntries(system);
    const req = http.get(`${system.facadeUrl}/facade`);
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).to.equal(200);
    res.pause();
    // Backpressure: with nobody reading, the pipeline fills its buffers and then the reading stops.
    let held = -1;
    await eventually(async () => {
      const now = await fetchedEntries(system);
      const settled = now === held;
      held = now;
      expect(settled, 'fetching has stopped').to.equal(true);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(held - before, 'entries fetched while the client read nothing').to.be.below(BIG_COUNT * 0.6);

    req.destroy();
    await eventually(async () => {
      const facadeMetrics = (await get(`${system.facadeUrl}/metrics`)).text;
      expect(facadeMetrics).to.match(/^streamed_reads_total\{outcome="aborted",[^}]*\} 1$/m);
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await fetchedEntries(system), 'nothing is read after the disconnect').to.equal(held);
  });
});
