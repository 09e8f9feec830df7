/**
 * The retry policy for calls to a service's instances, written once for every kind of call: a
 * random instance first, then *another* after each failure, with a short bounded backoff; an
 * instance that did not answer is passed over for a while. It knows nothing of HTTP beyond the
 * UpstreamError an attempt fails with (lib/service-client.ts makes the attempts).
 */
import type { Logger } from './log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogLimiter } from './log-limiter.js';
import type { MetricsRegistry } from './metrics.js';
import { activeTraceId } from './tracing.js';
import { UpstreamError, type FailureReason } from './upstream-error.js';

/** The retry policy for calls to a service's instances. */
export interface RetryPolicy {
  /** Attempts in all, first try included. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles for each later one. */
  baseDelayMs: number;
  /** Cap on one backoff. */
  maxDelayMs: number;
  /**
   * An instance that just failed to answer (refused, reset, timed out) is passed over for this long
   * while healthy ones remain; then one request probes it. The cooldown doubles with each failed
   * probe (up to 16×), so a hung instance is probed ever more rarely instead of stalling a request
   * every cooldown. One that answered, even with a 5xx, is alive and is not cooled down.
   */
  cooldownMs: number;
}

/** Backoff before attempt `attempt` (2, 3, ...): exponential, capped, with jitter in [50%, 100%]. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
  return Math.round(exp * (0.5 + random() / 2));
}

/**
 * Chooses instances. Pure apart from the clock and the random source it is given, so the choice
 * rules are unit-tested directly.
 *
 * An instance that failed is a suspect: passed over for its cooldown while others remain. Once the
 * cooldown is over, one request probes it, and the others go on passing it over until that probe
 * has answered (it is trusted again) or failed (its cooldown doubles). So a dead instance costs one
 * request per cooldown, not every request that happens to pick it while the probe waits.
 */
export class InstancePicker {
  /** Per failing instance: when it failed last and how many times in a row (probes, not requests already under way). */
  private readonly failures = new Map<string, { at: number; streak: number }>();
  /** Suspects whose probe is under way. */
  private readonly probing = new Set<string>();

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** How long a suspect that failed `streak` times in a row is passed over: the cooldown, doubled per failure after the first, to 16×. */
  private cooldown(streak: number): number {
    return this.cooldownMs * 2 ** Math.min(4, streak - 1);
  }

  /** Whether `instance` is to be passed over now: in its cooldown, or being probed. */
  private avoided(instance: string, now: number): boolean {
    const f = this.failures.get(instance);
    return f !== undefined && (this.probing.has(instance) || now - f.at < this.cooldown(f.streak));
  }

  /**
   * Picks an instance not yet `tried` in this call; once all were tried, any but the one that
   * failed last. Among those, suspects in their cooldown or being probed are avoided while others
   * remain. A suspect picked once its cooldown is over is being probed until `markAnswered`,
   * `markFailed` or `release` (with no cooldown at all, nothing is ever passed over).
   */
  pick(instances: readonly string[], tried: ReadonlySet<string>, lastFailed?: string): string {
    if (instances.length === 0) throw new Error('no instances to pick from');
    let candidates = instances.filter((i) => !tried.has(i));
    if (candidates.length === 0) {
      candidates = instances.length > 1 ? instances.filter((i) => i !== lastFailed) : [...instances];
    }
    const now = this.now();
    const healthy = candidates.filter((i) => !this.avoided(i, now));
    const pool = healthy.length > 0 ? healthy : candidates;
    const chosen = pool[Math.floor(this.random() * pool.length)] ?? pool[0]!;
    if (healthy.length > 0 && this.cooldownMs > 0 && this.failures.has(chosen)) this.probing.add(chosen);
    return chosen;
  }

  /**
   * The instance did not answer: refused, reset, timed out. Its streak grows by one when it failed
   * as a trusted instance or as a probe; requests that were already under way when it first failed,
   * failing now too, only restart its cooldown.
   */
  markFailed(instance: string): void {
    const now = this.now();
    const f = this.failures.get(instance);
    const again = f !== undefined && !this.probing.has(instance) && now - f.at < this.cooldown(f.streak);
    this.probing.delete(instance);
    this.failures.set(instance, { at: now, streak: f === undefined ? 1 : again ? f.streak : f.streak + 1 });
  }

  /** The instance answered, whatever it said: it is up, and no longer passed over. */
  markAnswered(instance: string): void {
    this.failures.delete(instance);
    this.probing.delete(instance);
  }

  /** The attempt on `instance` ended without telling whether it is up (the caller went away, say): another request may probe it. */
  release(instance: string): void {
    this.probing.delete(instance);
  }
}

/**
 * The retry rule for reads: try another instance only when the first could not have done the
 * work: the connection was refused, never made or reset, or it answered 503 (down, or too busy to start).
 * A read that timed out may have been failing under its own weight; repeating it elsewhere would
 * multiply that load, so it is not retried.
 */
export const retryIfNotStarted = (err: UpstreamError): boolean =>
  err.reason === 'refused' || err.reason === 'connect_timeout' || err.reason === 'reset' || err.status === 503;

/** What the retry loop is told about one call. */
export interface RetryOptions {
  requestId?: string;
  /** The whole request's deadline (epoch ms): no attempt outlives it (the transport bounds each by it), none starts after it. */
  deadline?: number;
  /** Abandons the call (the caller's client went away): the attempt is cut and none follows. */
  signal?: AbortSignal;
  /** Which failures are retried on another instance; every failure when not given. */
  retryIf?: (err: UpstreamError) => boolean;
  /**
   * Failures that do not use up one of the policy's attempts: only the deadline bounds their
   * retries (a write the store could not confirm yet, while it drops a member that stopped answering).
   */
  uncounted?: (err: UpstreamError) => boolean;
  /** Told of every failed attempt, in order, the last one (which is thrown) included. */
  onFailure?: (err: UpstreamError) => void;
}

export interface InstanceRetryOptions {
  policy: RetryPolicy;
  logger: Logger;
  /** Called once per failed attempt that will be retried; e.g. to count retries by reason. */
  onRetry?: (reason: FailureReason, instance: string) => void;
  picker?: InstancePicker;
  sleep?: (ms: number) => Promise<void>;
  /** Where the count of retry lines not logged goes (see LogLimiter). */
  metricsRegistry?: MetricsRegistry;
  /** Adds the active trace's id to the retry log lines. */
  traced?: boolean;
}

/** The retry loop over a service's instances, with its picker's memory of which failed. */
export class InstanceRetry {
  private readonly picker: InstancePicker;
  private readonly retryLog: LogLimiter;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: InstanceRetryOptions) {
    this.picker = options.picker ?? new InstancePicker(options.policy.cooldownMs);
    this.retryLog = new LogLimiter(options.logger, { metricsRegistry: options.metricsRegistry });
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /**
   * `attemptOn` one of `instances`, then another after each failure, as the policy says. Only safe
   * for idempotent requests (reads, or writes keyed by a fixed id).
   * @throws UpstreamError from the last attempt when every attempt failed (each goes to `onFailure`)
   */
  async run<R>(
    instances: readonly string[],
    attemptOn: (instance: string) => Promise<R>,
    options: RetryOptions,
  ): Promise<{ instance: string; response: R; attempts: number }> {
    const { policy, onRetry } = this.options;
    const tried = new Set<string>();
    let lastFailed: string | undefined;
    let counted = 0;
    for (let attempt = 1; ; attempt++) {
      const instance = this.picker.pick(instances, tried, lastFailed);
      tried.add(instance);
      try {
        const response = await attemptOn(instance);
        this.picker.markAnswered(instance);
        return { instance, response, attempts: attempt };
      } catch (err) {
        if (!(err instanceof UpstreamError)) {
          this.picker.release(instance);
          throw err;
        }
        // A 5xx is an answer: the instance is up (a logging instance on a minority side, say), so
        // it is tried again as soon as the next request; only one that did not answer cools down.
        if (err.reason === 'status_5xx') this.picker.markAnswered(instance);
        else this.picker.markFailed(instance);
        options.onFailure?.(err);
        lastFailed = instance;
        if (!options.uncounted?.(err)) counted++;
        const expired = options.deadline !== undefined && Date.now() >= options.deadline;
        if (counted >= policy.maxAttempts || expired || (options.retryIf && !options.retryIf(err))) throw err;
        onRetry?.(err.reason, instance);
        const traceId = this.options.traced ? activeTraceId() : undefined;
        const fields = { requestId: options.requestId, trace_id: traceId, instance, reason: err.reason, attempt };
        this.retryLog.log(`upstream ${err.reason}: ${instance}`, 'warn', fields, 'upstream attempt failed; retrying');
        await this.sleep(backoffDelayMs(policy, Math.min(attempt, policy.maxAttempts) + 1));
        options.signal?.throwIfAborted();
      }
    }
  }
}
