/**
 * The facade's reads from the logging service: a read of any size is a run of bounded pages
 * (`GET /logging?limit=N&after=<last uuid>`), each from a random logging instance. One page is
 * fetched ahead while the previous one is written out, so the facade holds at most two pages.
 * A page is retried on another instance only when the first could not have started it
 * (`retryIfNotStarted`); a page that times out ends the read.
 */
import { HttpError, badRequest, unavailable } from '../../lib/errors.js';
import { pageQuery, type Page } from '../../lib/paging.js';
import { ServiceClient, UpstreamError, retryIfNotStarted } from '../../lib/service-client.js';
import type { StoredMessage } from '../logging/store.js';
import type { RegistryClient } from './registry-client.js';

/** Messages per page asked of the logging service during a large read. */
export const DEFAULT_PAGE_SIZE = 5_000;
/** The first page is smaller, so the first byte goes out sooner. */
const FIRST_PAGE_SIZE = 1_000;

/** What a page may hold: the texts with their ids (`fields=uuid,msg`), or whole records. */
export type PageFields = 'uuid,msg' | 'all';

export interface LoggingReaderDeps {
  registry: Pick<RegistryClient, 'instances'>;
  client: ServiceClient;
  loggingService: string;
  pageSize?: number;
}

export interface ReadRequest {
  requestId: string;
  signal?: AbortSignal;
  fields: PageFields;
  /** Read from this registered instance only (no retry elsewhere). */
  instance?: string;
  /** Told which instance served each page. */
  onPage?: (instance: string) => void;
}

/** The logging service's page, checked enough that the facade can trust its fields. */
function parsePageBody(text: string, fields: PageFields): StoredMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(502, 'BAD_GATEWAY', 'logging sent a malformed answer', { cause: err });
  }
  const ok = Array.isArray(value) && value.every((m) => typeof m === 'object' && m !== null && typeof m.uuid === 'string' && typeof m.msg === 'string');
  if (!ok) throw new HttpError(502, 'BAD_GATEWAY', 'logging sent a malformed list');
  if (fields === 'uuid,msg') return value as StoredMessage[];
  return (value as StoredMessage[]).map(({ uuid, msg, loggedBy, storedAt }) => ({ uuid, msg, loggedBy, storedAt }));
}

export class LoggingReader {
  private readonly pageSize: number;

  constructor(private readonly deps: LoggingReaderDeps) {
    this.pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /**
   * The messages after `page.after`, up to `page.limit`, in creation order, one logging page per
   * batch. Memory: two pages of at most `pageSize` messages.
   * @throws HttpError 400 for an unregistered `instance`, 503 when no instance could serve a page
   */
  async *read(page: Page, request: ReadRequest): AsyncGenerator<StoredMessage[]> {
    const instances = await this.instances(request.instance, request.requestId);
    let remaining = page.limit ?? Number.POSITIVE_INFINITY;
    let size = Math.min(this.pageSize, FIRST_PAGE_SIZE);
    const ask = (after: string | undefined) => {
      const limit = Math.min(size, remaining);
      size = this.pageSize;
      const fetched = this.fetchPage(instances, { after, limit }, request);
      // Handled when awaited; a page fetched ahead and then abandoned must not fail unhandled.
      fetched.catch(() => undefined);
      return { limit, page: fetched };
    };
    let next: { limit: number; page: Promise<StoredMessage[]> } | undefined = remaining > 0 ? ask(page.after) : undefined;
    while (next) {
      const batch = await next.page;
      remaining -= batch.length;
      // A short page is the end of the map; otherwise ask for the next one before handing this one out.
      next = batch.length === next.limit && remaining > 0 ? ask(batch.at(-1)!.uuid) : undefined;
      if (batch.length > 0) yield batch;
    }
  }

  private async instances(only: string | undefined, requestId: string): Promise<readonly string[]> {
    const instances = await this.deps.registry.instances(this.deps.loggingService, requestId);
    if (instances.length === 0) throw unavailable('NO_LOGGING_INSTANCE', 'no logging instance is registered');
    if (only === undefined) return instances;
    // Only registered instances: the facade never becomes a proxy to arbitrary URLs.
    if (!instances.includes(only)) throw badRequest('UNKNOWN_INSTANCE', 'instance must be one of the registered logging instances');
    return [only];
  }

  private async fetchPage(instances: readonly string[], page: Page, request: ReadRequest): Promise<StoredMessage[]> {
    const query = pageQuery(page) + (request.fields === 'uuid,msg' ? '&fields=uuid,msg' : '');
    let result;
    try {
      result = await this.deps.client.callAny(instances, (url) => url + query, {
        requestId: request.requestId,
        signal: request.signal,
        retryIf: retryIfNotStarted,
      });
    } catch (err) {
      if (err instanceof UpstreamError) throw unavailable('NO_LOGGING_INSTANCE', 'no logging instance could list the messages', err);
      throw err;
    }
    if (result.response.status !== 200) throw new HttpError(502, 'BAD_GATEWAY', `logging answered ${result.response.status}`);
    request.onPage?.(result.instance);
    return parsePageBody(result.response.text, request.fields);
  }
}
