/**
 * Filling the map fast, for the bench, the chaos runs and tests: a Hazelcast client configured as
 * the logging service's, and a message store that also loads in bulk (`putAll`) and empties the map
 * (`clear`), keeping the floor and the capacity charge exactly as the services keep them. The
 * services' store (services/logging/store.ts) only stores: nothing here is reachable through HTTP.
 */
import { IndeterminateOperationStateError } from 'hazelcast-client';
import { v7 as uuidv7 } from 'uuid';
import { HazelcastConnection } from '../lib/hazelcast.js';
import type { Logger } from '../lib/log.js';
import { HazelcastMessageStore } from '../services/logging/store.js';
import { entryCostBytes } from '../services/logging/capacity.js';
import type { StoredMessage, StoredValue } from '../lib/contract.js';
import { waitUntil } from './wait.js';

/** Puts of one batch that its backups did not all confirm, before the fill gives up. */
const UNCONFIRMED_ATTEMPTS = 5;

/** The services' message store, and what only the bench and tests ask of it. */
export class BulkLoadingStore extends HazelcastMessageStore {
  /**
   * Stores many messages in one `putAll`, keeping the floor and charging the capacity: how the
   * bench and tests fill the map quickly. Not put-if-absent: the caller gives fresh ids. A batch
   * not confirmed by every backup (a busy machine can pass the client's backup timeout) is put
   * again, the same ids and values, up to UNCONFIRMED_ATTEMPTS times; it keeps its charge, since
   * it may be stored, as a single write's does.
   */
  async putAll(messages: StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const lowest = messages.reduce((min, m) => (m.uuid < min ? m.uuid : min), messages[0]!.uuid);
    await this.guard(async () => {
      const cost = messages.reduce((n, m) => n + entryCostBytes(m.msg, m.loggedBy), 0);
      await this.capacity?.reserve(cost);
      const entries = messages.map(({ uuid, msg, loggedBy, storedAt }): [string, StoredValue] => [uuid, { msg, loggedBy, storedAt }]);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.lowerFloorTo(lowest);
          await (await this.map()).putAll(entries);
          return;
        } catch (err) {
          const unconfirmed = err instanceof IndeterminateOperationStateError;
          if (unconfirmed && attempt < UNCONFIRMED_ATTEMPTS) continue;
          if (!unconfirmed) this.capacity?.release(cost);
          throw err;
        }
      }
    });
  }

  /** Empties the map, its floor and its capacity charge: the bench and tests refill the map many times. */
  async clear(): Promise<void> {
    await this.guard(async () => {
      await (await this.map()).clear();
      await (await this.meta()).clear();
      this.knownFloor = undefined;
    });
  }
}

/** Where progress goes, e.g. a bench progress line. */
export interface Progress {
  update(text: string): void;
}

/**
 * A client configured exactly as the logging service's (lib/hazelcast.ts), connected.
 * @throws Error when the cluster is not reachable within `timeoutMs`
 */
export async function connect(members: string[], clusterName: string, logger: Logger, timeoutMs = 60_000): Promise<HazelcastConnection> {
  const hz = await HazelcastConnection.start(
    { clusterName, members, connectTimeoutMs: 5_000, invocationTimeoutMs: 30_000, heartbeatTimeoutMs: 6_000, reconnectMaxBackoffMs: 2_000, instanceName: `filler-${process.pid}` },
    logger,
  );
  try {
    await waitUntil('the filling client to connect', () => hz.isConnected() || undefined, { timeoutMs, intervalMs: 100 });
  } catch {
    await hz.shutdown();
    throw new Error(`the filling Hazelcast client did not connect to ${members.join(',')} within ${timeoutMs} ms`);
  }
  return hz;
}

/**
 * Adds `count` messages with fresh UUIDv7 keys through the store (so the floor and the capacity
 * charge are kept as the services keep them), `putAll` in chunks, a few chunks in flight.
 */
export async function addMessages(
  store: BulkLoadingStore,
  count: number,
  msg: (i: number) => string,
  progress?: Progress,
  /** Told each stored batch and the index of its first message. */
  onBatch?: (batch: StoredMessage[], from: number) => void,
): Promise<void> {
  const chunk = 5_000;
  const parallel = 4;
  let next = 0;
  let stored = 0;
  const worker = async () => {
    while (next < count) {
      const n = Math.min(chunk, count - next);
      const from = next;
      next += n;
      const batch: StoredMessage[] = [];
      for (let i = 0; i < n; i++) batch.push({ uuid: uuidv7(), msg: msg(from + i), loggedBy: 'filler', storedAt: new Date().toISOString() });
      await store.putAll(batch);
      onBatch?.(batch, from);
      stored += n;
      progress?.update(`filling ${stored.toLocaleString('en-US')}/${count.toLocaleString('en-US')}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

