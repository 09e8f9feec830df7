/** The logging service: stores messages under the facade's uuid and lists them in creation order. */
import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, type AppState } from '../../lib/http/app.js';
import { parseBody } from '../../lib/http/body.js';
import type { Logger } from '../../lib/log.js';
import type { HttpMetrics } from '../../lib/metrics.js';
import { HttpError, badRequest } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { parsePage } from '../../lib/paging.js';
import type { MessageStore, PutOutcome } from './store.js';
import { instrumentStore } from './store-metrics.js';

export interface LoggingAppDeps {
  store: MessageStore;
  logger: Logger;
  metrics: HttpMetrics;
  instanceName: string;
  bodyLimitBytes: number;
  isReady: () => boolean;
  now?: () => Date;
}

const STATUS: Record<PutOutcome, number> = { created: 201, replayed: 200, conflict: 409 };
/** Log lines quote at most this much of a message. */
const LOGGED_MSG_CHARS = 200;

/** Validates the body of `POST /logging`. */
export function parseLogRequest(body: unknown): { uuid: string; msg: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('INVALID_BODY', 'body must be a JSON object {"uuid": "...", "msg": "..."}');
  }
  const { uuid, msg } = body as Record<string, unknown>;
  if (!isUuid(uuid)) throw badRequest('INVALID_UUID', 'uuid must be a UUID string');
  if (typeof msg !== 'string') throw badRequest('INVALID_MSG', 'msg must be a string');
  if (msg.trim() === '') throw badRequest('EMPTY_MSG', 'msg must not be empty');
  return { uuid: uuid.toLowerCase(), msg };
}

export function createApp(deps: LoggingAppDeps): Koa<AppState> {
  const { logger, metrics, instanceName, bodyLimitBytes, isReady, now = () => new Date() } = deps;
  // Every Hazelcast operation is timed and its failures counted on the service's registry.
  const store = instrumentStore(deps.store, metrics.registry);
  const router = new Router<AppState>();

  router.post('/logging', parseBody(['json'], bodyLimitBytes), async (ctx) => {
    const { uuid, msg } = parseLogRequest(ctx.request.body);
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

  router.get('/logging', async (ctx) => {
    const { fields } = ctx.query;
    if (fields !== undefined && fields !== 'msg') throw badRequest('INVALID_FIELDS', 'fields may only be "msg"');
    const list = await store.list(parsePage(ctx.query));
    // `?fields=msg`: the texts alone, as the facade needs them: a quarter of the bytes to
    // serialise, send and parse, and no objects to pick apart on the other side.
    ctx.body = fields === 'msg' ? list.map((m) => m.msg) : list;
  });

  router.get('/logging/cluster', async (ctx) => {
    ctx.body = await store.summary();
  });

  return createServiceApp({ logger, metrics, router, isReady });
}
