/**
 * Everything the facade asks of the logging service, on a random registered instance: store a
 * message, read messages, summarise the cluster. Every answer is checked against the contract
 * (lib/contract.ts) before use.
 *
 * A read of any size is one streamed request (`GET /logging?format=ndjson`), checked line by line
 * as it arrives: the facade holds what one network chunk brings, and backpressure reaches logging
 * and, through it, the members. A read starts on another instance only where the first could not
 * have started it (`retryIfNotStarted`); a read cut short (its instance died mid-read) goes on from
 * the last message received, on another instance, never repeating what was sent.
 */
import { HttpError, badRequest, unavailable } from '../../lib/errors.js';
import type { Page } from '../../lib/paging.js';
import type { ServiceClient } from '../../lib/service-client.js';
import { UpstreamError } from '../../lib/upstream-error.js';
import { readLines } from '../../lib/ndjson.js';
import { retryIfNotStarted } from '../../lib/retry.js';
import { MESSAGE_FIELDS, clusterSummary, errorAnswer, parseAnswer, readLine } from '../../lib/contract.js';
import type { ClusterSummary, ErrorAnswer, LogRequest, ReadLine } from '../../lib/contract.js';
import type { RegistryClient } from './registry-client.js';

/** What a read passes on of each message: its text (as JSON), or its whole record. */
export type ReadFields = 'text' | 'record';

/**
 * logging's 503s in which the store itself refused a write that a live instance brought to it: the
 * side of a split was too small, or the backups did not confirm the write.
 */
const STORE_REFUSALS = new Set(['STORE_MINORITY', 'STORE_UNCONFIRMED']);

/**
 * logging's 503 STORE_UNCONFIRMED: the store is there, but a backup did not confirm the write in
 * time (lib/hazelcast.ts sets how long), as while the members drop one that stopped answering.
 * Retried until the request's deadline, not for a number of attempts: once the members have dropped
 * it (their heartbeat timeout, charts/lab/files/hazelcast.yaml), the write goes through.
 */
const unconfirmed = (err: UpstreamError): boolean =>
  err.status === 503 && err.body !== undefined && parseAnswer(errorAnswer, err.body)?.error.code === 'STORE_UNCONFIRMED';

/**
 * Why a call to logging failed on every instance tried (a write, or the start of a read), told by
 * the attempt that came nearest the store: the rule, written once. An instance that could not be
 * reached knows nothing of the store; one that answered does, and its answer must not be lost
 * because the last instance tried happened to be a dead one (a store on a minority side is
 * reported as STORE_MINORITY on every write, whichever instances were tried and in whatever
 * order). Nearest first:
 *
 * 1. the store's own refusal, from a live instance (503 STORE_MINORITY, STORE_UNCONFIRMED): passed on;
 * 2. a live instance's other 503 with a code (STORE_UNAVAILABLE: it has lost the cluster; READS_BUSY
 *    for a read): passed on;
 * 3. a live instance's other 5xx with a code (a 500 INTERNAL): 502 BAD_GATEWAY;
 * 4. no answer at all: refused, reset, timed out, or a 5xx without logging's JSON error:
 *    503 NO_LOGGING_INSTANCE, and only then.
 *
 * Within a rank the latest attempt speaks: it saw the store last. 507 STORE_FULL never gets here:
 * it speaks for the whole store and ends the call at once (lib/service-client.ts).
 * @param failures every failed attempt, in order (none at all counts as no answer)
 * @param what what no instance could do, for NO_LOGGING_INSTANCE's message: 'store the message'
 */
export function nearestFailure(failures: readonly UpstreamError[], what: string): HttpError {
  let nearest: { rank: number; err: UpstreamError; answer?: ErrorAnswer['error'] } | undefined;
  for (const err of failures) {
    const answer = err.body === undefined ? undefined : parseAnswer(errorAnswer, err.body)?.error;
    const rank = answer === undefined ? 0 : err.status !== 503 ? 1 : STORE_REFUSALS.has(answer.code) ? 3 : 2;
    if (nearest === undefined || rank >= nearest.rank) nearest = { rank, err, answer };
  }
  if (nearest?.answer === undefined) return unavailable('NO_LOGGING_INSTANCE', `no logging instance could ${what}`, nearest?.err);
  const { err, answer } = nearest;
  if (err.status === 503) return unavailable(answer.code, answer.message, err);
  return new HttpError(502, 'BAD_GATEWAY', `logging answered ${err.status}`, { cause: err });
}

/** A read cut short this many times in a row without a message in between ends with 503. */
const MAX_FRUITLESS_RESUMES = 3;

export interface LoggingClientDeps {
  serviceRegistry: Pick<RegistryClient, 'instances'>;
  client: ServiceClient;
  loggingService: string;
  /** Bound on the wait for logging's answer to a read, and on each wait for more of it (ms). */
  silenceMs: number;
  /** Bound on a whole store, every attempt included (ms, default 25,000). */
  storeDeadlineMs?: number;
}

export interface ReadRequest {
  requestId: string;
  signal?: AbortSignal;
  fields: ReadFields;
  /** Read from this registered instance only (no retry elsewhere). */
  instance?: string;
  /** Told which instance serves the read (again after a resume). */
  onInstance?: (instance: string) => void;
}

/** One line of logging's answer, checked against the contract. */
function parseLine(line: string, fields: ReadFields): ReadLine {
  const read = readLine(line, fields === 'text');
  if (!read) throw new HttpError(502, 'BAD_GATEWAY', 'logging sent a malformed message');
  return read;
}

export class LoggingClient {
  constructor(private readonly deps: LoggingClientDeps) {}

  /**
   * Stores a message on a random instance, on another after a failure. The uuid is fixed before
   * the first attempt, so a retry replays the same put: never a duplicate.
   * @returns the instance that stored it
   * @throws HttpError when none could, as `nearestFailure` tells (503 STORE_MINORITY, STORE_UNCONFIRMED,
   *   STORE_UNAVAILABLE or NO_LOGGING_INSTANCE; 502 BAD_GATEWAY); 409 UUID_CONFLICT, 507 STORE_FULL,
   *   502 for another answer
   */
  async store(message: LogRequest, requestId: string): Promise<string> {
    const instances = await this.instances(undefined, requestId);
    const failures: UpstreamError[] = [];
    let result;
    try {
      const deadline = Date.now() + (this.deps.storeDeadlineMs ?? 25_000);
      const onFailure = (err: UpstreamError) => failures.push(err);
      result = await this.deps.client.callAny(instances, (url) => url, { method: 'POST', json: message, requestId, deadline, onFailure, uncounted: unconfirmed });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      throw nearestFailure(failures, 'store the message');
    }
    const { status, text } = result.response;
    if (status === 409) throw new HttpError(409, 'UUID_CONFLICT', 'the message id is already taken');
    if (status === 507) {
      const message = parseAnswer(errorAnswer, text)?.error.message ?? 'the message store is full';
      throw new HttpError(507, 'STORE_FULL', message, { expose: true });
    }
    if (status !== 200 && status !== 201) throw new HttpError(502, 'BAD_GATEWAY', `logging answered ${status}`, { cause: text });
    return result.instance;
  }

  /**
   * The cluster summary from the first of `candidates` to answer, another after a failure.
   * @throws UpstreamError when none answered; HttpError 502 for another status or a malformed summary
   */
  async summary(candidates: readonly string[], requestId: string): Promise<{ instance: string; summary: ClusterSummary }> {
    const { instance, response } = await this.deps.client.callAny(candidates, (url) => `${url}/cluster`, { requestId });
    if (response.status !== 200) throw new HttpError(502, 'BAD_GATEWAY', `logging answered ${response.status}`);
    const summary = parseAnswer(clusterSummary, response.text);
    if (!summary) throw new HttpError(502, 'BAD_GATEWAY', 'logging sent a malformed summary');
    return { instance, summary };
  }

  /**
   * The messages after `page.after`, up to `page.limit`, in creation order, in batches of what
   * arrives at once: each its uuid and the JSON to pass on (its text, or its whole record).
   * @throws HttpError 400 for an unregistered `instance`, 503 when no instance could serve the read
   */
  async *read(page: Page, request: ReadRequest): AsyncGenerator<ReadLine[]> {
    const instances = await this.instances(request.instance, request.requestId);
    let after = page.after;
    let remaining = page.limit ?? Number.POSITIVE_INFINITY;
    let fruitless = 0;
    for (;;) {
      const params = new URLSearchParams({ format: 'ndjson' });
      if (after !== undefined) params.set('after', after);
      if (Number.isFinite(remaining)) params.set('limit', String(remaining));
      // Named in full, not `all`: a logging instance of an older release (mid-upgrade) knows these too.
      params.set('fields', request.fields === 'text' ? 'uuid,msg' : MESSAGE_FIELDS.join(','));
      const query = `?${params}`;
      const { instance, response } = await this.open(instances, query, request);
      request.onInstance?.(instance);
      const url = instance + query;
      let got = 0;
      try {
        for await (const lines of readLines(response, url, this.deps.silenceMs)) {
          const batch = lines.map((line) => parseLine(line, request.fields));
          got += batch.length;
          remaining -= batch.length;
          after = batch.at(-1)!.uuid;
          yield batch;
        }
        return;
      } catch (err) {
        // Cut short: go on from the last message received, elsewhere, unless nothing comes of it.
        if (!(err instanceof UpstreamError) || request.signal?.aborted) throw err;
        fruitless = got > 0 ? 0 : fruitless + 1;
        if (fruitless >= MAX_FRUITLESS_RESUMES || request.instance !== undefined) {
          throw unavailable('NO_LOGGING_INSTANCE', 'the logging instances kept cutting the read short', err);
        }
      } finally {
        response.destroy();
      }
    }
  }

  private async instances(only: string | undefined, requestId: string): Promise<readonly string[]> {
    let instances = await this.deps.serviceRegistry.instances(this.deps.loggingService, requestId);
    if (only === undefined) {
      if (instances.length === 0) throw unavailable('NO_LOGGING_INSTANCE', 'no logging instance is registered');
      return instances;
    }
    // Only registered instances: the facade never becomes a proxy to arbitrary URLs. One it does not
    // know yet may have just been registered (a new pod): ask config-server before refusing it.
    if (!instances.includes(only)) instances = await this.deps.serviceRegistry.instances(this.deps.loggingService, requestId, true);
    if (!instances.includes(only)) throw badRequest('UNKNOWN_INSTANCE', 'instance must be one of the registered logging instances');
    return [only];
  }

  /**
   * Starts the read on a random instance; another only where the first could not have started.
   * @throws HttpError when none could, as `nearestFailure` tells (a live instance's 503 READS_BUSY or
   *   STORE_UNAVAILABLE is passed on; NO_LOGGING_INSTANCE when none answered)
   */
  private async open(instances: readonly string[], query: string, request: ReadRequest) {
    const failures: UpstreamError[] = [];
    let opened;
    try {
      opened = await this.deps.client.streamAny(instances, (url) => url + query, {
        requestId: request.requestId,
        signal: request.signal,
        timeoutMs: this.deps.silenceMs,
        retryIf: retryIfNotStarted,
        onFailure: (err) => failures.push(err),
      });
    } catch (err) {
      if (err instanceof UpstreamError) throw nearestFailure(failures, 'list the messages');
      throw err;
    }
    const status = opened.response.statusCode ?? 0;
    if (status !== 200) {
      opened.response.destroy();
      throw new HttpError(502, 'BAD_GATEWAY', `logging answered ${status}`);
    }
    return opened;
  }
}
