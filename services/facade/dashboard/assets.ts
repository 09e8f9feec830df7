/**
 * The dashboard's files, served by the facade at `/` and `/dashboard/<file>`. They are modules, not
 * loose files, so the compiled facade (dist/) carries them: nothing else to copy into the image.
 */
import { createHash } from 'node:crypto';
import { DASHBOARD_HTML } from './page.js';
import { DASHBOARD_JS } from './script.js';
import { DASHBOARD_CSS, FAVICON_SVG } from './style.js';

export interface Asset {
  type: string;
  body: string;
  /** A strong validator, so a reload costs a 304. */
  etag: string;
}

const asset = (type: string, body: string): Asset => ({
  type,
  body,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
});

export const DASHBOARD_PAGE = asset('text/html; charset=utf-8', DASHBOARD_HTML);

/** `/dashboard/<name>`; anything else is a 404. */
export const DASHBOARD_FILES: ReadonlyMap<string, Asset> = new Map([
  ['dashboard.js', asset('text/javascript; charset=utf-8', DASHBOARD_JS)],
  ['dashboard.css', asset('text/css; charset=utf-8', DASHBOARD_CSS)],
  ['favicon.svg', asset('image/svg+xml', FAVICON_SVG)],
]);

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
