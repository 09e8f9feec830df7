/**
 * Capacity as a number, not a crash: writes are refused with 507 STORE_FULL once the messages
 * would take more than the configured share of each member's heap, long before any member runs
 * out of it.
 *
 * Each created message is charged an estimate of the heap it takes on each member
 * (`entryCostBytes`). Logging instances add their charges to one cluster-wide counter (an entry of
 * the meta map, backed up like the messages) in batches, so a write costs no extra round trip; every instance sees the others'
 * writes within about `refreshMs`. An instance also syncs once its unsynced charges reach an eighth
 * of the headroom it last saw, and with under a quarter of the capacity left every write reads and
 * adds to the total before it is acknowledged, so the bound is passed at most by the writes in
 * flight at that moment.
 */
import { StoreError } from '../../lib/store-errors.js';

/** A number every instance adds to and reads, consistently (the store keeps it in its meta map). */
export interface SharedCounter {
  get(): Promise<number>;
  /** Adds `delta` and returns the new value. */
  addAndGet(delta: number): Promise<number>;
}

/**
 * What one message adds to each member's heap beyond its text, measured (docs/reads-and-capacity.md,
 * Capacity): the map record, the key, the JSON value's framing and metadata, and the key index.
 * With three members and backup-count 2 every member holds every entry.
 */
export const ENTRY_OVERHEAD_BYTES = 400;

/** The most of the remaining headroom one instance may charge before it syncs. */
const UNSYNCED_SHARE = 1 / 8;
/**
 * Below this share of the capacity left, the total is re-read before every write is answered,
 * however fresh: the other instances' writes since the last read could be what fills the store
 * (a total 400 ms old let a 1 MB store take 102 messages of 10 KB in CI, one past its bound).
 */
const NEAR_FULL_SHARE = 1 / 4;

/** The heap one message is charged: the overhead plus the UTF-8 bytes of what it stores. */
export function entryCostBytes(msg: string, loggedBy: string): number {
  return ENTRY_OVERHEAD_BYTES + Buffer.byteLength(msg) + Buffer.byteLength(loggedBy);
}

export interface CapacityOptions {
  /** The most the messages may take in each member's heap. */
  capacityBytes: number;
  /** How often local charges are added to the shared counter and the total re-read (default 500 ms). */
  refreshMs?: number;
}

export class StoreCapacity {
  /** The cluster-wide total as last read, charges of every instance included. */
  private total: number | undefined;
  /** Charges of this instance not yet added to the counter. */
  private pending = 0;
  private syncing: Promise<void> | undefined;
  private lastSync = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly counter: SharedCounter,
    private readonly options: CapacityOptions,
  ) {}

  get capacityBytes(): number {
    return this.options.capacityBytes;
  }

  /** The estimate of the heap the messages take on each member, as this instance knows it. */
  get usedBytes(): number | undefined {
    return this.total === undefined ? undefined : this.total + this.pending;
  }

  /**
   * Makes sure `cost` more bytes fit. Waits for the counter the first time and near the capacity;
   * otherwise answers from what is known and refreshes it in the background, so a counter that is
   * slow to answer (its member just died) never holds up writes far from the capacity.
   * @throws StoreError STORE_FULL when they do not
   */
  async reserve(cost: number): Promise<void> {
    // No instance holds back more than a share of the headroom it last saw, so the closer the store
    // is to full, the more often instances sync; near the end, every write does. A stale total is
    // refreshed in the background far from the capacity; near it, the total is read before answering.
    const stale = Date.now() - this.lastSync > this.refreshMs;
    if (this.total === undefined || this.pending + cost > this.headroom * UNSYNCED_SHARE || this.nearFull) await this.sync();
    else if (stale) void this.sync().catch(() => undefined);
    const used = this.usedBytes ?? 0;
    if (used + cost > this.options.capacityBytes) {
      const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
      throw new StoreError('STORE_FULL', `the message store is full: ${mb(used)} of its ${mb(this.options.capacityBytes)} capacity is used; nothing more is stored until members get more heap`);
    }
  }

  /**
   * Charges a message that was stored. Far from the capacity the charge reaches the counter within
   * `refreshMs`; near it, before this returns, so the write is acknowledged only once the other
   * instances can see it. A failure to reach the counter keeps the charge for the next sync.
   */
  async charge(cost: number): Promise<void> {
    this.pending += cost;
    if (this.nearFull || this.pending > this.headroom * UNSYNCED_SHARE) {
      await this.sync().catch(() => undefined);
      return;
    }
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.sync().catch(() => undefined);
    }, this.refreshMs).unref();
  }

  /** Adds this instance's pending charges to the counter and reads the total back; one at a time. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      const delta = this.pending;
      this.pending = 0;
      try {
        this.total = delta === 0 ? await this.counter.get() : await this.counter.addAndGet(delta);
        this.lastSync = Date.now();
      } catch (err) {
        this.pending += delta;
        throw err;
      }
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Under a quarter of the capacity left, by the total last read: every write reads and adds to it. */
  private get nearFull(): boolean {
    return this.headroom < this.options.capacityBytes * NEAR_FULL_SHARE;
  }

  /** What was left of the capacity when the total was last read. */
  private get headroom(): number {
    return this.options.capacityBytes - (this.total ?? 0);
  }

  private get refreshMs(): number {
    return this.options.refreshMs ?? 500;
  }
}
