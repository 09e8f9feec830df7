/**
 * The lines messages travel in from logging to the facade during a read (NDJSON). Each line is a
 * JSON object whose first member is the uuid, `{"uuid":"<uuid>",…}`:
 * - `fields=uuid,msg`: `{"uuid":"<uuid>","msg":<text as JSON>}`;
 * - whole records: `{"uuid":…,"msg":…,"loggedBy":…,"storedAt":…}`.
 * They are written and read here, together, so the reader can take a line apart by position
 * instead of parsing it and encoding it again: the facade passes the text's JSON (or the whole
 * record) on as it came, and keeps only the uuid, to go on from after a cut.
 */

/** The fields of a stored message, in the order a record writes them (`GET /logging?fields=`). */
export const MESSAGE_FIELDS = ['uuid', 'msg', 'loggedBy', 'storedAt'] as const;

const HEAD = '{"uuid":"';
const UUID_END = HEAD.length + 36;
const MSG = '","msg":';
const MSG_START = UUID_END + MSG.length;

/** `{"uuid":…,"msg":…}`; the uuid is canonical, so it needs no escaping. */
export function idTextLine(uuid: string, msg: string): string {
  return `${HEAD}${uuid}${MSG}${JSON.stringify(msg)}}`;
}

/** A whole record, its members in the order the API documents. */
export function recordLine(m: { uuid: string; msg: string; loggedBy: string; storedAt: string }): string {
  return `${HEAD}${m.uuid}${MSG}${JSON.stringify(m.msg)},"loggedBy":${JSON.stringify(m.loggedBy)},"storedAt":${JSON.stringify(m.storedAt)}}`;
}

/** A line as the reader keeps it: the uuid, and the JSON it passes on. */
export interface ReadLine {
  uuid: string;
  /** The text as JSON (`uuid,msg` lines) or the whole line (records). */
  json: string;
}

/**
 * Takes a line apart by position.
 * @returns undefined for a line that is not of the expected shape
 */
export function readLine(line: string, text: boolean): ReadLine | undefined {
  if (!line.startsWith(HEAD) || line.charCodeAt(line.length - 1) !== 125 /* } */) return undefined;
  const uuid = line.slice(HEAD.length, UUID_END);
  if (!text) return line.startsWith(MSG, UUID_END) ? { uuid, json: line } : undefined;
  if (!line.startsWith(MSG, UUID_END) || line.charCodeAt(MSG_START) !== 34 || line.charCodeAt(line.length - 2) !== 34) return undefined;
  return { uuid, json: line.slice(MSG_START, -1) };
}
