/**
 * What the dashboard and `npm run scenario` see (`GET /facade/cluster`): one view of the whole
 * system — config-server's registry with each instance's readiness, and the Hazelcast cluster as
 * one logging instance's client sees it (members, entries each owns, map size, backup count). Its
 * cost is O(members and instances): the entries per member come from logging's summary, which
 * never lists a large map.
 */
import type { Logger } from '../../lib/log.js';
import { HttpError } from '../../lib/errors.js';
import type { ServiceClient } from '../../lib/service-client.js';
import { UpstreamError } from '../../lib/upstream-error.js';
import { parseAnswer, registryLists, type ClusterSummary } from '../../lib/contract.js';
import type { LoggingClient } from './logging-client.js';
import type { RegistryClient } from './registry-client.js';

/** Bound on one readiness probe or registry read for the cluster view; a dead instance costs no more. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;

/** ready: `/readyz` answered 200; not-ready: it answered something else; down: no answer. */
export type Health = 'ready' | 'not-ready' | 'down';

export interface InstanceHealth {
  url: string;
  health: Health;
  /** `HTTP 503`, `refused`, `timeout`, … */
  detail: string;
  /** Round trip of the probe; null when there was no answer. */
  latencyMs: number | null;
}

export interface RegistryEntryView {
  /** The registry name, e.g. `logging`. */
  name: string;
  /** Which of the facade's upstreams this entry is, if any. */
  usedFor: 'logging' | 'messages' | null;
  instances: InstanceHealth[];
}

export interface HazelcastView extends ClusterSummary {
  clusterSize: number;
  /** Sum of the members' owned entries; equals `mapSize` unless partitions are moving. */
  ownedEntriesTotal: number;
  /** The logging instance whose Hazelcast client answered. */
  reportedBy: string;
}

export interface ClusterView {
  checkedAt: string;
  configServer: { url: string | null; reachable: boolean | null; error: string | null };
  /** Config-server's registry; while it is down, the facade's last good lists of its two upstreams. */
  registry: RegistryEntryView[];
  hazelcast: HazelcastView | null;
  /** Why `hazelcast` is null. */
  hazelcastError: string | null;
}

export interface ClusterDeps {
  serviceRegistry: Pick<RegistryClient, 'instances'>;
  /** For the readiness probes and config-server's registry. */
  client: ServiceClient;
  logging: Pick<LoggingClient, 'summary'>;
  logger: Logger;
  loggingService: string;
  messagesService: string;
  /** Config-server's base URL; without it the view shows the facade's cached lists only. */
  configServerUrl?: string;
  probeTimeoutMs?: number;
  now?: () => Date;
}

/** GETs `url` through the shared client within `timeoutMs`; never throws: a failure is a `down` health. */
async function probe(
  client: ServiceClient,
  url: string,
  timeoutMs: number,
  requestId: string,
): Promise<{ status: number | null; text: string; detail: string; latencyMs: number | null }> {
  const started = performance.now();
  try {
    const res = await client.request(url, { requestId, timeoutMs });
    return { status: res.status, text: res.text, detail: `HTTP ${res.status}`, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (err instanceof UpstreamError && err.status !== undefined) {
      return { status: err.status, text: '', detail: `HTTP ${err.status}`, latencyMs: Math.round(performance.now() - started) };
    }
    return { status: null, text: '', detail: err instanceof UpstreamError ? err.reason : 'unreachable', latencyMs: null };
  }
}

/** The `/readyz` of the process serving an instance URL (`http://host:port/logging` → `http://host:port/readyz`). */
export function readinessUrl(instanceUrl: string): string {
  return new URL('/readyz', instanceUrl).toString();
}

/**
 * Builds cluster views. Concurrent requests (several open dashboards) share one build, so polling
 * never multiplies the probes.
 */
export class ClusterViewer {
  private building: Promise<ClusterView> | undefined;

  constructor(private readonly deps: ClusterDeps) {}

  view(requestId: string): Promise<ClusterView> {
    this.building ??= this.build(requestId).finally(() => (this.building = undefined));
    return this.building;
  }

  private async build(requestId: string): Promise<ClusterView> {
    const { loggingService, messagesService, now = () => new Date() } = this.deps;
    const { lists, configServer } = await this.readRegistry(requestId);
    const origins = new Map<string, Promise<InstanceHealth>>();
    const health = (url: string) => {
      let key: string;
      try {
        key = readinessUrl(url);
      } catch {
        return Promise.resolve<InstanceHealth>({ url, health: 'down', detail: 'invalid URL', latencyMs: null });
      }
      if (!origins.has(key)) origins.set(key, this.health(key, requestId));
      return origins.get(key)!.then((h) => ({ ...h, url }));
    };
    const registry = await Promise.all(
      Object.keys(lists)
        .sort()
        .map(async (name): Promise<RegistryEntryView> => ({
          name,
          usedFor: name === loggingService ? 'logging' : name === messagesService ? 'messages' : null,
          instances: await Promise.all(lists[name]!.map(health)),
        })),
    );
    const logging = registry.find((e) => e.usedFor === 'logging')?.instances ?? [];
    const { hazelcast, error } = await this.readHazelcast(logging, requestId);
    return { checkedAt: now().toISOString(), configServer, registry, hazelcast, hazelcastError: error };
  }

  private async health(readyz: string, requestId: string): Promise<InstanceHealth> {
    const r = await probe(this.deps.client, readyz, this.deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, requestId);
    const health: Health = r.status === 200 ? 'ready' : r.status === null ? 'down' : 'not-ready';
    return { url: readyz, health, detail: r.detail, latencyMs: r.latencyMs };
  }

  /** Config-server's whole registry; when it cannot be read, the facade's cached lists of its two upstreams. */
  private async readRegistry(requestId: string): Promise<{ lists: Record<string, string[]>; configServer: ClusterView['configServer'] }> {
    const { configServerUrl, serviceRegistry, loggingService, messagesService } = this.deps;
    let error: string | null = null;
    if (configServerUrl) {
      const r = await probe(this.deps.client, `${configServerUrl}/services`, this.deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, requestId);
      if (r.status === 200) {
        const lists = parseAnswer(registryLists, r.text);
        if (lists) return { lists, configServer: { url: configServerUrl, reachable: true, error: null } };
        error = 'malformed registry';
      } else {
        error = r.detail;
      }
    }
    const lists: Record<string, string[]> = {};
    for (const name of [loggingService, messagesService]) {
      lists[name] = await serviceRegistry.instances(name, requestId).catch(() => []);
    }
    return { lists, configServer: { url: configServerUrl ?? null, reachable: configServerUrl ? false : null, error } };
  }

  /** The cluster summary from a ready logging instance (another one after a failure). */
  private async readHazelcast(
    logging: InstanceHealth[],
    requestId: string,
  ): Promise<{ hazelcast: HazelcastView | null; error: string | null }> {
    if (logging.length === 0) return { hazelcast: null, error: 'no logging instance is registered' };
    const ready = logging.filter((i) => i.health === 'ready').map((i) => i.url);
    const candidates = ready.length > 0 ? ready : logging.map((i) => i.url);
    try {
      const { instance, summary } = await this.deps.logging.summary(candidates, requestId);
      const members = [...summary.members].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
      const ownedEntriesTotal = members.reduce((n, m) => n + m.ownedEntries, 0);
      return { hazelcast: { ...summary, members, clusterSize: members.length, ownedEntriesTotal, reportedBy: instance }, error: null };
    } catch (err) {
      if (err instanceof HttpError) return { hazelcast: null, error: err.message };
      this.deps.logger.warn({ requestId, err: (err as Error).message }, 'cluster summary unavailable');
      const why = err instanceof UpstreamError ? (err.status ? `HTTP ${err.status}` : err.reason) : 'malformed answer';
      return { hazelcast: null, error: `no logging instance could report the cluster (last: ${why})` };
    }
  }
}
