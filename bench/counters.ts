/**
 * The capacity counter's candidates, measured on three real members (issue 25, item 2):
 *
 * - `map-entry`: the compare-and-set loop on one entry of the meta map that the store uses
 *   (services/logging/store.ts, mapEntryCounter), the same code;
 * - `atomic-long`: Hazelcast's IAtomicLong. The CP Subsystem is off (no CP members), so it runs in
 *   Hazelcast's "unsafe mode": kept in a partition with its backup, no split-brain protection;
 * - `pn-counter`: Hazelcast's PN-Counter, a CRDT replicated to every member lazily, given the lab's
 *   split-brain protection like the maps.
 *
 * For each it measures
 * 1. adds per second: 3 clients, each with `--loops` loops of addAndGet(1), and whether the total
 *    read afterwards equals the adds acknowledged;
 * 2. the capacity edge: 3 StoreCapacity instances (capacity.ts, one per client, as 3 logging
 *    instances) charging 10,400-byte messages into a 1 MiB capacity until refused: how many were
 *    let in (100 fit);
 * 3. a killed member: SIGKILL of the member that owns the counter (for the PN-Counter, of one of
 *    its replicas) under the same adds; the total afterwards against the adds acknowledged;
 * 4. a partition (root, iptables): that member cut off from the other two for 15 s, then healed;
 *    adds acknowledged and refused, and the total after the merge against the acknowledged.
 *
 * Clients are configured as lib/hazelcast.ts configures the logging service's (smart routing,
 * backup acknowledgements to the client, fail on an indeterminate state, the same timeouts).
 *
 *   npm run bench:counters [-- --duration 10 --loops 8 --rounds 3 --out .run/counters.json]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'hdr-histogram-js';
import { Client, UnsupportedOperationError, type ClientConfig } from 'hazelcast-client';
import { REPO_ROOT } from '../local/repo.js';
import { MEMBER_CONFIG, ensureHazelcastJar, startMember, waitForSafeCluster } from '../local/hazelcast.js';
import { freePorts } from '../local/ports.js';
import type { ManagedProcess } from '../local/processes.js';
import { fmtInt, table } from '../local/console.js';
import { commandLineOrExit } from '../local/args.js';
import { PARTITION_HOSTS, Partition, partitionUnsupported } from '../drills/partition.js';
import { StoreCapacity, type SharedCounter } from '../services/logging/capacity.js';
import { mapEntryCounter } from '../services/logging/store.js';
import { StoreError } from '../lib/store-errors.js';

type HazelcastClient = Awaited<ReturnType<typeof Client.newHazelcastClient>>;
const KINDS = ['map-entry', 'atomic-long', 'pn-counter'] as const;
type Kind = (typeof KINDS)[number];

const USAGE = 'usage: npm run bench:counters -- [--duration S] [--loops N] [--rounds N] [--out FILE]';
const { values: args } = commandLineOrExit(USAGE, {
  options: {
    duration: { type: 'string', default: '10' },
    loops: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: join(REPO_ROOT, '.run', 'counters.json') },
  },
});
const DURATION_S = Number(args.duration);
const LOOPS = Number(args.loops);
const ROUNDS = Number(args.rounds);
const CLUSTER = `counters-${process.pid}`;
const MAP = 'messages';
/** The integration test's capacity and message cost: 100 messages fit. */
const CAPACITY = 1_048_576;
const COST = 10_400;

/** The bench's member config: the lab's, plus the PN-Counter given the maps' split-brain protection. */
function memberConfig(): string {
  const file = join(REPO_ROOT, '.run', 'counters-hazelcast.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${readFileSync(MEMBER_CONFIG, 'utf8')}
  pn-counter:
    heap-pn-*:
      split-brain-protection-ref: lab-majority
`);
  return file;
}

class Cluster {
  readonly members: (ManagedProcess | undefined)[] = [];
  private readonly jar = ensureHazelcastJar();
  private readonly config = memberConfig();
  constructor(readonly hosts: string[], readonly ports: number[]) {}

  address(i: number): string {
    return `${this.hosts[i]}:${this.ports[i]}`;
  }
  get addresses(): string[] {
    return this.ports.map((_, i) => this.address(i));
  }

  async start(i: number): Promise<void> {
    this.members[i] = startMember({
      name: `hz-${i + 1}`, port: this.ports[i]!, host: this.hosts[i], members: this.addresses, clusterName: CLUSTER, mapName: MAP,
      jar: this.jar, configFile: this.config, heapMb: 256,
    });
  }

  async whole(): Promise<void> {
    const i = this.members.findIndex((m) => m?.running);
    await waitForSafeCluster(this.members[i], this.address(i), this.ports.length, 120_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m?.stop(5_000)));
  }
}

const quiet = () => undefined;

function clientConfig(members: string[], n: number): ClientConfig {
  return {
    clusterName: CLUSTER,
    instanceName: `counters-${n}`,
    backupAckToClientEnabled: true,
    network: { clusterMembers: members, connectionTimeout: 5_000, redoOperation: true, smartRouting: true },
    connectionStrategy: { connectionRetry: { initialBackoffMillis: 100, maxBackoffMillis: 1_000, clusterConnectTimeoutMillis: -1 } },
    properties: {
      'hazelcast.client.invocation.timeout.millis': 6_000,
      'hazelcast.client.invocation.retry.pause.millis': 100,
      'hazelcast.client.heartbeat.interval': 1_000,
      'hazelcast.client.heartbeat.timeout': 10_000,
      'hazelcast.client.statistics.enabled': false,
      'hazelcast.client.operation.fail.on.indeterminate.state': true,
    },
    customLogger: { log: quiet, error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet },
  };
}

/** The counter `name` of kind `kind` as each client sees it. */
async function counter(client: HazelcastClient, kind: Kind, name: string): Promise<SharedCounter> {
  if (kind === 'map-entry') return mapEntryCounter(() => client.getMap<string, string>(`${MAP}-meta`), name);
  if (kind === 'atomic-long') {
    const c = await client.getCPSubsystem().getAtomicLong(name);
    return { get: async () => (await c.get()).toNumber(), addAndGet: async (d) => (await c.addAndGet(d)).toNumber() };
  }
  const c = await client.getPNCounter(name);
  return { get: async () => (await c.get()).toNumber(), addAndGet: async (d) => (await c.addAndGet(d)).toNumber() };
}

/** Names differ per kind and run, so every measurement starts from 0 (a PN-Counter cannot be reset). */
let made = 0;
const freshName = (kind: Kind) => `${kind === 'pn-counter' ? 'heap-pn' : kind}-${++made}`;

/** Which member owns the partition of `key` (the map entry's key, the IAtomicLong's name). */
function ownerIndex(client: HazelcastClient, cluster: Cluster, key: string): number {
  const ps = client.getPartitionService();
  const owner = ps.getPartitionOwner(ps.getPartitionId(key))?.toString();
  const member = client.getCluster().getMembers().find((m) => m.uuid.toString() === owner);
  const i = member ? cluster.addresses.indexOf(`${member.address.host}:${member.address.port}`) : -1;
  return i >= 0 ? i : 0;
}

const errorName = (err: unknown) => (err instanceof Error ? err.constructor.name : String(err));

interface AddRun {
  acknowledged: number;
  failed: number;
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `LOOPS` loops per counter adding 1 until `stop` says so; `during` runs alongside. */
async function adds(counters: SharedCounter[], stop: () => boolean, during: () => Promise<void> = async () => undefined): Promise<AddRun> {
  const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const run: AddRun = { acknowledged: 0, failed: 0, errors: {}, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const loop = async (c: SharedCounter) => {
    while (!stop()) {
      const t = process.hrtime.bigint();
      try {
        await c.addAndGet(1);
        run.acknowledged++;
      } catch (err) {
        run.failed++;
        run.errors[errorName(err)] = (run.errors[errorName(err)] ?? 0) + 1;
        await sleep(50);
      }
      h.recordValue(Math.max(1, Number((process.hrtime.bigint() - t) / 1000n)));
    }
  };
  await Promise.all([...counters.flatMap((c) => Array.from({ length: LOOPS }, () => loop(c))), during()]);
  Object.assign(run, { p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, maxMs: h.maxValue / 1000 });
  return run;
}

const deadline = (ms: number) => { const end = Date.now() + ms; return () => Date.now() >= end; };

/** The total each client reads, after `settleMs` for lazy replication (NaN where the read failed). */
async function totals(counters: SharedCounter[], settleMs: number): Promise<number[]> {
  await sleep(settleMs);
  return Promise.all(counters.map((c) => c.get().catch(() => NaN)));
}

/** 3 instances' StoreCapacity filling a 1 MiB capacity with `LOOPS` writers each; messages let in. */
async function edge(counters: SharedCounter[]): Promise<number> {
  let admitted = 0;
  const writer = async (cap: StoreCapacity) => {
    for (;;) {
      try {
        await cap.reserve(COST);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'STORE_FULL') return;
        throw err;
      }
      admitted++;
    }
  };
  const caps = counters.map((c) => new StoreCapacity(c, { capacityBytes: CAPACITY }));
  await Promise.all(caps.flatMap((cap) => Array.from({ length: LOOPS }, () => writer(cap))));
  return admitted;
}

interface KindResult {
  kind: Kind;
  /** Why the members refused the counter, when they did. */
  unavailable?: string;
  throughput?: AddRun & { perSecond: number; totalsAfter: number[] };
  edgeAdmitted?: number[];
  kill?: AddRun & { killed: string; totalsAfter: number[] };
  partition?: AddRun & { isolated: string; totalsAfter: number[] };
}

async function measure(kind: Kind, clients: HazelcastClient[], cluster: Cluster, canPartition: boolean): Promise<KindResult> {
  const log = (s: string) => console.log(`  ${kind}: ${s}`);
  const named = async (name: string) => Promise.all(clients.map((c) => counter(c, kind, name)));

  let counters = await named(freshName(kind));
  const t0 = Date.now();
  const tp = await adds(counters, deadline(DURATION_S * 1000));
  const throughput = { ...tp, perSecond: tp.acknowledged / ((Date.now() - t0) / 1000), totalsAfter: await totals(counters, 2_000) };
  log(`${fmtInt(throughput.perSecond)} adds/s, p99 ${throughput.p99Ms} ms, totals ${throughput.totalsAfter.join('/')} of ${tp.acknowledged}`);

  const edgeAdmitted: number[] = [];
  for (let r = 0; r < ROUNDS; r++) edgeAdmitted.push(await edge(await named(freshName(kind))));
  log(`capacity edge: ${edgeAdmitted.join(', ')} let in (100 fit)`);

  const result: KindResult = { kind, throughput, edgeAdmitted };

  // A killed member: the owner of the counter's partition.
  let name = freshName(kind);
  counters = await named(name);
  const victim = ownerIndex(clients[0]!, cluster, name);
  const killed = await adds(counters, deadline(12_000), async () => {
    await sleep(3_000);
    cluster.members[victim]!.kill('SIGKILL');
  });
  result.kill = { ...killed, killed: `hz-${victim + 1}`, totalsAfter: await totals(counters, 3_000) };
  log(`kill hz-${victim + 1}: ${killed.acknowledged} acknowledged, ${killed.failed} failed, totals ${result.kill.totalsAfter.join('/')}, max ${killed.maxMs} ms`);
  await cluster.start(victim);
  await cluster.whole();

  if (canPartition) {
    name = freshName(kind);
    counters = await named(name);
    const isolated = ownerIndex(clients[0]!, cluster, name);
    const partition = new Partition();
    const others = cluster.addresses.filter((_, i) => i !== isolated);
    const split = await adds(counters, deadline(20_000), async () => {
      await sleep(2_000);
      partition.isolate(cluster.address(isolated), others);
      await sleep(15_000);
      partition.heal();
    });
    await cluster.whole();
    result.partition = { ...split, isolated: `hz-${isolated + 1}`, totalsAfter: await totals(counters, 3_000) };
    log(`partition hz-${isolated + 1} 15 s: ${split.acknowledged} acknowledged, ${split.failed} failed ${JSON.stringify(split.errors)}, totals ${result.partition.totalsAfter.join('/')}`);
  }
  return result;
}

async function main(): Promise<void> {
  const why = partitionUnsupported();
  if (why) console.log(`NOTICE: no partition runs: ${why}`);
  const hosts = why ? ['127.0.0.1', '127.0.0.1', '127.0.0.1'] : PARTITION_HOSTS;
  const cluster = new Cluster(hosts, await freePorts(3));
  const clients: HazelcastClient[] = [];
  const results: KindResult[] = [];
  try {
    await Promise.all([0, 1, 2].map((i) => cluster.start(i)));
    await cluster.whole();
    for (let n = 0; n < 3; n++) clients.push(await Client.newHazelcastClient(clientConfig(cluster.addresses, n)));
    for (const kind of KINDS) {
      try {
        results.push(await measure(kind, clients, cluster, !why));
      } catch (err) {
        // Hazelcast 5.5's open-source members refuse every CP structure, IAtomicLong included.
        if (!(err instanceof UnsupportedOperationError)) throw err;
        console.log(`  ${kind}: refused by the members: ${err.message}`);
        results.push({ kind, unavailable: err.message });
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
    await cluster.stop();
  }

  const spread = (t: number[]) => (t.every((x) => x === t[0]) ? String(t[0]) : t.join('/'));
  console.log(`\nThree members, three clients × ${LOOPS} loops of addAndGet(1); capacity edge: 1 MiB, 10,400 B a message, 100 fit.`);
  for (const line of table(
    ['counter', 'adds/s', 'p50 ms', 'p99 ms', 'read/acked', 'edge: let in', 'kill: acked/failed', 'read after', 'max ms', 'split: acked/failed', 'read after'],
    results.map((r) => !r.throughput ? [r.kind, `refused: ${r.unavailable?.split('.')[0]}`] : [
      r.kind, fmtInt(r.throughput.perSecond), r.throughput.p50Ms.toFixed(2), r.throughput.p99Ms.toFixed(2),
      `${spread(r.throughput.totalsAfter)}/${r.throughput.acknowledged}`, (r.edgeAdmitted ?? []).join(', '),
      r.kill ? `${r.kill.acknowledged}/${r.kill.failed}` : '-', r.kill ? spread(r.kill.totalsAfter) : '-', r.kill ? fmtInt(r.kill.maxMs) : '-',
      r.partition ? `${r.partition.acknowledged}/${r.partition.failed}` : '-', r.partition ? spread(r.partition.totalsAfter) : '-',
    ]),
  )) console.log(line);
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ at: new Date().toISOString(), loops: LOOPS, durationSec: DURATION_S, results }, null, 2));
  console.log(`\nwritten: ${args.out}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
