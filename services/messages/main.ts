/** Wires the messages service. */
import { createLogger, type Logger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { serve } from '../../lib/http/server.js';
import { startTracing } from '../../lib/tracing.js';
import { createApp } from './app.js';
import { loadMessagesConfig, type MessagesConfig } from './config.js';
import type { RunningService } from '../../lib/lifecycle.js';

export async function start(config: MessagesConfig, logger: Logger = createLogger({ service: 'messages', level: config.LOG_LEVEL })): Promise<RunningService> {
  const tracing = await startTracing('messages', config, logger);
  const app = createApp({ logger, metrics: createMetrics('messages'), text: config.MESSAGES_TEXT, tracing });
  return serve(app, config, logger, { afterClose: () => tracing?.shutdown() });
}

export const loadConfig = loadMessagesConfig;
