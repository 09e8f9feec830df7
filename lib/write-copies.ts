/**
 * A map write is acknowledged only once enough members hold it: the member that owns its key and
 * the backups it reports to the client.
 *
 * Why: after a member is dropped, Hazelcast acknowledges writes held by one member in two ways,
 * both seen in the partition drill (R9, docs/resilience.md):
 * - A member cut off from the others drops them from its member list and partition table at once,
 *   but tells its split-brain protection later (an asynchronous membership event, Hazelcast's
 *   MembershipManager). A write that reaches it in between finds no backup to send and nothing yet
 *   to refuse it. R9 caught one such write in 1,742: acknowledged, and on no member of the larger side.
 * - The members that drop a third send a write as many backups as their cluster can hold (members
 *   less one: 1 of the 2 configured), to the replicas at the head of the partition's list. Until
 *   the partition table is repaired, the dropped member's place there is empty, so a partition
 *   whose first backup it was gets none. Writes of every R9 run were held by one member of the
 *   larger side for up to 4 s after the drop.
 *
 * So the client looks at each response to a map write: one that took effect (a put or set, a
 * put-if-absent that found no value, a replace that matched) with fewer than `minCopies - 1`
 * backups fails with HeldByTooFewError, an IndeterminateOperationStateError like a backup that
 * never acknowledged (logging's 503 STORE_UNCONFIRMED; the facade retries under the same id). A
 * write that took no effect (a put-if-absent that found the key, a replace that did not match)
 * sends no backup and passes: it changed nothing that could be lost.
 *
 * Cost: one byte read per response, and a decode of the value's presence for a put-if-absent or a
 * replace with too few backups.
 */
import { createRequire } from 'node:module';
import { IndeterminateOperationStateError } from 'hazelcast-client';

/** The parts of hazelcast-client 5.6's ClientMessage (internal: its published types are empty) read here. */
export interface ClientMessage {
  getMessageType(): number;
  getCorrelationId(): number;
  getNumberOfBackupAcks(): number;
  resetNextFrame(): void;
}

/** The client's own decoders of the two responses whose outcome decides whether the write took effect. */
const require = createRequire(import.meta.url);
const { MapPutIfAbsentCodec } = require('hazelcast-client/lib/codec/MapPutIfAbsentCodec.js') as {
  MapPutIfAbsentCodec: { decodeResponse(message: ClientMessage): unknown };
};
const { MapReplaceIfSameCodec } = require('hazelcast-client/lib/codec/MapReplaceIfSameCodec.js') as {
  MapReplaceIfSameCodec: { decodeResponse(message: ClientMessage): boolean };
};

/** A response's message type is its request's plus one (the Hazelcast client protocol). */
const response = (requestType: number) => requestType + 1;

/** Responses to map writes that take effect whenever they succeed: put, set, put-all (one per partition). */
const ALWAYS_APPLIED = new Set([65792 /* Map.put */, 69376 /* Map.set */, 76800 /* Map.putAll */].map(response));
const PUT_IF_ABSENT = response(69120);
const REPLACE_IF_SAME = response(66816);

/**
 * Whether `message`, a response, is to a map write that took effect on fewer members than
 * `minCopies` (its owner and the backups it reports). Leaves the message to be decoded from its start.
 */
export function heldByTooFew(message: ClientMessage, minCopies: number): boolean {
  const type = message.getMessageType();
  if (type !== PUT_IF_ABSENT && type !== REPLACE_IF_SAME && !ALWAYS_APPLIED.has(type)) return false;
  if (1 + message.getNumberOfBackupAcks() >= minCopies) return false;
  if (ALWAYS_APPLIED.has(type)) return true;
  try {
    return type === PUT_IF_ABSENT ? MapPutIfAbsentCodec.decodeResponse(message) === null : MapReplaceIfSameCodec.decodeResponse(message);
  } finally {
    message.resetNextFrame();
  }
}

/** A write that took effect on too few members: unconfirmed, like one whose backup never acknowledged. */
export class HeldByTooFewError extends IndeterminateOperationStateError {}

/** The parts of hazelcast-client 5.6's InvocationService this reaches into (internal, so typed here). */
interface InvocationService {
  processResponse(message: ClientMessage): void;
  pending: Map<number, { completeWithError(err: Error): void; sendConnection?: { getRemoteAddress(): { toString(): string } | null } }>;
}

/**
 * Makes `client` fail every map write that took effect on fewer than `minCopies` members
 * (heldByTooFew) instead of completing it, and tells `onRefused` of each: how many members held it,
 * and the member that answered. `minCopies` of 1 changes nothing.
 */
export function refuseWritesHeldByTooFew(
  client: { getInvocationService(): unknown },
  minCopies: number,
  onRefused: (copies: number, member: string | undefined) => void,
): void {
  if (minCopies <= 1) return;
  const service = client.getInvocationService() as InvocationService;
  const processResponse = service.processResponse.bind(service);
  service.processResponse = (message) => {
    const invocation = heldByTooFew(message, minCopies) ? service.pending.get(message.getCorrelationId()) : undefined;
    if (!invocation) return processResponse(message);
    const copies = 1 + message.getNumberOfBackupAcks();
    onRefused(copies, invocation.sendConnection?.getRemoteAddress()?.toString());
    invocation.completeWithError(
      new HeldByTooFewError(`the write is held by ${copies} member${copies === 1 ? '' : 's'}, fewer than the ${minCopies} it needs before it is acknowledged`),
    );
  };
}
