/**
 * Calls between services: every call has a timeout, connections are kept alive and reused, and
 * `callAny` spreads calls over a service's instances with one named retry policy — a random
 * instance first, then *another* instance after each failure, with a short bounded backoff.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { REQUEST_ID_HEADER } from './http/headers.js';
import { activeTraceId, endSpan, type Tracing } from './tracing.js';

/**
 * 5xx answers that speak for the whole service, not for the instance that sent them: 507 (the
 * shared store is full) would be the same on every instance, so it is an answer, not a failure
 * to retry elsewhere.
 */
const SERVICE_WIDE_STATUSES = new Set([507]);

/** Why one attempt failed; used as a metric label, so the set is closed. */
export type FailureReason = 'refused' | 'timeout' | 'reset' | 'network' | 'status_5xx';

export class UpstreamError extends Error {
  constructor(
    readonly url: string,
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown; status?: number; body?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.status = options?.status;
    this.body = options?.body;
  }
  readonly status: number | undefined;
  /** The body of a 5xx answer (another service's JSON error), as sent. */
  readonly body: string | undefined;
}

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
   * while healthy ones remain; the cooldown doubles with each consecutive failure (up to 16×), so a
   * hung instance is probed ever more rarely instead of stalling a request every cooldown. One that
   * answered, even with a 5xx, is alive and is not cooled down.
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
 */
export class InstancePicker {
  /** Per failing instance: when it failed last and how many times in a row. */
  private readonly failures = new Map<string, { at: number; streak: number }>();

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Picks an instance not yet `tried` in this call; once all were tried, any but the one that
   * failed last. Among those, instances that failed within the cooldown are avoided while others remain.
   */
  pick(instances: readonly string[], tried: ReadonlySet<string>, lastFailed?: string): string {
    if (instances.length === 0) throw new Error('no instances to pick from');
    let candidates = instances.filter((i) => !tried.has(i));
    if (candidates.length === 0) {
      candidates = instances.length > 1 ? instances.filter((i) => i !== lastFailed) : [...instances];
    }
    const now = this.now();
    const healthy = candidates.filter((i) => {
      const f = this.failures.get(i);
      return f === undefined || now - f.at >= this.cooldownMs * 2 ** Math.min(4, f.streak - 1);
    });
    const pool = healthy.length > 0 ? healthy : candidates;
    return pool[Math.floor(this.random() * pool.length)] ?? pool[0]!;
  }

  /** The instance did not answer: refused, reset, timed out. */
  markFailed(instance: string): void {
    this.failures.set(instance, { at: this.now(), streak: (this.failures.get(instance)?.streak ?? 0) + 1 });
  }

  /** The instance answered, whatever it said: it is up, and no longer passed over. */
  markAnswered(instance: string): void {
    this.failures.delete(instance);
  }
}

export interface UpstreamResponse {
  status: number;
  contentType: string;
  text: string;
}

export interface CallOptions {
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  json?: unknown;
  requestId?: string;
  /** Bound on this call instead of the client's own, e.g. a short health probe. */
  timeoutMs?: number;
  /** The whole request's deadline (epoch ms): no attempt outlives it, none starts after it. */
  deadline?: number;
  /** Abandons the call (the caller's client went away): the attempt is cut and none follows. */
  signal?: AbortSignal;
  /** Which failures `callAny` retries on another instance; every failure when not given. */
  retryIf?: (err: UpstreamError) => boolean;
  /** Told of every failed attempt of `callAny`, in order, the last one (which it throws) included. */
  onFailure?: (err: UpstreamError) => void;
}

/**
 * The retry rule for reads: try another instance only when the first could not have done the
 * work: the connection was refused or reset, or it answered 503 (down, or too busy to start).
 * A read that timed out may have been failing under its own weight; repeating it elsewhere would
 * multiply that load, so it is not retried.
 */
export const retryIfNotStarted = (err: UpstreamError): boolean => err.reason === 'refused' || err.reason === 'reset' || err.status === 503;

export interface ServiceClientOptions {
  /** Bound on one attempt, connect to last byte. */
  timeoutMs: number;
  policy: RetryPolicy;
  logger: Logger;
  /** Called once per failed attempt that will be retried; e.g. to count retries by reason. */
  onRetry?: (reason: FailureReason, instance: string) => void;
  picker?: InstancePicker;
  sleep?: (ms: number) => Promise<void>;
  /** Where the count of retry lines not logged goes (see LogLimiter). */
  registry?: Registry;
  /** A client span per attempt, its `traceparent` sent along; none when tracing is off. */
  tracing?: Tracing;
}

function classify(err: unknown): FailureReason {
  const e = err as { name?: string; code?: string; type?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.type === 'aborted') return 'timeout';
  if (e?.code === 'ECONNREFUSED') return 'refused';
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE' || e?.code === 'UND_ERR_SOCKET') return 'reset';
  return 'network';
}

export class ServiceClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 64 });
  private readonly picker: InstancePicker;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly retryLog: LogLimiter;

  constructor(private readonly options: ServiceClientOptions) {
    this.picker = options.picker ?? new InstancePicker(options.policy.cooldownMs);
    this.retryLog = new LogLimiter(options.logger, { registry: options.registry });
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /**
   * One attempt against one URL. Resolves with any HTTP status below 500, and with 507.
   * @throws UpstreamError when the instance is unreachable, too slow, or answers 5xx
   */
  async request(url: string, { method = 'GET', json, requestId, timeoutMs = this.options.timeoutMs, deadline, signal }: CallOptions = {}): Promise<UpstreamResponse> {
    signal?.throwIfAborted();
    if (deadline !== undefined) timeoutMs = Math.min(timeoutMs, deadline - Date.now());
    if (timeoutMs <= 0) throw new UpstreamError(url, 'timeout', `${method} ${url}: the request's deadline has passed`);
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const span = this.options.tracing?.startClientSpan(method, url, headers);
    const secure = url.startsWith('https:');
    // node:http on the pooled keep-alive agents rather than node-fetch: node-fetch's machinery per
    // call (body streams, Headers, an AbortSignal) was the largest cost on the facade's hot path.
    // The profile and the A/B run: docs/performance.md, "What profiling changed".
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const fail = (err: unknown) => {
        clearTimeout(timer);
        endSpan(span, undefined, err);
        if (signal?.aborted) return reject(signal.reason);
        const reason = classify(err);
        reject(new UpstreamError(url, reason, `${method} ${url}: ${reason}`, { cause: err }));
      };
      const agent = secure ? this.httpsAgent : this.httpAgent;
      const req = (secure ? https : http).request(url, { method, headers, signal, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          endSpan(span, status);
          if (status >= 500 && !SERVICE_WIDE_STATUSES.has(status)) {
            reject(new UpstreamError(url, 'status_5xx', `${method} ${url}: HTTP ${status}`, { status, body: Buffer.concat(chunks).toString('utf8') }));
            return;
          }
          resolve({ status, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      // One bound on the whole attempt, connect to last byte.
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }

  /**
   * One streamed GET: resolves with the response as soon as its headers arrive (any status below
   * 500, and 507), for the caller to read at its own pace (backpressure reaches the sender).
   * `timeoutMs` bounds the wait for the headers; the body may take as long as the caller reads
   * (`readLines` bounds each wait for more). The caller must read or destroy it.
   * @throws UpstreamError when the instance is unreachable, too slow to answer, or answers 5xx
   */
  async stream(url: string, { requestId, timeoutMs = this.options.timeoutMs, signal }: CallOptions = {}): Promise<http.IncomingMessage> {
    signal?.throwIfAborted();
    const headers: http.OutgoingHttpHeaders = { accept: 'application/x-ndjson, application/json' };
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    const span = this.options.tracing?.startClientSpan('GET', url, headers);
    const secure = url.startsWith('https:');
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const fail = (err: unknown) => {
        clearTimeout(timer);
        endSpan(span, undefined, err);
        if (signal?.aborted) return reject(signal.reason);
        const reason = classify(err);
        reject(new UpstreamError(url, reason, `GET ${url}: ${reason}`, { cause: err }));
      };
      const req = (secure ? https : http).request(url, { headers, signal, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
        const status = res.statusCode ?? 0;
        // The span lasts until the body has been read (or given up).
        if (span) res.once('close', () => endSpan(span, status));
        if (status >= 500 && !SERVICE_WIDE_STATUSES.has(status)) {
          res.resume();
          reject(new UpstreamError(url, 'status_5xx', `GET ${url}: HTTP ${status}`, { status }));
          return;
        }
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
      req.on('error', fail);
      req.end();
    });
  }

  /**
   * Sends the same request to one of `instances`, retrying per the policy on another instance
   * after a failure. Only safe for idempotent requests (reads, or writes keyed by a fixed id).
   * @throws UpstreamError from the last attempt when every attempt failed (every one of them
   *   goes to `onFailure`)
   */
  callAny(
    instances: readonly string[],
    toUrl: (instance: string) => string,
    options: CallOptions = {},
  ): Promise<{ instance: string; response: UpstreamResponse; attempts: number }> {
    return this.onAny(instances, (instance) => this.request(toUrl(instance), options), options);
  }

  /** `stream` on one of `instances`, with `callAny`'s choice and retry rules, until headers arrive. */
  streamAny(
    instances: readonly string[],
    toUrl: (instance: string) => string,
    options: CallOptions = {},
  ): Promise<{ instance: string; response: http.IncomingMessage; attempts: number }> {
    return this.onAny(instances, (instance) => this.stream(toUrl(instance), options), options);
  }

  /** The retry policy, once for every kind of call: a random instance, then another after each failure. */
  private async onAny<R>(
    instances: readonly string[],
    attemptOn: (instance: string) => Promise<R>,
    options: CallOptions,
  ): Promise<{ instance: string; response: R; attempts: number }> {
    const { policy, onRetry } = this.options;
    const tried = new Set<string>();
    let lastFailed: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const instance = this.picker.pick(instances, tried, lastFailed);
      tried.add(instance);
      try {
        const response = await attemptOn(instance);
        this.picker.markAnswered(instance);
        return { instance, response, attempts: attempt };
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        // A 5xx is an answer: the instance is up (a logging instance on a minority side, say), so
        // it is tried again as soon as the next request; only one that did not answer cools down.
        if (err.reason === 'status_5xx') this.picker.markAnswered(instance);
        else this.picker.markFailed(instance);
        options.onFailure?.(err);
        lastFailed = instance;
        const expired = options.deadline !== undefined && Date.now() >= options.deadline;
        if (attempt >= policy.maxAttempts || expired || (options.retryIf && !options.retryIf(err))) throw err;
        onRetry?.(err.reason, instance);
        const traceId = this.options.tracing && activeTraceId();
        const fields = { requestId: options.requestId, trace_id: traceId, instance, reason: err.reason, attempt };
        this.retryLog.log(`upstream ${err.reason}: ${instance}`, 'warn', fields, 'upstream attempt failed; retrying');
        await this.sleep(backoffDelayMs(policy, attempt + 1));
        options.signal?.throwIfAborted();
      }
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * The lines of a streamed body (NDJSON), as they arrive: each batch is the complete lines of what
 * came in one go, so a reader holds one network chunk at a time. Only while the reader waits for
 * more does a silence count: longer than `silenceMs`, and the body is given up.
 * @throws UpstreamError (reason `reset`) when the sender cut the body short, or `timeout`
 */
export async function* readLines(res: http.IncomingMessage, url: string, silenceMs: number): AsyncGenerator<string[]> {
  res.setEncoding('utf8');
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<string>;
  let rest = '';
  try {
    for (;;) {
      const timer = setTimeout(() => res.destroy(Object.assign(new Error(`silent for ${silenceMs} ms`), { name: 'TimeoutError' })), silenceMs);
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw new UpstreamError(url, classify(err) === 'timeout' ? 'timeout' : 'reset', `GET ${url}: the body was cut short`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
      if (next.done) break;
      const lines = (rest + next.value).split('\n');
      rest = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
    if (!res.complete) throw new UpstreamError(url, 'reset', `GET ${url}: the body was cut short`);
  } finally {
    if (!res.complete) res.destroy();
  }
  if (rest !== '') throw new UpstreamError(url, 'reset', `GET ${url}: the body ended inside a line`);
}
