/**
 * The DNS expansion of the registry's `dns` entries, cached in a bounded LRU (lru-cache): a good
 * answer is reused for DNS_CACHE_MS, a name that did not resolve only for DNS_NEGATIVE_CACHE_MS,
 * and at most DNS_CACHE_MAX_ENTRIES entries are kept, the least recently used dropped first, so a
 * registry edited again and again leaves nothing behind. Callers that ask for one entry at once
 * share one lookup.
 */
import { LRUCache } from 'lru-cache';
import { dnsEntryUrls, resolveAll, type DnsEntry, type Resolve } from './registry.js';

/** Far more `dns` entries than a registry holds; past it, the least recently asked for is looked up again. */
export const DNS_CACHE_MAX_ENTRIES = 256;

/**
 * How long a name that did not resolve (or had no address) is remembered: a headless Service has no
 * address until its first pod is ready, and that pod should be found at once; this still keeps a
 * burst of callers to one lookup per 250 ms.
 */
export const DNS_NEGATIVE_CACHE_MS = 250;

export interface DnsExpansionsOptions {
  resolve?: Resolve;
  /** How long a good expansion is reused, in ms; 0: never (every call looks up). */
  ttlMs: number;
  /** How long a failed one is, in ms (default DNS_NEGATIVE_CACHE_MS, never more than `ttlMs`). */
  negativeTtlMs?: number;
  maxEntries?: number;
  /** The clock, in ms (default: lru-cache's, `performance.now()`, which no change of the wall clock moves). */
  now?: () => number;
}

export class DnsExpansions {
  private readonly resolve: Resolve;
  private readonly negativeTtlMs: number;
  private readonly cache: LRUCache<string, Promise<string[]>> | undefined;

  constructor(o: DnsExpansionsOptions) {
    const { ttlMs, negativeTtlMs = DNS_NEGATIVE_CACHE_MS, maxEntries = DNS_CACHE_MAX_ENTRIES, now } = o;
    this.resolve = o.resolve ?? resolveAll;
    this.negativeTtlMs = Math.min(negativeTtlMs, ttlMs);
    // lru-cache reads a ttl of 0 as "for ever": no cache at all instead. ttlResolution 0: the clock is read each time.
    this.cache = ttlMs > 0 ? new LRUCache({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: now && { now } }) : undefined;
  }

  /** Entries held, stale ones included until they are asked for or pushed out. */
  get size(): number {
    return this.cache?.size ?? 0;
  }

  /** One instance URL per address the entry's name resolves to; none while it does not resolve. */
  expand(entry: DnsEntry): Promise<string[]> {
    const key = JSON.stringify(entry);
    const hit = this.cache?.get(key);
    if (hit) return hit;
    const failed = (): string[] => {
      // Kept for the short negative TTL from now, unless something newer has taken its place.
      if (this.cache?.peek(key) === urls) {
        if (this.negativeTtlMs > 0) this.cache.set(key, urls, { ttl: this.negativeTtlMs });
        else this.cache.delete(key);
      }
      return [];
    };
    const urls: Promise<string[]> = new Promise<string[]>((resolve) => resolve(this.resolve(entry.dns))).then(
      (addresses) => (addresses.length > 0 ? dnsEntryUrls(entry, addresses) : failed()),
      failed,
    );
    this.cache?.set(key, urls);
    return urls;
  }
}
