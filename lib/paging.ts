/** `?limit=N&after=<uuid>` paging, shared by `GET /logging` and `GET /facade`. */
import { badRequest } from './errors.js';
import { isUuid } from './ids.js';

export interface Page {
  /** At most this many items; undefined means all. */
  limit?: number;
  /** Only ids strictly after this one (in creation order). */
  after?: string;
}

/** The largest page one request may ask for. */
export const MAX_PAGE_LIMIT = 100_000;

/**
 * Reads and validates paging parameters from a parsed query string.
 * @throws HttpError 400 for a limit that is not an integer in 1..MAX_PAGE_LIMIT or an `after` that is not a UUID
 */
export function parsePage(query: Record<string, string | string[] | undefined>): Page {
  const page: Page = {};
  const { limit, after } = query;
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_LIMIT) {
      throw badRequest('INVALID_LIMIT', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    page.limit = Number(limit);
  }
  if (after !== undefined) {
    if (typeof after !== 'string' || !isUuid(after)) throw badRequest('INVALID_AFTER', 'after must be a message uuid');
    page.after = after.toLowerCase();
  }
  return page;
}

/**
 * Reads of at most this many messages are one short page: they stream like any read, but take no
 * read slot (a read with no limit, or a larger one, may be large, so those are capped).
 */
export const SMALL_READ_MAX = 1_000;

export const isLargeRead = (page: Page): boolean => page.limit === undefined || page.limit > SMALL_READ_MAX;
