/**
 * Limit A: the Hazelcast client alone, from this process, against the same members — what no HTTP
 * service on top of it can beat.
 */
import { build } from 'hdr-histogram-js';
import type { IMap } from 'hazelcast-client';
import type { StoredValue } from '../lib/contract.js';
import { monotonicUs, type Measurement } from './measurement.js';
import { fmtInt } from '../local/console.js';
import { ProgressLine } from './progress.js';

export { addMessages, connect } from '../local/fill.js';
import { ProcessSampler, type ProcessStats } from './process-stats.js';

export type MessageMap = IMap<string, StoredValue>;

/** A value as the logging service stores it. */
export const storedValue = (msg: string): StoredValue => ({ msg, loggedBy: 'bench', storedAt: new Date().toISOString() });

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
