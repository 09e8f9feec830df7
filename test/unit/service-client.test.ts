import { expect } from 'chai';
import Koa from 'koa';
import { PassThrough } from 'node:stream';
import { ServiceClient } from '../../lib/service-client.js';
import { InstancePicker, backoffDelayMs, retryIfNotStarted, type RetryPolicy } from '../../lib/retry.js';
import { UpstreamError } from '../../lib/upstream-error.js';
import { readLines } from '../../lib/ndjson.js';
import { freePorts } from '../support/ports.js';
import { serve } from '../support/http.js';
import { silentLogger } from '../support/fakes.js';
import { blackHole } from '../support/black-hole.js';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200, cooldownMs: 1000 };

describe('instance choice', () => {
  const A = 'http://a', B = 'http://b', C = 'http://c';

  it('picks at random among untried instances', () => {
    const seen = new Set<string>();
    let r = 0;
    const picker = new InstancePicker(1000, () => 0, () => ((r = (r + 0.34) % 1), r));
    for (let i = 0; i < 30; i++) seen.add(picker.pick([A, B, C], new Set()));
    expect([...seen].sort()).to.deep.equal([A, B, C]);
  });

  it('never retries the instance that just failed while others remain', () => {
    for (let k = 0; k < 200; k++) {
      const picker = new InstancePicker(1000);
      const first = picker.pick([A, B, C], new Set());
      picker.markFailed(first);
      const second = picker.pick([A, B, C], new Set([first]), first);
      expect(second).not.to.equal(first);
    }
  });

  it('after trying all, picks any but the last failure', () => {
    const picker = new InstancePicker(0, () => 0, () => 0.99);
    expect(picker.pick([A, B], new Set([A, B]), B)).to.equal(A);
    expect(picker.pick([A], new Set([A]), A)).to.equal(A);
  });

  it('passes over an instance that failed within the cooldown', () => {
    let now = 0;
    const picker = new InstancePicker(1000, () => now);
    picker.markFailed(A);
    for (let i = 0; i < 50; i++) expect(picker.pick([A, B], new Set())).to.equal(B);
    now = 1000;
    const seen = new Set(Array.from({ length: 50 }, () => picker.pick([A, B], new Set())));
    expect(seen.has(A)).to.equal(true);
  });

  it('doubles the cooldown with each consecutive failure, and forgets it once the instance answers', () => {
    let now = 0;
    const picker = new InstancePicker(1000, () => now);
    const avoided = () => Array.from({ length: 30 }, () => picker.pick([A, B], new Set())).every((i) => i === B);
    picker.markFailed(A);
    now = 1000;
    picker.markFailed(A); // failed again when probed: now avoided for 2 s
    now = 2999;
    expect(avoided()).to.equal(true);
    now = 3000;
    expect(avoided()).to.equal(false);
    picker.markAnswered(A);
    picker.markFailed(A);
    now = 4000;
    expect(avoided(), 'back to 1 s after an answer').to.equal(false);
  });

  it('once the cooldown is over, lets one request probe a suspect while the others pass it over', () => {
    let now = 0;
    const picker = new InstancePicker(1000, () => now, () => 0);
    picker.markFailed(A);
    now = 1000;
    expect(picker.pick([A, B], new Set()), 'the probe').to.equal(A);
    for (let i = 0; i < 20; i++) expect(picker.pick([A, B], new Set()), 'while the probe waits').to.equal(B);
    picker.markAnswered(A);
    expect(picker.pick([A, B], new Set()), 'trusted again').to.equal(A);
    expect(picker.pick([A, B], new Set()), 'and used by every request').to.equal(A);
  });

  it('doubles the cooldown for a failed probe, not for requests already under way that fail too', () => {
    let now = 0;
    const picker = new InstancePicker(1000, () => now, () => 0);
    for (let i = 0; i < 30; i++) picker.markFailed(A); // 30 requests cut at once: one failure
    now = 1000;
    expect(picker.pick([A, B], new Set()), 'probed after 1 s, not 16 s').to.equal(A);
    picker.markFailed(A); // the probe failed: 2 s
    now = 2999;
    expect(picker.pick([A, B], new Set())).to.equal(B);
    now = 3000;
    expect(picker.pick([A, B], new Set())).to.equal(A);
    picker.markFailed(A); // 4 s
    now = 6999;
    expect(picker.pick([A, B], new Set())).to.equal(B);
    now = 7000;
    expect(picker.pick([A, B], new Set())).to.equal(A);
  });

  it('lets another request probe when the probe ended without an answer or a failure (its caller went away)', () => {
    let now = 0;
    const picker = new InstancePicker(1000, () => now, () => 0);
    picker.markFailed(A);
    now = 1000;
    expect(picker.pick([A, B], new Set())).to.equal(A);
    expect(picker.pick([A, B], new Set())).to.equal(B);
    picker.release(A);
    expect(picker.pick([A, B], new Set())).to.equal(A);
  });

  it('with no cooldown, passes nothing over, not even while one request tries a failed instance', () => {
    const picker = new InstancePicker(0, () => 0, () => 0);
    picker.markFailed(A);
    expect(picker.pick([A, B], new Set())).to.equal(A);
    expect(picker.pick([A, B], new Set())).to.equal(A);
  });

  it('uses a cooling instance when nothing else is left', () => {
    const picker = new InstancePicker(1000, () => 0);
    picker.markFailed(A);
    picker.markFailed(B);
    expect([A, B]).to.include(picker.pick([A, B], new Set()));
  });

  it('backs off exponentially with jitter and a cap', () => {
    expect(backoffDelayMs(policy, 2, () => 1)).to.equal(20);
    expect(backoffDelayMs(policy, 3, () => 1)).to.equal(40);
    expect(backoffDelayMs(policy, 3, () => 0)).to.equal(20);
    expect(backoffDelayMs(policy, 10, () => 1)).to.equal(200);
  });
});

describe('service client', () => {
  const stops: (() => Promise<void>)[] = [];
  after(async () => Promise.all(stops.map((s) => s())));

  async function server(handler: Koa.Middleware) {
    const app = new Koa();
    app.silent = true; // a response the client cut (a timeout under test) is not an error worth printing
    app.use(handler);
    const s = await serve(app);
    stops.push(s.close);
    return s.url;
  }

  it('retries refused, 5xx and slow instances on other instances until one answers', async () => {
    const [closedPort] = await freePorts(1);
    const refused = `http://127.0.0.1:${closedPort}`;
    const broken = await server((ctx) => { ctx.status = 500; });
    const slow = await server(async (ctx) => { await new Promise((r) => setTimeout(r, 2000)); ctx.body = 'late'; });
    let hits = 0;
    const good = await server((ctx) => { hits++; ctx.body = { ok: true }; });
    const reasons: string[] = [];
    const client = new ServiceClient({
      timeoutMs: 300, policy, logger: silentLogger(), onRetry: (r) => reasons.push(r), sleep: async () => {},
    });
    for (let i = 0; i < 10; i++) {
      const { instance, response } = await client.callAny([refused, broken, slow, good], (u) => u);
      expect(instance).to.equal(good);
      expect(response.status).to.equal(200);
    }
    expect(hits).to.equal(10);
    expect(new Set(reasons)).to.satisfy((s: Set<string>) => [...s].every((r) => ['refused', 'status_5xx', 'timeout'].includes(r)));
    client.close();
  });

  it('gives up after maxAttempts with the last failure', async () => {
    const broken = await server((ctx) => { ctx.status = 503; });
    const client = new ServiceClient({
      timeoutMs: 300, policy: { ...policy, maxAttempts: 3 }, logger: silentLogger(), sleep: async () => {},
    });
    let attempts = 0;
    const err = await client.callAny([broken], (u) => (attempts++, u)).catch((e) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err.reason).to.equal('status_5xx');
    expect(attempts).to.equal(3);
    client.close();
  });

  it('retries failures marked uncounted until the deadline, not for a number of attempts', async () => {
    let calls = 0;
    // Unconfirmed five times (a member being dropped), then stored.
    const store = await server((ctx) => {
      if (++calls <= 5) {
        ctx.status = 503;
        ctx.body = { error: { code: 'STORE_UNCONFIRMED', message: 'a backup did not confirm the write' } };
      } else ctx.status = 201;
    });
    const client = new ServiceClient({
      timeoutMs: 300, policy: { ...policy, maxAttempts: 2 }, logger: silentLogger(), sleep: async () => {},
    });
    const uncounted = (e: UpstreamError) => e.body?.includes('STORE_UNCONFIRMED') === true;
    const { response, attempts } = await client.callAny([store], (u) => u, { deadline: Date.now() + 10_000, uncounted });
    expect(response.status).to.equal(201);
    expect(attempts).to.equal(6);
    // At the deadline they stop.
    calls = -1_000_000;
    const started = Date.now();
    const err = await client.callAny([store], (u) => u, { deadline: started + 300, uncounted }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect(calls + 1_000_000).to.be.above(2);
    expect(Date.now() - started).to.be.below(1_000);
    client.close();
  });

  it('tells every failed attempt in order, and cools down only an instance that did not answer', async () => {
    const [closedPort] = await freePorts(1);
    const dead = `http://127.0.0.1:${closedPort}`;
    const minority = await server((ctx) => { ctx.status = 503; ctx.body = { error: { code: 'STORE_MINORITY', message: 'too few members' } }; });
    const picker = new InstancePicker(policy.cooldownMs, () => 0);
    const client = new ServiceClient({
      timeoutMs: 300, policy: { ...policy, maxAttempts: 2 }, logger: silentLogger(), picker, sleep: async () => {},
    });
    const failures: UpstreamError[] = [];
    const err = await client.callAny([dead, minority], (u) => u, { onFailure: (e) => failures.push(e) }).catch((e) => e);
    expect(failures.map((f) => f.url)).to.have.members([dead, minority]);
    expect(failures.at(-1)).to.equal(err);
    // The instance that answered 503 is alive: still the first choice, while the dead one cools down.
    for (let i = 0; i < 20; i++) expect(picker.pick([dead, minority], new Set())).to.equal(minority);
    client.close();
  });

  it('passes 4xx answers through without retrying', async () => {
    let calls = 0;
    const conflict = await server((ctx) => { calls++; ctx.status = 409; ctx.body = {}; });
    const client = new ServiceClient({ timeoutMs: 300, policy, logger: silentLogger() });
    const { response } = await client.callAny([conflict], (u) => u, { method: 'POST', json: {} });
    expect(response.status).to.equal(409);
    expect(calls).to.equal(1);
    client.close();
  });

  it('sends the request id downstream', async () => {
    let seen: string | undefined;
    const echo = await server((ctx) => { seen = ctx.get('x-request-id'); ctx.body = {}; });
    const client = new ServiceClient({ timeoutMs: 300, policy, logger: silentLogger() });
    await client.request(echo, { requestId: 'req-123' });
    expect(seen).to.equal('req-123');
    client.close();
  });

  it('retries a read only where the first instance could not have started it: refused, reset or 503', async () => {
    const [closedPort] = await freePorts(1);
    const refused = `http://127.0.0.1:${closedPort}`;
    const busy = await server((ctx) => { ctx.status = 503; });
    let goodHits = 0;
    const good = await server((ctx) => { goodHits++; ctx.body = []; });
    let slowHits = 0;
    const slow = await server(async (ctx) => { slowHits++; await new Promise((r) => setTimeout(r, 3_000)); ctx.body = []; });
    const failing = await server((ctx) => { ctx.status = 500; });
    // 1 s, not less: a first request to a new server on a busy machine (CI) once took over 200 ms.
    const client = new ServiceClient({ timeoutMs: 1_000, policy, logger: silentLogger(), sleep: async () => {} });
    for (const first of [refused, busy]) {
      const { instance } = await client.callAny([first, good], (u) => u, { retryIf: retryIfNotStarted });
      expect(instance).to.equal(good);
    }
    // A read that timed out (it may be failing under its own weight) or failed with a 500 ends the call.
    for (const [first, reason] of [[slow, 'timeout'], [failing, 'status_5xx']] as const) {
      const before = goodHits;
      const err = await client.callAny([first], (u) => u, { retryIf: retryIfNotStarted }).catch((e) => e);
      expect(err).to.be.instanceOf(UpstreamError);
      expect(err.reason).to.equal(reason);
      expect(goodHits).to.equal(before);
    }
    expect(slowHits).to.equal(1);
    client.close();
  });

  it('keeps every attempt within the request\'s deadline, and starts none after it', async () => {
    let hits = 0;
    const slow = await server(async (ctx) => { hits++; await new Promise((r) => setTimeout(r, 1000)); ctx.body = {}; });
    const client = new ServiceClient({ timeoutMs: 5000, policy, logger: silentLogger(), sleep: async () => {} });
    const started = Date.now();
    const err = await client.callAny([slow], (u) => u, { deadline: Date.now() + 300 }).catch((e) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err.reason).to.equal('timeout');
    expect(Date.now() - started).to.be.below(900);
    expect(hits).to.equal(1);
    client.close();
  });

  it('calls a body the timer cut short a timeout, not a reset: headers sent at once, the rest too late', async () => {
    const dribbling = await server(async (ctx) => {
      ctx.status = 200;
      ctx.type = 'application/json';
      const body = new PassThrough();
      ctx.body = body;
      body.write('{"part":');
      setTimeout(() => body.end('1}'), 1500);
    });
    const client = new ServiceClient({ timeoutMs: 300, policy, logger: silentLogger(), sleep: async () => {} });
    const err = await client.request(dribbling).catch((e) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err.reason).to.equal('timeout');
    client.close();
  });

  it('keeps the body of a 5xx on a streamed call as on a whole one, so the caller can tell why', async () => {
    const why = { error: { code: 'READS_BUSY', message: 'too many reads' } };
    const busy = await server((ctx) => { ctx.status = 503; ctx.body = why; });
    const client = new ServiceClient({ timeoutMs: 1000, policy, logger: silentLogger(), sleep: async () => {} });
    for (const call of [() => client.stream(busy), () => client.request(busy)]) {
      const err = await call().catch((e) => e);
      expect(err).to.be.instanceOf(UpstreamError);
      expect(err).to.include({ reason: 'status_5xx', status: 503 });
      expect(JSON.parse(err.body)).to.deep.equal(why);
    }
    client.close();
  });

  it('streams a body at the reader\'s pace once its headers are in, the timer stopped', async () => {
    const slowBody = await server(async (ctx) => {
      const body = new PassThrough();
      ctx.type = 'application/x-ndjson';
      ctx.body = body;
      body.write('{"n":1}\n');
      setTimeout(() => body.end('{"n":2}\n'), 600);
    });
    const client = new ServiceClient({ timeoutMs: 300, policy, logger: silentLogger(), sleep: async () => {} });
    const res = await client.stream(slowBody);
    const lines: string[] = [];
    for await (const batch of readLines(res, slowBody, 2000)) lines.push(...batch);
    expect(lines).to.deep.equal(['{"n":1}', '{"n":2}']);
    client.close();
  });

  describe('an instance whose address has gone (every packet dropped)', () => {
    it('fails a connection not made within the connect timeout, and cuts every other connection to that instance', async () => {
      const hole = await blackHole();
      stops.push(hole.close);
      const client = new ServiceClient({ timeoutMs: 5000, connectTimeoutMs: 200, policy, logger: silentLogger() });
      const post = () => {
        const started = Date.now();
        return client.request(hole.url, { method: 'POST', json: {} }).then(
          () => ({ reason: 'answered', ms: Date.now() - started }),
          (e: UpstreamError) => ({ reason: e.reason, ms: Date.now() - started }),
        );
      };
      // Two connections are made and never answered (kept-alive ones to a lost node), ...
      const hung = [post(), post()];
      await new Promise((r) => setTimeout(r, 100));
      // ... the next is never made: at its connect timeout the two hung ones are cut as well.
      const fresh = await post();
      expect(fresh.reason).to.equal('connect_timeout');
      expect(fresh.ms).to.be.within(150, 1000);
      for (const h of await Promise.all(hung)) {
        expect(h.reason).to.equal('reset');
        expect(h.ms, 'cut long before the 5 s answer timeout').to.be.below(1200);
      }
      client.close();
    });

    it('sends the request elsewhere after the connect timeout, not the answer timeout; and a read too, since it never started', async () => {
      const hole = await blackHole();
      stops.push(hole.close);
      const good = await server((ctx) => { ctx.body = { ok: true }; });
      const reasons: string[] = [];
      // The first pick is the hole.
      const picker = new InstancePicker(policy.cooldownMs, Date.now, () => 0);
      const client = new ServiceClient({
        timeoutMs: 5000, connectTimeoutMs: 200, policy, logger: silentLogger(), picker, sleep: async () => {},
        onRetry: (r) => reasons.push(r),
      });
      // Fill the hole's queue, so that no later connection is made.
      const hung = [0, 1].map(() => client.request(hole.url).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 100));
      for (const retryIf of [undefined, retryIfNotStarted]) {
        picker.markAnswered(hole.url);
        const started = Date.now();
        const { instance } = await client.callAny([hole.url, good], (u) => u, { retryIf });
        expect(instance).to.equal(good);
        expect(Date.now() - started).to.be.below(1000);
      }
      expect(reasons).to.deep.equal(['connect_timeout', 'connect_timeout']);
      await Promise.all(hung);
      client.close();
    });

    it('leaves a live instance that is slow to answer alone: the connect timeout bounds the connection only', async () => {
      const slow = await server(async (ctx) => { await new Promise((r) => setTimeout(r, 600)); ctx.body = { ok: true }; });
      const client = new ServiceClient({ timeoutMs: 5000, connectTimeoutMs: 100, policy, logger: silentLogger() });
      const answers = await Promise.all(Array.from({ length: 5 }, () => client.request(slow, { method: 'POST', json: {} })));
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200]);
      client.close();
    });
  });

  it('cuts the call when its signal aborts, and retries nowhere', async () => {
    let hits = 0;
    const slow = await server(async (ctx) => { hits++; await new Promise((r) => setTimeout(r, 2000)); ctx.body = {}; });
    const client = new ServiceClient({ timeoutMs: 5000, policy, logger: silentLogger(), sleep: async () => {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await client.callAny([slow, slow], (u) => u, { signal: controller.signal }).catch((e) => e);
    expect(err.name).to.equal('AbortError');
    expect(Date.now() - started).to.be.below(1000);
    expect(hits).to.equal(1);
    client.close();
  });
});
