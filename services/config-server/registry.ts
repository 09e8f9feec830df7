/**
 * The service registry: service name → instance URLs. Read from a JSON file such as
 *
 *     { "logging-service": ["http://localhost:8081/logging", "http://localhost:8083/logging"],
 *       "messages-service": ["http://localhost:8082/messages"],
 *       "logging-k8s": { "dns": "lab-logging-headless", "port": 8081, "path": "/logging" } }
 *
 * A list is served as it is (the lab's form). A `dns` entry names a headless Service: it is
 * expanded, through DNS, to one URL per address, i.e. one per ready pod.
 */
import { lookup } from 'node:dns/promises';
import { z } from 'zod';

/** Service names: lower-case DNS-label style, so no path tricks or prototype keys get through. */
export const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const instanceUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\/[^/]/.test(u), 'must be an http:// or https:// URL');

const dnsEntry = z
  .object({
    dns: z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'must be a host name'),
    port: z.number().int().min(1).max(65535),
    path: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be an absolute URL path').default('/'),
    scheme: z.enum(['http', 'https']).default('http'),
  })
  .strict();

const entry = z.union([z.array(instanceUrl).max(1000), dnsEntry]);

export type RegistryEntry = z.infer<typeof entry>;
/** A validated registry; a Map, so names like `__proto__` are plain missing keys. */
export type Registry = ReadonlyMap<string, RegistryEntry>;

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * Parses and validates registry file content.
 * @throws RegistryError naming every problem
 */
export function parseRegistry(text: string): Registry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(`registry is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RegistryError('registry must be a JSON object of service name → list of instance URLs');
  }
  const problems: string[] = [];
  const registry = new Map<string, RegistryEntry>();
  for (const [name, value] of Object.entries(raw)) {
    if (!SERVICE_NAME.test(name)) {
      problems.push(`${JSON.stringify(name)}: service names are lower-case letters, digits and dashes`);
      continue;
    }
    const parsed = entry.safeParse(value);
    if (!parsed.success) {
      problems.push(
        `${name}: must be a list of http(s) URLs or {"dns", "port", "path"} (${parsed.error.issues
          .map((i) => `${i.path.join('.') || 'value'}: ${i.message}`)
          .join('; ')})`,
      );
      continue;
    }
    registry.set(name, parsed.data);
  }
  if (problems.length > 0) throw new RegistryError(`invalid registry:\n  - ${problems.join('\n  - ')}`);
  return registry;
}

export type Resolve = (host: string) => Promise<string[]>;

/** Every address a host name resolves to (A and AAAA, /etc/hosts included), sorted. */
export const resolveAll: Resolve = async (host) => {
  const addresses = await lookup(host, { all: true });
  return [...new Set(addresses.map((a) => a.address))].sort();
};

export type DnsEntry = Exclude<RegistryEntry, readonly string[]>;

/** One instance URL per address of a `dns` entry's name. */
export const dnsEntryUrls = (value: DnsEntry, addresses: readonly string[]): string[] =>
  addresses.map((a) => `${value.scheme}://${a.includes(':') ? `[${a}]` : a}:${value.port}${value.path}`);
