/** The four services, by the name the entry point (`node dist/bin/lab.js <name>`) takes. */
import type { Logger } from '../lib/log.js';
import type { RunningService } from '../lib/lifecycle.js';

export type { RunningService };

export interface ServiceModule<C extends { LOG_LEVEL: string; SHUTDOWN_TIMEOUT_MS: number }> {
  loadConfig(env: Record<string, string | undefined>): C;
  start(config: C, logger?: Logger): Promise<RunningService>;
}

export const SERVICES = {
  facade: () => import('./facade/main.js'),
  logging: () => import('./logging/main.js'),
  messages: () => import('./messages/main.js'),
  'config-server': () => import('./config-server/main.js'),
} as const;

export type ServiceName = keyof typeof SERVICES;

export const isServiceName = (name: string | undefined): name is ServiceName =>
  name !== undefined && Object.prototype.hasOwnProperty.call(SERVICES, name);
