/** Settings of the logging service; see the README's settings table. */
import { z } from 'zod';
import { parseMetricsPorts } from './member-views.js';
import { addressList, commonSettings, count, loadConfig, millis, optionalAddressList, port } from '../../lib/config.js';

export const loggingSettings = {
  ...commonSettings,
  PORT: port(8081),
  /** This instance's name in logs and in each stored message's `loggedBy`; defaults to host:port. */
  INSTANCE_NAME: z.string().min(1).max(200).optional(),
  HZ_CLUSTER_NAME: z.string().min(1).default('lab'),
  HZ_MEMBERS: addressList('127.0.0.1:5701,127.0.0.1:5702,127.0.0.1:5703'),
  /**
   * Where logging asks each member for its own view of the cluster (`/logging/cluster`'s
   * memberViews, hazelcast_members_apart), member by member; a name may stand for several (a
   * headless Service). Never a load-balanced address: whichever member answered it would count as
   * one more member. Unset: HZ_MEMBERS.
   */
  HZ_MEMBERS_PROBED: optionalAddressList(),
  /**
   * Where the members' Prometheus exporters listen, for their heap on the dashboard: one port on
   * every member's own host (`8090`), or `memberPort=metricsPort` pairs; empty: no heap is read.
   */
  HZ_METRICS_PORTS: z
    .string()
    .default('')
    .refine((t) => parseMetricsPorts(t) !== undefined, 'a port, or memberPort=metricsPort pairs separated by commas')
    .transform((t) => parseMetricsPorts(t)!),
  HZ_MAP_NAME: z.string().min(1).regex(/^[A-Za-z0-9_-]+$/).default('messages'),
  /**
   * The map's synchronous backups as the member configuration declares them
   * (charts/lab/files/hazelcast.yaml; the chart sets it from there). Reported on the dashboard: a
   * client cannot read a map's configuration.
   */
  HZ_BACKUP_COUNT: count(2, 0, 6),
  /**
   * Members that must hold a write (its owner and the backups it reports) before it is
   * acknowledged; one held by fewer answers 503 STORE_UNCONFIRMED and the facade retries it. The
   * members' split-brain minimum where it protects writes (charts/lab/files/hazelcast.yaml; the
   * chart sets it from its values), else 1. For about a second after members drop one another,
   * Hazelcast sends some writes fewer backups than that, or none (lib/write-copies.ts).
   */
  HZ_MIN_COPIES: count(2, 1, 7),
  HZ_CONNECT_TIMEOUT_MS: millis(5_000),
  /**
   * A member silent this long is taken for dead by this client: its connection closes, and
   * operations waiting on it go again to whichever member owns their partition then. As the
   * members' own max.no.heartbeat (10 s locally): while a paused master is being replaced, the other
   * members can be silent for seconds too, and a client that gave up on them after 6 s failed writes (R10).
   */
  HZ_HEARTBEAT_TIMEOUT_MS: millis(10_000),
  /** Bound on one map operation, the client's retries included; covers the seconds the cluster needs to replace a killed member. */
  HZ_INVOCATION_TIMEOUT_MS: millis(6_000),
  HZ_RECONNECT_MAX_BACKOFF_MS: millis(2_000),
  /** Large reads (`GET /logging` with no limit, or one above 1,000) that may stream at once; one more gets 503 and Retry-After. */
  MAX_CONCURRENT_READS: count(8, 1, 1_000),
  /** Bound on one streamed read, first byte to last. */
  READ_DEADLINE_MS: millis(300_000),
  /**
   * How far a message id's time may lie ahead of this instance's clock. Reads walk the map in
   * key (time) order up to now plus this; a write with a later id is refused with 400.
   */
  MAX_CLOCK_SKEW_MS: millis(60_000),
  /**
   * The most the messages may take in each member's heap, estimated per message (capacity.ts);
   * beyond it writes get 507 STORE_FULL. Keep it at about 60 % of one member's heap (README: Capacity).
   */
  STORE_CAPACITY_MB: count(600, 1, 1_000_000),
};

export type LoggingConfig = ReturnType<typeof loadLoggingConfig>;

export const loadLoggingConfig = (env: Record<string, string | undefined>) => loadConfig(loggingSettings, env);
