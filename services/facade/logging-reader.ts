/**
 * The facade's reads from the logging service. A read of any size is one streamed request
 * (`GET /logging?format=ndjson`), checked line by line as it arrives: the facade holds what
 * one network chunk brings, and backpressure reaches logging and, through it, the members.
 * A read starts on another instance only where the first could not have started it
 * (`retryIfNotStarted`); a read cut short (its instance died mid-read) goes on from the last
 * message received, on another instance, never repeating what was sent.
 */
import { HttpError, badRequest, unavailable } from '../../lib/errors.js';
import type { Page } from '../../lib/paging.js';
import { ServiceClient, UpstreamError, readLines, retryIfNotStarted } from '../../lib/service-client.js';
import { MESSAGE_FIELDS, readLine, type ReadLine } from '../../lib/contract.js';
import type { RegistryClient } from './registry-client.js';

/** What a read passes on of each message: its text (as JSON), or its whole record. */
export type ReadFields = 'text' | 'record';

/** A read cut short this many times in a row without a message in between ends with 503. */
const MAX_FRUITLESS_RESUMES = 3;

export interface LoggingReaderDeps {
  registry: Pick<RegistryClient, 'instances'>;
  client: ServiceClient;
  loggingService: string;
  /** Bound on the wait for logging's answer, and on each wait for more of it (ms). */
  silenceMs: number;
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

export class LoggingReader {
  constructor(private readonly deps: LoggingReaderDeps) {}

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
    let instances = await this.deps.registry.instances(this.deps.loggingService, requestId);
    if (only === undefined) {
      if (instances.length === 0) throw unavailable('NO_LOGGING_INSTANCE', 'no logging instance is registered');
      return instances;
    }
    // Only registered instances: the facade never becomes a proxy to arbitrary URLs. One it does not
    // know yet may have just been registered (a new pod): ask config-server before refusing it.
    if (!instances.includes(only)) instances = await this.deps.registry.instances(this.deps.loggingService, requestId, true);
    if (!instances.includes(only)) throw badRequest('UNKNOWN_INSTANCE', 'instance must be one of the registered logging instances');
    return [only];
  }

  /** Starts the read on a random instance; another only where the first could not have started. */
  private async open(instances: readonly string[], query: string, request: ReadRequest) {
    let opened;
    try {
      opened = await this.deps.client.streamAny(instances, (url) => url + query, {
        requestId: request.requestId,
        signal: request.signal,
        timeoutMs: this.deps.silenceMs,
        retryIf: retryIfNotStarted,
      });
    } catch (err) {
      if (err instanceof UpstreamError) throw unavailable('NO_LOGGING_INSTANCE', 'no logging instance could list the messages', err);
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
