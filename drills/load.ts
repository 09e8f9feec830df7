import { v7 as uuidv7 } from 'uuid';

/**
 * A bounded, paced write load through the facade: `clients` concurrent loops post unique messages
 * (form bodies, as the lab's client) at about `ratePerSecond` until stopped or `maxMessages` is
 * reached, and record every answer. Used by the chaos runs and their tests.
 */
export interface Attempt {
  msg: string;
  startedAt: number;
  ms: number;
  /** HTTP status, or 0 when no answer came (refused, reset, timeout). */
  status: number;
  loggedBy?: string;
  /** The id the facade gave the message (from a 201's body). */
  uuid?: string;
}

export interface LoadOptions {
  facadeUrl: string;
  prefix: string;
  clients?: number;
  ratePerSecond?: number;
  maxMessages?: number;
  /** Bound on one request. */
  timeoutMs?: number;
}

export class WriteLoad {
  readonly attempts: Attempt[] = [];
  private next = 0;
  private stopped = false;
  /** When the load began (epoch ms). */
  readonly startedAt = Date.now();
  /**
   * An id before every message of this load (ids are UUIDv7, creation-ordered; a second's margin
   * for the facade's clock): `?after=` this reads the load's messages without the rest of the map.
   */
  readonly readAfter = uuidv7({ msecs: this.startedAt - 1_000 });
  private readonly done: Promise<void>;
  private readonly o: Required<LoadOptions>;

  constructor(options: LoadOptions) {
    this.o = { clients: 32, ratePerSecond: 300, maxMessages: 5_000, timeoutMs: 30_000, ...options };
    this.done = Promise.all(Array.from({ length: this.o.clients }, () => this.loop())).then(() => undefined);
  }

  private async loop(): Promise<void> {
    const interval = 1000 / this.o.ratePerSecond;
    while (!this.stopped && this.next < this.o.maxMessages) {
      const i = this.next++;
      const wait = this.startedAt + i * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.stopped) return;
      const msg = `${this.o.prefix}-${i}`;
      const startedAt = Date.now();
      const attempt: Attempt = { msg, startedAt, ms: 0, status: 0 };
      try {
        const res = await fetch(`${this.o.facadeUrl}/facade`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ msg }).toString(),
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        attempt.status = res.status;
        const body = (await res.json().catch(() => ({}))) as { loggedBy?: string; message?: { uuid?: string } };
        attempt.loggedBy = body.loggedBy;
        attempt.uuid = body.message?.uuid;
      } catch {
        attempt.status = 0;
      }
      attempt.ms = Date.now() - startedAt;
      this.attempts.push(attempt);
    }
  }

  /** What every message of this load starts with. */
  get prefix(): string {
    return `${this.o.prefix}-`;
  }

  /** Stops issuing new requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** Resolves once `n` answers have arrived (or the load has ended). */
  async untilAnswered(n: number): Promise<void> {
    while (this.attempts.length < n && !(this.stopped || this.next >= this.o.maxMessages && this.attempts.length >= this.next)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get acknowledged(): string[] {
    return this.attempts.filter((a) => a.status === 201).map((a) => a.msg);
  }

  failures(filter: (a: Attempt) => boolean = () => true): Attempt[] {
    return this.attempts.filter((a) => a.status !== 201 && filter(a));
  }

  /** When the first request that started after `t` was acknowledged (ms after `t`), if any was. */
  firstAckAfter(t: number): number | undefined {
    const acks = this.attempts.filter((a) => a.status === 201 && a.startedAt >= t).map((a) => a.startedAt + a.ms);
    return acks.length ? Math.min(...acks) - t : undefined;
  }

  /**
   * Writes acknowledged in each second from `from` to `to` (epoch ms), by when their answer came:
   * the rate a client saw, second by second.
   */
  acknowledgedPerSecond(from: number, to: number): number[] {
    const counts = Array.from({ length: Math.ceil((to - from) / 1000) }, () => 0);
    for (const a of this.attempts) {
      const at = a.startedAt + a.ms;
      if (a.status === 201 && at >= from && at < to) counts[Math.floor((at - from) / 1000)]! += 1;
    }
    return counts;
  }

  /** The longest stretch from `from` to `to` (epoch ms) in which no write was acknowledged, ms. */
  longestWithoutAck(from: number, to: number): number {
    const acks = this.attempts
      .filter((a) => a.status === 201)
      .map((a) => a.startedAt + a.ms)
      .filter((t) => t > from && t < to)
      .sort((x, y) => x - y);
    let longest = 0;
    let last = from;
    for (const t of [...acks, to]) {
      longest = Math.max(longest, t - last);
      last = t;
    }
    return longest;
  }

  latencyPercentile(p: number): number {
    const sorted = this.attempts.map((a) => a.ms).sort((x, y) => x - y);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
  }
}
