import { expect } from 'chai';
import { v7 as uuidv7 } from 'uuid';
import { FETCH_CAP_TARGETS, KEY_UNITS_PER_MS, MAX_KEY, MIN_KEY, TooManyInWindow, keyToNumber, lastKeyOfMs, numberToKey, walkKeys, type RangeSource, type WalkOptions } from '../../services/logging/key-range.js';

/**
 * A sorted array behind the RangeSource contract, refusing answers over `cap` entries as the
 * members refuse queries over their result size limit, and recording what each call returned.
 */
class SortedSource implements RangeSource<{ uuid: string }> {
  readonly keys: string[];
  /** Calls, refused ones included. */
  calls = 0;
  fetches: number[] = [];

  constructor(keys: Iterable<string>, readonly cap = 400) {
    this.keys = [...new Set(keys)].sort();
  }

  private bound(key: string, upper: boolean): number {
    let [a, b] = [0, this.keys.length];
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.keys[m]! < key || (upper && this.keys[m] === key)) a = m + 1;
      else b = m;
    }
    return a;
  }

  async fetch(lo: string, hi: string, first: number): Promise<{ uuid: string }[]> {
    this.calls++;
    const [from, to] = [this.bound(lo, false), this.bound(hi, true)];
    if (to - from > this.cap) throw new TooManyInWindow();
    // The members' paging predicate: the window's first keys only, in any order.
    const found = this.keys.slice(from, Math.min(to, from + first)).reverse().map((uuid) => ({ uuid }));
    this.fetches.push(found.length);
    return found;
  }
}

/** A key in millisecond `ms`, the `i`-th of that millisecond. */
const keyAt = (ms: number, i = 0) => numberToKey(BigInt(ms) * KEY_UNITS_PER_MS + (7n << 76n) + BigInt(i) * 4099n);

const base = Date.UTC(2026, 10, 30);

async function walk(source: SortedSource, options: Partial<WalkOptions> = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of walkKeys(source, { from: MIN_KEY, to: MAX_KEY, targetEntries: 100, ...options })) {
    out.push(...batch.map((e) => e.uuid));
  }
  return out;
}

describe('key ranges', () => {
  it('map a UUID to its 128-bit number and back', () => {
    const id = uuidv7();
    expect(numberToKey(keyToNumber(id))).to.equal(id);
    expect(numberToKey(MIN_KEY)).to.equal('00000000-0000-0000-0000-000000000000');
    expect(numberToKey(MAX_KEY)).to.equal('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('order keys by number exactly as by string', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7());
    expect([...ids].sort((a, b) => (keyToNumber(a) < keyToNumber(b) ? -1 : 1))).to.deep.equal([...ids].sort());
  });

  it('put every UUIDv7 of a millisecond at or below that millisecond`s last key', () => {
    const id = uuidv7({ msecs: base });
    expect(keyToNumber(id) <= lastKeyOfMs(base)).to.equal(true);
    expect(keyToNumber(id) > lastKeyOfMs(base - 1)).to.equal(true);
  });
});

describe('walking keys in bounded windows', () => {
  it('returns every key in order across bursts in one millisecond and years without a key', async () => {
    const keys = [
      ...Array.from({ length: 3000 }, (_, i) => keyAt(base, i)), // 3,000 in one millisecond
      ...Array.from({ length: 500 }, (_, i) => keyAt(base + 1 + i * 37)),
      keyAt(base + 400 * 86_400_000), // 400 days later
      ...Array.from({ length: 1000 }, (_, i) => keyAt(base + 500 * 86_400_000 + Math.floor(i / 10), i % 10)),
      keyAt(1), // near the epoch
    ];
    const source = new SortedSource(keys);
    expect(await walk(source)).to.deep.equal(source.keys);
    expect(Math.max(...source.fetches)).to.be.at.most(400);
  });

  it('never fetches more than the source answers at once, whatever the spread', async () => {
    const random = Array.from({ length: 5000 }, () => numberToKey(BigInt(`0x${[...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')}`)));
    const source = new SortedSource(random, 120);
    expect(await walk(source, { targetEntries: 50 })).to.deep.equal(source.keys);
    expect(Math.max(...source.fetches)).to.be.at.most(120);
  });

  it('reads a page of `limit` after a key inside a burst without skipping or repeating a key', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => keyAt(base + Math.floor(i / 500), i % 500));
    const source = new SortedSource(keys);
    const all = source.keys;
    const pages: string[] = [];
    let after: string | undefined;
    for (;;) {
      const from = after === undefined ? MIN_KEY : keyToNumber(after) + 1n;
      const page = await walk(source, { from, limit: 137 });
      if (page.length === 0) break;
      expect(page.length).to.be.at.most(137);
      pages.push(...page);
      after = page.at(-1);
    }
    expect(pages).to.deep.equal(all);
  });

  it('costs O(limit) for a page: a page of 10 fetches little more than 10 entries', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => keyAt(base + Math.floor(i / 40), i % 40));
    const source = new SortedSource(keys);
    // 40 keys a millisecond: the first window, a quarter of a millisecond, holds about 10.
    const page = await walk(source, { from: keyToNumber(source.keys[5000]!) + 1n, limit: 10, initialWidth: KEY_UNITS_PER_MS / 4n });
    expect(page).to.deep.equal(source.keys.slice(5001, 5011));
    expect(source.fetches.reduce((a, b) => a + b, 0)).to.be.at.most(64);
  });

  it('asks a window crowded by a burst for no more than the page still wants', async () => {
    // 300 keys in each of 10 milliseconds: the first window (16 ms of keys) holds all of them.
    const keys = Array.from({ length: 3000 }, (_, i) => keyAt(base + Math.floor(i / 300), i % 300));
    const source = new SortedSource(keys, 10_000);
    const page = await walk(source, { from: keyToNumber(source.keys[1000]!) + 1n, limit: 10 });
    expect(page).to.deep.equal(source.keys.slice(1001, 1011));
    expect(source.fetches).to.deep.equal([10]);
  });

  it('cuts a window crowded by a burst at FETCH_CAP_TARGETS targets in a full read, and goes on after its last key', async () => {
    // 3,000 keys in 10 ms: the first window (16 ms of keys) holds them all, 30 targets.
    const keys = Array.from({ length: 3000 }, (_, i) => keyAt(base + Math.floor(i / 300), i % 300));
    const source = new SortedSource(keys, 10_000);
    expect(await walk(source, { targetEntries: 100 })).to.deep.equal(source.keys);
    expect(Math.max(...source.fetches)).to.equal(100 * FETCH_CAP_TARGETS);
  });

  it('crosses an empty key space in a logarithmic number of calls', async () => {
    const source = new SortedSource([]);
    expect(await walk(source)).to.deep.equal([]);
    expect(source.calls).to.be.below(30);
  });

  it('sizes each window from the density of the one before, so a steady walk needs one call a window', async () => {
    const source = new SortedSource(Array.from({ length: 20_000 }, (_, i) => keyAt(base + Math.floor(i / 20), i % 20)), 1_000);
    expect(await walk(source, { from: keyToNumber(source.keys[0]!) })).to.have.length(20_000);
    const full = source.fetches.filter((n) => n > 0);
    expect(full.length).to.be.below((20_000 / 100) * 1.2);
    expect(full.slice(1, -1).every((n) => n >= 50 && n <= 200), 'windows near the target').to.equal(true);
  });

  it('sizes windows by bytes where messages are large, and by count where they are small', async () => {
    // UUIDv7 keys as the facade makes them, 20 a millisecond; the second half 100x larger.
    const source = new SortedSource(Array.from({ length: 4_000 }, (_, i) => uuidv7({ msecs: base + Math.floor(i / 20) })), 1_000);
    const big = new Set(source.keys.slice(2_000));
    const sizeOf = (e: { uuid: string }) => (big.has(e.uuid) ? 1_000 : 10);
    // The windows as fetched (the walk may pass a full one on in several batches).
    const windows: { entries: number; large: boolean }[] = [];
    const fetch = source.fetch.bind(source);
    source.fetch = async (lo, hi, first) => {
      const found = await fetch(lo, hi, first);
      if (found.length > 0) windows.push({ entries: found.length, large: found.every((e) => big.has(e.uuid)) });
      return found;
    };
    const out: string[] = [];
    const range = { from: keyToNumber(source.keys[0]!), to: MAX_KEY, targetEntries: 100, targetBytes: 10_000, sizeOf };
    for await (const batch of walkKeys(source, range)) out.push(...batch.map((e) => e.uuid));
    expect(out).to.deep.equal(source.keys);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const small = windows.slice(1).filter((w) => !w.large).map((w) => w.entries);
    const large = windows.filter((w) => w.large).map((w) => w.entries);
    expect(median(small), 'small messages: about 100 a window').to.be.within(80, 120);
    // A millisecond's keys sit close together, so windows cannot cut them finer: 20 is the grain here.
    expect(median(large), 'large messages: well under the 100 a count alone would allow').to.be.at.most(40);
  });

  it('passes a burst fuller than the target on in batches of about the target, and reads the next window ahead only with its last', async () => {
    // 50 keys a millisecond for 10 ms, then 2,000 in one millisecond (one window of them, 20x the target), then 50 a millisecond.
    const keys = [
      ...Array.from({ length: 500 }, (_, i) => keyAt(base + Math.floor(i / 50), i % 50)),
      ...Array.from({ length: 2_000 }, (_, i) => keyAt(base + 10, i)),
      ...Array.from({ length: 500 }, (_, i) => keyAt(base + 11 + Math.floor(i / 50), i % 50)),
    ];
    const source = new SortedSource(keys, 5_000);
    const fetched = () => source.fetches.reduce((a, b) => a + b, 0);
    const out: string[] = [];
    let held = 0;
    for await (const batch of walkKeys(source, { from: keyToNumber(source.keys[0]!), to: MAX_KEY, targetEntries: 100 })) {
      expect(batch.length, 'a batch').to.be.at.most(100);
      held = Math.max(held, fetched() - out.length);
      out.push(...batch.map((e) => e.uuid));
    }
    expect(out).to.deep.equal(source.keys);
    expect(Math.max(...source.fetches), 'a window of the burst, cut at the cap').to.equal(100 * FETCH_CAP_TARGETS);
    // Fetched and not yet passed on: the window being passed on, or its last batch and the next window.
    expect(held, 'entries held by the walk').to.be.at.most(Math.max(...source.fetches) + 100);
  });

  it('stops at `to`', async () => {
    const source = new SortedSource([keyAt(base), keyAt(base + 1), keyAt(base + 2)]);
    expect(await walk(source, { to: lastKeyOfMs(base + 1) })).to.deep.equal([keyAt(base), keyAt(base + 1)]);
  });

  it('makes no further call once the caller stops or the signal aborts', async () => {
    const source = new SortedSource(Array.from({ length: 1000 }, (_, i) => keyAt(base + i)));
    // One key a millisecond: the first window, 16 ms, holds the target of 16, and goes out in one batch.
    for await (const batch of walkKeys(source, { from: keyToNumber(source.keys[0]!), to: MAX_KEY, targetEntries: 16 })) {
      expect(batch.length).to.equal(16);
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
    // The window read ahead, and nothing after it.
    expect(source.fetches.filter((n) => n > 0)).to.have.length(2);

    const controller = new AbortController();
    const calls = () => source.calls;
    const seen: string[] = [];
    let callsAtAbort = 0;
    try {
      for await (const batch of walkKeys(source, { from: MIN_KEY, to: MAX_KEY, targetEntries: 10, signal: controller.signal })) {
        seen.push(...batch.map((e) => e.uuid));
        controller.abort();
        callsAtAbort = calls();
      }
      expect.fail('the walk should end with the abort');
    } catch (err) {
      expect((err as Error).name).to.equal('AbortError');
    }
    // At most the calls of the window already being read ahead when the abort came.
    expect(calls() - callsAtAbort).to.be.at.most(2);
    expect(seen.length).to.be.at.most(source.cap);
  });

  it('never lets the window read ahead fail unhandled while the caller is busy, and reports it when the caller comes back', async () => {
    const source = new SortedSource(Array.from({ length: 100 }, (_, i) => keyAt(base + i)));
    const fetch = source.fetch.bind(source);
    source.fetch = async (lo, hi, first) => {
      if (source.fetches.length >= 1) throw new Error('member lost');
      return fetch(lo, hi, first);
    };
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      // The first window (16 ms, one key each) is the target, so its one batch starts the read ahead.
      const batches = walkKeys(source, { from: keyToNumber(source.keys[0]!), to: MAX_KEY, targetEntries: 16 });
      expect((await batches.next()).done).to.equal(false);
      await new Promise((r) => setTimeout(r, 50)); // busy while the read ahead fails
      const err = await batches.next().catch((e: unknown) => e);
      expect((err as Error).message).to.equal('member lost');
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
