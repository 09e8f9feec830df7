/**
 * Calls between services, the transport: every attempt takes one path (`open`): its headers, a
 * client span, a pooled keep-alive connection, one timer, and every failure an UpstreamError.
 * `request` reads the whole answer, `stream` hands the body over to be read at the caller's pace
 * (lib/ndjson.ts reads it line by line); `callAny` and `streamAny` spread attempts over a service's
 * instances by the retry policy of lib/retry.ts.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { REQUEST_ID_HEADER } from './http/headers.js';
import { endSpan, type Tracing } from './tracing.js';
import { InstanceRetry, type InstanceRetryOptions, type RetryOptions } from './retry.js';
import { UpstreamError, classify } from './upstream-error.js';

/**
 * 5xx answers that speak for the whole service, not for the instance that sent them: 507 (the
 * shared store is full) would be the same on every instance, so it is an answer, not a failure
 * to retry elsewhere.
 */
const SERVICE_WIDE_STATUSES = new Set([507]);

/** The most of a 5xx answer's body kept for the caller (another service's JSON error is far smaller). */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface UpstreamResponse {
  status: number;
  contentType: string;
  text: string;
}

export interface CallOptions extends RetryOptions {
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  json?: unknown;
  /** Bound on this call instead of the client's own, e.g. a short health probe. */
  timeoutMs?: number;
}

/** The transport's own options, and the retry loop's (lib/retry.ts) for `callAny` and `streamAny`. */
export interface ServiceClientOptions extends Omit<InstanceRetryOptions, 'traced'> {
  /** Bound on one attempt: connect to last byte for `request`, to the headers for `stream`. */
  timeoutMs: number;
  /**
   * Bound on making a new connection (none while a kept-alive one is reused); `timeoutMs` when not
   * given. When one to an instance is not made in time, its address has gone (a lost node: every
   * packet dropped), and every other connection to it, pooled or carrying a request, is cut too:
   * nothing will come back on them either, and their requests are retried elsewhere at once.
   */
  connectTimeoutMs?: number;
  /** A client span per attempt, its `traceparent` sent along; none when tracing is off. */
  tracing?: Tracing;
}

/** An attempt whose answer's headers are in (a status below 500, or 507). */
interface Opened {
  res: http.IncomingMessage;
  /** Stops the attempt's timer. */
  stopTimer(): void;
  /** Stops the timer and ends the attempt's span, with `err` if it failed; idempotent. */
  end(err?: unknown): void;
  /** What an error while reading the body is, as the call reports it (an UpstreamError, or the abort's reason). */
  failure(err: unknown): unknown;
}

/** Reads a body whole, as text; at most `limit` characters of it kept. */
function readText(res: http.IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('error', reject);
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit)));
    // Closed before its end, with or without an 'error' (the attempt's timer destroys the request).
    res.on('close', () => !res.complete && reject(Object.assign(new Error('the answer was cut short'), { code: 'ECONNRESET' })));
  });
}

export class ServiceClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 64 });
  private readonly retry: InstanceRetry;
  /** Every connection, pooled or in use, by the origin it goes to: those of an instance that has gone are cut at once. */
  private readonly connections = new Map<string, Set<Socket>>();

  constructor(private readonly options: ServiceClientOptions) {
    this.retry = new InstanceRetry({ ...options, traced: options.tracing !== undefined });
  }

  /**
   * One attempt against one URL, its answer read whole. Resolves with any HTTP status below 500, and with 507.
   * @throws UpstreamError when the instance is unreachable, too slow, or answers 5xx
   */
  async request(url: string, options: CallOptions = {}): Promise<UpstreamResponse> {
    const { res, end, failure } = await this.open(url, 'application/json', options);
    try {
      const text = await readText(res);
      end();
      return { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text };
    } catch (err) {
      end(err);
      throw failure(err);
    }
  }

  /**
   * One streamed GET: resolves with the response as soon as its headers arrive (any status below
   * 500, and 507), for the caller to read at its own pace (backpressure reaches the sender).
   * The timeout bounds the wait for the headers; the body may take as long as the caller reads
   * (`readLines` bounds each wait for more). The caller must read or destroy it.
   * @throws UpstreamError when the instance is unreachable, too slow to answer, or answers 5xx
   */
  async stream(url: string, options: CallOptions = {}): Promise<http.IncomingMessage> {
    const { res, stopTimer, end } = await this.open(url, 'application/x-ndjson, application/json', { ...options, method: 'GET', json: undefined });
    // The timer stops at the headers; the span lasts until the body has been read (or given up).
    stopTimer();
    res.once('close', () => end());
    return res;
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
    return this.retry.run(instances, (instance) => this.request(toUrl(instance), options), options);
  }

  /** `stream` on one of `instances`, with `callAny`'s choice and retry rules, until headers arrive. */
  streamAny(
    instances: readonly string[],
    toUrl: (instance: string) => string,
    options: CallOptions = {},
  ): Promise<{ instance: string; response: http.IncomingMessage; attempts: number }> {
    return this.retry.run(instances, (instance) => this.stream(toUrl(instance), options), options);
  }

  /** Keeps `socket` among `origin`'s connections until it closes. */
  private track(origin: string, socket: Socket): void {
    let sockets = this.connections.get(origin);
    if (sockets === undefined) this.connections.set(origin, (sockets = new Set()));
    if (sockets.has(socket)) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  }

  /**
   * Starts the connect timer of a request's new connection (a reused one is connected already),
   * once the address is known (a name's DNS lookup is not the instance's fault). When it fires, one
   * turn of the event loop passes before the check, so a connection made while the loop was busy
   * is not taken for a missing one. Not made by then: `onTimeout`, and every other connection to
   * the same origin is cut (their requests fail as `reset`).
   */
  private watchConnect(target: URL, socket: Socket, timeoutMs: number, onTimeout: () => void): void {
    if (!socket.connecting) return;
    let timer: NodeJS.Timeout | undefined;
    const start = () => {
      timer = setTimeout(() => setImmediate(() => {
        if (!socket.connecting || socket.destroyed) return;
        onTimeout();
        for (const other of this.connections.get(target.origin) ?? []) if (other !== socket) other.destroy();
      }), timeoutMs);
    };
    if (isIP(target.hostname.replace(/^\[|\]$/g, ''))) start();
    else socket.once('lookup', (err) => err || start());
    const stop = () => clearTimeout(timer);
    socket.once('connect', stop);
    socket.once('close', stop);
  }

  /** Closes pooled connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * The one way an attempt goes out, up to its answer's headers. A 5xx other than 507 is read
   * (its body kept, bounded) and rejected as an UpstreamError `status_5xx`; so is any failure to
   * connect, send or hear back within the timeout (bounded by the deadline). The timer runs on
   * until the caller stops it: `request` at the body's end, `stream` at once. A body cut by the
   * timer is a `timeout`, whatever error the cut socket gives.
   */
  private open(url: string, accept: string, { method = 'GET', json, requestId, timeoutMs = this.options.timeoutMs, deadline, signal }: CallOptions): Promise<Opened> {
    signal?.throwIfAborted();
    if (deadline !== undefined) timeoutMs = Math.min(timeoutMs, deadline - Date.now());
    if (timeoutMs <= 0) throw new UpstreamError(url, 'timeout', `${method} ${url}: the request's deadline has passed`);
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers: http.OutgoingHttpHeaders = { accept };
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const span = this.options.tracing?.startClientSpan(method, url, headers);
    let timedOut = false;
    let notConnected = false;
    const failure = (err: unknown): unknown => {
      if (signal?.aborted) return signal.reason;
      const reason = notConnected ? 'connect_timeout' : timedOut ? 'timeout' : classify(err);
      return new UpstreamError(url, reason, `${method} ${url}: ${reason}`, { cause: err });
    };
    const secure = url.startsWith('https:');
    // node:http on the pooled keep-alive agents rather than node-fetch: node-fetch's machinery per
    // call (body streams, Headers, an AbortSignal) was the largest cost on the facade's hot path.
    // The profile and the A/B run: docs/performance.md, "What profiling changed".
    return new Promise<Opened>((resolve, reject) => {
      let spanEnded = false;
      const endOnce = (status: number | undefined, err?: unknown) => {
        if (spanEnded) return;
        spanEnded = true;
        endSpan(span, status, err);
      };
      const fail = (err: unknown) => {
        clearTimeout(timer);
        endOnce(undefined, err);
        reject(failure(err));
      };
      const agent = secure ? this.httpsAgent : this.httpAgent;
      const req = (secure ? https : http).request(url, { method, headers, signal, agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 500 && !SERVICE_WIDE_STATUSES.has(status)) {
          readText(res, ERROR_BODY_LIMIT).then((text) => {
            clearTimeout(timer);
            endOnce(status);
            reject(new UpstreamError(url, 'status_5xx', `${method} ${url}: HTTP ${status}`, { status, body: text }));
          }, fail);
          return;
        }
        resolve({
          res,
          failure,
          stopTimer: () => clearTimeout(timer),
          end: (err?: unknown) => {
            clearTimeout(timer);
            endOnce(err === undefined ? status : undefined, err);
          },
        });
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }));
      }, timeoutMs);
      const connectTimeoutMs = this.options.connectTimeoutMs ?? timeoutMs;
      req.once('socket', (socket: Socket) => {
        const target = new URL(url);
        this.track(target.origin, socket);
        // Beyond the attempt's own timer, the timer ends the attempt first (a plain `timeout`).
        if (connectTimeoutMs >= timeoutMs) return;
        this.watchConnect(target, socket, connectTimeoutMs, () => {
          notConnected = true;
          req.destroy(Object.assign(new Error(`no connection within ${connectTimeoutMs} ms`), { name: 'TimeoutError' }));
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }
}
