/**
 * Walking the message map in key order, one bounded window at a time.
 *
 * Keys are lower-case UUIDv7 strings, so their string order is their order as 128-bit numbers,
 * and that is creation order (the top 48 bits are the creation millisecond). A window is a key
 * range [lo, hi]; a sorted index on the key answers a range query in O(log n + entries in it).
 * Before fetching a window the walk counts it (a count costs the members an index range scan but
 * moves no entries), and narrows any window that holds more than it may fetch at once. So whatever
 * the keys' spread (bursts in one millisecond, days without a message), no fetch returns more than
 * `maxEntries`, and a page of `limit` costs O(limit) in every process.
 *
 * Pure: the map is reached through a `RangeSource`, which unit tests replace with a sorted array.
 */

/** The 128-bit key space as numbers. */
export const MIN_KEY = 0n;
export const MAX_KEY = (1n << 128n) - 1n;
/** One millisecond of UUIDv7 time, in key units (the timestamp is the top 48 of 128 bits). */
export const KEY_UNITS_PER_MS = 1n << 80n;

/** A canonical UUID string as a number; assumes a valid UUID. */
export function keyToNumber(uuid: string): bigint {
  return BigInt(`0x${uuid.replace(/-/g, '')}`);
}

/** A number in the key space as a canonical, lower-case UUID string. */
export function numberToKey(n: bigint): string {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The largest key a UUIDv7 created at or before `ms` (epoch milliseconds) can have. */
export function lastKeyOfMs(ms: number): bigint {
  return (BigInt(Math.max(0, Math.floor(ms)) + 1) * KEY_UNITS_PER_MS) - 1n;
}

/** Where a walk reads from: counts and fetches over inclusive key ranges. */
export interface RangeSource<T> {
  /** How many entries have keys in [lo, hi]. */
  count(lo: string, hi: string): Promise<number>;
  /** The entries with keys in [lo, hi], in any order. */
  fetch(lo: string, hi: string): Promise<T[]>;
}

/** What one fetched window cost; reported for metrics and to size the next walk's first window. */
export interface WindowStats {
  entries: number;
  width: bigint;
  /** Count probes made for this window (at least one). */
  probes: number;
}

export interface WalkOptions {
  /** First key of the walk (inclusive). */
  from: bigint;
  /** Last key of the walk (inclusive). */
  to: bigint;
  /** Stop after this many entries; undefined: walk to `to`. */
  limit?: number;
  /** Entries one window should hold; windows are resized toward it. */
  targetEntries: number;
  /** Hard bound on the entries of one fetch; a window that counts more is narrowed first. */
  maxEntries: number;
  /** Width of the first window, e.g. learned from the previous walk. */
  initialWidth?: bigint;
  /** Stops the walk before its next call to the source. */
  signal?: AbortSignal;
  onWindow?: (stats: WindowStats) => void;
}

/** Default first window: 64 ms of keys. */
export const DEFAULT_WIDTH = 64n * KEY_UNITS_PER_MS;

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/** One fetched window, and where and how wide the next one starts. */
interface Fetched<T> {
  entries: T[];
  /** Last key of the window. */
  hi: bigint;
  /** Width the next window should have, fitted to this one's density. */
  nextWidth: bigint;
}

/**
 * Yields the entries with keys in [from, to], in key order, in batches of at most `maxEntries`
 * (plus whatever was written into a window between its count and its fetch). Empty stretches are
 * crossed with windows that grow 4× each time; full ones are narrowed before they are fetched.
 * The next window is read while the caller handles the current one, so at most two are held.
 * Returning early (break, `return()`, an aborted signal) stops all further calls to the source
 * once the window being read ahead has arrived.
 */
export async function* walkKeys<T extends { uuid: string }>(source: RangeSource<T>, options: WalkOptions): AsyncGenerator<T[]> {
  const { to, targetEntries, maxEntries, signal, onWindow } = options;
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;

  /** Finds the first non-empty window from `lo` on, narrowed to at most `wanted`-ish entries, and fetches it. */
  const read = async (lo: bigint, width: bigint, wanted: number): Promise<Fetched<T> | undefined> => {
    // A page of `limit` need not fetch much more than `limit`; a full walk fetches up to the bound.
    const acceptable = Math.min(maxEntries, Math.max(2 * wanted, 64));
    let probes = 0;
    while (lo <= to) {
      signal?.throwIfAborted();
      const hi = minBig(lo + width - 1n, to);
      const w = hi - lo + 1n;
      const n = await source.count(numberToKey(lo), numberToKey(hi));
      probes++;
      if (n > acceptable && w > 1n) {
        // Narrow toward `wanted` entries, at least halving, and count again.
        width = maxBig(1n, minBig(w / 2n, (w * BigInt(wanted)) / BigInt(n)));
        continue;
      }
      if (n === 0) {
        // Nothing here: skip it, and cross the rest of an empty stretch in ever wider steps.
        lo = hi + 1n;
        width = w * 4n;
        continue;
      }
      signal?.throwIfAborted();
      const entries = await source.fetch(numberToKey(lo), numberToKey(hi));
      // Keys are canonical lower-case UUIDs, so plain string order is key order.
      entries.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
      onWindow?.({ entries: entries.length, width: w, probes });
      // Resize toward the target from this window's density, by at most 4x either way.
      const fitted = (w * BigInt(targetEntries)) / BigInt(n);
      return { entries, hi, nextWidth: maxBig(1n, minBig(w * 4n, maxBig(w / 4n, fitted))) };
    }
    return undefined;
  };

  /** Starts reading a window ahead; its failure is handled when it is awaited, never left unhandled. */
  const readAhead = (lo: bigint, width: bigint) => {
    const p = read(lo, width, Math.min(remaining, targetEntries));
    p.catch(() => undefined);
    return p;
  };
  let ahead = remaining > 0 ? readAhead(options.from, maxBig(1n, options.initialWidth ?? DEFAULT_WIDTH)) : undefined;
  while (ahead) {
    const window = await ahead;
    ahead = undefined;
    if (!window) return;
    const batch = window.entries.length > remaining ? window.entries.slice(0, remaining) : window.entries;
    remaining -= batch.length;
    if (remaining > 0 && window.hi < to) ahead = readAhead(window.hi + 1n, window.nextWidth);
    if (batch.length > 0) yield batch;
  }
}
