/**
 * The Hazelcast connection of a service: explicit members, a finite per-connection timeout, and a
 * reconnect policy that never gives up, so the same process recovers whenever members come back.
 * While disconnected, operations fail at once (reconnect mode ASYNC) instead of queueing, so
 * callers can answer 503 promptly.
 */
import { Client, HazelcastError, LifecycleState, ReconnectMode, type ClientConfig, type IMap } from 'hazelcast-client';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { unavailable } from './errors.js';

type HazelcastClient = Awaited<ReturnType<typeof Client.newHazelcastClient>>;

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
  /** Where the count of client log lines not written goes (see LogLimiter). */
  registry?: Registry;
}

/** A client message's kind: its text without the numbers (attempt counts, ports, delays) that vary. */
const logKind = (msg: string) => `hazelcast: ${msg.replace(/\d+/g, '#').slice(0, 80)}`;

export class HazelcastConnection {
  private client: HazelcastClient | undefined;
  private connected = false;
  private stopping: Promise<void> | undefined;
  private readonly creating: Promise<HazelcastClient>;
  /** The client repeats its warnings while the cluster is away: one per kind per window. */
  private readonly clientLog: LogLimiter;

  private constructor(
    private readonly settings: HazelcastSettings,
    private readonly logger: Logger,
  ) {
    this.clientLog = new LogLimiter(logger, { registry: settings.registry });
    this.creating = Client.newHazelcastClient(this.clientConfig());
    this.creating.then(
      (client) => (this.client = client),
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

  private clientConfig(): ClientConfig {
    const s = this.settings;
    return {
      clusterName: s.clusterName,
      instanceName: s.instanceName,
      // Members, not the client, collect the acknowledgements of the 2 synchronous backups before
      // answering. With acknowledgements sent to the client (the default), hazelcast-client 5.6
      // stops receiving them after reconnecting to restarted members, and then every write waits
      // out the 5 s backup timeout. The guarantee is the same: the put returns once backed up.
      backupAckToClientEnabled: false,
      network: {
        clusterMembers: s.members,
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
      },
      lifecycleListeners: [(state: LifecycleState) => this.onState(state)],
      customLogger: {
        log: () => undefined,
        error: (_o: unknown, msg: string, e: unknown) => this.clientLog.log(logKind(msg), 'error', { err: e }, `hazelcast: ${msg}`),
        warn: (_o: unknown, msg: string) => this.clientLog.log(logKind(msg), 'warn', {}, `hazelcast: ${msg}`),
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

  /** @throws HttpError 503 before the first connection and once the client is shutting down */
  async getMap<K, V>(name: string): Promise<IMap<K, V>> {
    return this.usable().getMap<K, V>(name);
  }

  private usable(): HazelcastClient {
    if (this.stopping) throw unavailable('STORE_UNAVAILABLE', 'the Hazelcast client is shutting down');
    if (!this.client) throw unavailable('STORE_UNAVAILABLE', 'not connected to the Hazelcast cluster yet');
    return this.client;
  }

  /** Closes the client; idempotent, returns the same promise every time. */
  shutdown(): Promise<void> {
    // A client still making its first connection holds nothing worth closing; the process exit ends it.
    this.stopping ??= this.client ? this.client.shutdown() : Promise.resolve();
    return this.stopping;
  }
}

/** True for failures that mean "the cluster cannot be reached or answered too late". */
export function isHazelcastUnavailable(err: unknown): boolean {
  return err instanceof HazelcastError;
}
