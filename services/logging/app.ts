/** The logging service: stores messages under the facade's uuid and lists them in creation order. */
import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, type AppState } from '../../lib/http/app.js';
import { parseBody } from '../../lib/http/body.js';
import type { Logger } from '../../lib/log.js';
import type { HttpMetrics } from '../../lib/metrics.js';
import type { Tracing } from '../../lib/tracing.js';
import { HttpError, badRequest } from '../../lib/errors.js';
import { uuidV7Millis } from '../../lib/ids.js';
import { isLargeRead, parsePage } from '../../lib/paging.js';
import { StreamedReads, jsonArray, ndjson } from '../../lib/http/stream.js';
import { MESSAGE_FIELDS, idTextLine, logRequest, parseRequest, recordLine } from '../../lib/contract.js';
import type { LogRequest, StoredMessage } from '../../lib/contract.js';
import type { MessageStore, PutOutcome } from './store.js';
import { instrumentStore } from './store-metrics.js';
import { instrumentMemberViews, type MemberViews } from './member-views.js';

export interface LoggingAppDeps {
  store: MessageStore;
  logger: Logger;
  metrics: HttpMetrics;
  instanceName: string;
  bodyLimitBytes: number;
  isReady: () => boolean;
  /** Each member's own view of the cluster, for `/logging/cluster` and the metrics; none when not given. */
  memberViews?: MemberViews;
  /** Streamed reads that may run at once (default 8); one more is refused with 503. */
  maxConcurrentReads?: number;
  /** Bound on one streamed read (ms, default 300,000). */
  readDeadlineMs?: number;
  /** How far ahead of this clock a uuid's time may lie (ms, default 60,000). */
  maxClockSkewMs?: number;
  now?: () => Date;
  /** Server spans continuing callers' traces; none when tracing is off. */
  tracing?: Tracing;
}

const STATUS: Record<PutOutcome, number> = { created: 201, replayed: 200, conflict: 409 };
/** Log lines quote at most this much of a message. */
const LOGGED_MSG_CHARS = 200;

/**
 * Validates the body of `POST /logging` (lib/contract.ts), then the uuid's time: not more than
 * `maxClockSkewMs` ahead of `nowMs`, since reads walk the map in key order up to that bound, so
 * every stored key is one that a read reaches.
 * @throws HttpError 400 INVALID_BODY, INVALID_UUID, INVALID_MSG or EMPTY_MSG
 */
export function parseLogRequest(body: unknown, nowMs = Date.now(), maxClockSkewMs = 60_000): LogRequest {
  const request = parseRequest(logRequest, body);
  if (uuidV7Millis(request.uuid) > nowMs + maxClockSkewMs) {
    throw badRequest('INVALID_UUID', `uuid's time lies more than ${maxClockSkewMs} ms in the future`);
  }
  return request;
}

type MessageField = (typeof MESSAGE_FIELDS)[number];

/**
 * How `GET /logging` writes each message. By default, as the lab's logging service did: the texts
 * alone, a plain array of strings (also `?fields=msg`). `?fields=all` gives whole records; any
 * other list, e.g. `uuid,msg`, gives objects with just those fields.
 * @throws HttpError 400 for an unknown, repeated or empty field
 */
export function messageEncoder(fields: unknown): (m: StoredMessage) => string {
  if (fields === undefined) return (m) => JSON.stringify(m.msg);
  if (fields === 'all') return recordLine;
  const list = typeof fields === 'string' ? fields.split(',') : [];
  const known = list.every((f): f is MessageField => (MESSAGE_FIELDS as readonly string[]).includes(f));
  if (list.length === 0 || !known || new Set(list).size !== list.length) {
    throw badRequest('INVALID_FIELDS', `fields must be all, or a comma-separated list of ${MESSAGE_FIELDS.join(', ')}`);
  }
  if (list.length === 1 && list[0] === 'msg') return (m) => JSON.stringify(m.msg);
  // The facade's reads: the lines it checks one by one (lib/contract.ts).
  if (list.length === 2 && list.includes('uuid') && list.includes('msg')) return (m) => idTextLine(m.uuid, m.msg);
  const picked = MESSAGE_FIELDS.filter((f) => list.includes(f));
  return (m) => `{${picked.map((f) => `"${f}":${JSON.stringify(m[f])}`).join(',')}}`;
}

export function createApp(deps: LoggingAppDeps): Koa<AppState> {
  const { logger, metrics, instanceName, bodyLimitBytes, isReady, maxClockSkewMs = 60_000, now = () => new Date() } = deps;
  // Every Hazelcast operation is timed and its failures counted on the service's metrics registry.
  const store = instrumentStore(deps.store, metrics.metricsRegistry);
  if (deps.memberViews) instrumentMemberViews(deps.memberViews, metrics.metricsRegistry);
  const router = new Router<AppState>();
  const reads = new StreamedReads({
    maxConcurrent: deps.maxConcurrentReads ?? 8,
    deadlineMs: deps.readDeadlineMs ?? 300_000,
    metricsRegistry: metrics.metricsRegistry,
  });

  router.post('/logging', parseBody(['json'], bodyLimitBytes), async (ctx) => {
    const { uuid, msg } = parseLogRequest(ctx.request.body, now().getTime(), maxClockSkewMs);
    const outcome = await store.put(uuid, { msg, loggedBy: instanceName, storedAt: now().toISOString() });
    if (outcome === 'conflict') {
      throw new HttpError(409, 'UUID_CONFLICT', 'a different message is already stored under this uuid');
    }
    if (outcome === 'created') {
      // The lab's console line, kept as a structured event.
      ctx.state.log.info({ event: 'message_logged', uuid, msg: msg.slice(0, LOGGED_MSG_CHARS) }, `Message Was Logged: ${msg.slice(0, LOGGED_MSG_CHARS)}`);
    }
    ctx.status = STATUS[outcome];
    ctx.body = { uuid, msg, loggedBy: instanceName, outcome };
  });

  /**
   * Streams every message, or one page, in creation order, as a JSON array or (`?format=ndjson`)
   * one message per line; memory: two key windows (see store.ts).
   */
  router.get('/logging', async (ctx) => {
    const encode = messageEncoder(ctx.query.fields);
    const { format } = ctx.query;
    if (format !== undefined && format !== 'json' && format !== 'ndjson') throw badRequest('INVALID_FORMAT', 'format must be json or ndjson');
    const page = parsePage(ctx.query);
    await reads.send(ctx, (signal) => store.read(page, { signal }), format === 'ndjson' ? ndjson(encode) : jsonArray(encode), { capped: isLargeRead(page) });
  });

  /** The store's summary and, when known, each member's own view (a member split off shows only there). */
  router.get('/logging/cluster', async (ctx) => {
    const [summary, memberViews] = await Promise.all([store.summary(), deps.memberViews?.views({ heap: true })]);
    ctx.body = memberViews ? { ...summary, memberViews } : summary;
  });

  return createServiceApp({ logger, metrics, router, isReady, tracing: deps.tracing });
}
