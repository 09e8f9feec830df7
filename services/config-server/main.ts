/** Wires config-server: registry file → app → server. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { listen } from '../../lib/http/server.js';
import { createApp } from './app.js';
import { RegistrySource } from './registry-source.js';
import { loadConfigServerConfig, type ConfigServerConfig } from './config.js';
import type { RunningService } from '../index.js';

export async function start(config: ConfigServerConfig, logger: Logger = createLogger({ service: 'config-server', level: config.LOG_LEVEL })): Promise<RunningService> {
  const source = await RegistrySource.open(config.REGISTRY_FILE, config.REGISTRY_POLL_MS, logger);
  const app = createApp({ logger, metrics: createMetrics('config-server'), registry: () => source.current(), dnsCacheMs: config.DNS_CACHE_MS });
  const server = await listen(app, {
    host: config.HOST,
    port: config.PORT,
    logger,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  });
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    stop: () =>
      (stopped ??= (async () => {
        source.close();
        await server.close(config.SHUTDOWN_TIMEOUT_MS);
      })()),
  };
}

export const loadConfig = loadConfigServerConfig;
