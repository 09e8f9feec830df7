/** Wires the facade: config → service client and registry client → app → server. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics, prom } from '../../lib/metrics.js';
import { serve } from '../../lib/http/server.js';
import { startTracing } from '../../lib/tracing.js';
import { ServiceClient } from '../../lib/service-client.js';
import { createApp } from './app.js';
import { RegistryClient } from './registry-client.js';
import { loadFacadeConfig, type FacadeConfig } from './config.js';
import type { RunningService } from '../../lib/lifecycle.js';

export async function start(config: FacadeConfig, logger: Logger = createLogger({ service: 'facade', level: config.LOG_LEVEL })): Promise<RunningService> {
  const tracing = await startTracing('facade', config, logger);
  const metrics = createMetrics('facade');
  const retries = new prom.Counter({
    name: 'facade_upstream_retries_total',
    help: 'Calls to another service retried on a different instance, by failure reason.',
    labelNames: ['reason'] as const,
    registers: [metrics.metricsRegistry],
  });
  const client = new ServiceClient({
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    policy: {
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      baseDelayMs: config.RETRY_BASE_DELAY_MS,
      maxDelayMs: config.RETRY_MAX_DELAY_MS,
      cooldownMs: config.INSTANCE_COOLDOWN_MS,
    },
    logger,
    metricsRegistry: metrics.metricsRegistry,
    onRetry: (reason) => retries.inc({ reason }),
    tracing,
  });
  const serviceRegistry = new RegistryClient(config.CONFIG_SERVER_URL, config.REGISTRY_TTL_MS, client, logger);
  // Warm the cache so the first request does not wait for config-server; a failure here is not fatal.
  await Promise.allSettled([
    serviceRegistry.instances(config.LOGGING_SERVICE_NAME),
    serviceRegistry.instances(config.MESSAGES_SERVICE_NAME),
  ]);
  const app = createApp({
    logger,
    metrics,
    serviceRegistry,
    client,
    loggingService: config.LOGGING_SERVICE_NAME,
    messagesService: config.MESSAGES_SERVICE_NAME,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    configServerUrl: config.CONFIG_SERVER_URL,
    requestDeadlineMs: config.REQUEST_DEADLINE_MS,
    maxConcurrentReads: config.MAX_CONCURRENT_READS,
    readDeadlineMs: config.READ_DEADLINE_MS,
    readSilenceMs: config.UPSTREAM_TIMEOUT_MS,
    tracing,
  });
  return serve(app, config, logger, {
    afterClose: async () => {
      client.close();
      await tracing?.shutdown();
    },
  });
}

export const loadConfig = loadFacadeConfig;
