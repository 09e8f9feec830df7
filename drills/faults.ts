/**
 * Fault injection under load (issue "Prove it survives"): each scenario runs a paced write load
 * through the facade of a running LocalSystem, injects one fault with real signals, reads every
 * message back, and reports what was sent, acknowledged, failed and lost, and how long recovery took.
 * Each scenario leaves the system whole again (three members, every service up).
 */
import { writeFileSync } from 'node:fs';
import type { LocalSystem } from '../local/system.js';
import { WriteLoad, type Attempt } from './load.js';
import { BulkLoadingStore, addMessages, connect } from '../local/fill.js';
import { createLogger } from '../lib/log.js';
import { probeHttp, waitFor } from '../local/processes.js';
import { memberClusterSize, memberHealth, type MemberHealth } from '../local/hazelcast.js';
import { Partition, partitionUnsupported } from './partition.js';
import { countsSince, facadeRetries, loggingMetric } from './facade-api.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { seconds } from '../local/console.js';

export interface ChaosResult {
  id: string;
  fault: string;
  sent: number;
  acknowledged: number;
  /** Requests that did not get 201 and were not expected to fail. */
  failed: number;
  /** Acknowledged messages missing from the read-back. */
  lost: number;
  /** Messages stored more than once. */
  duplicates: number;
  /** Fault (or repair) to the moment the system behaved normally again, ms. */
  recoveryMs: number | null;
  p99Ms: number;
  maxMs: number;
  notes: string[];
}

export interface ChaosOptions {
  clients?: number;
  ratePerSecond?: number;
  /** Load before the fault, and after it, ms. */
  beforeMs?: number;
  afterMs?: number;
  /** Messages R8 fills the map with before its concurrent full reads. */
  r8Messages?: number;
  /** How long R9 keeps its partition after both sides have seen it, and R10 its member paused, ms. */
  splitMs?: number;
  pauseMs?: number;
  log?: (line: string) => void;
}

type Scenario = (system: LocalSystem, o: Required<ChaosOptions>) => Promise<ChaosResult>;

/** One full read through the facade, streamed: how many of the messages named `prefix…` came back, in order, and how long it took. */
async function fullRead(
  facadeUrl: string, prefix: string,
): Promise<{ status: number; found: number; inOrder: boolean; ms: number; error?: string }> {
  const t = Date.now();
  try {
    const res = await fetch(`${facadeUrl}/facade`, { signal: AbortSignal.timeout(300_000) });
    const body = await res.text();
    if (res.status !== 200) return { status: res.status, found: 0, inOrder: false, ms: Date.now() - t, error: body.slice(0, 200) };
    const mine = ((JSON.parse(body) as { 'logging-service': string[] })['logging-service']).filter((m) => m.startsWith(prefix));
    return { status: 200, found: mine.length, inOrder: mine.every((m, i) => m === `${prefix}${i}`), ms: Date.now() - t };
  } catch (err) {
    return { status: 0, found: 0, inOrder: false, ms: Date.now() - t, error: (err as Error).message };
  }
}

/** Every message the facade returns (those after `after`, when given). */
export async function readAll(facadeUrl: string, after?: string): Promise<string[]> {
  const res = await fetch(`${facadeUrl}/facade${after ? `?after=${after}` : ''}`, { signal: AbortSignal.timeout(60_000) });
  if (res.status !== 200) throw new Error(`read-back failed: HTTP ${res.status}`);
  return ((await res.json()) as { 'logging-service': string[] })['logging-service'];
}

/** Reads everything back and fills in sent/acknowledged/failed/lost/duplicates for `load`; `expected` failures are noted, not counted. */
async function account(system: LocalSystem, load: WriteLoad, base: Omit<ChaosResult, 'sent' | 'acknowledged' | 'failed' | 'lost' | 'duplicates' | 'p99Ms' | 'maxMs'>, expected: (a: Attempt) => boolean = () => false, why = 'while no member was up'): Promise<ChaosResult> {
  const stored = await readAll(system.facadeUrl, load.readAfter);
  const counts = new Map<string, number>();
  for (const m of stored) counts.set(m, (counts.get(m) ?? 0) + 1);
  const acked = load.acknowledged;
  const foreseen = load.failures(expected);
  const unforeseen = load.failures((a) => !expected(a));
  if (unforeseen.length > 0) {
    const byStatus = new Map<number, number>();
    for (const a of unforeseen) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    const sentAt = unforeseen.map((a) => (a.startedAt - load.startedAt) / 1000);
    const when = `sent ${Math.min(...sentAt).toFixed(1)}–${Math.max(...sentAt).toFixed(1)} s into the load`;
    base.notes.push(`unexpected answers: ${[...byStatus].map(([status, n]) => `${n}× ${status || 'no answer'}`).join(', ')} (${when})`);
  }
  if (foreseen.length > 0) base.notes.push(`${foreseen.length} expected ${[...new Set(foreseen.map((a) => a.status))].join('/')} answers ${why} (slowest ${Math.max(...foreseen.map((a) => a.ms))} ms)`);
  return {
    ...base,
    sent: load.attempts.length,
    acknowledged: acked.length,
    failed: unforeseen.length,
    lost: acked.filter((m) => !counts.has(m)).length,
    duplicates: [...counts.values()].filter((c) => c > 1).length,
    p99Ms: load.latencyPercentile(99),
    maxMs: load.latencyPercentile(100),
  };
}

/** Restarts whatever is down and waits for a safe cluster of three and every service ready. */
export async function repair(system: LocalSystem): Promise<void> {
  const dead = system.members.map((m, i) => (m?.running ? -1 : i)).filter((i) => i >= 0);
  await Promise.all(dead.map((i) => system.startMember(i, false)));
  await system.waitForCluster(system.ports.members.length);
  if (!system.configServer?.running) await system.startConfigServer();
  if (!system.messages?.running) await system.startMessages();
  await Promise.all(system.logging.map((p, i) => (p?.running ? undefined : system.startLogging(i))));
  if (!system.facade?.running) await system.startFacade();
}

function newLoad(system: LocalSystem, id: string, o: Required<ChaosOptions>): WriteLoad {
  return new WriteLoad({ facadeUrl: system.facadeUrl, prefix: `${id}-${Date.now()}`, clients: o.clients, ratePerSecond: o.ratePerSecond, maxMessages: 100_000 });
}

const killMembers = async (system: LocalSystem, indexes: number[]) => {
  for (const i of indexes) system.members[i]!.kill('SIGKILL');
  await Promise.all(indexes.map((i) => system.members[i]!.exited));
};

/**
 * The common shape of a fault under load: load for `beforeMs`, inject the fault, load for
 * `afterMs`, read back and count (recovery: the fault to the first acknowledged write that
 * started after it), then repair. `inject` may add notes and mark the run failed.
 */
async function faultUnderLoad(
  system: LocalSystem,
  o: Required<ChaosOptions>,
  id: string,
  inject: () => Promise<{ notes?: string[]; failed?: boolean } | void>,
): Promise<{ result: ChaosResult; load: WriteLoad; faultAt: number }> {
  const load = newLoad(system, id.toLowerCase(), o);
  await sleep(o.beforeMs);
  const faultAt = Date.now();
  const outcome = (await inject()) ?? {};
  await sleep(o.afterMs);
  await load.stop();
  const recoveryMs = load.firstAckAfter(faultAt) ?? null;
  const result = await account(system, load, { id, fault: SCENARIOS[id]!.fault, recoveryMs, notes: outcome.notes ?? [] });
  if (outcome.failed) result.failed += 1;
  await repair(system);
  return { result, load, faultAt };
}

/**
 * Each member's own view of the cluster, safety included (undefined for one that does not answer).
 * For a cluster's size alone, memberClusterSize answers at once while members drop one another.
 */
const memberViews = (system: LocalSystem) => Promise.all(system.memberAddresses.map((a) => memberHealth(a)));

/** Waits until every member reports one safe cluster of all of them; returns how long that took, ms. */
async function waitForWholeCluster(system: LocalSystem, what: string, timeoutMs: number): Promise<number> {
  const t = Date.now();
  const size = system.memberAddresses.length;
  const whole = (h: MemberHealth | undefined) => h?.nodeState === 'ACTIVE' && h.clusterSize === size && h.clusterSafe && h.migrationQueueSize === 0;
  await waitFor(undefined, what, async () => ((await memberViews(system)).every(whole) ? true : undefined), timeoutMs, 200);
  return Date.now() - t;
}

/** Once the load is over: whether every logging instance reads the same messages of it, and how many each reads. */
async function sameOnEveryInstance(system: LocalSystem, load: WriteLoad): Promise<{ same: boolean; counts: (number | string)[] }> {
  const reads = await Promise.all(system.ports.logging.map((_, i) => instanceRead(system, i, load)));
  const sets = reads.map((r) => (typeof r === 'string' ? undefined : JSON.stringify([...r].sort())));
  return { same: sets.every((s) => s !== undefined && s === sets[0]), counts: reads.map((r) => (typeof r === 'string' ? r : r.length)) };
}

/** The messages of `load` that logging instance `i` reads, straight from it (or why it could not). */
async function instanceRead(system: LocalSystem, i: number, load: WriteLoad): Promise<string[] | string> {
  try {
    const res = await fetch(`${system.loggingUrl(i)}/logging?after=${load.readAfter}`, { signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200) return `HTTP ${res.status}`;
    return ((await res.json()) as string[]).filter((m) => m.startsWith(load.prefix));
  } catch (err) {
    return (err as Error).message;
  }
}

export interface Agreement {
  /** After the start of the wait, when every instance first read the same (ms); null if they never did. */
  sameAfterMs: number | null;
  /** What each instance read last (how many of the compared messages, or why it could not read). */
  counts: (number | string)[];
  /** Acknowledged messages missing from an instance's read, summed over the instances, in the last round. */
  missing: number;
}

/**
 * After a split has healed (or a paused member is back), every logging instance must read the same
 * messages, each acknowledged one among them; each instance reads through its own client, so this
 * also shows no instance is stuck on a side that did not merge. Rounds of reads from every
 * instance at once, every 500 ms, until they agree or `withinMs` passes. A round compares only
 * the messages whose requests had been answered when it began, so a load still running does not
 * make the instances differ.
 */
async function readsAgree(system: LocalSystem, load: WriteLoad, withinMs: number): Promise<Agreement> {
  const t = Date.now();
  for (;;) {
    const answered = load.attempts.slice();
    const settled = new Set(answered.map((a) => a.msg));
    const acked = answered.filter((a) => a.status === 201).map((a) => a.msg);
    const reads = await Promise.all(system.ports.logging.map((_, i) => instanceRead(system, i, load)));
    const sets = reads.map((r) => (typeof r === 'string' ? r : [...new Set(r.filter((m) => settled.has(m)))].sort()));
    const missing = sets.reduce((n, s) => n + (typeof s === 'string' ? acked.length : acked.filter((m) => !s.includes(m)).length), 0);
    const first = JSON.stringify(sets[0]);
    const counts = sets.map((s) => (typeof s === 'string' ? s : s.length));
    const same = missing === 0 && sets.every((s) => typeof s !== 'string' && JSON.stringify(s) === first);
    if (same || Date.now() - t >= withinMs) return { sameAfterMs: same ? Date.now() - t : null, counts, missing };
    await sleep(500);
  }
}

/** The note on an agreement, and whether it fails the run. */
function agreementNote(a: Agreement, since: string, withinMs: number): { note: string; failed: boolean } {
  if (a.sameAfterMs !== null && a.sameAfterMs <= withinMs) return { note: `every logging instance read the same ${a.counts[0]} messages ${seconds(a.sameAfterMs)} after ${since}`, failed: false };
  const missing = a.missing ? `; ${a.missing} acknowledged missing from their reads` : '';
  if (a.sameAfterMs !== null) return { note: `every logging instance read the same ${a.counts[0]} messages only ${seconds(a.sameAfterMs)} after ${since} (target ${seconds(withinMs)})`, failed: true };
  return { note: `logging instances still read different sets ${seconds(withinMs)} after ${since}: ${a.counts.join(', ')}${missing}`, failed: true };
}

/**
 * How many of `uuids` the cluster reached through `members` does not hold, asked of the members
 * directly (getAll by key, 1,000 at a time), not through logging. A client told only the members
 * of one side of a split learns its member list from that side and never connects to the other.
 */
export async function absentFrom(system: LocalSystem, members: string[], uuids: string[]): Promise<number> {
  const hz = await connect(members, system.clusterName, createLogger({ service: 'chaos', level: 'silent' }), 30_000);
  try {
    const map = await hz.getMap<string, unknown>(system.mapName);
    let absent = 0;
    for (let i = 0; i < uuids.length; i += 1_000) {
      const chunk = uuids.slice(i, i + 1_000);
      const found = new Set((await map.getAll(chunk)).map(([k]) => k));
      absent += chunk.filter((u) => !found.has(u)).length;
    }
    return absent;
  } finally {
    await hz.shutdown();
  }
}

/** The uuids of the writes `load` has had acknowledged so far. */
const acknowledgedIds = (load: WriteLoad) => load.attempts.filter((a) => a.status === 201 && a.uuid).map((a) => a.uuid!);

/** Within this long of one safe cluster, every logging instance must read the same messages (issue 23). */
export const SAME_READS_WITHIN_MS = 5_000;
/** Once both sides have seen a split, the larger side must acknowledge at least this share of writes. */
export const MAJORITY_ACK_SHARE = 0.99;

export const SCENARIOS: Record<string, { fault: string; run: Scenario }> = {
  R1: {
    fault: 'SIGKILL two of three members at the same moment; one of them restarted',
    run: async (system, o) => {
      const load = newLoad(system, 'r1', o);
      await sleep(o.beforeMs);
      const faultAt = Date.now();
      await killMembers(system, [0, 1]);
      // The survivor alone is below the split-brain minimum (2): it keeps every message and serves
      // reads, but refuses writes, since it cannot tell dead peers from a partition.
      await sleep(o.afterMs);
      const restartAt = Date.now();
      await system.startMember(0, false);
      await system.waitForCluster(2);
      const quorumAt = Date.now();
      await sleep(o.afterMs);
      await load.stop();
      const alone = load.attempts.filter((a) => a.startedAt >= faultAt && a.startedAt < restartAt && a.status === 201);
      const ackedAlone = alone.filter((a) => a.startedAt + a.ms < restartAt).length;
      const notes = [
        `${ackedAlone} writes sent after the kill acknowledged before the restart (the survivor's, before it knew it was alone)`,
        `${alone.length - ackedAlone} sent while it was alone acknowledged after the restart (retried by the facade)`,
        `a second member back ${seconds(quorumAt - restartAt)} after its restart`,
        'recovery: the restart to the first acknowledged write',
      ];
      // Refused: any write answered while the survivor was alone, including one sent just before the kill.
      const refused = (a: Attempt) => a.status === 503 && a.startedAt + a.ms >= faultAt && a.startedAt < quorumAt;
      const result = await account(system, load, { id: 'R1', fault: SCENARIOS.R1!.fault, recoveryMs: load.firstAckAfter(restartAt) ?? null, notes }, refused, 'while one member was alone');
      await repair(system);
      return result;
    },
  },
  R2: {
    fault: 'SIGKILL two of three logging instances',
    run: async (system, o) =>
      (
        await faultUnderLoad(system, o, 'R2', async () => {
          for (const i of [0, 1]) system.logging[i]!.kill('SIGKILL');
          await Promise.all([0, 1].map((i) => system.logging[i]!.exited));
        })
      ).result,
  },
  R3: {
    fault: 'SIGKILL config-server (registry edited while it is down)',
    run: async (system, o) => {
      const load = newLoad(system, 'r3', o);
      await sleep(o.beforeMs);
      system.configServer!.kill('SIGKILL');
      await system.configServer!.exited;
      // While config-server is down, drop logging-1 from the registry: once config-server is back,
      // the facade must pick up the new list.
      const dropped = `${system.loggingUrl(0)}/logging`;
      const registry = system.registry();
      writeFileSync(system.registryFile, JSON.stringify({ ...registry, 'logging-service': registry['logging-service'].filter((u) => u !== dropped) }));
      await sleep(o.afterMs);
      const back = Date.now();
      await system.startConfigServer();
      await waitFor(undefined, 'the facade to stop using the dropped instance', async () => {
        const recent = load.attempts.filter((a) => a.startedAt > Date.now() - 300);
        return recent.length > 5 && recent.every((a) => a.loggedBy !== dropped) ? true : undefined;
      }, 30_000, 50);
      const recoveryMs = Date.now() - back;
      await sleep(500);
      await load.stop();
      const result = await account(system, load, { id: 'R3', fault: SCENARIOS.R3!.fault, recoveryMs, notes: ['recovery: config-server back to the facade using its new registry'] });
      writeFileSync(system.registryFile, JSON.stringify(registry));
      return result;
    },
  },
  R4: {
    fault: 'three cycles: repair, wait until cluster-safe, SIGKILL two other members',
    run: async (system, o) => {
      const load = newLoad(system, 'r4', o);
      const safeTimes: number[] = [];
      const pairs = [[1, 2], [2, 0], [0, 1]];
      for (const pair of pairs) {
        const t = Date.now();
        await repair(system);
        safeTimes.push(Date.now() - t);
        await sleep(o.beforeMs);
        await killMembers(system, pair);
        await sleep(o.afterMs);
      }
      await load.stop();
      const notes = [`restart to cluster-safe: ${safeTimes.map((s) => `${(s / 1000).toFixed(1)} s`).join(', ')}`];
      const result = await account(system, load, { id: 'R4', fault: SCENARIOS.R4!.fault, recoveryMs: Math.max(...safeTimes), notes }, (a) => a.status === 503, 'while one member was alone');
      await repair(system);
      return result;
    },
  },
  R5: {
    fault: 'every member down, then back',
    run: async (system, o) => {
      const pids = system.logging.map((p) => p!.pid);
      await killMembers(system, [0, 1, 2]);
      await waitFor(undefined, 'every logging instance to report not ready', async () => {
        const states = await Promise.all(system.ports.logging.map((_, i) => probeHttp(`${system.loggingUrl(i)}/readyz`).then((r) => r.status)));
        return states.every((s) => s === 503) ? true : undefined;
      }, 30_000);
      const load = newLoad(system, 'r5', o);
      await sleep(o.beforeMs);
      const restartAt = Date.now();
      await Promise.all([0, 1, 2].map((i) => system.startMember(i, false)));
      await system.waitForCluster(3);
      const t = Date.now();
      await sleep(o.afterMs);
      await load.stop();
      // While no member is up, an answer must be prompt; while they form a cluster again, a write
      // may wait out the backup timeout (5 s) for a member still joining, and then be refused.
      const outage = load.failures((a) => a.startedAt + a.ms < restartAt);
      const forming = load.failures((a) => a.startedAt < t && a.startedAt + a.ms >= restartAt);
      const result = await account(system, load, { id: 'R5', fault: SCENARIOS.R5!.fault, recoveryMs: load.firstAckAfter(t) ?? null, notes: [] }, (a) => a.status === 503);
      result.notes.push(`slowest 503 during the outage: ${Math.max(0, ...outage.map((a) => a.ms))} ms`);
      result.notes.push(`slowest 503 while the members came back: ${Math.max(0, ...forming.map((a) => a.ms))} ms`);
      result.notes.push('recovery: cluster of three back to the first acknowledged write');
      const samePids = system.logging.every((p, i) => p!.running && p!.pid === pids[i]);
      result.notes.push(samePids ? 'the same logging processes recovered by themselves' : 'a logging process was replaced!');
      if (!samePids) result.failed += 1;
      result.notes.push('messages stored before the outage are gone: members keep data in memory only');
      return result;
    },
  },
  R6: {
    fault: 'SIGTERM a logging instance under load',
    run: async (system, o) =>
      (
        await faultUnderLoad(system, o, 'R6', async () => {
          const t = Date.now();
          const status = await system.logging[0]!.stop(15_000);
          return { notes: [`exit code ${status} after ${Date.now() - t} ms`], failed: status !== 0 };
        })
      ).result,
  },
  R7: {
    fault: 'SIGSTOP a logging instance for 12 s, then SIGCONT',
    run: async (system, o) => {
      const load = newLoad(system, 'r7', o);
      await sleep(o.beforeMs);
      const paused = system.logging[1]!;
      const url = `${system.loggingUrl(1)}/logging`;
      paused.kill('SIGSTOP');
      await sleep(12_000);
      const t = Date.now();
      paused.kill('SIGCONT');
      await waitFor(undefined, 'the facade to use the resumed instance again', async () => (load.attempts.some((a) => a.startedAt > t && a.loggedBy === url) ? true : undefined), 60_000, 50);
      const recoveryMs = Date.now() - t;
      await load.stop();
      return account(system, load, { id: 'R7', fault: SCENARIOS.R7!.fault, recoveryMs, notes: ['recovery: SIGCONT to the instance storing messages again'] });
    },
  },
  R8: {
    fault: '4 concurrent full reads of a large map while writing; a member SIGKILLed during them',
    run: async (system, o) => {
      const hz = await connect(system.memberAddresses, system.clusterName, createLogger({ service: 'chaos', level: 'silent' }));
      try {
        const prefix = `r8-${Date.now()}-`;
        await addMessages(new BulkLoadingStore(hz, system.mapName), o.r8Messages, (i) => `${prefix}${i}`);
        const oomBefore = system.memberOutOfMemoryErrors;
        const load = newLoad(system, 'r8', o);
        await sleep(o.beforeMs);
        const faultAt = Date.now();
        const reads = Promise.all(Array.from({ length: 4 }, () => fullRead(system.facadeUrl, prefix)));
        // The member goes while the reads stream.
        await sleep(1_000);
        await killMembers(system, [2]);
        const done = await reads;
        const readsEndedAt = Date.now();
        await sleep(o.afterMs);
        await load.stop();
        const oom = system.memberOutOfMemoryErrors - oomBefore;
        const duringReads = load.attempts.filter((a) => a.startedAt >= faultAt && a.startedAt < readsEndedAt);
        const notes = [
          `reads: ${done.map((r) => (r.status === 200 ? `${r.found.toLocaleString('en-US')}${r.inOrder ? '' : ' out of order'} in ${(r.ms / 1000).toFixed(1)} s` : `HTTP ${r.status} after ${(r.ms / 1000).toFixed(1)} s (${r.error})`)).join(', ')}`,
          `${duringReads.filter((a) => a.status === 201).length}/${duringReads.length} writes acknowledged while the reads ran`,
          `OutOfMemoryError on members: ${oom}`,
        ];
        const result = await account(system, load, { id: 'R8', fault: SCENARIOS.R8!.fault, recoveryMs: load.firstAckAfter(faultAt) ?? null, notes });
        // A read that did not bring back every message, or a member out of heap, fails the run.
        result.failed += done.filter((r) => r.status !== 200 || r.found !== o.r8Messages || !r.inOrder).length + oom;
        await repair(system);
        return result;
      } finally {
        await hz.shutdown();
      }
    },
  },
  R9: {
    fault: 'network partition: one member cut off from the other two (clients still reach all three), then healed',
    run: async (system, o) => {
      const why = partitionUnsupported();
      if (why) throw new Error(`R9 cannot run here: ${why}`);
      if (new Set(system.memberAddresses.map((a) => a.split(':')[0])).size < system.memberAddresses.length) {
        throw new Error('R9 needs a system whose members have their own addresses (memberHosts: PARTITION_HOSTS)');
      }
      const heldByTooFew = () => loggingMetric(system, 'hazelcast_writes_held_by_too_few_total');
      const tooFewBefore = await heldByTooFew();
      const load = newLoad(system, 'r9', o);
      await sleep(o.beforeMs);
      const [left, isolated, right] = system.memberAddresses as [string, string, string];
      const partition = new Partition();
      const cutAt = Date.now();
      partition.isolate(isolated, [left, right]);
      let seenAt = Infinity;
      let healedAt: number;
      let dropped: number;
      let checked: number;
      let notOnMajority: number;
      try {
        await waitFor(undefined, 'both sides to see the partition', async () => {
          const [a, b, c] = await Promise.all(system.memberAddresses.map((m) => memberClusterSize(m)));
          return b === 1 && a === 2 && c === 2 ? true : undefined;
        }, 60_000, 200);
        seenAt = Date.now();
        await sleep(o.splitMs);
        // Still cut: every write acknowledged so far must be on the larger side, read from its members
        // directly. One that is not was acknowledged by the cut-off member alone.
        const acked = acknowledgedIds(load);
        checked = acked.length;
        notOnMajority = await absentFrom(system, [left, right], acked);
      } finally {
        dropped = partition.droppedPackets();
        partition.heal();
        healedAt = Date.now();
      }
      const whole = await waitForWholeCluster(system, 'one cluster of three after the partition healed', 120_000).catch(() => null);
      const agreement = whole === null ? undefined : await readsAgree(system, load, SAME_READS_WITHIN_MS);
      await sleep(o.afterMs);
      await load.stop();
      // Writes started once both sides had seen the split, and before the heal: the larger side's to take.
      const split = load.attempts.filter((a) => a.startedAt >= seenAt && a.startedAt < healedAt);
      const splitAcked = split.filter((a) => a.status === 201).length;
      const majorityRefused = split.length > 0 && splitAcked < MAJORITY_ACK_SHARE * split.length;
      const notes = [
        `both sides saw the split ${seconds(seenAt - cutAt)} after the cut`,
        `${splitAcked}/${split.length} writes acknowledged after both sides saw it`,
        `${notOnMajority}/${checked} writes acknowledged by the cut-off member alone (not on the other two before the heal)`,
        whole === null ? 'the isolated member did NOT rejoin within 120 s' : `one cluster of three, safe, ${seconds(whole)} after the heal`,
        `${dropped.toLocaleString('en-US')} packets between members dropped`,
        // Writes a member took with too few backups while the members dropped one another (on the
        // larger side before its partition table was repaired, or on the cut-off member before its
        // split-brain protection refused them): logging refuses them (lib/write-copies.ts).
        `${(await heldByTooFew()) - tooFewBefore} writes held by too few members refused (503 STORE_UNCONFIRMED)`,
      ];
      const agreed = agreement && agreementNote(agreement, 'that', SAME_READS_WITHIN_MS);
      if (agreed) notes.push(agreed.note);
      // Refusals are expected from the cut until both sides have seen it (writes wait for backups
      // that cannot come), and after it only within the 1 % the larger side may refuse.
      const expected = (a: Attempt) =>
        a.status === 503 && a.startedAt + a.ms >= cutAt && (a.startedAt < seenAt || (!majorityRefused && a.startedAt < healedAt));
      const result = await account(system, load, { id: 'R9', fault: SCENARIOS.R9!.fault, recoveryMs: whole, notes }, expected, 'while the cut was not yet seen, or the larger side refused');
      const absent = await absentFrom(system, system.memberAddresses, acknowledgedIds(load));
      result.notes.push(`${absent} acknowledged missing from the cluster itself (asked by key)`);
      const { same, counts } = await sameOnEveryInstance(system, load);
      result.notes.push(same ? `after the load, every logging instance reads the same ${counts[0]} messages` : `after the load, logging instances read different sets: ${counts.join(', ')} messages`);
      if (majorityRefused) result.notes.push(`FAILED: the larger side acknowledged under ${MAJORITY_ACK_SHARE * 100} % of writes`);
      const failures = [!same, whole === null, !agreed || agreed.failed, majorityRefused, notOnMajority > 0, absent > 0];
      result.failed += failures.filter(Boolean).length;
      return result;
    },
  },
  R10: {
    fault: 'SIGSTOP a member under load (a long GC pause, a frozen VM), then SIGCONT',
    run: async (system, o) => {
      const load = newLoad(system, 'r10', o);
      await sleep(o.beforeMs);
      const paused = system.members[1]!;
      const pausedAt = Date.now();
      paused.kill('SIGSTOP');
      await sleep(o.pauseMs);
      paused.kill('SIGCONT');
      const whole = await waitForWholeCluster(system, 'one cluster of three after SIGCONT', 120_000).catch(() => null);
      const agreement = whole === null ? undefined : await readsAgree(system, load, SAME_READS_WITHIN_MS);
      await sleep(o.afterMs);
      await load.stop();
      const notes = [
        `paused ${seconds(o.pauseMs)}, from ${seconds(pausedAt - load.startedAt)} into the load`,
        whole === null ? 'the paused member did NOT rejoin within 120 s' : `one cluster of three, safe, ${seconds(whole)} after SIGCONT`,
      ];
      const agreed = agreement && agreementNote(agreement, 'that', SAME_READS_WITHIN_MS);
      if (agreed) notes.push(agreed.note);
      const result = await account(system, load, { id: 'R10', fault: SCENARIOS.R10!.fault, recoveryMs: whole, notes });
      const { same, counts } = await sameOnEveryInstance(system, load);
      result.notes.push(same ? `after the load, every logging instance reads the same ${counts[0]} messages` : `after the load, logging instances read different sets: ${counts.join(', ')} messages`);
      result.failed += [!same, whole === null, !agreed || agreed.failed].filter(Boolean).length;
      return result;
    },
  },
  R11: {
    fault: 'SIGKILL one member under load',
    run: (system, o) => memberCrash(system, o, 'R11', false),
  },
  R12: {
    fault: 'SIGKILL one member and drop every packet to its address (a pod deleted with --force, a lost node)',
    run: (system, o) => memberCrash(system, o, 'R12', true),
  },
  R13: {
    fault: 'a logging instance vanishes: every packet to and from its address dropped, its process killed (a lost node), while the registry still lists it',
    run: loggingVanishes,
  },
};

/** How long R13 keeps the logging instance's address gone, and looks at the writes after it vanished. */
export const VANISHED_FOR_MS = 15_000;

/**
 * R13: a logging instance's node is lost. Its address drops every packet, so a kept-alive
 * connection to it gets no answer and a new one's SYN gets nothing, and its process dies; the
 * registry still lists it (on Kubernetes until the node is NotReady, 40-50 s). Counts the
 * slowest write sent from 1 s before to VANISHED_FOR_MS after, the writes acknowledged each
 * second around it, and the longest stretch without an acknowledgement, besides the usual
 * accounting (every acknowledged id read back, none twice).
 */
async function loggingVanishes(system: LocalSystem, o: Required<ChaosOptions>): Promise<ChaosResult> {
  const victim = 1;
  const why = partitionUnsupported();
  if (why) throw new Error(`R13 cannot run here: ${why}`);
  const host = new URL(system.loggingUrl(victim)).hostname;
  if (system.ports.logging.some((_, i) => i !== victim && new URL(system.loggingUrl(i)).hostname === host) || system.memberAddresses.some((a) => a.startsWith(`${host}:`))) {
    throw new Error('R13 needs a system whose logging instances have their own addresses (loggingHosts: LOGGING_HOSTS)');
  }
  const retriesBefore = await facadeRetries(system.facadeUrl);
  const load = newLoad(system, 'r13', o);
  await sleep(o.beforeMs);
  // The load must be at its rate (a system just started takes a few seconds), and the facade
  // storing writes on the instance (it may still pass it over, in a cooldown from an earlier run).
  const url = `${system.loggingUrl(victim)}/logging`;
  await waitFor(undefined, 'the load at its rate, with writes stored on the instance about to vanish', async () => {
    const t = Date.now();
    const steady = load.acknowledgedPerSecond(t - 2_000, t).every((n) => n >= 0.8 * o.ratePerSecond);
    return steady && load.attempts.some((a) => a.startedAt > t - 1_000 && a.loggedBy === url) ? true : undefined;
  }, 60_000, 50);
  const partition = new Partition();
  const vanishAt = Date.now();
  try {
    partition.vanish(host);
    system.logging[victim]!.kill('SIGKILL');
    await sleep(VANISHED_FOR_MS);
  } finally {
    partition.heal();
  }
  await sleep(o.afterMs);
  await load.stop();
  const retries = await facadeRetries(system.facadeUrl);
  const window = load.attempts.filter((a) => a.startedAt >= vanishAt - 1_000 && a.startedAt < vanishAt + VANISHED_FOR_MS);
  const slowest = Math.max(0, ...window.map((a) => a.ms));
  const before = load.acknowledgedPerSecond(vanishAt - 2_000, vanishAt);
  const after = load.acknowledgedPerSecond(vanishAt, vanishAt + VANISHED_FOR_MS);
  const rateBefore = (before[0]! + before[1]!) / 2;
  // Recovery: the end of the last second after the vanish with under half the rate before it.
  const lastLow = after.map((n, i) => (n < rateBefore / 2 ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  const retried = Object.entries(countsSince(retriesBefore, retries));
  const notes = [
    `slowest write sent from 1 s before the vanish to ${seconds(VANISHED_FOR_MS)} after it: ${slowest} ms (${window.length} writes, ${window.filter((a) => a.status === 201).length} acknowledged)`,
    `acknowledged per second, 2 s before: ${before.join(' ')}; after: ${after.join(' ')}`,
    `longest stretch without an acknowledgement from 1 s before to ${seconds(VANISHED_FOR_MS)} after: ${load.longestWithoutAck(vanishAt - 1_000, vanishAt + VANISHED_FOR_MS)} ms`,
    `facade retries: ${retried.map(([reason, n]) => `${n} ${reason}`).join(', ') || 'none'}`,
    'recovery: the vanish to the end of the last second with under half the rate before it',
  ];
  const result = await account(system, load, { id: 'R13', fault: SCENARIOS.R13!.fault, recoveryMs: (lastLow + 1) * 1_000, notes });
  await repair(system);
  return result;
}

/**
 * One member crashes under load, and with `vanish` its address goes with it (a pod deleted with
 * --force, a node lost): then no connection to it is refused, every one waits. Counts how long
 * the other two took to drop it and the slowest write sent in the 10 s after the crash (issue 24,
 * goal 6: ≤ 5 s), besides the usual accounting.
 */
async function memberCrash(system: LocalSystem, o: Required<ChaosOptions>, id: string, vanish: boolean): Promise<ChaosResult> {
  const victim = 1;
  const host = system.memberAddresses[victim]!.split(':')[0]!;
  if (vanish) {
    const why = partitionUnsupported();
    if (why) throw new Error(`${id} cannot run here: ${why}`);
    if (system.memberAddresses.filter((a) => a.startsWith(`${host}:`)).length > 1) {
      throw new Error(`${id} needs a system whose members have their own addresses (memberHosts: PARTITION_HOSTS)`);
    }
  }
  // A logging client whose member list came from the crashed member is not told it was dropped;
  // logging closes its connection to it once the others have (services/logging/cluster-side.ts).
  const disconnects = () => loggingMetric(system, 'hazelcast_dropped_member_disconnects_total');
  const disconnectsBefore = await disconnects();
  const load = newLoad(system, id.toLowerCase(), o);
  await sleep(o.beforeMs);
  const partition = new Partition();
  const crashAt = Date.now();
  if (vanish) partition.vanish(host);
  let droppedAt: number | undefined;
  try {
    system.members[victim]!.kill('SIGKILL');
    await waitFor(undefined, 'the other two members to drop the crashed one', async () => {
      const sizes = await Promise.all(system.memberAddresses.filter((_, i) => i !== victim).map((a) => memberClusterSize(a)));
      return sizes.every((size) => size === 2) ? true : undefined;
    }, 120_000, 100).then(() => (droppedAt = Date.now()), () => undefined);
    await sleep(o.afterMs);
    await load.stop();
  } finally {
    partition.heal();
  }
  const after = load.attempts.filter((a) => a.startedAt >= crashAt - 1_000 && a.startedAt < crashAt + 10_000);
  const slowest = Math.max(0, ...after.map((a) => a.ms));
  const notes = [
    droppedAt === undefined
      ? 'the other two did NOT drop the crashed member within 120 s'
      : `the other two dropped it ${seconds(droppedAt - crashAt)} after the crash`,
    `slowest write sent from 1 s before the crash to 10 s after it: ${slowest} ms (${after.length} writes, ${after.filter((a) => a.status === 201).length} acknowledged)`,
    `connections to it that logging closed once the others had dropped it (clients whose member list came from it): ${(await disconnects()) - disconnectsBefore}`,
  ];
  const recoveryMs = droppedAt === undefined ? null : droppedAt - crashAt;
  const result = await account(system, load, { id, fault: SCENARIOS[id]!.fault, recoveryMs, notes });
  if (droppedAt === undefined) result.failed += 1;
  await repair(system);
  return result;
}

/** Runs the named scenarios in order on a started system. */
export async function runChaos(system: LocalSystem, ids: string[], options: ChaosOptions = {}): Promise<ChaosResult[]> {
  const o: Required<ChaosOptions> = {
    clients: 32, ratePerSecond: 250, beforeMs: 2_000, afterMs: 3_000, r8Messages: 500_000, splitMs: 15_000, pauseMs: 20_000,
    log: () => undefined, ...options,
  };
  const results: ChaosResult[] = [];
  for (const id of ids) {
    const scenario = SCENARIOS[id];
    if (!scenario) throw new Error(`unknown scenario ${id}`);
    o.log(`${id}: ${scenario.fault} …`);
    const r = await scenario.run(system, o);
    o.log(`${id}: ${r.acknowledged}/${r.sent} acknowledged, ${r.failed} failed, ${r.lost} lost, ${r.duplicates} duplicates`);
    results.push(r);
  }
  return results;
}

/** The results as a Markdown table. */
export function formatTable(results: ChaosResult[]): string {
  const rows = results.map((r) =>
    `| ${r.id} | ${r.fault} | ${r.sent} | ${r.acknowledged} | ${r.failed} | ${r.lost} | ${r.duplicates} | ${r.recoveryMs === null ? '—' : `${(r.recoveryMs / 1000).toFixed(2)} s`} | ${r.p99Ms} / ${r.maxMs} | ${r.notes.join('; ')} |`,
  );
  return ['| | fault | sent | acknowledged | failed | lost | duplicates | recovery | p99 / max ms | notes |', '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
