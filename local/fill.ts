/**
 * Filling the map fast, for the bench, the chaos runs and tests: a Hazelcast client configured as
 * the logging service's, and `putAll` through the message store, so the floor and the capacity
 * charge are kept exactly as the services keep them.
 */
import { v7 as uuidv7 } from 'uuid';
import { HazelcastConnection } from '../lib/hazelcast.js';
import type { Logger } from '../lib/log.js';
import type { HazelcastMessageStore } from '../services/logging/store.js';
import type { StoredMessage } from '../lib/contract.js';
import { waitUntil } from './wait.js';

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
  store: HazelcastMessageStore,
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

