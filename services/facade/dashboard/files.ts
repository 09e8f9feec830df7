/**
 * The dashboard: static files in `public/` (the page, its script, stylesheet and icon), served by
 * the facade at `/` and `/dashboard/<file>`. `npm run build` copies `public/` next to this module
 * in dist/; the files are read once, at start-up, so a missing one stops the facade at once.
 *
 * Kept rather than `@koa/send` (koa-static's core), which is worse here, measured: it reads the disk
 * on every request (200s: 1,300-1,800/s against 3,900-4,300/s from memory; 304s: 2,500-2,800/s
 * against 9,200-9,500/s; autocannon, 10 connections, 2 cores), answers `..%2f` with a 403 instead of
 * this 404, serves the page under /dashboard/ too, and finds a missing file only on a request.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import type Router from '@koa/router';
import type Koa from 'koa';
import { contentType } from 'mime-types';
import { notFound } from '../../../lib/errors.js';
import type { AppState } from '../../../lib/http/app.js';

export interface Asset {
  type: string;
  body: string;
  /** A strong validator, so a reload costs a 304. */
  etag: string;
}

const PUBLIC = new URL('./public/', import.meta.url);

function load(name: string): Asset {
  // Koa's own lookup (ctx.type), so a file's type is the one any Koa app would send for it.
  const type = contentType(extname(name));
  if (!type) throw new Error(`dashboard file ${name}: no content type for its extension`);
  const body = readFileSync(new URL(name, PUBLIC), 'utf8');
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The page, at `/`. */
export const DASHBOARD_PAGE = load('index.html');

/** `/dashboard/<name>`: every other file of `public/`; anything else is a 404. */
export const DASHBOARD_FILES: ReadonlyMap<string, Asset> = new Map(
  readdirSync(PUBLIC)
    .filter((name) => name !== 'index.html')
    .map((name) => [name, load(name)]),
);

/**
 * Only the facade's own origin, for everything: no inline script or style, no outside resource,
 * no framing. Data reaches the page through fetch() from the same origin only.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every dashboard response. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidated on each load (a cheap 304), so a new facade's dashboard is picked up at once.
  'Cache-Control': 'no-cache',
};

function send(ctx: Koa.ParameterizedContext<AppState>, asset: Asset): void {
  ctx.set(DASHBOARD_HEADERS);
  ctx.type = asset.type;
  ctx.etag = asset.etag;
  ctx.status = 200; // `fresh` compares validators only for a successful answer
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.body = asset.body;
}

/** Serves the page at `/` and its files at `/dashboard/<file>`. */
export function addDashboardRoutes(router: Router<AppState>): void {
  router.get('/', (ctx) => send(ctx, DASHBOARD_PAGE));
  router.get('/dashboard/:file', (ctx) => {
    const asset = DASHBOARD_FILES.get(ctx.params.file ?? '');
    if (!asset) throw notFound('no such dashboard file');
    send(ctx, asset);
  });
}
