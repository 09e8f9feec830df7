/** Settings of config-server; see the README's settings table. */
import { z } from 'zod';
import { commonSettings, loadConfig, millis, port } from '../../lib/config.js';

export const configServerSettings = {
  ...commonSettings,
  PORT: port(8888),
  /** The registry file (the lab's service-config.json; in Kubernetes a mounted ConfigMap). */
  REGISTRY_FILE: z.string().min(1).default('service-config.json'),
  /** How often the file is re-read for changes. */
  REGISTRY_POLL_MS: millis(1_000, 50),
  /** How long a DNS expansion of a `dns` entry is reused; one that failed, 250 ms at most (registry-dns.ts). */
  DNS_CACHE_MS: millis(1_000, 0),
};

export type ConfigServerConfig = ReturnType<typeof loadConfigServerConfig>;

export const loadConfigServerConfig = (env: Record<string, string | undefined>) => loadConfig(configServerSettings, env);
