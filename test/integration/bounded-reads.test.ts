/**
 * Reads of a large map on the real system: streamed reads equal the same messages read page by
 * page, the cluster view stays O(members), members refuse oversized query answers, a client that
 * stops reading holds the whole pipeline back (backpressure), and one that disconnects stops the
 * work all the way down.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Predicates } from 'hazelcast-client';
import type { LocalSystem } from '../../local/system.js';
import { WINDOW_ENTRIES, isResultTooLarge } from '../../services/logging/store.js';
import type { HazelcastConnection } from '../../lib/hazelcast.js';
import { BulkLoadingStore, addMessages, connect } from '../../local/fill.js';
import { loggingMetric } from '../../drills/facade-api.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, type ClusterView, type FacadeList, type FacadeRecords } from '../support/http.js';
import { silentLogger } from '../support/fakes.js';

/** 40,000 messages of about 1 KB; the backpressure test adds more, to 160,000. */
const COUNT = 40_000;
const BIG_COUNT = 160_000;
const text = (i: number) => `m${i}:${'x'.repeat(1_000)}`;

const fetchedEntries = (system: LocalSystem) => loggingMetric(system, 'hazelcast_read_entries_total');

/** The most the kernel lets one TCP socket buffer (bytes): the maximum of `tcp_rmem` or `tcp_wmem`, which autotuning grows to. */
const tcpBufferMax = (name: 'tcp_rmem' | 'tcp_wmem') => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);

/** What the Node streams of the client and the facade hold of one read: a network chunk (64 KiB) at each of six stages; 0.3 MB measured. */
const NODE_STREAM_BYTES = 6 * 64 * 1024;

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
    // Where a held read sits (measured with `ss -tmi` and the processes' streams, during the pause):
    // in the kernel, on each of the two connections (client-facade, facade-logging), the receiver's
    // queue (up to tcp_rmem's maximum, as autotuning grows it) and the sender's (up to tcp_wmem's);
    // in the Node streams of the client and the facade, a network chunk a stage; in logging, the
    // window being passed on (or its last batch and the window read ahead) and two batches of it
    // encoded (the response's socket queue, the stream before it). A window holds about
    // WINDOW_ENTRIES, more where keys came in a burst (hazelcast_read_window_entries_max says how
    // many); it goes on in batches of at most WINDOW_ENTRIES. Before batches, logging held three
    // whole windows, the likely cause of one CI run fetching 120,000 here against a guessed bound
    // of 96,000. So a bounded design fetches at most the entries that fit in all that, and an
    // unbounded one the whole map (docs/reads-and-capacity.md has the figures).
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
    // The shortest line either connection carries: the facade's `"m0:x…",` (logging's lines add the uuid).
    const lineBytes = JSON.stringify(text(0)).length + 1;
    const kernelBytes = 2 * (tcpBufferMax('tcp_rmem') + tcpBufferMax('tcp_wmem'));
    const largestWindow = await loggingMetric(system, 'hazelcast_read_window_entries_max', 'max');
    const bound = Math.ceil((kernelBytes + NODE_STREAM_BYTES) / lineBytes) + largestWindow + 2 * WINDOW_ENTRIES;
    const detail = `kernel ${kernelBytes} bytes, largest window ${largestWindow}: at most ${bound} of ${BIG_COUNT}`;
    expect(bound, `the bound leaves most of the map unread (${detail})`).to.be.below(BIG_COUNT * 0.8);
    expect(held - before, `entries fetched while the client read nothing (${detail})`).to.be.at.most(bound);

    req.destroy();
    await eventually(async () => {
      const facadeMetrics = (await get(`${system.facadeUrl}/metrics`)).text;
      expect(facadeMetrics).to.match(/^streamed_reads_total\{outcome="aborted",[^}]*\} 1$/m);
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await fetchedEntries(system), 'nothing is read after the disconnect').to.equal(held);
  });
});
