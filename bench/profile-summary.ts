#!/usr/bin/env node
/**
 * Reads `.cpuprofile` files (from `npm run bench -- --cpu-prof DIR`, or `node --cpu-prof`) and
 * prints where the time went: self time by package (the project's code, each npm package, Node's
 * internals, GC, idle) and the functions with the most self time.
 * `node dist/bench/profile-summary.js [--top N] [--bench BENCH.json --scenario ID] FILE...`; with
 * `--bench`, only the samples taken while that scenario was measured count.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { commandLineOrExit, exitWithUsage } from '../local/args.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which package a frame belongs to: an npm package, the project's code, Node itself, or V8's pseudo-frames. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node (internals)';
  const own = /\/dist\/([^/]+)\//.exec(url);
  return own ? `lab ${own[1]}/` : url;
}

export interface Summary {
  totalMs: number;
  byPackage: [string, number][];
  byFunction: [string, number][];
}

/**
 * Self time per package and per function, in milliseconds, largest first; only samples taken
 * within `windowUs` (monotonic µs, the clock of the profile's timestamps) when it is given.
 */
export function summarize(profile: CpuProfile, windowUs?: [number, number]): Summary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (windowUs && (at < windowUs[0] || at > windowUs[1])) continue;
    // Each sample's time is the delta to the next one (V8's own convention in DevTools).
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + delta);
  }
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id)!.callFrame;
    total += us;
    const pkg = packageOf(frame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([k, v]) => [k, v / 1000] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { totalMs: total / 1000, byPackage: sorted(byPackage), byFunction: sorted(byFunction) };
}

function render(file: string, s: Summary, top: number): string {
  const busy = s.totalMs - (s.byPackage.find(([k]) => k === '(idle)')?.[1] ?? 0);
  const pct = (ms: number, of: number) => `${((ms / of) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${basename(file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (not idle)`];
  lines.push('  self time by package (share of busy time)');
  for (const [k, ms] of s.byPackage.filter(([k]) => k !== '(idle)').slice(0, top)) lines.push(`    ${pct(ms, busy)}  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  lines.push('  top functions by self time (share of busy time)');
  for (const [k, ms] of s.byFunction.filter(([k]) => !k.startsWith('(idle)')).slice(0, top)) lines.push(`    ${pct(ms, busy)}  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  return lines.join('\n');
}

const USAGE = 'usage: node dist/bench/profile-summary.js [--top N] [--bench BENCH.json --scenario ID] FILE.cpuprofile...';

function main(): void {
  const { values, positionals: files } = commandLineOrExit(USAGE, {
    allowPositionals: true,
    options: { top: { type: 'string', default: '15' }, bench: { type: 'string' }, scenario: { type: 'string' } },
  });
  const top = Number(values.top);
  const { bench, scenario } = values;
  if (files.length === 0) exitWithUsage(USAGE, 'no profile named');
  if (!Number.isInteger(top) || top < 1) exitWithUsage(USAGE, `--top must be a whole number, at least 1, not ${JSON.stringify(values.top)}`);
  if ((bench === undefined) !== (scenario === undefined)) exitWithUsage(USAGE, '--bench and --scenario go together');
  let windowUs: [number, number] | undefined;
  if (bench) {
    const m = (JSON.parse(readFileSync(bench, 'utf8')) as { measurements: { id: string; monotonicUs: [number, number] }[] }).measurements.find((x) => x.id === scenario);
    if (!m) throw new Error(`${bench} has no scenario ${scenario}`);
    windowUs = m.monotonicUs;
    process.stdout.write(`samples taken while ${scenario} was measured (${((windowUs[1] - windowUs[0]) / 1e6).toFixed(1)} s)\n\n`);
  }
  for (const file of files) process.stdout.write(`${render(file, summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, windowUs), top)}\n\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
