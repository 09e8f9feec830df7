/**
 * Where messages live. The service talks to a `MessageStore`; production uses the Hazelcast map,
 * unit tests an in-memory one (test/support).
 */
import { Aggregators, IndeterminateOperationStateError, Predicates, QueryError, SplitBrainProtectionError, type IMap } from 'hazelcast-client';
import type { Page } from '../../lib/paging.js';
import { StoreError } from '../../lib/store-errors.js';
import { HazelcastConnection, isHazelcastUnavailable } from '../../lib/hazelcast.js';
import { HeldByTooFewError } from '../../lib/write-copies.js';
import { TooManyInWindow, keyToNumber, lastKeyOfMs, walkKeys, type WindowStats } from './key-range.js';
import { StoreCapacity, entryCostBytes, type SharedCounter } from './capacity.js';
import type { StoreSummary, StoredMessage, StoredValue } from '../../lib/contract.js';


/** created: new entry; replayed: same uuid and msg again; conflict: same uuid, different msg. */
export type PutOutcome = 'created' | 'replayed' | 'conflict';

/** Cheap figures for metrics: no entry is read. */
export interface StoreStats {
  connected: boolean;
  /** Entries in the map; null while it cannot be asked. */
  mapSize: number | null;
  /** Members the client sees; 0 while disconnected. */
  clusterSize: number;
  /** The estimate of the heap the messages take on each member, and the most they may take (bytes). */
  usedBytes?: number | null;
  capacityBytes?: number;
  /** The map's synchronous backups as configured (ClusterSummary.backupCount); undefined when not told. */
  backupCount?: number;
}

export interface ReadOptions {
  /** Stops the read before its next call to the cluster. */
  signal?: AbortSignal;
  /** Told the cost of every window the read fetched. */
  onWindow?: (stats: WindowStats) => void;
}

export interface MessageStore {
  /** Stores `msg` under `uuid` unless the uuid is taken; atomic. */
  put(uuid: string, value: StoredValue): Promise<PutOutcome>;
  /**
   * The messages after `page.after` (all without it), in creation order, at most `page.limit`,
   * as batches of bounded size: the caller holds one batch at a time, and stopping the iteration
   * stops the reading.
   */
  read(page: Page, options?: ReadOptions): AsyncIterable<StoredMessage[]>;
  /** Members and how many entries each owns; their sum is the map size. */
  summary(): Promise<StoreSummary>;
  /** Map and cluster size for the metrics; optional so a simple store can leave it out. */
  stats?(): Promise<StoreStats>;
}

/**
 * The members refused a query whose answer would pass `hazelcast.query.result.size.limit` (the
 * member configuration sets it): Hazelcast's QueryResultSizeExceededException, which the client
 * hands over as a QueryError that says so.
 */
export function isResultTooLarge(err: unknown): boolean {
  return err instanceof QueryError && /QueryResultSizeExceeded|prevent an OOME/.test(err.message);
}

/** Decides the outcome of a put-if-absent from the value that was there before (if any). */
export function outcomeOf(previous: Pick<StoredValue, 'msg'> | null | undefined, msg: string): PutOutcome {
  if (previous === null || previous === undefined) return 'created';
  return previous.msg === msg ? 'replayed' : 'conflict';
}

/** Up to this map size the cluster view counts each member's entries exactly (one key set). */
export const EXACT_COUNT_MAX_ENTRIES = 10_000;

/**
 * Shares `total` out in proportion to `weights`, in whole numbers that add up to `total`
 * (largest remainders first).
 */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    shares[i]!++;
  }
  return shares;
}

export interface HazelcastStoreOptions {
  /** The map's backup count as the member configuration declares it; reported in the summary. */
  backupCount?: number;
  /** Entries one read window should hold (default 2,000, the fastest size in npm run bench: docs/reads-and-capacity.md). */
  windowEntries?: number;
  /** Keys up to this far ahead of this clock are read (default 60 s); logging refuses later ones. */
  maxClockSkewMs?: number;
  /** The most the messages may take in each member's heap; without it, writes are never refused. */
  capacityBytes?: number;
  /** Told when a write is refused because the client's side of a split is too small (cluster-side.ts moves it). */
  onMinority?: () => void;
  /** Told when a write is not confirmed by every backup: a member may be gone while the client still lists it (cluster-side.ts). */
  onUnconfirmed?: () => void;
  now?: () => number;
}

/**
 * Sets `key` of `map` to `next(current)` with a compare-and-set loop, so writers updating it at
 * once all count; `next` giving undefined leaves it as it is.
 * @returns what the entry holds afterwards
 */
export async function updateEntry(
  map: IMap<string, string>,
  key: string,
  next: (current: string | undefined) => string | undefined | Promise<string | undefined>,
): Promise<string | undefined> {
  for (;;) {
    const current = (await map.get(key)) ?? undefined;
    const value = await next(current);
    if (value === undefined) return current;
    const done = current === undefined ? (await map.putIfAbsent(key, value)) == null : await map.replaceIfSame(key, current, value);
    if (done) return value;
  }
}

/**
 * A shared counter kept in one entry of a map: read from the entry's owner, so every reader sees
 * the same value, backed up and protected like the map, and added to with updateEntry. The capacity
 * charge is one (instances add in batches, so seldom). Chosen over Hazelcast's IAtomicLong and
 * PN-Counter by `npm run bench:counters` (docs/reads-and-capacity.md, "The capacity counter").
 */
export function mapEntryCounter(map: () => Promise<IMap<string, string>>, key: string): SharedCounter {
  return {
    get: async () => Number((await (await map()).get(key)) ?? 0),
    addAndGet: async (delta) => Number(await updateEntry(await map(), key, (current) => String(Number(current ?? 0) + delta))),
  };
}

/** About this many bytes of messages in one read window, where they are large enough to fill it before `windowEntries` do. */
export const WINDOW_BYTES = 2 * 1024 * 1024;
/** Entries one read window should hold unless told otherwise (HazelcastStoreOptions.windowEntries). */
export const WINDOW_ENTRIES = 2_000;

/** The key under which the meta map keeps a lower bound of every stored key. */
const FLOOR_KEY = 'floor';
/** The key under which the meta map keeps the estimate of the heap the messages take (capacity.ts). */
const HEAP_BYTES_KEY = 'heapBytes';

export class HazelcastMessageStore implements MessageStore {
  private readonly windowEntries: number;
  private readonly maxClockSkewMs: number;
  private readonly now: () => number;
  /** A value the floor held once; the floor only ever goes down, so it is at most this. */
  protected knownFloor: string | undefined;
  protected readonly capacity: StoreCapacity | undefined;

  constructor(
    private readonly hz: HazelcastConnection,
    private readonly mapName: string,
    private readonly options: HazelcastStoreOptions = {},
  ) {
    this.windowEntries = options.windowEntries ?? WINDOW_ENTRIES;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 60_000;
    this.now = options.now ?? Date.now;
    if (options.capacityBytes !== undefined) {
      this.capacity = new StoreCapacity(this.heapCounter(), { capacityBytes: options.capacityBytes });
    }
  }

  /**
   * The estimate of the heap the messages take on each member (capacity.ts), under `heapBytes` in
   * the meta map (mapEntryCounter).
   */
  private heapCounter(): SharedCounter {
    const counter = mapEntryCounter(() => this.meta(), HEAP_BYTES_KEY);
    return { get: () => this.guard(() => counter.get()), addAndGet: (delta) => this.guard(() => counter.addAndGet(delta)) };
  }

  /** Sets an entry of the meta map with updateEntry. */
  private async updateMeta(
    key: string,
    next: (current: string | undefined) => string | undefined | Promise<string | undefined>,
  ): Promise<string | undefined> {
    return updateEntry(await this.meta(), key, next);
  }

  /** The map that keeps, under `floor`, a key at or below every key in the message map, and under `heapBytes` the capacity charge. */
  private get metaMapName(): string {
    return `${this.mapName}-meta`;
  }

  /**
   * A write is acknowledged only once every backup has acknowledged it: the members fail it
   * otherwise (`hazelcast.operation.fail.on.indeterminate.state`), and it answers 503
   * STORE_UNCONFIRMED, to be retried under the same uuid. A retry that finds the uuid stored
   * writes the stored value again, with its backups, before it answers: what it found may be the
   * failed attempt's, held by one member only (a member cut off from the others applies a write
   * and then waits out the backup timeout).
   * @throws StoreError STORE_FULL when the capacity is reached (a replay of a stored message still answers)
   */
  async put(uuid: string, value: StoredValue): Promise<PutOutcome> {
    return this.guard(async () => {
      const map = await this.map();
      const cost = entryCostBytes(value.msg, value.loggedBy);
      try {
        await this.capacity?.reserve(cost);
      } catch (err) {
        const previous = await map.get(uuid);
        if (previous) return this.replayed(map, uuid, previous, value.msg);
        throw err;
      }
      let previous: StoredValue | null;
      try {
        await this.lowerFloorTo(uuid);
        previous = await map.putIfAbsent(uuid, value);
      } catch (err) {
        // Refused before it was applied: the room is given back. Unknown (a lost backup ack): it is
        // kept, so a message stored after all is never left uncharged.
        if (!(err instanceof IndeterminateOperationStateError)) this.capacity?.release(cost);
        throw err;
      }
      if (previous) {
        this.capacity?.release(cost);
        return this.replayed(map, uuid, previous, value.msg);
      }
      return 'created';
    });
  }

  /**
   * Gives this instance's unspent capacity lease back (capacity.ts), waiting at most `timeoutMs`
   * for the cluster: a stopping service does not wait out an absent cluster.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    if (!this.capacity) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.capacity.close().catch(() => undefined),
      new Promise((r) => (timer = setTimeout(r, timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  /** The outcome for a uuid found stored; a replay (same text) first writes the stored value again, backups included (see put). */
  private async replayed(map: IMap<string, StoredValue>, uuid: string, previous: StoredValue, msg: string): Promise<PutOutcome> {
    const outcome = outcomeOf(previous, msg);
    if (outcome === 'replayed') await map.set(uuid, previous);
    return outcome;
  }

  /**
   * Walks the map in key windows over the sorted index on `__key` (see key-range.ts), each sized
   * from the last to hold about `windowEntries` messages or WINDOW_BYTES of them; a window the
   * members refuse as too large (over `hazelcast.query.result.size.limit`) is asked again
   * narrower. Memory per read: one window, passed on in batches of about the target, the next read
   * ahead with its last batch (key-range.ts); cluster work per window: an index
   * range scan of it. A read without `after` starts at the floor, never in the empty key space
   * before the first message, and every read ends at the clock plus `maxClockSkewMs`.
   */
  async *read(page: Page, options: ReadOptions = {}): AsyncGenerator<StoredMessage[]> {
    await this.guard(() => this.map());
    let from: bigint;
    if (page.after !== undefined) {
      from = keyToNumber(page.after) + 1n;
    } else {
      const floor = await this.guard(() => this.floor());
      if (floor === undefined) return;
      from = keyToNumber(floor);
    }
    const source = {
      fetch: (lo: string, hi: string, first: number) =>
        this.guard(async () => {
          try {
            // The window's first keys only: a paging predicate without a comparator, which orders by
            // key (the members sort the window and send no more). The map asked for each window:
            // the client in use may change during a long read (a move).
            const predicate = Predicates.paging(Predicates.between('__key', lo, hi), first);
            const entries = await (await this.map()).entrySetWithPredicate(predicate);
            return entries.map(([uuid, v]): StoredMessage => ({ uuid, msg: v.msg, loggedBy: v.loggedBy, storedAt: v.storedAt }));
          } catch (err) {
            if (isResultTooLarge(err)) throw new TooManyInWindow({ cause: err });
            throw err;
          }
        }),
    };
    // A small map is read in one window (the members refuse it, and the walk narrows, if it has grown).
    const to = lastKeyOfMs(this.now() + this.maxClockSkewMs);
    const small = (await this.guard(() => this.approximateSize())) <= this.windowEntries;
    yield* walkKeys(source, {
      from,
      to,
      initialWidth: small ? to - from + 1n : undefined,
      limit: page.limit,
      targetEntries: this.windowEntries,
      targetBytes: WINDOW_BYTES,
      sizeOf: (m) => m.msg.length + m.loggedBy.length + 64,
      signal: options.signal,
      onWindow: options.onWindow,
    });
  }

  private sizeSeen: { size: number; at: number } | undefined;

  /** The map size as seen within the last second: one size query a second at most, however many reads. */
  private async approximateSize(): Promise<number> {
    if (this.sizeSeen === undefined || this.now() - this.sizeSeen.at > 1_000) {
      this.sizeSeen = { size: await (await this.map()).size(), at: this.now() };
    }
    return this.sizeSeen.size;
  }

  /**
   * The map size and, per member, the entries it owns: counted key by key up to
   * EXACT_COUNT_MAX_ENTRIES, beyond that the size shared out by the partitions each member owns.
   * Cost beyond that size: one size query and the client's partition table, O(members).
   */
  async summary(): Promise<StoreSummary> {
    return this.guard(async () => {
      const map = await this.map();
      const mapSize = await map.size();
      const members = this.hz.members().map((m) => ({ ...m, ownedEntries: 0 }));
      const byUuid = new Map(members.map((m) => [m.uuid, m]));
      let entriesCounted: 'exact' | 'estimated' = 'exact';
      if (mapSize <= EXACT_COUNT_MAX_ENTRIES) {
        for (const key of await map.keySet()) {
          const owner = byUuid.get(this.hz.ownerOf(key) ?? '');
          if (owner) owner.ownedEntries++;
        }
      } else {
        entriesCounted = 'estimated';
        const partitions = this.hz.partitionsByOwner();
        apportion(mapSize, members.map((m) => partitions.get(m.uuid) ?? 0)).forEach((n, i) => (members[i]!.ownedEntries = n));
      }
      return {
        connected: this.hz.isConnected(),
        mapName: this.mapName,
        mapSize: entriesCounted === 'exact' ? members.reduce((n, m) => n + m.ownedEntries, 0) : mapSize,
        members,
        entriesCounted,
        backupCount: this.options.backupCount ?? null,
      };
    });
  }

  async stats(): Promise<StoreStats> {
    const connected = this.hz.isConnected();
    const clusterSize = this.hz.members().length;
    const { backupCount } = this.options;
    if (!connected) return { connected, mapSize: null, clusterSize, backupCount };
    const mapSize = await this.guard(async () => (await this.map()).size());
    return {
      connected, mapSize, clusterSize, backupCount,
      usedBytes: this.capacity?.usedBytes ?? null, capacityBytes: this.capacity?.capacityBytes,
    };
  }

  /**
   * The map, on whichever client the connection uses now (its proxies are made once per client).
   * Reads need the sorted index on `__key` that the member configuration declares
   * (charts/lab/files/hazelcast.yaml, which the chart's ConfigMap is rendered from); without it
   * every window would scan the map.
   */
  protected map(): Promise<IMap<string, StoredValue>> {
    return this.hz.getMap<string, StoredValue>(this.mapName);
  }

  protected meta(): Promise<IMap<string, string>> {
    return this.hz.getMap<string, string>(this.metaMapName);
  }

  /**
   * The floor: a key at or below every stored key, where a full read starts; undefined while the
   * map is empty. Kept in the meta map by writers (see lowerFloorTo); where there is none yet, made
   * from the lowest stored key (one min aggregation).
   */
  private floor(): Promise<string | undefined> {
    return this.updateMeta(FLOOR_KEY, (current) => (current !== undefined ? undefined : this.lowestStoredKey()));
  }

  /**
   * The lowest key in the map, by a min aggregation: a scan of the whole map, made only where no
   * floor exists yet (a map written by a version before floors, or after the meta map was lost).
   */
  private async lowestStoredKey(): Promise<string | undefined> {
    const map = await this.map();
    if ((await map.size()) === 0) return undefined;
    return (await map.aggregate(Aggregators.min<string>('__key'))) ?? undefined;
  }

  /**
   * Makes sure the floor is at or below `key` before `key` is stored: a compare-and-set loop that
   * only ever lowers it, so concurrent writers on any instance agree. Costs nothing once this
   * instance has seen a floor at or below `key`, i.e. for every key newer than the first. The
   * floor is made below whatever the map already holds, so entries stored before it stay read.
   */
  protected async lowerFloorTo(key: string): Promise<void> {
    if (this.knownFloor !== undefined && this.knownFloor <= key) return;
    this.knownFloor = await this.updateMeta(FLOOR_KEY, async (current) => {
      if (current !== undefined) return current <= key ? undefined : key;
      const older = await this.lowestStoredKey();
      return older !== undefined && older < key ? older : key;
    });
  }

  /**
   * Cluster failures become StoreErrors (503s to the HTTP layer): STORE_MINORITY for a write refused on a
   * minority side, STORE_UNCONFIRMED for one whose backups did not all acknowledge it, STORE_UNAVAILABLE
   * for a cluster that cannot be reached; anything else is a bug and stays a 500.
   */
  protected async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      // A member on the smaller side of a split (hazelcast.yaml: split-brain-protection) refuses
      // writes until it is back in the larger cluster: another instance may reach that one, and
      // this one's client may have taken the smaller side for the cluster (cluster-side.ts).
      if (err instanceof SplitBrainProtectionError) {
        this.options.onMinority?.();
        throw new StoreError('STORE_MINORITY', 'this side of the Hazelcast cluster has too few members to accept writes', { cause: err });
      }
      // Applied, but on fewer members than HZ_MIN_COPIES: the members have just dropped one and not
      // yet repaired their partition table, or a member cut off from the others has dropped them
      // but not yet refused writes (lib/write-copies.ts).
      if (err instanceof HeldByTooFewError) {
        throw new StoreError(
          'STORE_UNCONFIRMED',
          'the write is held by fewer members than HZ_MIN_COPIES (a member was just dropped from the cluster); it may be stored or not: retry with the same uuid',
          { cause: err },
        );
      }
      // Applied where it was sent, perhaps, but not confirmed by every backup (a member cut off, paused or gone).
      if (err instanceof IndeterminateOperationStateError) {
        this.options.onUnconfirmed?.();
        throw new StoreError('STORE_UNCONFIRMED', 'the write was not confirmed by every backup; it may be stored or not: retry with the same uuid', { cause: err });
      }
      if (isHazelcastUnavailable(err)) throw new StoreError('STORE_UNAVAILABLE', 'the message store is unavailable', { cause: err });
      throw err;
    }
  }
}
