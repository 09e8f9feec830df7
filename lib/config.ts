/**
 * Configuration: every service describes its settings as a zod object of environment variables,
 * and `loadConfig` turns `process.env` into a typed, validated object once at start-up.
 * Nothing else in the code base reads `process.env`.
 */
import { z } from 'zod';

/** Raised when the environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** A TCP port; 0 asks the OS for a free one (tests). */
export const port = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);

/** A duration in milliseconds. */
export const millis = (defaultMs: number, min = 1) => z.coerce.number().int().min(min).max(3_600_000).default(defaultMs);

/** A positive count. */
export const count = (defaultCount: number, min = 1, max = 1_000_000) =>
  z.coerce.number().int().min(min).max(max).default(defaultCount);

/** An absolute http(s) URL, without a trailing slash. */
export const httpUrl = () =>
  z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
    .transform((u) => u.replace(/\/+$/, ''));

const HOST_PORT = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;
const splitList = (s: string) => s.split(',').map((a) => a.trim()).filter(Boolean);

/** A comma-separated list of host:port addresses. */
export const addressList = (defaultList: string) =>
  z
    .string()
    .default(defaultList)
    .transform(splitList)
    .refine((list) => list.length > 0, 'must name at least one host:port')
    .refine((list) => list.every((a) => HOST_PORT.test(a)), 'each entry must be host:port');

/** Like addressList, with no default: undefined when unset or empty. */
export const optionalAddressList = () =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined ? [] : splitList(s)))
    .refine((list) => list.every((a) => HOST_PORT.test(a)), 'each entry must be host:port')
    .transform((list) => (list.length > 0 ? list : undefined));

export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Settings every service shares: where it listens, how it logs, how it stops. */
export const commonSettings = {
  /** Interface to bind; loopback by default so a laptop run is not reachable from the network. */
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: logLevel(),
  /** Bound on a graceful stop: in-flight requests get this long before connections are cut. */
  SHUTDOWN_TIMEOUT_MS: millis(10_000),
  /** Largest accepted request body. */
  BODY_LIMIT_BYTES: count(64 * 1024, 1, 16 * 1024 * 1024),
  /** Idle keep-alive sockets are closed after this long. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: millis(5_000),
  /** A request (headers and body) must arrive within this long. */
  HTTP_REQUEST_TIMEOUT_MS: millis(30_000),
  /**
   * Where traces go: OTLP over HTTP (JSON) to this base URL's /v1/traces. Unset, tracing is off:
   * no SDK starts and no traceparent is sent (lib/tracing.ts).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl().optional(),
  /** Share of new traces recorded, 0 to 1; a request that arrives with a trace follows its caller's choice. */
  OTEL_TRACES_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
};

export type CommonConfig = {
  HOST: string;
  PORT: number;
  LOG_LEVEL: z.infer<ReturnType<typeof logLevel>>;
  SHUTDOWN_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_TRACES_SAMPLE_RATIO: number;
};

/**
 * Validates `env` against `schema` and returns the typed result.
 * Only the keys of the schema are read; empty strings count as unset so `FOO=` falls back to the default.
 * @throws ConfigError listing every problem at once
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<S>> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const result = z.object(shape).strict().safeParse(picked);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}
