/**
 * The facade's HTTP API as the drills use it, and what they read from its cluster view. The drills
 * talk to the facade alone, so the same code works against the local system and a port-forwarded cluster.
 */
import type { ClusterView } from '../services/facade/cluster-view.js';
import type { StoredMessage } from '../lib/contract.js';
import type { Page } from '../lib/paging.js';
import { parsePrometheusText, samplesOf } from '../lib/prometheus-text.js';
import type { LocalSystem } from '../local/system.js';

/** Bound on one call to the facade. */
export const CALL_TIMEOUT_MS = 15_000;

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/** What GET /facade/messages answers: a page, or an error. */
export interface MessagesPage {
  messages?: StoredMessage[];
  readFrom?: string;
  error?: { message: string };
}

/** The facade's HTTP API as the scenario uses it; every call carries `x-request-id: <runId>-<label>`. */
export class FacadeApi {
  constructor(
    readonly url: string,
    readonly runId: string,
  ) {}

  async call<T>(path: string, label: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': `${this.runId}-${label}` };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
    const res = await fetch(`${this.url}${path}`, { method: init.method ?? 'GET', headers, body, signal });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** The facade's cluster view. @throws Error unless it answers 200 */
  async cluster(label: string): Promise<ClusterView> {
    const r = await this.call<ClusterView>('/facade/cluster', label);
    if (r.status !== 200) throw new Error(`GET /facade/cluster answered ${r.status}`);
    return r.body;
  }

  /**
   * One page of stored messages with their details (never the whole map), from a random instance
   * or from `instance`: the first `limit`, or the `limit` after the uuid `after`.
   */
  async messages(label: string, page: { after?: string; limit: number }, instance?: string): Promise<Reply<MessagesPage>> {
    const only = instance ? `&instance=${encodeURIComponent(instance)}` : '';
    return this.call(`/facade/messages${pageQuery(page)}${only}`, label);
  }
}

/** A page as the query string of a call to the facade (`?limit=N&after=<uuid>`, or nothing). */
export function pageQuery(page: Page): string {
  const params = new URLSearchParams();
  if (page.limit !== undefined) params.set('limit', String(page.limit));
  if (page.after !== undefined) params.set('after', page.after);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The registry entry of the logging instances, as the facade sees them. */
export const loggingEntry = (view: ClusterView) => view.registry.find((e) => e.usedFor === 'logging');
/** String order with numbers compared as numbers: logging-2 before logging-10. */
export const naturally = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
/** The facade's logging instances that answer ready, in natural order. */
export const readyLogging = (view: ClusterView) =>
  (loggingEntry(view)?.instances ?? []).filter((i) => i.health === 'ready').map((i) => i.url).sort(naturally);

/** Bound on reading the facade's /metrics. */
const METRICS_TIMEOUT_MS = 5_000;

/** The facade's retries on another instance so far, by reason (its `facade_upstream_retries_total`). */
export async function facadeRetries(facadeUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${facadeUrl}/metrics`, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) });
  const byReason: Record<string, number> = {};
  for (const s of samplesOf(parsePrometheusText(await res.text()), 'facade_upstream_retries_total')) {
    const reason = s.labels.reason ?? 'unknown';
    byReason[reason] = (byReason[reason] ?? 0) + s.value;
  }
  return byReason;
}

/** One metric (or several) over the logging instances of `system`, every series of it: their sum, or (`max`) the largest. */
export async function loggingMetric(system: LocalSystem, name: string | readonly string[], over: 'sum' | 'max' = 'sum'): Promise<number> {
  const names = typeof name === 'string' ? [name] : name;
  const values: number[] = [];
  for (let i = 0; i < system.ports.logging.length; i++) {
    const res = await fetch(`${system.loggingUrl(i)}/metrics`, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) });
    const samples = parsePrometheusText(await res.text());
    for (const n of names) for (const s of samplesOf(samples, n)) values.push(s.value);
  }
  return over === 'max' ? Math.max(0, ...values) : values.reduce((a, b) => a + b, 0);
}

/** What each count of `now` gained since `then`: the ones that gained only. */
export function countsSince(then: Record<string, number>, now: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (then[k] ?? 0)] as const).filter(([, v]) => v > 0));
}
