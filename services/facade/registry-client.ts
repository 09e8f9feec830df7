/**
 * The facade's view of config-server: instance lists cached for a short time, refreshed in the
 * background when stale, and the last good list kept while config-server is down. A request only
 * waits for config-server when the facade has never had a list for that service, or when the list
 * it has is stale and empty (as at start-up in Kubernetes, before the logging pods are ready): an
 * empty list is not worth serving while a fresh one may be one call away.
 */
import type { Logger } from '../../lib/log.js';
import { unavailable } from '../../lib/errors.js';
import type { ServiceClient } from '../../lib/service-client.js';
import { UpstreamError } from '../../lib/upstream-error.js';
import { instanceList, parseAnswer } from '../../lib/contract.js';

interface Entry {
  urls: string[];
  fetchedAt: number;
}

export class RegistryClient {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string[]>>();

  constructor(
    private readonly configServerUrl: string,
    private readonly ttlMs: number,
    private readonly client: ServiceClient,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The instance URLs of `service`; with `fresh`, asked of config-server now (the cached list
   * when it cannot answer), e.g. to check an instance the cached list does not know yet.
   * @throws HttpError 503 when no list was ever obtained (config-server unreachable, unknown name)
   */
  async instances(service: string, requestId?: string, fresh = false): Promise<string[]> {
    const entry = this.cache.get(service);
    if (entry && fresh) return this.refresh(service, requestId).catch(() => entry.urls);
    if (entry) {
      const stale = this.now() - entry.fetchedAt >= this.ttlMs;
      if (stale && entry.urls.length === 0) return this.refresh(service, requestId).catch(() => entry.urls);
      if (stale) void this.refresh(service, requestId).catch(() => undefined);
      return entry.urls;
    }
    try {
      return await this.refresh(service, requestId);
    } catch (err) {
      throw unavailable('REGISTRY_UNAVAILABLE', `no instance list for ${service}: config-server is unavailable`, err);
    }
  }

  /** Fetches a fresh list; concurrent callers share one request. */
  private refresh(service: string, requestId?: string): Promise<string[]> {
    let pending = this.inFlight.get(service);
    if (!pending) {
      pending = this.fetch(service, requestId).finally(() => this.inFlight.delete(service));
      this.inFlight.set(service, pending);
    }
    return pending;
  }

  private async fetch(service: string, requestId?: string): Promise<string[]> {
    try {
      const res = await this.client.request(`${this.configServerUrl}/services/${encodeURIComponent(service)}`, { requestId });
      if (res.status !== 200) throw new UpstreamError(this.configServerUrl, 'network', `config-server answered ${res.status} for ${service}`);
      const urls = parseAnswer(instanceList, res.text);
      if (!urls) throw new UpstreamError(this.configServerUrl, 'network', `config-server sent a malformed list for ${service}`);
      const previous = this.cache.get(service);
      if (previous && previous.urls.join() !== urls.join()) {
        this.logger.info({ service, urls }, 'instance list changed');
      }
      this.cache.set(service, { urls, fetchedAt: this.now() });
      return urls;
    } catch (err) {
      const kept = this.cache.get(service);
      // Keep serving the last good list and ask again only after another TTL, not on every request.
      if (kept) kept.fetchedAt = this.now();
      this.logger.warn({ service, requestId, err: (err as Error).message, keptInstances: kept?.urls.length ?? 0 }, 'registry refresh failed');
      throw err;
    }
  }
}
