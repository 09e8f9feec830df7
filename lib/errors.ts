/**
 * One error type for every HTTP failure: a status, a stable machine-readable code, a message, and
 * whether that message is safe to show to the client (`expose`). The error middleware turns it into
 * `{"error": {"code", "message"}}`; anything else becomes an opaque 500.
 */
import type { ErrorAnswer } from './contract.js';
import { StoreError } from './store-errors.js';

export interface HttpErrorOptions {
  /** Show `message` to the client; defaults to true below 500 and false from 500 up. */
  expose?: boolean;
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` on a 405 or `Retry-After` on a 503. */
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  readonly expose: boolean;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const notFound = (message = 'no such resource') => new HttpError(404, 'NOT_FOUND', message);
export const unavailable = (code: string, message: string, cause?: unknown) =>
  new HttpError(503, code, message, { expose: true, cause, headers: { 'Retry-After': '1' } });

/** Codes for the statuses that libraries (koa, koa-bodyparser, raw-body) raise on their own. */
const codeForStatus: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** Friendlier, fixed messages for library errors whose own text may carry internals. */
const messageForStatus: Record<number, string> = {
  413: 'request body is larger than the limit',
  415: 'unsupported content type',
};

/**
 * The store's errors as the HTTP API tells them: a full store is 507, any other refusal a 503 the
 * client may retry (its code says why); the message is the store's own, and is shown.
 */
function storeErrorToHttp(err: StoreError): HttpError {
  if (err.code === 'STORE_FULL') return new HttpError(507, err.code, err.message, { expose: true, cause: err });
  return unavailable(err.code, err.message, err);
}

/**
 * Normalises anything thrown during a request into an HttpError: the store's errors as
 * storeErrorToHttp says. Library errors that carry `status` and `expose` (the http-errors convention) keep their status;
 * everything else is an internal error whose message is never shown.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof StoreError) return storeErrorToHttp(err);
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown; type?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    if (status === 400 && e.type === 'entity.parse.failed') {
      return new HttpError(400, 'INVALID_BODY', 'request body is not valid JSON', { cause: err });
    }
    const message =
      messageForStatus[status] ?? (e.expose === true && typeof e.message === 'string' ? e.message : 'bad request');
    return new HttpError(status, codeForStatus[status] ?? 'BAD_REQUEST', message, { cause: err });
  }
  return new HttpError(500, 'INTERNAL', 'internal error', { expose: false, cause: err });
}

/** The JSON body for an error (lib/contract.ts); internal messages are replaced by a generic one. */
export function errorBody(err: HttpError): ErrorAnswer {
  return { error: { code: err.code, message: err.expose ? err.message : 'internal error' } };
}
