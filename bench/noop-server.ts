#!/usr/bin/env node
/**
 * Limit B, the HTTP floor: the services' own HTTP stack (`createServiceApp` and `serve`, with
 * request ids, metrics and the error middleware) with one route that does nothing.
 * Run as its own process so the load generator does not share its event loop:
 * `node dist/bench/noop-server.js <port>`.
 */
import Router from '@koa/router';
import { commandLineOrExit, exitWithUsage } from '../local/args.js';
import { commonSettings, loadConfig, port } from '../lib/config.js';
import { createServiceApp, type AppState } from '../lib/http/app.js';
import { serve } from '../lib/http/server.js';
import { createLogger } from '../lib/log.js';
import { runUntilSignalled } from '../lib/lifecycle.js';
import { createMetrics } from '../lib/metrics.js';

const USAGE = 'usage: node dist/bench/noop-server.js <port>';

async function main(): Promise<void> {
  // The services' own settings and defaults (keep-alive, timeouts), with the port from the command line.
  const { positionals } = commandLineOrExit(USAGE, { allowPositionals: true, options: {} });
  if (positionals.length !== 1) exitWithUsage(USAGE, positionals.length ? 'one port only' : 'the port is missing');
  let config;
  try {
    config = loadConfig({ ...commonSettings, PORT: port(0) }, { PORT: positionals[0], LOG_LEVEL: 'warn' });
  } catch (err) {
    exitWithUsage(USAGE, (err as Error).message);
  }
  const logger = createLogger({ service: 'noop', level: config.LOG_LEVEL });
  const router = new Router<AppState>();
  router.get('/noop', (ctx) => {
    ctx.body = { ok: true };
  });
  const app = createServiceApp({ logger, metrics: createMetrics('noop'), router });
  runUntilSignalled(await serve(app, config, logger), logger, config.SHUTDOWN_TIMEOUT_MS);
}

void main();
