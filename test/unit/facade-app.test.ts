import { expect } from 'chai';
import { createApp as createFacade } from '../../services/facade/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { isUuidV7 } from '../../lib/ids.js';
import { ServiceClient } from '../../lib/service-client.js';
import { unavailable } from '../../lib/errors.js';
import { InMemoryMessageStore, silentLogger } from '../support/fakes.js';
import { freePorts } from '../support/ports.js';
import {
  get, postForm, postJson, postRaw, request, serve, type ErrorAnswer, type FacadeList, type FacadePosted, type Reply,
} from '../support/http.js';
import { serveBackends } from '../support/backends.js';

/** The facade against real HTTP logging and messages apps (in-memory store) and a fixed registry. */
describe('facade app', () => {
  const store = new InMemoryMessageStore();
  const closers: (() => Promise<void>)[] = [];
  const registry: Record<string, string[]> = {};
  let facade: string;
  let deadUrl: string;
  let client: ServiceClient;

  before(async () => {
    const logger = silentLogger();
    const backends = await serveBackends(store, logger);
    closers.push(backends.close);
    registry.logging = backends.logging;
    registry.messages = backends.messages;
    deadUrl = `http://127.0.0.1:${(await freePorts(1))[0]}/logging`;
    client = new ServiceClient({ timeoutMs: 1000, policy: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, cooldownMs: 0 }, logger });
    const app = createFacade({
      logger,
      metrics: createMetrics('facade'),
      // Under the lab's names, as config-server serves its service-config.json.
      serviceRegistry: { instances: async (name: string) => ({ 'logging-service': registry.logging, 'messages-service': registry.messages })[name] ?? [] },
      client,
      loggingService: 'logging-service',
      messagesService: 'messages-service',
      bodyLimitBytes: 1024,
      // Short: a write the store does not confirm is retried until this deadline (STORE_UNCONFIRMED below).
      requestDeadlineMs: 1_500,
    });
    const f = await serve(app);
    closers.push(f.close);
    facade = `${f.url}/facade`;
  });
  after(async () => {
    client.close();
    await Promise.all(closers.map((c) => c()));
  });
  beforeEach(() => store.map.clear());

  it("accepts the lab's form post and answers 201 with the uuid and the instance that stored it", async () => {
    const r = await postForm<FacadePosted>(facade, { msg: 'msg1' });
    expect(r.status).to.equal(201);
    expect(r.body.response).to.deep.equal({ success: 'Message Was Logged' });
    expect(r.body.message.msg).to.equal('msg1');
    expect(isUuidV7(r.body.message.uuid)).to.equal(true);
    expect(registry.logging).to.include(r.body.loggedBy);
  });

  it('accepts JSON and text/plain bodies too', async () => {
    expect((await postJson(facade, { msg: 'json' })).status).to.equal(201);
    expect((await postRaw(facade, 'text/plain', 'plain text')).status).to.equal(201);
    expect([...store.map.values()].map((v) => v.msg).sort()).to.deep.equal(['json', 'plain text']);
  });

  it('stores unicode, emoji and control characters exactly', async () => {
    const msg = 'Привіт 👋 \u0000\u0007 "quotes" <b>';
    expect((await postJson(facade, { msg })).status).to.equal(201);
    expect((await get<FacadeList>(facade)).body['logging-service']).to.deep.equal([msg]);
  });

  it('reads every message back in creation order with the messages-service text', async () => {
    for (let i = 1; i <= 10; i++) await postForm(facade, { msg: `msg${i}` });
    const r = await get(facade);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal({
      'logging-service': Array.from({ length: 10 }, (_, i) => `msg${i + 1}`),
      'messages-service': "I'm not implemented yet ^_^",
    });
  });

  it('pages through messages', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) ids.push((await postForm<FacadePosted>(facade, { msg: `p${i}` })).body.message.uuid);
    expect((await get<FacadeList>(`${facade}?limit=2`)).body['logging-service']).to.deep.equal(['p1', 'p2']);
    expect((await get<FacadeList>(`${facade}?after=${ids[1]}`)).body['logging-service']).to.deep.equal(['p3', 'p4']);
    expect((await get(`${facade}?limit=-1`)).status).to.equal(400);
  });

  it('reads pages and the whole map without skipping or repeating a message', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push((await postForm<FacadePosted>(facade, { msg: `b${i}` })).body.message.uuid);
    for (const [query, expected] of [
      ['', ids.map((_, i) => `b${i}`)],
      ['?limit=6', ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']],
      [`?limit=7&after=${ids[2]}`, ['b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']],
      [`?after=${ids[8]}`, ['b9', 'b10']],
      [`?after=${ids[10]}`, []],
    ] as const) {
      expect((await get<FacadeList>(`${facade}${query}`)).body['logging-service'], query).to.deep.equal(expected);
    }
  });

  const bad: [string, () => Promise<Reply>, number, string][] = [
    ['a form without msg', () => postForm(facade, { text: 'x' }), 400, 'MISSING_MSG'],
    ['an empty msg', () => postForm(facade, { msg: '' }), 400, 'EMPTY_MSG'],
    ['a whitespace msg', () => postJson(facade, { msg: '  \n' }), 400, 'EMPTY_MSG'],
    ['a numeric msg', () => postJson(facade, { msg: 42 }), 400, 'INVALID_MSG'],
    ['a msg array in a form', () => postRaw(facade, 'application/x-www-form-urlencoded', 'msg=a&msg=b'), 400, 'INVALID_MSG'],
    ['JSON null', () => postRaw(facade, 'application/json', 'null'), 400, 'INVALID_BODY'],
    ['a JSON array', () => postJson(facade, ['msg']), 400, 'INVALID_BODY'],
    ['invalid JSON', () => postRaw(facade, 'application/json', '{"msg":'), 400, 'INVALID_BODY'],
    ['an unsupported content type', () => postRaw(facade, 'application/xml', '<msg>x</msg>'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body over the limit', () => postForm(facade, { msg: 'x'.repeat(2000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['an empty text body', () => postRaw(facade, 'text/plain', ''), 400, 'EMPTY_MSG'],
    ['no body at all', () => request(facade, { method: 'POST' }), 400, 'MISSING_MSG'],
    ['a body whose type says JSON but is a form', () => postRaw(facade, 'application/json', 'msg=x'), 400, 'INVALID_BODY'],
  ];
  for (const [what, send, status, code] of bad) {
    it(`answers ${what} with ${status} ${code} and stores nothing`, async () => {
      const r = (await send()) as Reply<ErrorAnswer>;
      expect(r.status).to.equal(status);
      expect(r.body.error.code).to.equal(code);
      expect(store.map.size).to.equal(0);
    });
  }

  it('routes around a dead logging instance on writes and reads', async () => {
    const live = registry.logging!;
    registry.logging = [deadUrl, ...live];
    try {
      for (let i = 0; i < 10; i++) {
        const r = await postForm<FacadePosted>(facade, { msg: `r${i}` });
        expect(r.status).to.equal(201);
        expect(r.body.loggedBy).not.to.equal(deadUrl);
      }
      expect(store.map.size).to.equal(10);
      expect((await get<FacadeList>(facade)).body['logging-service']).to.have.length(10);
    } finally {
      registry.logging = live;
    }
  });

  it('answers 503 when no logging instance can store the message', async () => {
    const live = registry.logging!;
    registry.logging = [deadUrl];
    try {
      const r = await postForm<ErrorAnswer>(facade, { msg: 'lost?' });
      expect(r.status).to.equal(503);
      expect(r.body.error.code).to.equal('NO_LOGGING_INSTANCE');
      expect((await get(facade)).status).to.equal(503);
    } finally {
      registry.logging = live;
    }
  });

  for (const [code, message, when] of [
    ['STORE_MINORITY', 'this side of the Hazelcast cluster has too few members to accept writes', 'the cluster refuses writes on a minority side'],
    ['STORE_UNCONFIRMED', 'the write was not confirmed by every backup; it may be stored or not: retry with the same uuid', 'no backup confirms the write'],
  ] as const) {
    it(`answers 503 ${code}, after trying every instance, when ${when}`, async () => {
      store.failWith = unavailable(code, message);
      try {
        const r = await postForm<ErrorAnswer>(facade, { msg: 'refused' });
        expect(r.status).to.equal(503);
        expect(r.body.error).to.deep.equal({ code, message });
        expect(r.headers.get('retry-after')).to.equal('1');
      } finally {
        store.failWith = undefined;
      }
      expect(store.map.size, 'nothing stored').to.equal(0);
    });
  }

  it('answers 503 STORE_MINORITY on every write refused by the live instances, whichever instance was tried last', async () => {
    const live = registry.logging!;
    // The case: the live instances refuse as a minority; a dead one, tried first or last, must not hide it.
    registry.logging = [deadUrl, ...live];
    store.failWith = unavailable('STORE_MINORITY', 'this side of the Hazelcast cluster has too few members to accept writes');
    try {
      for (let i = 0; i < 20; i++) {
        const r = await postForm<ErrorAnswer>(facade, { msg: `refused-${i}` });
        expect(r.status).to.equal(503);
        expect(r.body.error.code, `write ${i}`).to.equal('STORE_MINORITY');
      }
    } finally {
      store.failWith = undefined;
      registry.logging = live;
    }
    expect(store.map.size, 'nothing stored').to.equal(0);
  });

  it('still returns the messages when the messages service is down', async () => {
    await postForm(facade, { msg: 'kept' });
    const live = registry.messages!;
    registry.messages = [deadUrl];
    try {
      const r = await get(facade);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ 'logging-service': ['kept'], 'messages-service': null });
    } finally {
      registry.messages = live;
    }
  });
});
