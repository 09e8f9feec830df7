/**
 * Every target `npm run bench` judges, each with the issue (and goal) that set it: the one place
 * its number is written. report.ts and million.ts judge and print from here, and the unit tests
 * check this table against the issues' numbers and against docs/performance.md's targets section.
 */
import { fmtInt } from '../local/console.js';

/** Where a target comes from: the issue, and its numbered goal there. */
export interface Source {
  issue: number;
  goal?: number;
}

/** A figure that must reach (`≥`) or stay within (`≤`) a number. */
export interface Bound extends Source {
  bound: '≥' | '≤';
  value: number;
  /** Printed after the number: `ms`, `MB`, `msg/s`, `× baseline`… */
  unit: string;
  /** Measured at this share of the closed-loop maximum of POST /facade, offered in an open loop. */
  atShareOfMax?: number;
}

/** A target that is a condition rather than a number, e.g. every message back in order. */
export interface Condition extends Source {
  condition: string;
}

export type Target = Bound | Condition;

export type Verdict = 'PASS' | 'MISS' | 'n/a';

export const TARGETS = {
  // Issue 24: reads and writes at the limit.
  fullReadInOrder: { issue: 24, goal: 1, condition: 'all, in order' },
  fullReadPerSec: { issue: 24, goal: 1, bound: '≥', value: 120_000, unit: 'msg/s' },
  fullReadFirstByteMs: { issue: 24, goal: 1, bound: '≤', value: 50, unit: 'ms' },
  fullReadRssMb: { issue: 24, goal: 2, bound: '≤', value: 150, unit: 'MB' },
  postP99DuringReadMs: { issue: 24, goal: 3, bound: '≤', value: 100, unit: 'ms', atShareOfMax: 0.5 },
  pageAtMillionP50Ms: { issue: 24, goal: 4, bound: '≤', value: 10, unit: 'ms' },
  postCpuOfBaseline: { issue: 24, goal: 5, bound: '≤', value: 0.75, unit: '× baseline' },
  crashStallSec: { issue: 24, goal: 6, bound: '≤', value: 5, unit: 's' },
  // Issue 14: latency at a fixed offered rate (it replaced issue 5's p99 at 32 connections).
  openLoopP99Ms: { issue: 14, bound: '≤', value: 25, unit: 'ms', atShareOfMax: 0.5 },
  // Issue 9: a million messages.
  memberOutOfMemoryErrors: { issue: 9, bound: '≤', value: 0, unit: '' },
  clusterViewP50Ms: { issue: 9, bound: '≤', value: 50, unit: 'ms' },
  // Issue 5: the first benchmark.
  facadeShareOfDirectPct: { issue: 5, bound: '≥', value: 50, unit: '%' },
  reads10kP50Ms: { issue: 5, bound: '≤', value: 100, unit: 'ms' },
  reads100kErrors: { issue: 5, bound: '≤', value: 0, unit: 'errors' },
  serviceRssUnderLoadMb: { issue: 5, bound: '≤', value: 150, unit: 'MB' },
} as const satisfies Record<string, Target>;

/** The bar as printed: `≥ 120,000 msg/s`, `≤ 0.75 × baseline`, `0 errors`, `all, in order`. */
export function describe(t: Target): string {
  if ('condition' in t) return t.condition;
  const unit = t.unit === '' ? '' : ` ${t.unit}`;
  // None at all reads better than "at most none".
  if (t.bound === '≤' && t.value === 0) return `0${unit}`;
  return `${t.bound} ${Number.isInteger(t.value) ? fmtInt(t.value) : String(t.value)}${unit}`;
}

/** Where a target comes from, as printed: `24.1` (issue 24, goal 1), or `9`. */
export const sourceOf = (t: Source): string => (t.goal === undefined ? String(t.issue) : `${t.issue}.${t.goal}`);

/**
 * PASS when `measured` meets the bound, MISS when not, n/a when there is no figure: undefined, or
 * NaN or null as a figure without an answer reads back from JSON.
 */
export function judge(t: Bound, measured: number | null | undefined): Verdict {
  if (typeof measured !== 'number' || !Number.isFinite(measured)) return 'n/a';
  return (t.bound === '≥' ? measured >= t.value : measured <= t.value) ? 'PASS' : 'MISS';
}

/** PASS only if every check passes; MISS if any misses; n/a if none misses and one has no figure. */
export function every(...verdicts: Verdict[]): Verdict {
  return verdicts.includes('MISS') ? 'MISS' : verdicts.includes('n/a') ? 'n/a' : 'PASS';
}
