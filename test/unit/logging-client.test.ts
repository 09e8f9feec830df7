import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { LoggingClient, nearestFailure } from '../../services/facade/logging-client.js';
import { ServiceClient } from '../../lib/service-client.js';
import { UpstreamError } from '../../lib/upstream-error.js';
import { HttpError } from '../../lib/errors.js';
import { newMessageId } from '../../lib/ids.js';
import { idTextLine } from '../../lib/contract.js';
import { silentLogger } from '../support/fakes.js';

const stored = Array.from({ length: 23 }, (_, i) => ({ uuid: newMessageId(), msg: `m${i}` }));

/** A logging instance that answers `?format=ndjson&after=` from `stored`, but cuts the connection after `cutAfter` lines. */
async function cuttingLogging(cutAfter: number): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    requests.push(q.get('after') ?? '');
    const from = q.get('after') ? stored.findIndex((m) => m.uuid === q.get('after')) + 1 : 0;
    const rest = stored.slice(from);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
    if (cutAfter > 0) res.write(rest.slice(0, cutAfter).map((m) => `${idTextLine(m.uuid, m.msg)}\n`).join(''));
    if (rest.length <= cutAfter) res.end();
    else setTimeout(() => res.destroy(), 20); // the instance dies mid-read
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logging`,
    requests,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('the facade reading from logging', () => {
  const client = new ServiceClient({
    timeoutMs: 2_000, policy: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, cooldownMs: 0 }, logger: silentLogger(),
  });
  after(() => client.close());

  const read = async (instances: string[]) => {
    const serviceRegistry = { instances: async () => instances };
    const reader = new LoggingClient({ serviceRegistry, client, loggingService: 'logging', silenceMs: 2_000 });
    const out: string[] = [];
    for await (const batch of reader.read({}, { requestId: 'r', fields: 'text' })) out.push(...batch.map((m) => JSON.parse(m.json) as string));
    return out;
  };

  it('goes on from the last message received when a read is cut short, never repeating one', async () => {
    const a = await cuttingLogging(5);
    const b = await cuttingLogging(5);
    try {
      expect(await read([a.url, b.url])).to.deep.equal(stored.map((m) => m.msg));
      // Every resume asked for what came after the last message it had: five at a time.
      const afters = [...a.requests, ...b.requests].filter(Boolean).sort();
      expect(afters).to.deep.equal([4, 9, 14, 19].map((i) => stored[i]!.uuid).sort());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("passes on a live instance's reason for not starting a read (503 READS_BUSY), whichever instance was tried last", async () => {
    const busy = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'READS_BUSY', message: 'too many reads are streaming; retry shortly' } }));
    });
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyUrl = `http://127.0.0.1:${(busy.address() as AddressInfo).port}/logging`;
    const dead = 'http://127.0.0.1:9/logging'; // the discard port: nothing listens there
    try {
      for (let i = 0; i < 6; i++) {
        const err = await read(i % 2 ? [busyUrl, dead] : [dead, busyUrl]).catch((e: unknown) => e);
        expect(err).to.include({ status: 503, code: 'READS_BUSY', message: 'too many reads are streaming; retry shortly' });
      }
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('gives up with 503 when instances keep cutting the read before a single message', async () => {
    const a = await cuttingLogging(0);
    try {
      const err = await read([a.url]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(HttpError);
      expect(err).to.include({ status: 503, code: 'NO_LOGGING_INSTANCE' });
      expect(a.requests).to.have.length(3);
    } finally {
      await a.close();
    }
  });

  it('reads from an instance its cached list does not know yet once config-server lists it, and refuses one it does not', async () => {
    const a = await cuttingLogging(100);
    try {
      const freshAsked: boolean[] = [];
      const serviceRegistry = { instances: async (_s: string, _r?: string, fresh = false) => (freshAsked.push(fresh), fresh ? ['http://old/logging', a.url] : ['http://old/logging']) };
      const reader = new LoggingClient({ serviceRegistry, client, loggingService: 'logging', silenceMs: 2_000 });
      const out: string[] = [];
      for await (const batch of reader.read({}, { requestId: 'r', fields: 'text', instance: a.url })) out.push(...batch.map((m) => JSON.parse(m.json) as string));
      expect(out).to.have.length(stored.length);
      expect(freshAsked).to.deep.equal([false, true]);
      const err = await (async () => {
        for await (const _ of reader.read({}, { requestId: 'r', fields: 'text', instance: 'http://169.254.169.254/logging' })) void _;
      })().catch((e: unknown) => e);
      expect(err).to.include({ status: 400, code: 'UNKNOWN_INSTANCE' });
    } finally {
      await a.close();
    }
  });
});

describe('which failed attempt tells why a write failed everywhere', () => {
  const dead = (reason: 'refused' | 'timeout' | 'reset', i = 0) => new UpstreamError(`http://dead-${i}/logging`, reason, `POST: ${reason}`);
  const answered = (status: number, code: string, message = `${code} message`, i = 0) =>
    new UpstreamError(`http://live-${i}/logging`, 'status_5xx', `POST: HTTP ${status}`, { status, body: JSON.stringify({ error: { code, message } }) });
  const minorityMessage = 'this side of the Hazelcast cluster has too few members to accept writes';
  const minority = answered(503, 'STORE_MINORITY', minorityMessage);
  const told = (failures: UpstreamError[]) => {
    const err = nearestFailure(failures, 'store the message');
    return { status: err.status, code: err.code, message: err.message };
  };

  /** Every order of `items`. */
  const orders = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((x, i) => orders(items.filter((_, j) => j !== i)).map((rest) => [x, ...rest]));

  it("passes on a live instance's STORE_MINORITY in whatever order the dead instances were tried, last included", () => {
    for (const order of orders([dead('refused', 1), minority, dead('timeout', 2), dead('reset', 3)])) {
      expect(told(order)).to.deep.equal({ status: 503, code: 'STORE_MINORITY', message: minorityMessage });
    }
  });

  it("ranks the store's own refusal above an instance that lost the cluster, above a 500, above no answer", () => {
    const unavailable = answered(503, 'STORE_UNAVAILABLE', 'the message store is unavailable', 1);
    const internal = answered(500, 'INTERNAL', 'internal error', 2);
    for (const order of orders([minority, unavailable, internal, dead('refused')])) expect(told(order).code).to.equal('STORE_MINORITY');
    for (const order of orders([unavailable, internal, dead('refused')])) {
      expect(told(order)).to.include({ status: 503, code: 'STORE_UNAVAILABLE' });
    }
    for (const order of orders([internal, dead('refused'), dead('timeout', 1)])) {
      expect(told(order)).to.deep.equal({ status: 502, code: 'BAD_GATEWAY', message: 'logging answered 500' });
    }
  });

  it('lets the latest of two answers of one rank speak', () => {
    const unconfirmed = answered(503, 'STORE_UNCONFIRMED', 'not confirmed', 1);
    expect(told([unconfirmed, dead('refused'), minority]).code).to.equal('STORE_MINORITY');
    expect(told([minority, dead('refused'), unconfirmed]).code).to.equal('STORE_UNCONFIRMED');
  });

  it('says NO_LOGGING_INSTANCE only when no instance answered with a code', () => {
    const notLogging = new UpstreamError('http://proxy/logging', 'status_5xx', 'POST: HTTP 502', { status: 502, body: '<html>Bad Gateway</html>' });
    for (const failures of [[dead('refused')], [dead('timeout'), dead('reset', 1), notLogging], []]) {
      expect(told(failures)).to.deep.equal({ status: 503, code: 'NO_LOGGING_INSTANCE', message: 'no logging instance could store the message' });
    }
  });
});
