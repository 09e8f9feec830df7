/** The facade's callees for unit tests: real logging apps over one in-memory store, and a messages app, on loopback. */
import { createApp as createLogging } from '../../services/logging/app.js';
import { createApp as createMessages } from '../../services/messages/app.js';
import { createMetrics } from '../../lib/metrics.js';
import type { Logger } from '../../lib/log.js';
import type { InMemoryMessageStore } from './fakes.js';
import { serve } from './http.js';

export interface Backends {
  /** Instance URLs as the registry lists them. */
  logging: string[];
  messages: string[];
  close(): Promise<void>;
}

export async function serveBackends(store: InMemoryMessageStore, logger: Logger, { loggingInstances = 2, messagesText = "I'm not implemented yet ^_^" } = {}): Promise<Backends> {
  const closers: (() => Promise<void>)[] = [];
  const logging: string[] = [];
  for (let i = 0; i < loggingInstances; i++) {
    const s = await serve(createLogging({ store, logger, metrics: createMetrics('logging'), instanceName: `logging-${i}`, bodyLimitBytes: 65536, isReady: () => true }));
    closers.push(s.close);
    logging.push(`${s.url}/logging`);
  }
  const m = await serve(createMessages({ logger, metrics: createMetrics('messages'), text: messagesText }));
  closers.push(m.close);
  return { logging, messages: [`${m.url}/messages`], close: async () => void (await Promise.all(closers.map((c) => c()))) };
}
