/** Wires the messages service. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { listen } from '../../lib/http/server.js';
import { createApp } from './app.js';
import { loadMessagesConfig, type MessagesConfig } from './config.js';
import type { RunningService } from '../index.js';

export async function start(config: MessagesConfig, logger: Logger = createLogger({ service: 'messages', level: config.LOG_LEVEL })): Promise<RunningService> {
  const app = createApp({ logger, metrics: createMetrics('messages'), text: config.MESSAGES_TEXT });
  const server = await listen(app, {
    host: config.HOST,
    port: config.PORT,
    logger,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  });
  return { url: server.url, stop: () => server.close(config.SHUTDOWN_TIMEOUT_MS) };
}

export const loadConfig = loadMessagesConfig;
