/**
 * Limit A: the Hazelcast client alone, from this process, against the same members — what no HTTP
 * service on top of it can beat. Also fills the map quickly for the reads at scale.
 */
import { build } from 'hdr-histogram-js';
import type { IMap } from 'hazelcast-client';
import { v7 as uuidv7 } from 'uuid';
import { HazelcastConnection } from '../lib/hazelcast.js';
import type { Logger } from '../lib/log.js';
import { STORE_SERIALIZERS, type HazelcastMessageStore, type StoredMessage } from '../services/logging/store.js';
import { MessageRecord, type MapValue } from '../services/logging/record.js';
import { monotonicUs, type Measurement } from './measurement.js';
import { ProgressLine, fmtInt } from './progress.js';
import { ProcessSampler, type ProcessStats } from './process-stats.js';

export type MessageMap = IMap<string, MapValue>;

/**
 * A client configured exactly as the logging service's (lib/hazelcast.ts), connected.
 * @throws Error when the cluster is not reachable within `timeoutMs`
 */
export async function connect(members: string[], clusterName: string, logger: Logger, timeoutMs = 60_000): Promise<HazelcastConnection> {
  const hz = await HazelcastConnection.start(
    { clusterName, members, connectTimeoutMs: 5_000, invocationTimeoutMs: 30_000, reconnectMaxBackoffMs: 2_000, instanceName: `bench-${process.pid}`, compactSerializers: STORE_SERIALIZERS },
    logger,
  );
  const deadline = Date.now() + timeoutMs;
  while (!hz.isConnected()) {
    if (Date.now() > deadline) {
      await hz.shutdown();
      throw new Error(`the bench's Hazelcast client did not connect to ${members.join(',')} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return hz;
}

/** A value as the logging service stores it. */
export const storedValue = (msg: string): MessageRecord => new MessageRecord(msg, 'bench', Date.now());

/**
 * Adds `count` messages with fresh UUIDv7 keys through the store (so the floor and the capacity
 * charge are kept as the services keep them), `putAll` in chunks, a few chunks in flight.
 */
export async function addMessages(
  store: HazelcastMessageStore,
  count: number,
  msg: (i: number) => string,
  progress?: ProgressLine,
  /** Told each stored batch and the index of its first message. */
  onBatch?: (batch: StoredMessage[], from: number) => void,
): Promise<void> {
  const chunk = 5_000;
  const parallel = 4;
  let next = 0;
  let stored = 0;
  const worker = async () => {
    while (next < count) {
      const n = Math.min(chunk, count - next);
      const from = next;
      next += n;
      const batch: StoredMessage[] = [];
      for (let i = 0; i < n; i++) batch.push({ uuid: uuidv7(), msg: msg(from + i), loggedBy: 'bench', storedAt: new Date().toISOString() });
      await store.putAll(batch);
      onBatch?.(batch, from);
      stored += n;
      progress?.update(`filling ${fmtInt(stored)}/${fmtInt(count)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Set on Ctrl+C: every loop stops after its current operation. */
let stopRequested = false;

export function stopHazelcastLoad(): void {
  stopRequested = true;
}

export interface HazelcastScenario extends Pick<Measurement, 'id' | 'group' | 'title' | 'target' | 'connections' | 'durationSec'> {
  warmupSec: number;
  /** One operation; `connections` async loops call it back to back. */
  op: () => Promise<unknown>;
  notes?: string[];
}

/** Runs `connections` concurrent loops of `op` for a warm-up, then for the measured duration. */
export async function runHazelcast(s: HazelcastScenario, processes: () => Record<string, number | undefined>): Promise<Measurement> {
  const progress = new ProgressLine(s.title);
  // Microseconds, 1 µs to 60 s, 3 significant digits.
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let errors = 0;
  let ops = 0;
  let firstError: string | undefined;

  const loops = async (seconds: number, phase: string, record: boolean) => {
    const end = Date.now() + seconds * 1000;
    let lastOps = ops;
    let second = 0;
    const ticker = setInterval(() => {
      second++;
      progress.update(`${phase} ${second}/${seconds} s · ${fmtInt(ops - lastOps)} ops/s`);
      lastOps = ops;
    }, 1000);
    const loop = async () => {
      while (Date.now() < end && !stopRequested) {
        const started = process.hrtime.bigint();
        try {
          await s.op();
          if (record) histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - started) / 1000n)));
        } catch (err) {
          if (record) errors++;
          firstError ??= (err as Error).message;
        }
        ops++;
      }
    };
    try {
      await Promise.all(Array.from({ length: s.connections }, loop));
    } finally {
      clearInterval(ticker);
    }
  };

  if (s.warmupSec > 0) await loops(s.warmupSec, 'warm-up', false);
  ops = 0;
  const sampler = new ProcessSampler(processes);
  const from = monotonicUs();
  let stats: ProcessStats;
  try {
    await loops(s.durationSec, 'measuring', true);
  } finally {
    stats = sampler.stop();
  }
  const to = monotonicUs();
  const durationSec = (to - from) / 1e6;
  const ms = (us: number) => Math.round(us / 10) / 100;
  const m: Measurement = {
    id: s.id,
    group: s.group,
    title: s.title,
    target: s.target,
    connections: s.connections,
    durationSec,
    requests: ops,
    rps: ops / durationSec,
    latencyMs: {
      p50: ms(histogram.getValueAtPercentile(50)),
      p99: ms(histogram.getValueAtPercentile(99)),
      max: ms(histogram.maxValue),
      mean: ms(histogram.mean),
    },
    errors,
    non2xx: 0,
    statusCodes: {},
    rssMb: stats.rssMb,
    cpuMs: stats.cpuMs,
    machineCpuMs: stats.machine,
    notes: [...(s.notes ?? []), ...(firstError ? [`first error: ${firstError}`] : [])],
    monotonicUs: [from, to],
  };
  histogram.destroy();
  progress.done(`${fmtInt(m.rps)} ops/s · p50 ${m.latencyMs.p50} ms · p99 ${m.latencyMs.p99} ms · ${errors} errors`);
  return m;
}
