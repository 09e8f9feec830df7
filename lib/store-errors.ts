/**
 * The message store's own errors: what the storage layer (lib/hazelcast.ts, services/logging/store.ts
 * and capacity.ts) throws when it cannot do what it was asked. They say nothing of HTTP; the HTTP
 * layer maps them, in one place (toHttpError in lib/errors.ts): STORE_FULL to 507, the others to 503.
 */

/**
 * - STORE_MINORITY: this side of a split has too few members to accept writes;
 * - STORE_UNCONFIRMED: a write was not confirmed by every backup, or is held by fewer members than
 *   HZ_MIN_COPIES (it may be stored or not);
 * - STORE_UNAVAILABLE: the cluster cannot be reached, or the client is not connected (yet, or any more);
 * - STORE_FULL: the messages have reached the store's capacity.
 */
export type StoreErrorCode = 'STORE_MINORITY' | 'STORE_UNCONFIRMED' | 'STORE_UNAVAILABLE' | 'STORE_FULL';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
