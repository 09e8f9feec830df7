/** Settings of the facade; see the README's settings table. */
import { z } from 'zod';
import { commonSettings, count, httpUrl, loadConfig, millis, port } from '../../lib/config.js';

export const facadeSettings = {
  ...commonSettings,
  PORT: port(8080),
  CONFIG_SERVER_URL: httpUrl().default('http://127.0.0.1:8888'),
  /** Registry names of the services the facade calls: the lab's own, as in its service-config.json. */
  LOGGING_SERVICE_NAME: z.string().min(1).default('logging-service'),
  MESSAGES_SERVICE_NAME: z.string().min(1).default('messages-service'),
  /** An instance list from config-server is reused this long before it is refreshed. */
  REGISTRY_TTL_MS: millis(2_000),
  /**
   * Bound on one call to another service. Above logging's HZ_INVOCATION_TIMEOUT_MS, so that while
   * the cluster replaces a dead member, a slow but working instance answers before it is given up.
   */
  UPSTREAM_TIMEOUT_MS: millis(8_000),
  /**
   * Bound on making a new connection to another service: a live instance connects in milliseconds;
   * one whose address has gone (a lost node) never does. Missed, every connection to that instance
   * is cut and its requests retried elsewhere (lib/service-client.ts).
   */
  UPSTREAM_CONNECT_TIMEOUT_MS: millis(500),
  /** Attempts per request across different instances, the first included. */
  RETRY_MAX_ATTEMPTS: count(4, 1, 20),
  RETRY_BASE_DELAY_MS: millis(20, 0),
  RETRY_MAX_DELAY_MS: millis(200, 0),
  /** An instance that failed is passed over this long while others are healthy. */
  INSTANCE_COOLDOWN_MS: millis(2_000, 0),
  /**
   * Bound on a whole POST /facade, every attempt and backoff included. Room for the 16 s a cluster
   * of three took to replace a paused master member (R10), so such a write waits instead of failing.
   */
  REQUEST_DEADLINE_MS: millis(25_000),
  /** Large reads (all messages, or a limit above 1,000) that may stream at once; one more gets 503 and Retry-After. */
  MAX_CONCURRENT_READS: count(4, 1, 1_000),
  /** Bound on one streamed read, first byte to last. */
  READ_DEADLINE_MS: millis(300_000),
};

export type FacadeConfig = ReturnType<typeof loadFacadeConfig>;

export const loadFacadeConfig = (env: Record<string, string | undefined>) => loadConfig(facadeSettings, env);
