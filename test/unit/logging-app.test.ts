import { expect } from 'chai';
import { createApp } from '../../services/logging/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { unavailable } from '../../lib/errors.js';
import { newMessageId } from '../../lib/ids.js';
import { InMemoryMessageStore, captureLogger } from '../support/fakes.js';
import { get, postJson, postRaw, serve } from '../support/http.js';

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
    const clash = await postJson(`${url}/logging`, { uuid, msg: 'other' });
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
    const r = await get(`${url}/logging`);
    expect(r.body.map((m: { uuid: string }) => m.uuid)).to.deep.equal(ids);
  });

  it('pages with limit and after', async () => {
    const ids = Array.from({ length: 5 }, () => newMessageId());
    for (const uuid of ids) await postJson(`${url}/logging`, { uuid, msg: uuid });
    const r = await get(`${url}/logging?limit=2&after=${ids[1]}`);
    expect(r.body.map((m: { uuid: string }) => m.uuid)).to.deep.equal([ids[2], ids[3]]);
  });

  it('lists the texts alone with ?fields=msg, and refuses other fields', async () => {
    const ids = Array.from({ length: 3 }, () => newMessageId());
    for (const [i, uuid] of ids.entries()) await postJson(`${url}/logging`, { uuid, msg: `t${i}` });
    expect((await get(`${url}/logging?fields=msg`)).body).to.deep.equal(['t0', 't1', 't2']);
    expect((await get(`${url}/logging?fields=msg&limit=1&after=${ids[0]}`)).body).to.deep.equal(['t1']);
    const bad = await get(`${url}/logging?fields=uuid`);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('INVALID_FIELDS');
  });

  const bad: [string, unknown, string][] = [
    ['a JSON array', [], 'INVALID_BODY'],
    ['JSON null', null, 'INVALID_BODY'],
    ['a missing uuid', { msg: 'x' }, 'INVALID_UUID'],
    ['a non-UUID uuid', { uuid: '../../etc/passwd', msg: 'x' }, 'INVALID_UUID'],
    ['a numeric msg', { uuid: newMessageId(), msg: 5 }, 'INVALID_MSG'],
    ['an empty msg', { uuid: newMessageId(), msg: '' }, 'EMPTY_MSG'],
  ];
  for (const [what, body, code] of bad) {
    it(`rejects ${what} with 400 ${code}`, async () => {
      const r = await postJson(`${url}/logging`, body);
      expect(r.status).to.equal(400);
      expect(r.body.error.code).to.equal(code);
      expect(store.map.size).to.equal(0);
    });
  }

  it('rejects invalid JSON, other content types and oversized bodies', async () => {
    expect((await postRaw(`${url}/logging`, 'application/json', '{"uuid": ')).body.error.code).to.equal('INVALID_BODY');
    expect((await postRaw(`${url}/logging`, 'text/plain', 'hello')).status).to.equal(415);
    const huge = await postJson(`${url}/logging`, { uuid: newMessageId(), msg: 'x'.repeat(5000) });
    expect(huge.status).to.equal(413);
    expect(huge.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('answers 503 with a JSON error when the store is unreachable', async () => {
    store.failWith = unavailable('STORE_UNAVAILABLE', 'the message store is unavailable');
    const r = await postJson(`${url}/logging`, { uuid: newMessageId(), msg: 'x' });
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
    const nf = await get(`${url}/nope`);
    expect(nf.status).to.equal(404);
    expect(nf.body.error.code).to.equal('NOT_FOUND');
    const na = await postRaw(`${url}/healthz`, 'application/json', '{}');
    expect(na.status).to.equal(405);
    expect(na.headers.get('allow')).to.include('GET');
    expect(na.body.error.code).to.equal('METHOD_NOT_ALLOWED');
  });
});
