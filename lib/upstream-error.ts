/**
 * How a call to another service failed, in one type that the transport (lib/service-client.ts),
 * the retry loop (lib/retry.ts) and the line reader (lib/ndjson.ts) share.
 */

/**
 * Why one attempt failed; used as a metric label, so the set is closed. `connect_timeout`: no
 * connection within the connect timeout (the address has gone: nothing answers, nothing refuses).
 */
export type FailureReason = 'refused' | 'connect_timeout' | 'timeout' | 'reset' | 'network' | 'status_5xx';

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

/** Why a failure happened, from the error Node gave. */
export function classify(err: unknown): FailureReason {
  const e = err as { name?: string; code?: string; type?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.type === 'aborted') return 'timeout';
  if (e?.code === 'ECONNREFUSED') return 'refused';
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE' || e?.code === 'UND_ERR_SOCKET') return 'reset';
  return 'network';
}
