/**
 * The Koa app every service is built on: request ids, structured access logs, metrics, one error
 * middleware, `/healthz`, `/readyz`, `/metrics`, and JSON bodies for 404 and 405.
 * Services add their own router; `createServiceApp` never reads the environment or listens.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../log.js';
import type { HttpMetrics } from '../metrics.js';
import { HttpError, errorBody, toHttpError } from '../errors.js';
import { LogLimiter } from '../log-limiter.js';
import { endSpan, type Tracing } from '../tracing.js';
import { REQUEST_ID_HEADER } from './headers.js';

export interface AppState {
  requestId: string;
  /** The request's trace, when tracing is on; on its log lines as `trace_id`. */
  traceId?: string;
  log: Logger;
}

export type AppContext = Koa.ParameterizedContext<AppState>;

export interface ServiceAppOptions {
  logger: Logger;
  metrics: HttpMetrics;
  /** The service's own routes. */
  router: Router<AppState>;
  /** Whether the service can do its job right now (e.g. logging: connected to Hazelcast). */
  isReady?: () => boolean;
  /** Server spans continuing the caller's `traceparent`; none when tracing is off. */
  tracing?: Tracing;
}

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's request id when it is short and plain; otherwise makes a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && VALID_REQUEST_ID.test(header) ? header : randomUUID();
}

export function createServiceApp({ logger, metrics, router, isReady = () => true, tracing }: ServiceAppOptions): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = false;
  // A dependency that stays down fails every request the same way: one full line per code per window.
  const failures = new LogLimiter(logger, { metricsRegistry: metrics.metricsRegistry });
  // Errors are logged by the error middleware below; silence Koa's default stderr printer.
  app.silent = true;

  // Outermost, so the span covers the error middleware and ends with the status the client gets.
  if (tracing) {
    app.use(async (ctx, next) => {
      const { span, context } = tracing.startServerSpan(ctx.method, ctx.req.headers);
      ctx.state.traceId = span.spanContext().traceId;
      try {
        await tracing.run(context, next);
      } finally {
        const route = (ctx as { _matchedRoute?: string })._matchedRoute;
        if (route) span.updateName(`${ctx.method} ${route}`).setAttribute('http.route', route);
        span.setAttribute('lab.request_id', ctx.state.requestId);
        endSpan(span, ctx.status);
      }
    });
  }

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    ctx.state.requestId = requestIdFrom(ctx.get(REQUEST_ID_HEADER) || undefined);
    const { traceId } = ctx.state;
    ctx.state.log = logger.child(traceId ? { requestId: ctx.state.requestId, trace_id: traceId } : { requestId: ctx.state.requestId });
    ctx.set(REQUEST_ID_HEADER, ctx.state.requestId);
    try {
      await next();
      if (ctx.body === undefined && (ctx.status === 404 || ctx.status === 405)) {
        throw ctx.status === 404
          ? new HttpError(404, 'NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`)
          : new HttpError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed here`, {
              headers: { Allow: String(ctx.response.get('Allow')) },
            });
      }
    } catch (err) {
      const httpError = toHttpError(err);
      ctx.status = httpError.status;
      ctx.set(httpError.headers);
      ctx.body = errorBody(httpError);
      if (httpError.status >= 500) {
        const { requestId, traceId } = ctx.state;
        const fields = { err: httpError.cause ?? httpError, code: httpError.code, path: ctx.path, requestId, trace_id: traceId };
        failures.log(`request failed: ${httpError.code}`, 'error', fields, 'request failed');
      } else {
        ctx.state.log.debug({ code: httpError.code, status: httpError.status, path: ctx.path }, 'request rejected');
      }
    } finally {
      // Route templates, not raw paths, keep the label set small whatever clients send.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const labels = { method: ctx.method, route, status: String(ctx.status) };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      ctx.state.log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: seconds * 1000 }, 'request');
    }
  });

  const base = new Router<AppState>();
  base.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  base.get('/readyz', (ctx) => {
    const ready = isReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready' };
  });
  base.get('/metrics', async (ctx) => {
    ctx.type = metrics.metricsRegistry.contentType;
    ctx.body = await metrics.metricsRegistry.metrics();
  });

  app.use(base.routes());
  app.use(base.allowedMethods());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
