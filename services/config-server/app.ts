/** config-server: answers which instances each service has. */
import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, type AppState } from '../../lib/http/app.js';
import type { Logger } from '../../lib/log.js';
import type { HttpMetrics } from '../../lib/metrics.js';
import type { Tracing } from '../../lib/tracing.js';
import { badRequest, notFound } from '../../lib/errors.js';
import type { InstanceList, RegistryLists } from '../../lib/contract.js';
import { resolveAll, SERVICE_NAME, type Registry, type Resolve } from './registry.js';
import { DnsExpansions } from './registry-dns.js';

export interface ConfigServerAppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  registry: () => Registry;
  resolve?: Resolve;
  /** How long a DNS expansion is reused, in ms (default 1000); one that failed, 250 ms at most (registry-dns.ts). */
  dnsCacheMs?: number;
  /** The DNS cache's clock, in ms (default monotonic: registry-dns.ts). */
  now?: () => number;
  /** Server spans continuing callers' traces; none when tracing is off. */
  tracing?: Tracing;
}

export function createApp({
  logger, metrics, registry, resolve = resolveAll, dnsCacheMs = 1_000, now, tracing,
}: ConfigServerAppDeps): Koa<AppState> {
  const dns = new DnsExpansions({ resolve, ttlMs: dnsCacheMs, now });
  const expand = (name: string, reg: Registry): Promise<string[]> => {
    const value = reg.get(name)!;
    return Array.isArray(value) ? Promise.resolve(value) : dns.expand(value);
  };

  const router = new Router<AppState>();
  router.get('/services', async (ctx) => {
    const reg = registry();
    const names = [...reg.keys()].sort();
    const lists = await Promise.all(names.map((n) => expand(n, reg)));
    ctx.body = Object.fromEntries(names.map((n, i) => [n, lists[i]!])) satisfies RegistryLists;
  });
  router.get('/services/:name', async (ctx) => {
    const name = ctx.params.name ?? '';
    if (!SERVICE_NAME.test(name)) throw badRequest('INVALID_NAME', 'service names are lower-case letters, digits and dashes');
    const reg = registry();
    if (!reg.has(name)) throw notFound(`unknown service: ${name}`);
    ctx.body = (await expand(name, reg)) satisfies InstanceList;
  });
  return createServiceApp({ logger, metrics, router, tracing });
}
