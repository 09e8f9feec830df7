/**
 * How a message is kept in the map: Hazelcast Compact serialization (schema `lab.Message`: msg,
 * loggedBy, storedAt as epoch milliseconds). Field names live once in the schema, not in every
 * entry, so a member holds about half the bytes per message that the JSON form took (370 against
 * 700 at 1,000,000 messages, docs/capacity.md), and members read fields without deserialising.
 *
 * Entries written as JSON by earlier versions stay readable: the client hands them back as plain
 * objects, and `toStoredMessage` accepts both forms, so no migration is needed.
 */
import Long from 'long';
import type { CompactReader, CompactSerializer, CompactWriter } from 'hazelcast-client';
import type { StoredMessage, StoredValue } from './store.js';

/** A message as the map holds it. */
export class MessageRecord {
  constructor(
    readonly msg: string,
    readonly loggedBy: string,
    /** Epoch milliseconds. */
    readonly storedAt: number,
  ) {}

  static of(value: StoredValue): MessageRecord {
    return new MessageRecord(value.msg, value.loggedBy, Date.parse(value.storedAt));
  }
}

export const messageRecordSerializer: CompactSerializer<MessageRecord> = {
  getClass: () => MessageRecord,
  getTypeName: () => 'lab.Message',
  read: (reader: CompactReader) => new MessageRecord(reader.readString('msg') ?? '', reader.readString('loggedBy') ?? '', reader.readInt64('storedAt').toNumber()),
  write: (writer: CompactWriter, r: MessageRecord) => {
    writer.writeString('msg', r.msg);
    writer.writeString('loggedBy', r.loggedBy);
    writer.writeInt64('storedAt', Long.fromNumber(r.storedAt));
  },
};

/** What the map may hand back: a record, or the JSON object an earlier version stored. */
export type MapValue = MessageRecord | StoredValue;

/** A map entry as the service shows it, whichever form it was stored in. */
export function toStoredMessage(uuid: string, v: MapValue): StoredMessage {
  const storedAt = typeof v.storedAt === 'number' ? new Date(v.storedAt).toISOString() : v.storedAt;
  return { uuid, msg: v.msg, loggedBy: v.loggedBy, storedAt };
}
