/** Wires config-server: registry file → app → server. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { serve } from '../../lib/http/server.js';
import { startTracing } from '../../lib/tracing.js';
import { createApp } from './app.js';
import { RegistrySource } from './registry-source.js';
import { loadConfigServerConfig, type ConfigServerConfig } from './config.js';
import type { RunningService } from '../../lib/lifecycle.js';

export async function start(config: ConfigServerConfig, logger: Logger = createLogger({ service: 'config-server', level: config.LOG_LEVEL })): Promise<RunningService> {
  const source = await RegistrySource.open(config.REGISTRY_FILE, config.REGISTRY_POLL_MS, logger);
  const tracing = await startTracing('config-server', config, logger);
  const registry = () => source.current();
  const app = createApp({ logger, metrics: createMetrics('config-server'), registry, dnsCacheMs: config.DNS_CACHE_MS, tracing });
  return serve(app, config, logger, { onStopping: () => source.close(), afterClose: () => tracing?.shutdown() });
}

export const loadConfig = loadConfigServerConfig;
