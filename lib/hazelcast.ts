/**
 * The Hazelcast connection of a service: explicit members, a finite per-connection timeout, and a
 * reconnect policy that never gives up, so the same process recovers whenever members come back.
 * While disconnected, operations fail at once (reconnect mode ASYNC) instead of queueing, so
 * callers can answer 503 promptly. `moveTo` replaces the client with one that joins through given
 * members, for a client that took the smaller side of a split for the cluster (services/logging/cluster-side.ts).
 */
import { Client, HazelcastError, LifecycleState, ReconnectMode, TargetDisconnectedError, type ClientConfig, type IMap } from 'hazelcast-client';
import type { Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { prom, type MetricsRegistry } from './metrics.js';
import { StoreError } from './store-errors.js';
import { refuseWritesHeldByTooFew } from './write-copies.js';

type HazelcastClient = Awaited<ReturnType<typeof Client.newHazelcastClient>>;

/** What `disconnectFrom` uses of hazelcast-client 5.6's connection registry (internal, not in its typings). */
interface ClientConnections {
  getConnectionManager(): {
    getConnectionRegistry(): {
      getConnections(): { getRemoteAddress(): { host: string; port: number } | null; close(reason: string | null, cause: Error): void }[];
    };
  };
}

export interface HazelcastSettings {
  clusterName: string;
  /** `host:port` of members to contact first; the client learns the rest from the cluster. */
  members: string[];
  /** Bound on opening one connection to a member. */
  connectTimeoutMs: number;
  /** Bound on one operation, retries inside the client included. */
  invocationTimeoutMs: number;
  /** A member silent this long is taken for dead: its connection closes and waiting operations go elsewhere. */
  heartbeatTimeoutMs: number;
  /** Cap on the wait between reconnect attempts. */
  reconnectMaxBackoffMs: number;
  /** Shown in the cluster's client list. */
  instanceName: string;
  /** Where the count of client log lines not written goes (see LogLimiter), and of writes held by too few members. */
  metricsRegistry?: MetricsRegistry;
  /**
   * Members that must hold a map write (its owner and the backups it reports) before it is
   * acknowledged; one held by fewer fails as unconfirmed (write-copies.ts). 1, the default, checks nothing.
   */
  minWriteCopies?: number;
}

/**
 * What hazelcast-client 5.6 logs when a listener could not be added on a new connection. It has then
 * removed that listener from every connection (ListenerService.invoke): for the backup-ack listener,
 * the only one this client registers, every later write would fail for want of acknowledgements.
 */
const LISTENER_LOST = /^Listener \S+ can not ?be added/;

/** A client message's kind: its text without the numbers (attempt counts, ports, delays) that vary. */
const logKind = (msg: string) => `hazelcast: ${msg.replace(/\d+/g, '#').slice(0, 80)}`;

export class HazelcastConnection {
  /** The client in use; `moveTo` replaces it. */
  private client: HazelcastClient | undefined;
  /** Which client's lifecycle events count: the one in use (each client is numbered as it is made). */
  private current = 0;
  private made = 0;
  private connected = false;
  private stopping: Promise<void> | undefined;
  private readonly creating: Promise<HazelcastClient>;
  /** Clients being closed beside the one in use (after a move), so that shutdown waits for them. */
  private readonly closing = new Set<Promise<unknown>>();
  private moving: Promise<boolean> | undefined;
  /**
   * The map proxies of the client in use, made once each: asking the client's proxy manager for
   * one showed in a POST's profile (docs/performance.md).
   */
  private readonly proxies = new Map<string, Promise<IMap<unknown, unknown>>>();
  private readonly memberRemovedListeners: (() => void)[] = [];
  /** The client repeats its warnings while the cluster is away: one per kind per window. */
  private readonly clientLog: LogLimiter;
  private readonly heldByTooFew: InstanceType<typeof prom.Counter>;
  private readonly disconnects: InstanceType<typeof prom.Counter>;

  private constructor(
    private readonly settings: HazelcastSettings,
    private readonly logger: Logger,
  ) {
    this.clientLog = new LogLimiter(logger, { metricsRegistry: settings.metricsRegistry });
    const counter = (name: string, help: string) =>
      (settings.metricsRegistry?.getSingleMetric(name) as InstanceType<typeof prom.Counter> | undefined) ??
      new prom.Counter({ name, help, registers: settings.metricsRegistry ? [settings.metricsRegistry] : [] });
    this.heldByTooFew = counter(
      'hazelcast_writes_held_by_too_few_total',
      'Map writes that took effect on fewer members than HZ_MIN_COPIES and so were not acknowledged (503 STORE_UNCONFIRMED)',
    );
    this.disconnects = counter(
      'hazelcast_dropped_member_disconnects_total',
      "Connections this client closed to a member the other members had dropped, before the client's own heartbeat timeout (services/logging/cluster-side.ts)",
    );
    this.creating = Client.newHazelcastClient(this.clientConfig(settings.members, this.made));
    this.creating.then(
      (client) => this.use(client, 0),
      (err: unknown) => logger.error({ err }, 'Hazelcast client stopped trying to connect'),
    );
  }

  /**
   * Creates the client and returns without waiting for the cluster: it connects in the background
   * (retrying for ever) and `isConnected()` tells when the cluster is reachable.
   * @throws for an invalid client configuration, which the client rejects before connecting
   */
  static async start(settings: HazelcastSettings, logger: Logger): Promise<HazelcastConnection> {
    const connection = new HazelcastConnection(settings, logger);
    // Not the client's own `asyncStart`: in hazelcast-client 5.6 a client started that way stays
    // connected to one member only (it never opens connections to the others), so losing that
    // one member disconnects it. A normal start, left running in the background, connects to all
    // members; a configuration error still rejects within the same tick and is caught here.
    const early = await Promise.race([
      connection.creating.then(() => undefined, (err: unknown) => err),
      new Promise((resolve) => setImmediate(resolve, undefined)),
    ]);
    if (early) throw early;
    return connection;
  }

  /**
   * The client's configuration: it tries `members` in the order given when `inOrder`, so that its
   * first connection, the one its member list comes from, is to the first of them that answers.
   */
  private clientConfig(members: string[], number: number, inOrder = false): ClientConfig {
    const s = this.settings;
    return {
      clusterName: s.clusterName,
      instanceName: s.instanceName,
      // A write is acknowledged only once this client has received every backup's acknowledgement:
      // the backups send them here, and one missing past the backup timeout (2 s, below) fails the write
      // (IndeterminateOperationStateError, logging's 503 STORE_UNCONFIRMED) instead of completing
      // it. Left to the members, a member cut off from the others completes its writes with no
      // backup at all, when the timeout passes or when it drops the others from its member list
      // (docs/resilience.md, R9). Not the members' own fail.on.indeterminate.state: it also fails
      // their merge operations, and one failed merge batch ends the whole merge.
      backupAckToClientEnabled: true,
      network: {
        clusterMembers: members,
        connectionTimeout: s.connectTimeoutMs,
        // Writes here are put-if-absent keyed by a fixed id: replaying one after a lost connection is safe.
        redoOperation: true,
        smartRouting: true,
      },
      connectionStrategy: {
        reconnectMode: ReconnectMode.ASYNC,
        connectionRetry: {
          initialBackoffMillis: 100,
          maxBackoffMillis: s.reconnectMaxBackoffMs,
          multiplier: 2,
          jitter: 0.2,
          clusterConnectTimeoutMillis: -1,
        },
      },
      properties: {
        'hazelcast.client.invocation.timeout.millis': s.invocationTimeoutMs,
        'hazelcast.client.invocation.retry.pause.millis': 100,
        'hazelcast.client.heartbeat.interval': 1_000,
        'hazelcast.client.heartbeat.timeout': s.heartbeatTimeoutMs,
        'hazelcast.client.statistics.enabled': false,
        'hazelcast.client.shuffle.member.list': !inOrder,
        'hazelcast.client.operation.fail.on.indeterminate.state': true,
        // A backup that does not confirm within 2 s (not the default 5 s) fails the write as unconfirmed,
        // which the facade retries until its deadline: a member that died mid-write costs about 2 s
        // (R11, R12 in docs/resilience.md), while the members drop it.
        'hazelcast.client.operation.backup.timeout.millis': 2_000,
      },
      lifecycleListeners: [(state: LifecycleState) => number === this.current && this.onState(state)],
      customLogger: {
        log: () => undefined,
        error: (_o: unknown, msg: string, e: unknown) => this.clientLog.log(logKind(msg), 'error', { err: e }, `hazelcast: ${msg}`),
        warn: (_o: unknown, msg: string) => {
          this.clientLog.log(logKind(msg), 'warn', {}, `hazelcast: ${msg}`);
          if (number === this.current && LISTENER_LOST.test(msg)) void this.replace(s.members, (members) => members.length > 0, 'the old one dropped its backup-ack listener');
        },
        info: (_o: unknown, msg: string) => this.logger.debug(`hazelcast: ${msg}`),
        debug: () => undefined,
        trace: () => undefined,
      },
    };
  }

  private onState(state: LifecycleState): void {
    if (state === LifecycleState.CONNECTED) {
      this.connected = true;
      this.logger.info({ members: this.settings.members }, 'connected to Hazelcast');
    } else if (state === LifecycleState.DISCONNECTED || state === LifecycleState.SHUTTING_DOWN) {
      if (this.connected) this.logger.warn('disconnected from Hazelcast');
      this.connected = false;
    }
  }

  /** Puts `client`, connected, in use; tells the member-removed listeners of its members that leave. */
  private use(client: HazelcastClient, number: number): void {
    const internals = client as unknown as { getInvocationService(): unknown };
    refuseWritesHeldByTooFew(internals, this.settings.minWriteCopies ?? 1, (copies, member) => {
      this.heldByTooFew.inc();
      this.clientLog.log(`held by too few: ${member}`, 'warn', { member, copies }, 'refused a write its owner holds with too few backups (HZ_MIN_COPIES): unconfirmed, the caller retries it');
    });
    this.client = client;
    this.current = number;
    this.proxies.clear();
    client.getCluster().addMembershipListener({
      memberAdded: () => undefined,
      memberRemoved: () => {
        if (client === this.client) for (const listener of this.memberRemovedListeners) listener();
      },
    });
  }

  /** Calls `listener` whenever a member leaves the cluster of the client in use (as that client sees it). */
  onMemberRemoved(listener: () => void): void {
    this.memberRemovedListeners.push(listener);
  }

  /**
   * Replaces the client with a new one that connects to `preferred` first, in that order, and so
   * takes its member list from the first of them that answers; the configured members follow. The
   * new client is used only if it connects within the connect timeout and `accept` takes the
   * members it sees; the old one is then closed (operations still running on it fail, with 503).
   * One move at a time: a call during a move gets that move's answer.
   * @returns whether the new client is in use
   */
  moveTo(preferred: string[], accept: (members: string[]) => boolean): Promise<boolean> {
    return this.replace(preferred, accept, 'the old one saw only the smaller side of a split');
  }

  private replace(preferred: string[], accept: (members: string[]) => boolean, why: string): Promise<boolean> {
    this.moving ??= this.move(preferred, accept, why).finally(() => (this.moving = undefined));
    return this.moving;
  }

  private async move(preferred: string[], accept: (members: string[]) => boolean, why: string): Promise<boolean> {
    if (this.stopping || !this.client) return false;
    const number = ++this.made;
    const members = [...preferred, ...this.settings.members.filter((m) => !preferred.includes(m))];
    const making = Client.newHazelcastClient(this.clientConfig(members, number, true));
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      making.catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(resolve, this.settings.connectTimeoutMs, undefined))),
    ]).finally(() => clearTimeout(timer));
    const seen = next?.getCluster().getMembers().map((m) => `${m.address.host}:${m.address.port}`) ?? [];
    if (!next || this.stopping || !accept(seen)) {
      // Not used: closed once made. One still connecting is not waited for (nor is the first client).
      void making.then((c) => this.track(c.shutdown()), () => undefined);
      return false;
    }
    const old = this.client;
    this.use(next, number);
    this.connected = true;
    this.logger.warn({ members: seen }, `moved to a new Hazelcast client: ${why}`);
    this.track(old.shutdown());
    return true;
  }

  /**
   * Closes the connection of the client in use to the member at `address` (`host:port`), as its
   * own heartbeat timeout would, but now: operations waiting on it go again to the partitions'
   * owners (or any member, which forwards them), and if the client's member list came from that
   * member, its listener moves to another connection, which sends the current list. The client
   * does not connect to it again while it stays out of that list.
   * @returns whether there was a connection to close
   */
  disconnectFrom(address: string, why: string): boolean {
    if (!this.client || this.stopping) return false;
    const registry = (this.client as unknown as ClientConnections).getConnectionManager().getConnectionRegistry();
    const connection = registry.getConnections().find((c) => {
      const at = c.getRemoteAddress();
      return at !== null && `${at.host}:${at.port}` === address;
    });
    if (!connection) return false;
    this.disconnects.inc();
    this.logger.warn({ member: address }, `closed the Hazelcast client's connection to ${address}: ${why}`);
    connection.close(null, new TargetDisconnectedError(`closed by logging: ${why}`));
    return true;
  }

  /** Keeps the closing of a client other than the one in use until it settles, so that shutdown waits for it. */
  private track(closing: Promise<unknown>): void {
    const settled = closing.catch(() => undefined);
    this.closing.add(settled);
    void settled.finally(() => this.closing.delete(settled));
  }

  /** Connected, and past the client's start-up (which fires CONNECTED before it hands out the client). */
  isConnected(): boolean {
    return this.connected && this.client !== undefined;
  }

  /** The members the client currently sees (empty while disconnected). */
  members(): { address: string; uuid: string }[] {
    if (!this.connected || !this.client) return [];
    return this.client
      .getCluster()
      .getMembers()
      .map((m) => ({ address: `${m.address.host}:${m.address.port}`, uuid: m.uuid.toString() }));
  }

  /** The uuid of the member that owns `key`'s partition, from the client's partition table (no round trip). */
  ownerOf(key: unknown): string | undefined {
    if (!this.client) return undefined;
    const partitions = this.client.getPartitionService();
    return partitions.getPartitionOwner(partitions.getPartitionId(key))?.toString();
  }

  /** How many partitions each member owns (member uuid → count), from the client's partition table. */
  partitionsByOwner(): Map<string, number> {
    const owned = new Map<string, number>();
    if (!this.client) return owned;
    const partitions = this.client.getPartitionService();
    for (let id = 0; id < partitions.getPartitionCount(); id++) {
      const owner = partitions.getPartitionOwner(id)?.toString();
      if (owner) owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
    return owned;
  }

  /**
   * The map's proxy on the client in use, made once (a proxy stays valid across reconnects).
   * @throws StoreError STORE_UNAVAILABLE before the first connection and once the client is shutting down
   */
  async getMap<K, V>(name: string): Promise<IMap<K, V>> {
    const client = this.usable();
    let proxy = this.proxies.get(name);
    if (!proxy) {
      proxy = client.getMap<unknown, unknown>(name);
      this.proxies.set(name, proxy);
      proxy.catch(() => this.proxies.get(name) === proxy && this.proxies.delete(name));
    }
    return proxy as Promise<IMap<K, V>>;
  }

  private usable(): HazelcastClient {
    if (this.stopping) throw new StoreError('STORE_UNAVAILABLE', 'the Hazelcast client is shutting down');
    if (!this.client) throw new StoreError('STORE_UNAVAILABLE', 'not connected to the Hazelcast cluster yet');
    return this.client;
  }

  /** Closes the client, and waits for any other being closed; idempotent, returns the same promise every time. */
  shutdown(): Promise<void> {
    // A client still making its first connection holds nothing worth closing; the process exit ends it.
    this.stopping ??= Promise.all([this.client?.shutdown(), ...this.closing]).then(() => undefined);
    return this.stopping;
  }
}

/** True for failures that mean "the cluster cannot be reached or answered too late". */
export function isHazelcastUnavailable(err: unknown): boolean {
  return err instanceof HazelcastError;
}
