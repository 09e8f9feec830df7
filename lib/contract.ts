/**
 * The contract between the services: one zod schema for each shape that travels between them,
 * imported by the side that writes it and the side that reads it. Requests are checked here into
 * clean 400s; what the facade reads from logging and config-server is checked here before use.
 *
 * - the message and `POST /facade`'s body (client → facade);
 * - the log request, `POST /logging`'s body (facade → logging);
 * - the stored record, and the NDJSON lines a read streams (logging → facade);
 * - the cluster summary, `GET /logging/cluster` (logging → facade);
 * - the instance lists, `GET /services[/<name>]` (config-server → facade);
 * - the error answer every service sends, `{"error": {"code", "message"}}`.
 */
import { z } from 'zod';
import { badRequest } from './errors.js';
import { isUuid, isUuidV7 } from './ids.js';

/** A check that fails answers 400 with this code; the issue's message is the answer's message. */
const refusal = (code: string, message: string) => ({ error: message, params: { code } });

// ---- the message and the requests that carry it ------------------------------------------------

/** A message's text as a client sends it: a string with something besides blanks in it. */
export const messageText = z
  .string({ error: 'msg must be a string' })
  .refine((s) => s.trim() !== '', refusal('EMPTY_MSG', 'msg must not be empty'));

/**
 * `POST /facade`, once the form, JSON or text body is parsed (a text body is `{msg: <the text>}`).
 * Other fields are ignored; the facade gives the message its uuid.
 */
export const postMessageBody = z.object(
  { msg: z.custom((v) => v !== undefined, { ...refusal('MISSING_MSG', 'msg is required'), abort: true }).pipe(messageText) },
  { error: 'body must be an object with a "msg" field' },
);

/**
 * `POST /logging` from the facade: the message's id (a UUIDv7, kept lower-case: reads walk the
 * keys in string order) and its text. How far ahead of the clock an id's time may lie is
 * logging's own rule (MAX_CLOCK_SKEW_MS), checked after this.
 */
export const logRequest = z.object(
  {
    uuid: z
      .string({ error: 'uuid must be a UUIDv7 string' })
      .refine(isUuidV7, refusal('INVALID_UUID', 'uuid must be a UUIDv7 string'))
      .toLowerCase(),
    msg: messageText,
  },
  { error: 'body must be a JSON object {"uuid": "...", "msg": "..."}' },
);
export type LogRequest = z.infer<typeof logRequest>;

/** The 400 code of a field whose type is wrong; a refinement names its own code (`refusal`). */
const TYPE_REFUSALS: Readonly<Record<string, string>> = { msg: 'INVALID_MSG', uuid: 'INVALID_UUID' };

/**
 * What `schema` makes of a request body.
 * @throws HttpError 400 with the code and message of the first problem: INVALID_BODY for a body
 *   that is not an object, else the failing field's (MISSING_MSG, INVALID_MSG, EMPTY_MSG, INVALID_UUID)
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const code = issue.code === 'custom' ? (issue.params as { code?: string } | undefined)?.code : undefined;
  const field = issue.path[0];
  throw badRequest(code ?? (field === undefined ? 'INVALID_BODY' : (TYPE_REFUSALS[String(field)] ?? 'INVALID_BODY')), issue.message);
}

// ---- the stored record and the lines of a read -------------------------------------------------

/** What the map holds under each message's uuid. */
export const storedValue = z.object({
  msg: z.string(),
  /** The logging instance that stored it first. */
  loggedBy: z.string(),
  /** When it was stored, ISO 8601. */
  storedAt: z.string(),
});
export type StoredValue = z.infer<typeof storedValue>;

/** A whole record, as reads list it; its members in this order (`GET /logging?fields=all`). */
export const storedMessage = z.strictObject({ uuid: z.string().refine(isUuid), ...storedValue.shape });
export type StoredMessage = z.infer<typeof storedMessage>;

/** The fields of a record, in the order a record writes them (`GET /logging?fields=`). */
export const MESSAGE_FIELDS = Object.keys(storedMessage.shape) as readonly (keyof StoredMessage)[];

/*
 * A read streams one JSON object a line (NDJSON), its members in MESSAGE_FIELDS order, the uuid
 * first: `{"uuid":"<uuid>","msg":<text as JSON>}` when the facade asks for `fields=uuid,msg`, whole
 * records when it asks for all four. Logging writes them with the two functions below; the facade
 * checks every line as it arrives (readLine), so the work is per line, never per read.
 */
const HEAD = '{"uuid":"';
const MSG = '","msg":';

/** `{"uuid":…,"msg":…}`; the uuid is canonical, so it needs no escaping. */
export function idTextLine(uuid: string, msg: string): string {
  return `${HEAD}${uuid}${MSG}${JSON.stringify(msg)}}`;
}

/** A whole record, its members in MESSAGE_FIELDS order. */
export function recordLine(m: StoredMessage): string {
  const rest = `,"loggedBy":${JSON.stringify(m.loggedBy)},"storedAt":${JSON.stringify(m.storedAt)}}`;
  return `${HEAD}${m.uuid}${MSG}${JSON.stringify(m.msg)}${rest}`;
}

/** A line as the facade keeps it: the uuid, and the JSON it passes on. */
export interface ReadLine {
  uuid: string;
  /** The text as JSON (`uuid,msg` lines) or the whole line (records). */
  json: string;
}

/** Where a `uuid,msg` line's text starts: after the head, the 36 characters of a canonical uuid, and MSG. */
const TEXT_AT = HEAD.length + 36 + MSG.length;

/**
 * A `uuid,msg` line checked where it stands, without building the object: the head, a uuid, MSG,
 * then a JSON string (JSON.parse of that string alone), then `}`. The same rule as the schema's (a
 * record's uuid and msg), for less than parsing the whole line, checking it with zod and encoding
 * the text again (docs/performance.md, "Each text decoded once"): the text is passed on exactly as
 * logging wrote it.
 */
function readTextLine(line: string): ReadLine | undefined {
  if (!line.startsWith(MSG, TEXT_AT - MSG.length) || line.charCodeAt(line.length - 1) !== 0x7d) return undefined;
  const uuid = line.slice(HEAD.length, HEAD.length + 36);
  const json = line.slice(TEXT_AT, -1);
  if (json.charCodeAt(0) !== 0x22 || !isUuid(uuid)) return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(json);
  } catch {
    return undefined;
  }
  return storedValue.shape.msg.safeParse(msg).success ? { uuid, json } : undefined;
}

/**
 * Checks one line against the schema (a JSON object whose first member is the uuid): the facade
 * then passes on the text as logging wrote it, or the whole record as it came.
 * @param text a line of `fields=uuid,msg`; else a whole record
 * @returns undefined for a line that breaks the contract
 */
export function readLine(line: string, text: boolean): ReadLine | undefined {
  if (!line.startsWith(HEAD)) return undefined;
  if (text) return readTextLine(line);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const m = storedMessage.safeParse(value);
  return m.success ? { uuid: m.data.uuid, json: line } : undefined;
}

// ---- what else the facade reads ----------------------------------------------------------------

/** One member's own view of its cluster, its health endpoint as a logging instance probed it (services/logging/member-views.ts). */
export const memberView = z.object({
  /** `host:port` as probed. */
  address: z.string(),
  /** Members in the cluster this member belongs to, by its own account; null when it did not answer. */
  clusterSize: z.number().int().nonnegative().nullable(),
  nodeState: z.string().nullable(),
  /** In the cluster the reporting instance's client is connected to. */
  inClientCluster: z.boolean(),
  /**
   * The member's heap in use and its most (-Xmx), in bytes, from its Prometheus exporter; null
   * where it has none, it did not answer, or an older logging sent the view.
   */
  heapUsedBytes: z.number().nonnegative().nullable().default(null),
  heapMaxBytes: z.number().nonnegative().nullable().default(null),
});
export type MemberView = z.output<typeof memberView>;

/**
 * How the stored entries spread over the cluster's members (the lab's Management Center "Entries"
 * table), `GET /logging/cluster`.
 */
export const clusterSummary = z.object({
  connected: z.boolean(),
  mapName: z.string(),
  mapSize: z.number().int().nonnegative(),
  members: z.array(z.object({ address: z.string(), uuid: z.string(), ownedEntries: z.number().int().nonnegative() })),
  /**
   * exact: every key's owner was looked up (small maps only); estimated: the map size shared out
   * by the partitions each member owns (keys hash evenly over partitions).
   */
  entriesCounted: z.enum(['exact', 'estimated']).default('exact'),
  /**
   * Synchronous backups the member configuration declares for the map. The client cannot read a
   * map's configuration, so this is what the service was told (null: not told).
   */
  backupCount: z.number().int().nonnegative().nullable().default(null),
  /**
   * Each member's own account of its cluster, from its health endpoint: a member split off from
   * the client's cluster (a partition, a long pause) shows only here. Empty from an older logging.
   */
  memberViews: z.array(memberView).default([]),
});
/** A summary whole: as logging sends it, and as the facade reads it (an older logging's with the defaults). */
export type ClusterSummary = z.output<typeof clusterSummary>;
/** What the store reports; logging adds the members' own views, which the map cannot know. */
export type StoreSummary = Omit<ClusterSummary, 'memberViews'>;

/** One service's instance URLs, `GET /services/<name>`. */
export const instanceList = z.array(z.string());
export type InstanceList = z.infer<typeof instanceList>;

/** The whole registry, service name → instance URLs, `GET /services`. */
export const registryLists = z.record(z.string(), instanceList);
export type RegistryLists = z.infer<typeof registryLists>;

/** Every error answer: `{"error": {"code", "message"}}`. */
export const errorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorAnswer = z.infer<typeof errorAnswer>;

/**
 * `text` parsed as JSON and checked against `schema`.
 * @returns undefined for text that is not JSON or not of the schema's shape
 */
export function parseAnswer<S extends z.ZodType>(schema: S, text: string): z.output<S> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
