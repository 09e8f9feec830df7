/** Wires config-server: registry file → app → server. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { serve } from '../../lib/http/server.js';
import { createApp } from './app.js';
import { RegistrySource } from './registry-source.js';
import { loadConfigServerConfig, type ConfigServerConfig } from './config.js';
import type { RunningService } from '../../lib/lifecycle.js';

export async function start(config: ConfigServerConfig, logger: Logger = createLogger({ service: 'config-server', level: config.LOG_LEVEL })): Promise<RunningService> {
  const source = await RegistrySource.open(config.REGISTRY_FILE, config.REGISTRY_POLL_MS, logger);
  const app = createApp({ logger, metrics: createMetrics('config-server'), registry: () => source.current(), dnsCacheMs: config.DNS_CACHE_MS });
  return serve(app, config, logger, { onStopping: () => source.close() });
}

export const loadConfig = loadConfigServerConfig;
