/**
 * Where messages live. The service talks to a `MessageStore`; production uses the Hazelcast map,
 * unit tests an in-memory one (test/support).
 */
import { Predicates, type IMap } from 'hazelcast-client';
import type { Page } from '../../lib/paging.js';
import { unavailable } from '../../lib/errors.js';
import { HazelcastConnection, isHazelcastUnavailable } from '../../lib/hazelcast.js';

/** What the map holds under each message's uuid. */
export interface StoredValue {
  msg: string;
  /** The logging instance that stored it first. */
  loggedBy: string;
  /** When it was stored, ISO 8601. */
  storedAt: string;
}

export interface StoredMessage extends StoredValue {
  uuid: string;
}

/** created: new entry; replayed: same uuid and msg again; conflict: same uuid, different msg. */
export type PutOutcome = 'created' | 'replayed' | 'conflict';

/** How the stored entries spread over the cluster's members (the lab's Management Center "Entries" table). */
export interface ClusterSummary {
  connected: boolean;
  mapName: string;
  mapSize: number;
  members: { address: string; uuid: string; ownedEntries: number }[];
  /**
   * Synchronous backups the member configuration declares for the map. The client cannot read a
   * map's configuration, so this is what the service was told (null: not told).
   */
  backupCount?: number | null;
}

/** Cheap figures for metrics: no entry is read. */
export interface StoreStats {
  connected: boolean;
  /** Entries in the map; null while it cannot be asked. */
  mapSize: number | null;
  /** Members the client sees; 0 while disconnected. */
  clusterSize: number;
}

export interface MessageStore {
  /** Stores `msg` under `uuid` unless the uuid is taken; atomic. */
  put(uuid: string, value: StoredValue): Promise<PutOutcome>;
  /** Messages in creation (uuid) order, optionally one page of them. */
  list(page: Page): Promise<StoredMessage[]>;
  /** Members and how many entries each owns; their sum is the map size. */
  summary(): Promise<ClusterSummary>;
  /** Map and cluster size for the metrics; optional so a simple store can leave it out. */
  stats?(): Promise<StoreStats>;
}

export interface HazelcastStoreOptions {
  /** The map's backup count as the member configuration declares it; reported in the summary. */
  backupCount?: number;
}

/** Decides the outcome of a put-if-absent from the value that was there before (if any). */
export function outcomeOf(previous: StoredValue | null | undefined, msg: string): PutOutcome {
  if (previous === null || previous === undefined) return 'created';
  return previous.msg === msg ? 'replayed' : 'conflict';
}

/** Sorts entries by uuid and cuts the requested page. `entries` may already be filtered by `after`. */
export function toPage(entries: Iterable<[string, StoredValue]>, page: Page): StoredMessage[] {
  const all: StoredMessage[] = [];
  for (const [uuid, v] of entries) {
    if (page.after === undefined || uuid > page.after) all.push({ uuid, msg: v.msg, loggedBy: v.loggedBy, storedAt: v.storedAt });
  }
  // Keys are stored lower-case (parseLogRequest) and `after` arrives lower-case (parsePage), so
  // plain string order is creation order; compareIds would lower-case both ids on every comparison.
  all.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  return page.limit === undefined ? all : all.slice(0, page.limit);
}

export class HazelcastMessageStore implements MessageStore {
  constructor(
    private readonly hz: HazelcastConnection,
    private readonly mapName: string,
    private readonly options: HazelcastStoreOptions = {},
  ) {}

  async put(uuid: string, value: StoredValue): Promise<PutOutcome> {
    return this.guard(async () => {
      const map = await this.map();
      return outcomeOf(await map.putIfAbsent(uuid, value), value.msg);
    });
  }

  async list(page: Page): Promise<StoredMessage[]> {
    return this.guard(async () => {
      const map = await this.map();
      // One round trip either way; with `after`, the members filter by key so less crosses the wire.
      const entries =
        page.after === undefined
          ? await map.entrySet()
          : await map.entrySetWithPredicate(Predicates.greaterThan('__key', page.after));
      return toPage(entries, page);
    });
  }

  async summary(): Promise<ClusterSummary> {
    return this.guard(async () => {
      const map = await this.hz.getMap<string, StoredValue>(this.mapName);
      const keys = await map.keySet();
      const members = this.hz.members().map((m) => ({ ...m, ownedEntries: 0 }));
      const byUuid = new Map(members.map((m) => [m.uuid, m]));
      for (const key of keys) {
        const owner = byUuid.get(this.hz.ownerOf(key) ?? '');
        if (owner) owner.ownedEntries++;
      }
      return {
        connected: this.hz.isConnected(),
        mapName: this.mapName,
        mapSize: keys.length,
        members,
        backupCount: this.options.backupCount ?? null,
      };
    });
  }

  async stats(): Promise<StoreStats> {
    const connected = this.hz.isConnected();
    const clusterSize = this.hz.members().length;
    if (!connected) return { connected, mapSize: null, clusterSize };
    const mapSize = await this.guard(async () => (await this.hz.getMap<string, StoredValue>(this.mapName)).size());
    return { connected, mapSize, clusterSize };
  }

  private proxy: IMap<string, StoredValue> | undefined;

  /**
   * The map's proxy, made once: the client keeps a proxy valid across reconnects, and asking the
   * proxy manager on every request was ~1% of a POST. Still 503 while the client is shutting down.
   */
  private async map(): Promise<IMap<string, StoredValue>> {
    if (!this.hz.isConnected() || !this.proxy) this.proxy = await this.hz.getMap<string, StoredValue>(this.mapName);
    return this.proxy;
  }

  /** Cluster failures become 503s; anything else is a bug and stays a 500. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (isHazelcastUnavailable(err)) throw unavailable('STORE_UNAVAILABLE', 'the message store is unavailable', err);
      throw err;
    }
  }
}
