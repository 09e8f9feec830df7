/** Message ids: UUIDv7, so the natural string order of ids is their creation order. */
import { v7 as uuidv7, validate, version } from 'uuid';

export const newMessageId = (): string => uuidv7();

/** True for any well-formed UUID string (any version), lower or upper case. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && validate(value);

/** True only for a version 7 UUID, the kind the facade creates. */
export const isUuidV7 = (value: unknown): value is string => isUuid(value) && version(value) === 7;

/**
 * Orders ids by creation time. UUIDv7 puts a big-endian millisecond timestamp first and a
 * per-process monotonic counter after it, so comparing the lower-case strings compares creation order.
 */
export const compareIds = (a: string, b: string): number => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The creation time of a UUIDv7, in epoch milliseconds (its top 48 bits). */
export const uuidV7Millis = (uuid: string): number => Number.parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);
