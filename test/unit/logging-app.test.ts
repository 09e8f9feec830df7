import { expect } from 'chai';
import { createApp } from '../../services/logging/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { StoreError } from '../../lib/store-errors.js';
import { v7 } from 'uuid';
import { newMessageId } from '../../lib/ids.js';
import { InMemoryMessageStore, captureLogger } from '../support/fakes.js';
import { eventually } from '../support/eventually.js';
import type { StoredMessage } from '../../lib/contract.js';
import { get, postJson, postRaw, serve, type ErrorAnswer } from '../support/http.js';

describe('logging app (in-memory store)', () => {
  let url: string;
  let close: () => Promise<void>;
  const store = new InMemoryMessageStore();
  const { logger, lines } = captureLogger('logging');

  before(async () => {
    ({ url, close } = await serve(createApp({ store, logger, metrics: createMetrics('logging'), instanceName: 'logging-test', bodyLimitBytes: 1024, isReady: () => true })));
  });
  after(() => close());
  beforeEach(() => {
    store.map.clear();
    store.failWith = undefined;
  });

  it('answers an empty list before anything is stored', async () => {
    const r = await get(`${url}/logging`);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal([]);
  });

  it('stores a new message (201), replays the same one (200), refuses a different one under the same uuid (409)', async () => {
    const uuid = newMessageId();
    const first = await postJson(`${url}/logging`, { uuid, msg: 'hello' });
    expect(first.status).to.equal(201);
    expect(first.body).to.include({ uuid, msg: 'hello', loggedBy: 'logging-test' });
    expect((await postJson(`${url}/logging`, { uuid, msg: 'hello' })).status).to.equal(200);
    const clash = await postJson<ErrorAnswer>(`${url}/logging`, { uuid, msg: 'other' });
    expect(clash.status).to.equal(409);
    expect(clash.body.error.code).to.equal('UUID_CONFLICT');
    expect(store.map.size).to.equal(1);
    expect(store.map.get(uuid)!.msg).to.equal('hello');
  });

  it("logs the lab's line once per stored message, with the request id", async () => {
    const uuid = newMessageId();
    await postJson(`${url}/logging`, { uuid, msg: 'traced' }, { 'x-request-id': 'trace-me' });
    await postJson(`${url}/logging`, { uuid, msg: 'traced' });
    const logged = lines.filter((l) => l.msg === 'Message Was Logged: traced');
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({ requestId: 'trace-me', event: 'message_logged' });
  });

  it('lists in creation order whatever order the writes arrived in', async () => {
    const ids = Array.from({ length: 20 }, () => newMessageId());
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((uuid) => postJson(`${url}/logging`, { uuid, msg: `m-${ids.indexOf(uuid)}` })));
    const r = await get<StoredMessage[]>(`${url}/logging?fields=all`);
    expect(r.body.map((m) => m.uuid)).to.deep.equal(ids);
    expect(Object.keys(r.body[0]!)).to.deep.equal(['uuid', 'msg', 'loggedBy', 'storedAt']);
  });

  it('pages with limit and after', async () => {
    const ids = Array.from({ length: 5 }, () => newMessageId());
    for (const uuid of ids) await postJson(`${url}/logging`, { uuid, msg: uuid });
    const r = await get(`${url}/logging?limit=2&after=${ids[1]}`);
    expect(r.body).to.deep.equal([ids[2], ids[3]]);
  });

  it("lists the texts alone by default, as the lab's logging service did", async () => {
    const ids = Array.from({ length: 3 }, () => newMessageId());
    for (const [i, uuid] of ids.entries()) await postJson(`${url}/logging`, { uuid, msg: `lab-${i}` });
    expect((await get(`${url}/logging`)).body).to.deep.equal(['lab-0', 'lab-1', 'lab-2']);
  });

  it('lists the texts alone with ?fields=msg, chosen fields with a list, and refuses unknown fields', async () => {
    const ids = Array.from({ length: 3 }, () => newMessageId());
    for (const [i, uuid] of ids.entries()) await postJson(`${url}/logging`, { uuid, msg: `t${i}` });
    expect((await get(`${url}/logging?fields=msg`)).body).to.deep.equal(['t0', 't1', 't2']);
    expect((await get(`${url}/logging?fields=msg&limit=1&after=${ids[0]}`)).body).to.deep.equal(['t1']);
    expect((await get(`${url}/logging?fields=msg,uuid&limit=1`)).body).to.deep.equal([{ uuid: ids[0], msg: 't0' }]);
    for (const fields of ['secret', 'msg,msg', '', 'msg,']) {
      const bad = await get<ErrorAnswer>(`${url}/logging?fields=${fields}`);
      expect(bad.status, fields).to.equal(400);
      expect(bad.body.error.code).to.equal('INVALID_FIELDS');
    }
  });

  it('streams a read of many store batches as one JSON array', async () => {
    const ids = Array.from({ length: 25 }, () => newMessageId());
    for (const [i, uuid] of ids.entries()) await postJson(`${url}/logging`, { uuid, msg: `s${i}` });
    const r = await get(`${url}/logging?fields=msg`);
    expect(r.headers.get('content-type')).to.include('application/json');
    expect(r.body).to.deep.equal(ids.map((_, i) => `s${i}`));
    expect((await get(`${url}/logging?fields=msg&limit=7&after=${ids[3]}`)).body).to.deep.equal(ids.slice(4, 11).map((_, i) => `s${i + 4}`));
  });

  const bad: [string, unknown, string][] = [
    ['a JSON array', [], 'INVALID_BODY'],
    ['JSON null', null, 'INVALID_BODY'],
    ['a missing uuid', { msg: 'x' }, 'INVALID_UUID'],
    ['a non-UUID uuid', { uuid: '../../etc/passwd', msg: 'x' }, 'INVALID_UUID'],
    ['a UUIDv4 (reads walk UUIDv7 time order)', { uuid: '0b6e8c4e-3f1a-4c2e-9d55-5a3f0e2b7c11', msg: 'x' }, 'INVALID_UUID'],
    ['a UUIDv7 from an hour ahead', { uuid: v7({ msecs: Date.now() + 3_600_000 }), msg: 'x' }, 'INVALID_UUID'],
    ['a numeric msg', { uuid: newMessageId(), msg: 5 }, 'INVALID_MSG'],
    ['an empty msg', { uuid: newMessageId(), msg: '' }, 'EMPTY_MSG'],
  ];
  for (const [what, body, code] of bad) {
    it(`rejects ${what} with 400 ${code}`, async () => {
      const r = await postJson<ErrorAnswer>(`${url}/logging`, body);
      expect(r.status).to.equal(400);
      expect(r.body.error.code).to.equal(code);
      expect(store.map.size).to.equal(0);
    });
  }

  it('rejects invalid JSON, other content types and oversized bodies', async () => {
    expect((await postRaw<ErrorAnswer>(`${url}/logging`, 'application/json', '{"uuid": ')).body.error.code).to.equal('INVALID_BODY');
    expect((await postRaw(`${url}/logging`, 'text/plain', 'hello')).status).to.equal(415);
    const huge = await postJson<ErrorAnswer>(`${url}/logging`, { uuid: newMessageId(), msg: 'x'.repeat(5000) });
    expect(huge.status).to.equal(413);
    expect(huge.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('answers 503 with a JSON error when the store is unreachable', async () => {
    store.failWith = new StoreError('STORE_UNAVAILABLE', 'the message store is unavailable');
    const r = await postJson<ErrorAnswer>(`${url}/logging`, { uuid: newMessageId(), msg: 'x' });
    expect(r.status).to.equal(503);
    expect(r.body.error.code).to.equal('STORE_UNAVAILABLE');
    expect((await get(`${url}/logging`)).status).to.equal(503);
  });

  it('answers 500 without internals for an unexpected failure', async () => {
    store.failWith = new Error('secret internal detail');
    const r = await get(`${url}/logging`);
    expect(r.status).to.equal(500);
    expect(r.text).not.to.include('secret');
    expect(r.body).to.deep.equal({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await get(`${url}/healthz`)).status).to.equal(200);
    expect((await get(`${url}/readyz`)).status).to.equal(200);
    const m = await get(`${url}/metrics`);
    expect(m.text).to.include('http_requests_total{method="POST",route="/logging",status="201"');
  });

  it('answers unknown routes with 404 and wrong methods with 405 and Allow, as JSON', async () => {
    const nf = await get<ErrorAnswer>(`${url}/nope`);
    expect(nf.status).to.equal(404);
    expect(nf.body.error.code).to.equal('NOT_FOUND');
    const na = await postRaw<ErrorAnswer>(`${url}/healthz`, 'application/json', '{}');
    expect(na.status).to.equal(405);
    expect(na.headers.get('allow')).to.include('GET');
    expect(na.body.error.code).to.equal('METHOD_NOT_ALLOWED');
  });
});

describe('logging app streamed reads', () => {
  /** A store whose reads yield one batch, then wait for `release` (or fail with `failNext`). */
  class GatedStore extends InMemoryMessageStore {
    private gate: (() => void) | undefined;
    failNext: Error | undefined;
    override async *read(): AsyncGenerator<StoredMessage[]> {
      yield [{ uuid: newMessageId(), msg: 'first', loggedBy: 'x', storedAt: 'y' }];
      await new Promise<void>((resolve) => (this.gate = resolve));
      this.gate = undefined;
      if (this.failNext) throw this.failNext;
      yield [{ uuid: newMessageId(), msg: 'second', loggedBy: 'x', storedAt: 'y' }];
    }
  }
  const store = new GatedStore();
  /** Lets the read that is waiting after its first batch go on. */
  const release = () =>
    eventually(() => {
      expect(store['gate'], 'a read waiting at the gate').to.be.a('function');
      store['gate']!();
    });
  let url: string;
  let close: () => Promise<void>;
  const metrics = createMetrics('logging');

  before(async () => {
    ({ url, close } = await serve(createApp({ store, logger: captureLogger().logger, metrics, instanceName: 'gated', bodyLimitBytes: 1024, isReady: () => true, maxConcurrentReads: 1 })));
  });
  after(() => close());

  it('refuses a read beyond the cap with 503 READS_BUSY and Retry-After, and serves again once one ends', async () => {
    const first = fetch(`${url}/logging?fields=msg`);
    const res = await first;
    expect(res.status).to.equal(200);
    const busy = await get<ErrorAnswer>(`${url}/logging`);
    expect(busy.status).to.equal(503);
    expect(busy.body.error.code).to.equal('READS_BUSY');
    expect(busy.headers.get('retry-after')).to.equal('1');
    await release();
    expect(await res.json()).to.deep.equal(['first', 'second']);
    const again = await fetch(`${url}/logging?fields=msg`);
    expect(again.status).to.equal(200);
    await release();
    expect(await again.json()).to.deep.equal(['first', 'second']);
    expect((await get(`${url}/metrics`)).text).to.match(/streamed_reads_total\{outcome="refused",service="logging"\} 1/);
  });

  it('cuts the connection when the store fails after the first byte, so the body never parses as complete', async () => {
    store.failNext = new Error('member lost');
    const res = await fetch(`${url}/logging?fields=msg`);
    expect(res.status).to.equal(200);
    const body = res.text();
    await release();
    let error: unknown;
    await body.catch((err: unknown) => (error = err));
    expect(error, 'the body should fail, not end').to.be.instanceOf(Error);
    store.failNext = undefined;
    await eventually(async () => expect((await get(`${url}/metrics`)).text).to.match(/streamed_reads_total\{outcome="failed",service="logging"\} 1/));
  });
});
