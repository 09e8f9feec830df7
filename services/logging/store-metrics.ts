/**
 * Prometheus metrics of the message store: latency and errors of every Hazelcast operation, and the
 * map and cluster size, read on scrape (bounded, so a slow cluster never stalls `/metrics`).
 */
import { prom, type MetricsRegistry } from '../../lib/metrics.js';
import { StoreError } from '../../lib/store-errors.js';
import type { MessageStore, StoreStats } from './store.js';
import type { StoredMessage } from '../../lib/contract.js';

/** The store operations measured; a closed set, used as a label. */
export type StoreOperation = 'put' | 'read' | 'summary' | 'size';

/** How long a scrape waits for the map size before reporting it as unknown (NaN). */
export const STATS_TIMEOUT_MS = 1_000;

/** Why an operation failed, as a label: the cluster refused or could not be reached (a 503), or anything else. */
function errorKind(err: unknown): 'unavailable' | 'other' {
  return err instanceof StoreError && err.code !== 'STORE_FULL' ? 'unavailable' : 'other';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wraps `store` so every call is timed and every failure counted on `metricsRegistry`:
 * `hazelcast_operation_duration_seconds{operation,outcome}` (a read: each batch it fetches),
 * `hazelcast_operation_errors_total{operation,kind}`, what reads fetched (`hazelcast_read_*_total`),
 * and the gauges `hazelcast_map_size`, `hazelcast_cluster_size` and `hazelcast_client_connected`.
 * The gauges ask the store's `stats()` on each scrape, bounded by `statsTimeoutMs` (default 1000 ms).
 */
export function instrumentStore(store: MessageStore, metricsRegistry: MetricsRegistry, statsTimeoutMs = STATS_TIMEOUT_MS): MessageStore {
  const duration = new prom.Histogram({
    name: 'hazelcast_operation_duration_seconds',
    help: 'Latency of message-store operations on the Hazelcast map, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metricsRegistry],
  });
  const errors = new prom.Counter({
    name: 'hazelcast_operation_errors_total',
    help: 'Failed message-store operations, by operation and kind (unavailable: the cluster could not be reached).',
    labelNames: ['operation', 'kind'] as const,
    registers: [metricsRegistry],
  });

  async function timed<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    const end = duration.startTimer({ operation });
    try {
      const result = await call();
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      // A read stopped on purpose (its client went away) is not a failure of the store.
      if ((err as Error)?.name === 'AbortError') {
        end({ outcome: 'aborted' });
      } else {
        end({ outcome: 'error' });
        errors.inc({ operation, kind: errorKind(err) });
      }
      throw err;
    }
  }

  const readWindows = new prom.Counter({
    name: 'hazelcast_read_windows_total',
    help: 'Key windows fetched from the map by reads.',
    registers: [metricsRegistry],
  });
  const readEntries = new prom.Counter({
    name: 'hazelcast_read_entries_total',
    help: 'Entries fetched from the map by reads.',
    registers: [metricsRegistry],
  });
  let largestWindow = 0;
  new prom.Gauge({
    name: 'hazelcast_read_window_entries_max',
    help: 'The most entries one key window held since the start: about the target (2,000) unless keys came in bursts (key-range.ts).',
    registers: [metricsRegistry],
    collect() {
      this.set(largestWindow);
    },
  });
  const readMisses = new prom.Counter({
    name: 'hazelcast_read_misses_total',
    help: 'Key windows reads asked for that were empty, or refused as too large and asked again narrower.',
    registers: [metricsRegistry],
  });

  /** Each batch a read fetches is timed as one `read` operation. */
  async function* timedRead(batches: AsyncIterable<StoredMessage[]>): AsyncGenerator<StoredMessage[]> {
    const it = batches[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await timed('read', () => it.next());
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await it.return?.();
    }
  }

  // One scrape reads the stats once for all the gauges; the first gauge collected starts it.
  let pending: Promise<StoreStats | undefined> | undefined;
  const stats = () =>
    (pending ??= (store.stats ? withTimeout(timed('size', () => store.stats!()), statsTimeoutMs) : Promise.resolve(undefined))
      .catch(() => undefined)
      .finally(() => setImmediate(() => (pending = undefined))));
  /** A gauge set on each scrape from the stats (`undefined`: they could not be read in time). */
  const statsGauge = (name: string, help: string, value: (s: StoreStats | undefined) => number) =>
    new prom.Gauge({
      name,
      help,
      registers: [metricsRegistry],
      async collect() {
        this.set(value(await stats()));
      },
    });

  statsGauge('hazelcast_map_size', 'Entries in the messages map (NaN when the cluster did not answer in time).', (s) => s?.mapSize ?? Number.NaN);
  statsGauge('hazelcast_cluster_size', 'Hazelcast members the client currently sees.', (s) => s?.clusterSize ?? 0);
  // A cluster of n members keeps at most n - 1 backups of each entry: below backup-count + 1
  // members, an entry lives in fewer places than configured (and one more loss may lose it).
  statsGauge('hazelcast_backups_missing', 'Backups of each entry the cluster the client sees is too small to keep (backup count + 1 - members; 0 when whole).', (s) =>
    s?.backupCount === undefined || !s.connected ? Number.NaN : Math.max(0, s.backupCount + 1 - s.clusterSize),
  );
  statsGauge('hazelcast_client_connected', '1 while the Hazelcast client is connected to the cluster, else 0.', (s) => (s?.connected ? 1 : 0));
  statsGauge('hazelcast_store_used_bytes', 'Estimate of the heap the messages take on each member (capacity.ts); NaN until known.', (s) => s?.usedBytes ?? Number.NaN);
  statsGauge('hazelcast_store_capacity_bytes', "The most the messages may take in each member's heap; beyond it writes get 507 STORE_FULL.", (s) => s?.capacityBytes ?? Number.NaN);

  const instrumented: MessageStore = {
    put: (uuid, value) => timed('put', () => store.put(uuid, value)),
    read: (page, options = {}) =>
      timedRead(
        store.read(page, {
          ...options,
          onWindow: (w) => {
            readWindows.inc();
            readEntries.inc(w.entries);
            largestWindow = Math.max(largestWindow, w.entries);
            readMisses.inc(w.misses);
            options.onWindow?.(w);
          },
        }),
      ),
    summary: () => timed('summary', () => store.summary()),
  };
  // `stats` stays out of the wrapper's own timing: the gauges above time it as `size`.
  if (store.stats) instrumented.stats = () => store.stats!();
  return instrumented;
}
