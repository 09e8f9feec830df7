/**
 * The facade, the only public entry point. `POST /facade` gives a message its id and stores it on
 * a random logging instance; `GET /facade` reads every message back with the messages-service text.
 * The dashboard (`/`) and its two JSON endpoints, `/facade/messages` and `/facade/cluster`, show
 * the stored messages in detail and the system around them.
 */
import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, type AppContext, type AppState } from '../../lib/http/app.js';
import { parseBody } from '../../lib/http/body.js';
import type { Logger } from '../../lib/log.js';
import type { HttpMetrics } from '../../lib/metrics.js';
import type { Tracing } from '../../lib/tracing.js';
import { badRequest } from '../../lib/errors.js';
import { newMessageId } from '../../lib/ids.js';
import { isLargeRead, parsePage } from '../../lib/paging.js';
import { ServiceClient } from '../../lib/service-client.js';
import { StreamedReads, jsonArray } from '../../lib/http/stream.js';
import { parseRequest, postMessageBody, type ReadLine } from '../../lib/contract.js';
import type { RegistryClient } from './registry-client.js';
import { ClusterViewer } from './cluster-view.js';
import { LoggingClient } from './logging-client.js';
import { addDashboardRoutes } from './dashboard/files.js';

export interface FacadeAppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  /** Config-server's lists of service instances, cached. */
  serviceRegistry: Pick<RegistryClient, 'instances'>;
  client: ServiceClient;
  loggingService: string;
  messagesService: string;
  bodyLimitBytes: number;
  newId?: () => string;
  /** Config-server's base URL, for the dashboard's registry view; without it the cached lists are shown. */
  configServerUrl?: string;
  /** Bound on one readiness probe of the dashboard's cluster view (default 1000 ms). */
  probeTimeoutMs?: number;
  /** Large reads that may stream at once (default 4); one more is refused with 503. */
  maxConcurrentReads?: number;
  /** Bound on one streamed read (ms, default 300,000). */
  readDeadlineMs?: number;
  /** Bound on a whole POST, every attempt included (ms, default 25,000). */
  requestDeadlineMs?: number;
  /** Bound on the wait for logging's answer to a read, and on each wait for more of it (ms, default 8,000). */
  readSilenceMs?: number;
  /** Server spans continuing callers' traces; none when tracing is off. */
  tracing?: Tracing;
}

export function createApp(deps: FacadeAppDeps): Koa<AppState> {
  const { logger, metrics, serviceRegistry, client, loggingService, messagesService } = deps;
  const logging = new LoggingClient({
    serviceRegistry,
    client,
    loggingService,
    silenceMs: deps.readSilenceMs ?? 8_000,
    storeDeadlineMs: deps.requestDeadlineMs,
  });
  const reads = new StreamedReads({
    maxConcurrent: deps.maxConcurrentReads ?? 4,
    deadlineMs: deps.readDeadlineMs ?? 300_000,
    metricsRegistry: metrics.metricsRegistry,
  });
  const viewer = new ClusterViewer({
    serviceRegistry,
    client,
    logging,
    logger,
    loggingService,
    messagesService,
    configServerUrl: deps.configServerUrl,
    probeTimeoutMs: deps.probeTimeoutMs,
  });

  const router = new Router<AppState>();
  // The lab's clients post forms; JSON and plain text are accepted too.
  router.post('/facade', parseBody(['form', 'json', 'text'], deps.bodyLimitBytes), postMessage(logging, deps.newId ?? newMessageId));
  router.get('/facade', readMessages(logging, reads, (requestId, log, signal) => readStub(deps, requestId, log, signal)));
  router.get('/facade/messages', readRecords(logging, reads));
  router.get('/facade/cluster', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await viewer.view(ctx.state.requestId);
  });
  addDashboardRoutes(router);
  return createServiceApp({ logger, metrics, router, tracing: deps.tracing });
}

type Handler = (ctx: AppContext) => Promise<void>;

/** `POST /facade`: the message gets its id here and is stored on a logging instance (logging-client.ts). */
function postMessage(logging: LoggingClient, newId: () => string): Handler {
  return async (ctx) => {
    const body = ctx.request.is('text/plain') !== false ? { msg: ctx.request.body } : ctx.request.body;
    const { msg } = parseRequest(postMessageBody, body);
    const uuid = newId();
    const loggedBy = await logging.store({ uuid, msg }, ctx.state.requestId);
    ctx.status = 201;
    ctx.body = { message: { uuid, msg }, response: { success: 'Message Was Logged' }, loggedBy };
  };
}

/**
 * `GET /facade`: every message (or one page) in creation order, streamed in the lab's JSON shape as
 * logging streams it; the messages-service text is fetched alongside, written last.
 */
function readMessages(
  logging: LoggingClient,
  reads: StreamedReads,
  readStub: (requestId: string, log: Logger, signal: AbortSignal) => Promise<string | null>,
): Handler {
  return async (ctx) => {
    const page = parsePage(ctx.query);
    const { requestId, log } = ctx.state;
    let stub: Promise<string | null> = Promise.resolve(null);
    const open = (signal: AbortSignal) => {
      stub = readStub(requestId, log, signal);
      return logging.read(page, { requestId, signal, fields: 'text' });
    };
    // Each text goes out as the JSON its checked line gave (lib/contract.ts): nothing is parsed again here.
    const format = {
      ...jsonArray((m: ReadLine) => m.json),
      open: '{"logging-service":[',
      close: async () => `],"messages-service":${JSON.stringify(await stub)}}`,
    };
    await reads.send(ctx, open, format, { capped: isLargeRead(page) });
  };
}

/** `GET /facade/messages`, the dashboard's list: `{messages: [{uuid, msg, loggedBy, storedAt}], readFrom}`. */
function readRecords(logging: LoggingClient, reads: StreamedReads): Handler {
  return async (ctx) => {
    const page = parsePage(ctx.query);
    const { instance } = ctx.query;
    if (instance !== undefined && typeof instance !== 'string') throw badRequest('UNKNOWN_INSTANCE', 'give one instance');
    const { requestId } = ctx.state;
    let readFrom: string | undefined;
    const open = (signal: AbortSignal) =>
      logging.read(page, { requestId, signal, fields: 'record', instance, onInstance: (i) => (readFrom ??= i) });
    const format = { ...jsonArray((m: ReadLine) => m.json), open: '{"messages":[', close: () => `],"readFrom":${JSON.stringify(readFrom ?? null)}}` };
    await reads.send(ctx, open, format, { capped: isLargeRead(page) });
  };
}

/** The stub's text, or null when the messages service cannot be reached: the messages still come back. */
async function readStub(
  { serviceRegistry, client, messagesService }: Pick<FacadeAppDeps, 'serviceRegistry' | 'client' | 'messagesService'>,
  requestId: string,
  log: Logger,
  signal: AbortSignal,
): Promise<string | null> {
  try {
    const instances = await serviceRegistry.instances(messagesService, requestId);
    if (instances.length === 0) return null;
    const { response } = await client.callAny(instances, (url) => url, { requestId, signal });
    return response.status === 200 ? response.text : null;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'messages service unavailable');
    return null;
  }
}
