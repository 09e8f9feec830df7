/**
 * Each member's own view of the cluster, from its health endpoint (`/hazelcast/health`, served on
 * the member port). The client sees only the members of the cluster it is connected to, so a
 * member that split off (a partition, or a pause longer than the heartbeat timeout) and runs
 * alone shows up only here, until it merges back.
 *
 * Cost of one call: a DNS lookup per configured address (a headless Service name gives every
 * member) and one GET per member, all at once, each bounded by `timeoutMs`; at most
 * MAX_MEMBERS_PROBED members: O(members), whatever is stored.
 */
import { lookup } from 'node:dns/promises';
import { prom } from '../../lib/metrics.js';
import type { Registry } from 'prom-client';
import type { ServiceClient } from '../../lib/service-client.js';
import type { MemberView } from '../../lib/contract.js';

/** A cap on the members probed per call, whatever DNS answers. */
export const MAX_MEMBERS_PROBED = 16;

export interface MemberViewsDeps {
  /** The configured member addresses (`host:port`; a name may stand for several members). */
  configured: readonly string[];
  /** The members of the client's cluster (`host:port`), from the client's member list. */
  clientMembers: () => readonly string[];
  client: Pick<ServiceClient, 'request'>;
  timeoutMs?: number;
}

function splitHostPort(address: string): { host: string; port: string } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1]!, port: m[2]! } : undefined;
}

export class MemberViews {
  constructor(private readonly deps: MemberViewsDeps) {}

  /** Every member this instance knows of, the client's cluster first, with its own view of the cluster. */
  async views(): Promise<MemberView[]> {
    const inClient = new Set(this.deps.clientMembers());
    const addresses = new Set(inClient);
    const resolved = await Promise.all(this.deps.configured.map((a) => this.resolve(a)));
    for (const list of resolved) for (const a of list) addresses.add(a);
    const probed = [...addresses].slice(0, MAX_MEMBERS_PROBED);
    return Promise.all(probed.map((address) => this.probe(address, inClient.has(address))));
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

  private async probe(address: string, inClientCluster: boolean): Promise<MemberView> {
    try {
      const res = await this.deps.client.request(`http://${address}/hazelcast/health`, { timeoutMs: this.deps.timeoutMs ?? 1_000 });
      const body = res.status === 200 ? (JSON.parse(res.text) as { clusterSize?: unknown; nodeState?: unknown }) : {};
      return {
        address,
        clusterSize: typeof body.clusterSize === 'number' ? body.clusterSize : null,
        nodeState: typeof body.nodeState === 'string' ? body.nodeState : null,
        inClientCluster,
      };
    } catch {
      return { address, clusterSize: null, nodeState: null, inClientCluster };
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
export function instrumentMemberViews(views: MemberViews, registry: Registry): void {
  new prom.Gauge({
    name: 'hazelcast_members_apart',
    help: "Members that answer but are not in the client's cluster: split off (a partition or a long pause) and not merged back yet.",
    registers: [registry],
    async collect() {
      this.set(membersApart(await views.views()).length);
    },
  });
}
