/**
 * The one "wait until": polls a condition until it holds or a deadline passes. The launcher, the
 * drills, the bench and the tests all wait with it (tests through `eventually`).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** How long to keep polling, ms. */
  timeoutMs: number;
  /** Pause between two polls, ms (default 200). */
  intervalMs?: number;
  /** Whose wait this is, put before the timeout message (e.g. a process's name). */
  who?: string;
  /** Asked before each poll: a reason to stop waiting at once (it becomes the error), or undefined. */
  giveUpIf?: () => string | undefined;
}

/** The deadline passed; `cause` is the last error the probe threw, if it threw. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    who: string | undefined,
    cause: unknown,
  ) {
    super(`${who ? `${who}: ` : ''}timed out after ${timeoutMs} ms waiting for ${what}`, cause === undefined ? {} : { cause });
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, and resolves with that value. A probe
 * that throws counts as "not yet". It is given the ms left before the deadline (for progress lines).
 * @param what the awaited condition, for the timeout message ("the cluster to form")
 * @throws WaitTimeoutError when `timeoutMs` has passed; Error with `giveUpIf`'s reason when it gives one
 */
export async function waitUntil<T>(
  what: string,
  probe: (leftMs: number) => T | undefined | Promise<T | undefined>,
  { timeoutMs, intervalMs = 200, who, giveUpIf }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const reason = giveUpIf?.();
    if (reason !== undefined) throw new Error(reason);
    try {
      const value = await probe(deadline - Date.now());
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs, who, last);
    await sleep(intervalMs);
  }
}
