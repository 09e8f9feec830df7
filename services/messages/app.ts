/** The messages service: the lab's stub, a real endpoint with health and metrics like the others. */
import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, type AppState } from '../../lib/http/app.js';
import type { Logger } from '../../lib/log.js';
import type { HttpMetrics } from '../../lib/metrics.js';
import type { Tracing } from '../../lib/tracing.js';

export interface MessagesAppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  text: string;
  /** Server spans continuing callers' traces; none when tracing is off. */
  tracing?: Tracing;
}

export function createApp({ logger, metrics, text, tracing }: MessagesAppDeps): Koa<AppState> {
  const router = new Router<AppState>();
  router.get('/messages', (ctx) => {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = text;
  });
  return createServiceApp({ logger, metrics, router, tracing });
}
