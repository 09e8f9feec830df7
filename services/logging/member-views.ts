/**
 * Each member's own view of the cluster, from its health endpoint (`/hazelcast/health/node-state`
 * and `/hazelcast/health/cluster-size`, served on the member port). The client sees only the
 * members of the cluster it is connected to, so a member that split off (a partition, or a pause
 * longer than the heartbeat timeout) and runs alone shows up only here, until it merges back.
 *
 * Not the whole `/hazelcast/health`: it also works out `clusterSafe`, which asks the other members
 * about their replicas and triggers replica syncs, and while members are being dropped that takes
 * seconds. With probes of it once a second from every logging instance, two of three R9 runs saw
 * both sides' health answer the split only 20-21 s after the cut (the members had dropped one
 * another after about 11 s), logging moved its clients that late, and one run failed. With these
 * two paths: 10.6-14.7 s, and no failure (docs/resilience.md).
 *
 * With `heap`, each member's heap too, from its Prometheus exporter
 * (charts/lab/files/jmx-exporter.yaml), on the port HZ_METRICS_PORTS names for it.
 *
 * Cost of one call: a DNS lookup per configured address (a headless Service name gives every
 * member) and two small GETs per member (three with `heap`: the exporter's whole answer, about 16 kB, which
 * takes it 60 to 130 ms here), all at once, each bounded by `timeoutMs`; at most MAX_MEMBERS_PROBED members:
 * O(members), whatever is stored.
 */
import { lookup } from 'node:dns/promises';
import { prom, type MetricsRegistry } from '../../lib/metrics.js';
import { parsePrometheusText, sampleValue } from '../../lib/prometheus-text.js';
import type { ServiceClient } from '../../lib/service-client.js';
import type { MemberView } from '../../lib/contract.js';

/** A cap on the members probed per call, whatever DNS answers. */
export const MAX_MEMBERS_PROBED = 16;

/**
 * Where members' exporters listen, from HZ_METRICS_PORTS: one port for every member (on the
 * member's own host: Kubernetes), or `memberPort=metricsPort` pairs (local members sharing a host).
 */
export interface MetricsPorts {
  all?: number;
  byMemberPort: ReadonlyMap<number, number>;
}

const PORT = /^\d{1,5}$/;
const isPort = (text: string) => PORT.test(text) && Number(text) > 0 && Number(text) <= 65535;

/**
 * Parses HZ_METRICS_PORTS: `''` (no exporters), `8090`, or `5701=9701,5702=9702`.
 * @returns undefined when the text is neither
 */
export function parseMetricsPorts(text: string): MetricsPorts | undefined {
  const t = text.trim();
  if (t === '') return { byMemberPort: new Map() };
  if (isPort(t)) return { all: Number(t), byMemberPort: new Map() };
  const byMemberPort = new Map<number, number>();
  for (const pair of t.split(',')) {
    const [member, metrics, ...rest] = pair.trim().split('=');
    if (rest.length > 0 || !member || !metrics || !isPort(member) || !isPort(metrics)) return undefined;
    byMemberPort.set(Number(member), Number(metrics));
  }
  return { byMemberPort };
}

/** A member's health values that cost it nothing to answer (see above), each its own path. */
export const HEALTH_PATHS = { clusterSize: '/hazelcast/health/cluster-size', nodeState: '/hazelcast/health/node-state' } as const;

/** The exporter's names of a member's heap (charts/lab/files/jmx-exporter.yaml). */
export const HEAP_METRICS = { used: 'hazelcast_memory_used_heap_bytes', max: 'hazelcast_memory_max_heap_bytes' } as const;

export interface MemberViewsDeps {
  /** The configured member addresses (`host:port`; a name may stand for several members). */
  configured: readonly string[];
  /** The members of the client's cluster (`host:port`), from the client's member list. */
  clientMembers: () => readonly string[];
  client: Pick<ServiceClient, 'request'>;
  /** Where each member's exporter listens; without it no heap is read. */
  metricsPorts?: MetricsPorts;
  timeoutMs?: number;
}

function splitHostPort(address: string): { host: string; port: string } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1]!, port: m[2]! } : undefined;
}

export class MemberViews {
  constructor(private readonly deps: MemberViewsDeps) {}

  /**
   * Every member this instance knows of, the client's cluster first, with its own view of the
   * cluster and, with `heap`, its heap (null where it has no exporter or it did not answer).
   */
  async views(o: { heap?: boolean } = {}): Promise<MemberView[]> {
    const inClient = new Set(this.deps.clientMembers());
    const addresses = new Set(inClient);
    const resolved = await Promise.all(this.deps.configured.map((a) => this.resolve(a)));
    for (const list of resolved) for (const a of list) addresses.add(a);
    const probed = [...addresses].slice(0, MAX_MEMBERS_PROBED);
    return Promise.all(
      probed.map(async (address) => {
        const [view, heap] = await Promise.all([this.probe(address, inClient.has(address)), o.heap ? this.heap(address) : undefined]);
        return { ...view, heapUsedBytes: heap?.used ?? null, heapMaxBytes: heap?.max ?? null };
      }),
    );
  }

  /** The exporter's address for a member's `host:port`, if it has one. */
  metricsAddress(address: string): string | undefined {
    const parts = splitHostPort(address);
    const ports = this.deps.metricsPorts;
    if (!parts || !ports) return undefined;
    const port = ports.byMemberPort.get(Number(parts.port)) ?? ports.all;
    return port === undefined ? undefined : `${parts.host.includes(':') ? `[${parts.host}]` : parts.host}:${port}`;
  }

  /**
   * The member's heap from its exporter's whole answer; undefined when it does not answer, or not
   * in Prometheus text. Not `?name[]=`: the exporter the official image bundles (0.20.0) answers
   * that with no JMX samples.
   */
  private async heap(address: string): Promise<{ used: number | null; max: number | null } | undefined> {
    const at = this.metricsAddress(address);
    if (!at) return undefined;
    try {
      const res = await this.deps.client.request(`http://${at}/metrics`, { timeoutMs: this.deps.timeoutMs ?? 1_000 });
      if (res.status !== 200) return undefined;
      const samples = parsePrometheusText(res.text);
      return { used: sampleValue(samples, HEAP_METRICS.used) ?? null, max: sampleValue(samples, HEAP_METRICS.max) ?? null };
    } catch {
      // No answer, or one that is not Prometheus text (PrometheusTextError): no heap shown.
      return undefined;
    }
  }

  /** Every address a configured `host:port` stands for; none when the name does not resolve. */
  private async resolve(address: string): Promise<string[]> {
    const parts = splitHostPort(address);
    if (!parts) return [];
    try {
      const found = await lookup(parts.host, { all: true, family: 4 });
      return found.map((f) => `${f.address}:${parts.port}`);
    } catch {
      return [];
    }
  }

  private async probe(address: string, inClientCluster: boolean): Promise<Omit<MemberView, 'heapUsedBytes' | 'heapMaxBytes'>> {
    const [clusterSize, nodeState] = await Promise.all([
      this.healthValue(address, HEALTH_PATHS.clusterSize),
      this.healthValue(address, HEALTH_PATHS.nodeState),
    ]);
    return {
      address,
      clusterSize: typeof clusterSize === 'number' && nodeState !== undefined ? clusterSize : null,
      nodeState: typeof nodeState === 'string' && clusterSize !== undefined ? nodeState : null,
      inClientCluster,
    };
  }

  /** One health value (a JSON number or string); undefined when the member does not answer 200 with one. */
  private async healthValue(address: string, path: string): Promise<unknown> {
    try {
      const res = await this.deps.client.request(`http://${address}${path}`, { timeoutMs: this.deps.timeoutMs ?? 1_000 });
      return res.status === 200 ? (JSON.parse(res.text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Members apart from the client's cluster: they answer, but belong to another (smaller) cluster.
 * A member the client's cluster still lists is not apart, whatever it says.
 */
export const membersApart = (views: readonly MemberView[]): MemberView[] =>
  views.filter((v) => !v.inClientCluster && v.clusterSize !== null);

/**
 * `hazelcast_members_apart`: members that answer but are not in the client's cluster (a split
 * that has not merged yet), probed on each scrape.
 */
export function instrumentMemberViews(views: MemberViews, metricsRegistry: MetricsRegistry): void {
  new prom.Gauge({
    name: 'hazelcast_members_apart',
    help: "Members that answer but are not in the client's cluster: split off (a partition or a long pause) and not merged back yet.",
    registers: [metricsRegistry],
    async collect() {
      this.set(membersApart(await views.views()).length);
    },
  });
}
