/** Wires the logging service: config → Hazelcast connection → store → app → server. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { serve } from '../../lib/http/server.js';
import { startTracing } from '../../lib/tracing.js';
import { HazelcastConnection } from '../../lib/hazelcast.js';
import { createApp } from './app.js';
import { HazelcastMessageStore } from './store.js';
import { MemberViews } from './member-views.js';
import { ClusterSide } from './cluster-side.js';
import { ServiceClient } from '../../lib/service-client.js';
import { loadLoggingConfig, type LoggingConfig } from './config.js';
import type { RunningService } from '../../lib/lifecycle.js';

export async function start(config: LoggingConfig, logger: Logger = createLogger({ service: 'logging', level: config.LOG_LEVEL })): Promise<RunningService> {
  const instanceName = config.INSTANCE_NAME ?? `logging@${config.HOST}:${config.PORT}`;
  const metrics = createMetrics('logging');
  const tracing = await startTracing('logging', config, logger);
  const hz = await HazelcastConnection.start(
    {
      clusterName: config.HZ_CLUSTER_NAME,
      members: config.HZ_MEMBERS,
      connectTimeoutMs: config.HZ_CONNECT_TIMEOUT_MS,
      invocationTimeoutMs: config.HZ_INVOCATION_TIMEOUT_MS,
      heartbeatTimeoutMs: config.HZ_HEARTBEAT_TIMEOUT_MS,
      reconnectMaxBackoffMs: config.HZ_RECONNECT_MAX_BACKOFF_MS,
      instanceName,
      metricsRegistry: metrics.metricsRegistry,
      minWriteCopies: config.HZ_MIN_COPIES,
    },
    logger,
  );
  // Health probes of the members: one attempt each, no retry (a member that does not answer is news).
  const probes = new ServiceClient({ timeoutMs: 1_000, policy: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, cooldownMs: 0 }, logger });
  const memberViews = new MemberViews({
    configured: config.HZ_MEMBERS_PROBED ?? config.HZ_MEMBERS,
    clientMembers: () => hz.members().map((m) => m.address),
    client: probes,
    metricsPorts: config.HZ_METRICS_PORTS,
  });
  const side = new ClusterSide({ connection: hz, views: memberViews, logger });
  side.start();
  let draining = false;
  const store = new HazelcastMessageStore(hz, config.HZ_MAP_NAME, {
    backupCount: config.HZ_BACKUP_COUNT,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_MS,
    capacityBytes: config.STORE_CAPACITY_MB * 1024 * 1024,
    onMinority: () => side.watch(),
    onUnconfirmed: () => side.watch(),
  });
  const app = createApp({
    store,
    logger,
    metrics,
    instanceName,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    isReady: () => !draining && hz.isConnected(),
    memberViews,
    maxConcurrentReads: config.MAX_CONCURRENT_READS,
    readDeadlineMs: config.READ_DEADLINE_MS,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_MS,
    tracing,
  });
  return serve(app, config, logger, {
    onStopping: () => (draining = true),
    afterClose: async () => {
      await store.close();
      await side.stop();
      probes.close();
      await hz.shutdown();
      await tracing?.shutdown();
    },
  });
}

export const loadConfig = loadLoggingConfig;
