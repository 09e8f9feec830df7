/** Message ids: UUIDv7, so the natural string order of ids is their creation order. */
import { v7 as uuidv7, validate, version } from 'uuid';

export const newMessageId = (): string => uuidv7();

/** True for any well-formed UUID string (any version), lower or upper case. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && validate(value);

/** True only for a version 7 UUID, the kind the facade creates. */
export const isUuidV7 = (value: unknown): value is string => isUuid(value) && version(value) === 7;

/** The creation time of a UUIDv7, in epoch milliseconds (its top 48 bits). */
export const uuidV7Millis = (uuid: string): number => Number.parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);
