/**
 * Walking the message map in key order, one bounded window at a time.
 *
 * Keys are lower-case UUIDv7 strings, so their string order is their order as 128-bit numbers,
 * and that is creation order (the top 48 bits are the creation millisecond). A window is a key
 * range [lo, hi]; a sorted index on the key answers a range query in O(log n + entries in it).
 * Each window is sized from the density of the one before it to hold about `targetEntries`, or
 * `targetBytes` where messages are large, and fetched as it is: a count first would cost the members
 * about as much as the fetch. Where the density jumps (a burst after a quiet spell) a window may
 * hold more, so each window is asked for its first entries only (the source's `first`: the members
 * sort the window by key and send no more): a page for what it still wants, a full read for
 * FETCH_CAP_TARGETS targets. A window cut short ends at the last key it sent, and the next starts
 * after it. A window holding more than the source allows in one query is refused (the members'
 * `hazelcast.query.result.size.limit`), the source says `TooManyInWindow`, and the walk narrows the
 * window 16× and asks again. Empty stretches are crossed in windows that grow 64× (4× after the
 * first empty one).
 * So whatever the keys' spread, one fetch brings at most FETCH_CAP_TARGETS targets, usually about
 * one, and a page of `limit` costs O(limit) in every process.
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

/** A source refused a window because it holds more entries than one answer may. */
export class TooManyInWindow extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the key window holds more entries than one answer may', options);
    this.name = 'TooManyInWindow';
  }
}

/** Where a walk reads from: fetches over inclusive key ranges. */
export interface RangeSource<T> {
  /**
   * The first `first` entries, in key order, of those with keys in [lo, hi], in any order (the
   * members sort the window and send no more: a page costs what it returns).
   * @throws TooManyInWindow when there are more than the source answers at once
   */
  fetch(lo: string, hi: string, first: number): Promise<T[]>;
}

/** What one fetched window cost; reported for metrics. */
export interface WindowStats {
  entries: number;
  width: bigint;
  /** Empty or refused windows asked for before this one. */
  misses: number;
}

export interface WalkOptions<T = unknown> {
  /** First key of the walk (inclusive). */
  from: bigint;
  /** Last key of the walk (inclusive). */
  to: bigint;
  /** Stop after this many entries; undefined: walk to `to`. */
  limit?: number;
  /** Entries one window should hold; windows are resized toward it. */
  targetEntries: number;
  /** Bytes one window should hold, by `sizeOf`: windows are resized toward whichever target is nearer. */
  targetBytes?: number;
  /** The bytes an entry takes, e.g. its text's length. */
  sizeOf?: (entry: T) => number;
  /** Width of the first window (default 16 ms of keys); later ones grow or shrink from it, 4x at most each. */
  initialWidth?: bigint;
  /** Stops the walk before its next call to the source. */
  signal?: AbortSignal;
  onWindow?: (stats: WindowStats) => void;
}

/**
 * The most one fetch brings, in targets (`targetEntries`): a window a burst crowded is cut there by
 * the members (the rest comes in the next window), so logging never holds a burst whole.
 */
export const FETCH_CAP_TARGETS = 4;

/**
 * Default width of a walk's first window: 16 ms of keys. Small on purpose: nothing is known yet of
 * the density here, and a few windows growing 4x each reach the target at any write rate.
 */
export const DEFAULT_WIDTH = 16n * KEY_UNITS_PER_MS;

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/** One fetched window. */
interface Fetched<T> {
  entries: T[];
  /** Last key of the window, and its width. */
  hi: bigint;
  width: bigint;
  /** How full it was: 1 is a window of the target (entries or bytes, whichever is fuller). */
  fill: number;
}

/** `width` × `to` ÷ `from`, in whole key units. */
const scale = (width: bigint, to: number, from: number) =>
  (width * BigInt(Math.max(1, Math.round(to)))) / BigInt(Math.max(1, Math.round(from)));

/**
 * Yields the entries with keys in [from, to], in key order, one window per batch, or a window
 * fuller than the target in batches of about the target (see the module comment for how windows
 * are sized and bounded). The next window is read while the caller handles the current one's last
 * batch, so at most one window and one batch are held. Returning early (break, `return()`, an
 * aborted signal) stops all further calls to the source once the window read ahead has arrived.
 */
export async function* walkKeys<T extends { uuid: string }>(source: RangeSource<T>, options: WalkOptions<T>): AsyncGenerator<T[]> {
  const { to, targetEntries, targetBytes, sizeOf, signal, onWindow } = options;
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  const wanted = () => Math.min(remaining, targetEntries);

  /** Fetches the first non-empty window from `lo` on, starting `width` wide. */
  const read = async (lo: bigint, width: bigint): Promise<Fetched<T> | undefined> => {
    let misses = 0;
    while (lo <= to) {
      signal?.throwIfAborted();
      const hi = minBig(lo + maxBig(1n, width) - 1n, to);
      const w = hi - lo + 1n;
      let entries: T[];
      const first = Math.min(remaining, targetEntries * FETCH_CAP_TARGETS);
      try {
        entries = await source.fetch(numberToKey(lo), numberToKey(hi), first);
      } catch (err) {
        if (!(err instanceof TooManyInWindow) || w === 1n) throw err;
        misses++;
        width = w / 16n;
        continue;
      }
      if (entries.length === 0) {
        // Nothing here: skip it. One empty window may be a gap between two close keys, so the next
        // is only 4x wider; after that, an empty stretch is crossed in steps 64x wider each (a
        // step that lands on a crowd is refused by the source and narrowed again). Not the rest
        // in one step, however recent: a burst can put a million keys into one minute, and a
        // refusal costs the members a scan of 100,000.
        misses++;
        lo = hi + 1n;
        width = w * (misses === 1 ? 4n : 64n);
        continue;
      }
      // Keys are canonical lower-case UUIDs, so plain string order is key order.
      entries.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
      // All that was asked for came: the window may hold more, so it ends at the last key sent.
      const end = entries.length >= first ? keyToNumber(entries[entries.length - 1]!.uuid) : hi;
      // This window as a share of a full one, by entries or by bytes, whichever is fuller.
      const bytes = sizeOf && targetBytes ? entries.reduce((n, e) => n + sizeOf(e), 0) : 0;
      const fill = Math.max(entries.length / targetEntries, targetBytes ? bytes / targetBytes : 0);
      onWindow?.({ entries: entries.length, width: w, misses });
      return { entries, hi: end, width: end - lo + 1n, fill };
    }
    return undefined;
  };

  /** Starts reading a window ahead; its failure is handled when it is awaited, never left unhandled. */
  const readAhead = (lo: bigint, width: bigint) => {
    const p = read(lo, width);
    p.catch(() => undefined);
    return p;
  };
  let ahead = remaining > 0 ? readAhead(options.from, options.initialWidth ?? DEFAULT_WIDTH) : undefined;
  while (ahead) {
    const window = await ahead;
    ahead = undefined;
    if (!window) return;
    const taken = Math.min(window.entries.length, remaining);
    remaining -= taken;
    let next: { lo: bigint; width: bigint } | undefined;
    if (remaining > 0 && window.hi < to) {
      // Sized to this window's density, by at most 4x either way; a page's last window to what it still wants.
      const fitted = scale(window.width, (wanted() / targetEntries) * 1_000_000, window.fill * 1_000_000);
      next = { lo: window.hi + 1n, width: minBig(window.width * 4n, maxBig(window.width / 4n, fitted)) };
    }
    // A window fuller than the target (a burst: see the module comment) goes out in slices of about
    // the target, so what is held downstream (encoded text, socket buffers) is a slice, not the
    // window; each slice is let go once yielded, and the next window is read ahead only with the
    // last. So a walk holds at most one window, or its last slice and the window read ahead.
    const slices = splitEvenly(window.entries.slice(0, taken), Math.ceil(window.fill));
    window.entries = [];
    if (slices.length === 0 && next) ahead = readAhead(next.lo, next.width);
    while (slices.length > 0) {
      const slice = slices.shift()!;
      if (slices.length === 0 && next) ahead = readAhead(next.lo, next.width);
      yield slice;
    }
  }
}

/** `items` in `parts` slices (at most) of equal length, give or take one, in order. */
function splitEvenly<T>(items: T[], parts: number): T[][] {
  if (items.length === 0) return [];
  if (parts <= 1) return [items];
  const size = Math.ceil(items.length / parts);
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size));
  return out;
}
