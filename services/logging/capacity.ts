/**
 * Capacity as a number, not a crash: writes are refused with 507 STORE_FULL once the messages
 * would take more than the configured share of each member's heap, long before any member runs
 * out of it.
 *
 * Each message is charged an estimate of the heap it takes on each member (`entryCostBytes`). The
 * bound is kept by leases: an instance takes room from one cluster-wide counter (an entry of the
 * meta map, backed up like the messages) in one atomic add, a share of what is left, and spends it
 * on its writes without asking anyone; when its lease runs low it takes the next in the background.
 * A lease is taken only where it fits, so the counter never passes the capacity, and however many
 * writers of however many instances race for the last room, no more is let in than fits. Near the
 * capacity each write leases its own room only. What leases cost: the counter counts room leased,
 * not yet used (at most one lease an instance more); an instance that stops gives its lease back,
 * one that is killed leaves it counted (the store then refuses that much earlier, never later).
 * `npm run bench:counters` measures it against Hazelcast's own counters (docs/reads-and-capacity.md).
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

/**
 * Below this share of the capacity left, writes lease only their own room (see `nearFull`): a
 * 1 MiB store with three instances, filled through the facade, refused with 507 on one instance
 * while another still held a scrap of lease big enough for one more 10 KB message...
 */
const NEAR_FULL_SHARE = 1 / 4;
/** A lease is this share of the room left when it is taken (3 instances hold at most 3/8 of it)... */
const LEASE_SHARE = 1 / 8;
/**
 * ...and at most this much: what a killed instance leaves counted for good (the counter is never
 * recomputed, so a crash-looping instance adds this each time: 600 crashes fill the default 600 MB),
 * and what the other instances' leases add to `usedBytes`. About 2,500 messages of 32 characters:
 * a lease a few seconds at an instance's full write rate, so the next is one add among thousands of writes.
 */
export const LEASE_MAX_BYTES = 1024 * 1024;

/**
 * ...or below this much left, if less. Writing near the capacity costs a counter add per write,
 * one at a time on an instance: 661–790 adds/s for three instances (`npm run bench:counters`),
 * below what POST /facade reaches. So that stretch is kept short: a quarter of the default 600 MB
 * would be its last 330,000 messages of 32 characters. By the time this much is left the leases
 * are at most LEASE_MAX_BYTES each.
 */
export const NEAR_FULL_MAX_BYTES = 8 * LEASE_MAX_BYTES;

/** The heap one message is charged: the overhead plus the UTF-8 bytes of what it stores. */
export function entryCostBytes(msg: string, loggedBy: string): number {
  return ENTRY_OVERHEAD_BYTES + Buffer.byteLength(msg) + Buffer.byteLength(loggedBy);
}

export interface CapacityOptions {
  /** The most the messages may take in each member's heap. */
  capacityBytes: number;
  /** How old the total shown in `usedBytes` may get before it is re-read in the background (default 500 ms). */
  refreshMs?: number;
}

export class StoreCapacity {
  /** The counter as last read: every instance's leases, this one's included. */
  private total: number | undefined;
  /** Room this instance leased and has not spent. */
  private lease = 0;
  /** Room to give back to the counter at the next add (a give-back that failed). */
  private owed = 0;
  private taking: Promise<number> | undefined;
  private reading: Promise<void> | undefined;
  private lastRead = 0;
  private closed = false;

  constructor(
    private readonly counter: SharedCounter,
    private readonly options: CapacityOptions,
  ) {}

  get capacityBytes(): number {
    return this.options.capacityBytes;
  }

  /**
   * The estimate of the heap the messages take on each member, as this instance knows it: the
   * counter less this instance's unspent lease (the other instances' are included, at most
   * LEASE_MAX_BYTES each).
   */
  get usedBytes(): number | undefined {
    if (this.total === undefined) return undefined;
    if (Date.now() - this.lastRead > this.refreshMs) void this.refresh();
    return this.total - this.lease;
  }

  /**
   * Takes room for a write of `cost` bytes from this instance's lease, leasing more when it runs
   * out (and in the background once it runs low, so writes far from the capacity do not wait for
   * the counter).
   * @throws StoreError STORE_FULL when the room is not there
   */
  async reserve(cost: number): Promise<void> {
    while (this.lease < cost) {
      const got = await this.take(cost);
      if (got === 0 && this.lease < cost) {
        // Near the capacity a scrap too small for this write goes back, for another instance's.
        if (this.nearFull) await this.giveBack();
        throw this.full();
      }
    }
    this.lease -= cost;
    if (!this.nearFull && this.lease < this.leaseSize() / 2) void this.take(0).catch(() => undefined);
  }

  /** Gives back the room of a write that stored nothing (a replay, a conflict, a refusal). */
  release(cost: number): void {
    this.lease += cost;
  }

  /** Gives this instance's unspent lease back to the counter, e.g. when the service stops. */
  async close(): Promise<void> {
    this.closed = true;
    await this.taking?.catch(() => undefined);
    await this.giveBack();
  }

  /** Gives the unspent lease (and any give-back owed) to the counter; what it does not take stays owed. */
  private async giveBack(): Promise<void> {
    const back = this.lease + this.owed;
    this.lease = 0;
    this.owed = 0;
    if (back <= 0) return;
    try {
      this.total = await this.counter.addAndGet(-back);
    } catch {
      this.owed += back;
    }
  }

  /**
   * Leases a share of the room left, at least `min` bytes: adds it to the counter, and gives back
   * what passed the capacity; one lease at a time.
   * @returns the bytes leased (0 when not even `min`, or nothing, was left)
   */
  private take(min: number): Promise<number> {
    this.taking ??= (async () => {
      if (this.closed) return 0;
      const want = this.nearFull ? Math.max(0, min - this.lease) : Math.max(min, this.leaseSize());
      if (want === 0) return 0;
      const owed = this.owed;
      this.owed = 0;
      let total: number;
      try {
        total = await this.counter.addAndGet(want - owed);
      } catch (err) {
        this.owed += owed;
        throw err;
      }
      this.total = total;
      this.lastRead = Date.now();
      const before = total - want;
      const fits = Math.max(0, this.options.capacityBytes - before);
      // Less than asked is kept when, with the lease already held, it makes room for `min`.
      const keep = fits >= want ? want : fits > 0 && fits + this.lease >= min ? fits : 0;
      if (keep < want) {
        try {
          this.total = await this.counter.addAndGet(keep - want);
        } catch {
          this.owed += want - keep;
        }
      }
      this.lease += keep;
      return keep;
    })().finally(() => (this.taking = undefined));
    return this.taking;
  }

  /**
   * Under a quarter of the capacity left (at most NEAR_FULL_MAX_BYTES), by the counter as last
   * read: each write leases exactly its own room, so no instance holds room it cannot spend while
   * another is refused, and a 507 from one instance is a 507 from all (for a message as large).
   */
  private get nearFull(): boolean {
    const { capacityBytes } = this.options;
    return capacityBytes - (this.total ?? 0) < Math.min(capacityBytes * NEAR_FULL_SHARE, NEAR_FULL_MAX_BYTES);
  }

  /** A share of the room left as last seen, at most LEASE_MAX_BYTES. */
  private leaseSize(): number {
    const left = this.options.capacityBytes - (this.total ?? 0);
    return Math.max(0, Math.min(LEASE_MAX_BYTES, Math.floor(left * LEASE_SHARE)));
  }

  private full(): StoreError {
    const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
    const used = Math.min(this.total ?? 0, this.options.capacityBytes);
    return new StoreError('STORE_FULL', `the message store is full: ${mb(used)} of its ${mb(this.options.capacityBytes)} capacity is used; nothing more is stored until members get more heap`);
  }

  /** Re-reads the counter for `usedBytes`; one read at a time. */
  private refresh(): Promise<void> {
    this.reading ??= this.counter
      .get()
      .then((total) => {
        this.total = total;
        this.lastRead = Date.now();
      })
      .catch(() => undefined)
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  private get refreshMs(): number {
    return this.options.refreshMs ?? 500;
  }
}
