/**
 * The benchmark's results as a person reads them: the table, the ratios between layers, the
 * issue's targets with PASS/MISS, and the RSS of each process. Pure functions of the measurements.
 */
import { fmtInt, table } from '../local/console.js';
import type { Measurement, Skipped } from './measurement.js';
import { millionTargets, type MillionFigures } from './million.js';
import type { OpenLoopFigures } from './open-loop.js';

export const GROUP_TITLES: Record<string, string> = {
  'limit-a': 'limit A · Hazelcast client alone',
  'limit-b': 'limit B · do-nothing endpoint, same HTTP stack',
  direct: 'direct · one logging instance',
  e2e: 'end to end · through the facade',
  reads: 'reads at scale · GET /facade',
  'scale-out': 'scale-out · POST /facade by logging instances',
};

/** Node processes of the system, in the order they are shown; the targets apply to these. */
export const SERVICE_PROCESSES = ['facade', 'logging-1', 'logging-2', 'logging-3', 'messages', 'config-server'];
const MEMBERS = ['hz-1', 'hz-2', 'hz-3'];
const PROCESS_ORDER = [...SERVICE_PROCESSES, ...MEMBERS, 'noop', 'bench'];

export interface Ratio {
  name: string;
  value: number | undefined;
}

export type Verdict = 'PASS' | 'MISS' | 'n/a';

export interface TargetResult {
  target: string;
  measured: string;
  verdict: Verdict;
}

const byId = (ms: Measurement[], id: string) => ms.find((m) => m.id === id);

/** Latency in ms: two decimals below 10, one below 100, whole above. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

/** The main table: one row per scenario, grouped, with req/s, p50/p99 and errors. */
export function renderResults(ms: Measurement[], skipped: Skipped[]): string {
  const rows: string[][] = [];
  let group = '';
  for (const m of ms) {
    if (m.group !== group) {
      group = m.group;
      rows.push([GROUP_TITLES[group] ?? group, '', '', '', '', '', '']);
    }
    rows.push([
      `  ${m.title}`,
      String(m.connections),
      fmtInt(m.rps),
      fmtMs(m.latencyMs.p50),
      fmtMs(m.latencyMs.p99),
      fmtInt(m.errors + m.non2xx),
      fmtInt(m.requests),
    ]);
  }
  const out = [table(['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'requests'], rows, '', (i) => i > 0).join('\n')];
  for (const s of skipped) out.push(`skipped: ${s.title} — ${s.reason}`);
  return out.join('\n');
}

/** RSS of every process, largest seen during each scenario (the members are JVMs, for context). */
export function renderRss(ms: Measurement[]): string {
  const names = PROCESS_ORDER.filter((p) => ms.some((m) => m.rssMb[p] !== undefined));
  if (names.length === 0) return 'RSS: no process of this machine measured';
  const rows = ms.map((m) => [m.id, ...names.map((n) => (m.rssMb[n] === undefined ? '–' : m.rssMb[n]!.toFixed(0)))]);
  return table(['RSS MB (peak)', ...names], rows, '', (i) => i > 0).join('\n');
}

/**
 * CPU time per request of each process (the three members summed), and how busy the machine was:
 * `others` is the share of the machine's cores taken by processes that are not the bench's.
 * CPU per request inflates far less than latency when the machine is shared, so it compares runs
 * on a busy machine; `CPU-bound max` is what the machine's cores would allow at that cost per request.
 */
export function renderCpu(ms: Measurement[], cores: number): string {
  const nodeNames = [...SERVICE_PROCESSES, 'noop', 'bench'].filter((p) => ms.some((m) => m.cpuMs[p] !== undefined));
  const hasMembers = ms.some((m) => MEMBERS.some((n) => m.cpuMs[n] !== undefined));
  if (nodeNames.length === 0) return 'CPU: no process of this machine measured';
  const per = (m: Measurement, ms: number | undefined) => (ms === undefined || m.requests === 0 ? '–' : (ms / m.requests).toFixed(2));
  const rows = ms.map((m) => {
    const members = MEMBERS.reduce<number | undefined>((sum, n) => (m.cpuMs[n] === undefined ? sum : (sum ?? 0) + m.cpuMs[n]!), undefined);
    const ours = Object.values(m.cpuMs).reduce((a, b) => a + b, 0);
    const machine = m.machineCpuMs;
    const pct = (x: number) => `${Math.round((x / machine!.capacityMs) * 100)}%`;
    return [
      m.id,
      ...nodeNames.map((n) => per(m, m.cpuMs[n])),
      ...(hasMembers ? [per(m, members)] : []),
      per(m, ours),
      ours > 0 && m.requests > 0 ? fmtInt((cores * 1000 * m.requests) / ours) : '–',
      machine ? pct(machine.busyMs) : '–',
      machine ? pct(Math.max(0, machine.busyMs - ours)) : '–',
    ];
  });
  return table(['CPU ms per request', ...nodeNames, ...(hasMembers ? ['hz ×3'] : []), 'all ours', 'CPU-bound max req/s', 'machine busy', 'others'], rows, '', (i) => i > 0).join('\n');
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

/** Throughput of one layer divided by the one below it. */
export function ratios(ms: Measurement[]): Ratio[] {
  const rps = (id: string) => byId(ms, id)?.rps;
  const list: Ratio[] = [
    { name: 'end-to-end POST ÷ direct POST', value: ratio(rps('e2e-post'), rps('direct-post')) },
    { name: 'end-to-end GET ÷ direct GET', value: ratio(rps('e2e-get'), rps('direct-get')) },
    { name: 'direct POST ÷ limit A putIfAbsent', value: ratio(rps('direct-post'), rps('limit-a-put')) },
    { name: 'direct GET ÷ limit A entrySet', value: ratio(rps('direct-get'), rps('limit-a-read')) },
    { name: 'direct POST ÷ limit B (HTTP floor)', value: ratio(rps('direct-post'), rps('limit-b')) },
  ];
  const scale = ms.filter((m) => m.group === 'scale-out');
  const one = byId(ms, 'scale-out-1');
  for (const m of scale) if (m !== one) list.push({ name: `${m.title} ÷ 1 instance`, value: ratio(m.rps, one?.rps) });
  return list.filter((r) => r.value !== undefined);
}

/** The issue's targets for this machine, each with what was measured and PASS/MISS. */
export function targets(ms: Measurement[]): TargetResult[] {
  const out: TargetResult[] = [];
  const e2ePost = byId(ms, 'e2e-post');
  const directPost = byId(ms, 'direct-post');
  const share = ratio(e2ePost?.rps, directPost?.rps);
  out.push({
    target: 'POST /facade throughput ≥ 50% of direct POST /logging',
    measured: share === undefined ? 'not measured' : `${(share * 100).toFixed(0)}%`,
    verdict: share === undefined ? 'n/a' : share >= 0.5 ? 'PASS' : 'MISS',
  });
  if (e2ePost) {
    const errors = e2ePost.errors + e2ePost.non2xx;
    const at = e2ePost.connections === 32 ? '' : ` (at ${e2ePost.connections} connections, not 32)`;
    out.push({
      target: 'POST /facade p99 ≤ 25 ms at 32 connections, zero errors',
      measured: `p99 ${fmtMs(e2ePost.latencyMs.p99)} ms, ${errors} errors${at}`,
      verdict: e2ePost.latencyMs.p99 <= 25 && errors === 0 ? 'PASS' : 'MISS',
    });
  } else out.push({ target: 'POST /facade p99 ≤ 25 ms at 32 connections, zero errors', measured: 'not measured', verdict: 'n/a' });
  const r10k = byId(ms, 'reads-10000');
  out.push({
    target: 'GET /facade with 10,000 messages: p50 ≤ 100 ms',
    measured: r10k ? `p50 ${fmtMs(r10k.latencyMs.p50)} ms at ${r10k.connections} connections, ${r10k.errors + r10k.non2xx} errors` : 'not measured',
    verdict: !r10k ? 'n/a' : r10k.latencyMs.p50 <= 100 && r10k.errors + r10k.non2xx === 0 ? 'PASS' : 'MISS',
  });
  const r100k = byId(ms, 'reads-100000');
  out.push({
    target: 'GET /facade with 100,000 messages: answered without error',
    measured: r100k ? `${r100k.requests} requests, ${r100k.errors + r100k.non2xx} errors, p50 ${fmtMs(r100k.latencyMs.p50)} ms` : 'not measured',
    verdict: !r100k ? 'n/a' : r100k.requests > 0 && r100k.errors + r100k.non2xx === 0 ? 'PASS' : 'MISS',
  });
  let peak: { name: string; mb: number; scenario: string } | undefined;
  for (const m of ms) {
    for (const name of SERVICE_PROCESSES) {
      const mb = m.rssMb[name];
      if (mb !== undefined && (!peak || mb > peak.mb)) peak = { name, mb, scenario: m.id };
    }
  }
  out.push({
    target: 'every Node service < 150 MB RSS under load',
    measured: peak ? `largest ${peak.mb.toFixed(0)} MB (${peak.name}, during ${peak.scenario})` : 'not measured',
    verdict: !peak ? 'n/a' : peak.mb < 150 ? 'PASS' : 'MISS',
  });
  return out;
}

export function renderRatios(list: Ratio[]): string {
  if (list.length === 0) return 'ratios: nothing to compare';
  const width = Math.max(...list.map((r) => r.name.length));
  return ['ratios (throughput)', ...list.map((r) => `  ${r.name.padEnd(width)}  ${r.value!.toFixed(2)}`)].join('\n');
}

export function renderTargets(list: TargetResult[]): string {
  const width = Math.max(...list.map((t) => t.target.length));
  return [
    'targets',
    ...list.map((t) => `  ${t.verdict.padEnd(4)}  ${t.target.padEnd(width)}  ${t.measured}`),
    '  (closed-loop load: mean latency = connections ÷ throughput, so a p99 of 25 ms at 32 connections',
    '   needs well over 32 ÷ 0.025 s = 1,280 req/s)',
  ].join('\n');
}

/** The open-loop target of issue 14: p99 at a share of the closed-loop maximum, with no errors (n/a when not run). */
export function openLoopTarget(f: OpenLoopFigures | undefined, wanted = { p99Ms: 25, percent: 50 }): TargetResult {
  const { p99Ms, percent } = f?.target ?? wanted;
  const target = `POST /facade p99 ≤ ${p99Ms} ms at ${percent}% of its closed-loop maximum (open loop)`;
  const at = f?.points.find((p) => p.percent === percent);
  if (!at) return { target, measured: 'not measured', verdict: 'n/a' };
  const errors = at.errors + at.non2xx;
  const p99 = at.latencyMs.p99;
  // A latency of null is one read back from JSON, where NaN (no answer at all) is written as null.
  const answered = typeof p99 === 'number' && Number.isFinite(p99);
  return {
    target,
    measured: `${answered ? `p99 ${fmtMs(p99)} ms` : 'no answer'} at ${fmtInt(at.offeredRps)} req/s, ${fmtInt(errors)} errors`,
    verdict: answered && p99 <= p99Ms && errors === 0 ? 'PASS' : 'MISS',
  };
}

/** The open-loop group: one row per offered rate; latencies from each request's due time. */
export function renderOpenLoop(f: OpenLoopFigures): string {
  const rows = f.points.map((p) => [
    `${p.percent}%`,
    fmtInt(p.offeredRps),
    fmtInt(p.achievedRps),
    fmtMs(p.latencyMs.p50),
    fmtMs(p.latencyMs.p90),
    fmtMs(p.latencyMs.p99),
    fmtMs(p.latencyMs.max),
    fmtInt(p.errors + p.non2xx),
    fmtInt(p.requests),
    fmtMs(p.sendLagMs.p99),
    String(p.maxInFlight),
  ]);
  const header = ['of max', 'offered req/s', 'achieved req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'requests'];
  header.push('send lag p99 ms', 'max in flight');
  return [
    `open loop · ${f.route} at fixed rates, ${f.durationSec} s each; ` +
      `closed-loop maximum ${fmtInt(f.closedLoop.rps)} req/s at ${f.closedLoop.connections} connections`,
    table(header, rows, '', (i) => i > 0).join('\n'),
    '  (latency of 2xx answers from each request\'s due time, so a stall counts against every request it delays;',
    '   send lag: how late the load generator itself sent, already included in the latency)',
  ].join('\n');
}

/** The "million" group: what it measured, then each of the issue's targets with PASS/MISS. */
export function renderMillion(f: MillionFigures): string {
  const rows = millionTargets(f).map((t) => [t.met ? 'PASS' : 'MISS', t.what, t.measured, t.target]);
  return [
    `a million · ${fmtInt(f.count)} messages, filled at ${fmtInt(f.fillPerSec)}/s; the full read: ${fmtInt(f.fullRead.bytes / 1048576)} MB in ${f.fullRead.seconds} s`,
    table(['', 'figure', 'measured', 'target'], rows, '', () => false).join('\n'),
    `  RSS during the read (MB): ${Object.entries(f.nodeRssMb).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' · ')}`,
    `  CPU during the read (s): ${Object.entries(f.readCpuMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(' · ')}`,
    `  POST at ${f.postIdle.n} idle / ${f.postDuringRead.n} during: p50 ${fmtMs(f.postIdle.p50)} / ${fmtMs(f.postDuringRead.p50)} ms, p99 ${fmtMs(f.postIdle.p99)} / ${fmtMs(f.postDuringRead.p99)} ms`,
    `  a page of 100: p50 ${fmtMs(f.pageAtSmall.p50)} ms at ${fmtInt(f.pageAtSmall.mapSize)}, ${fmtMs(f.pageAtLarge.p50)} ms at ${fmtInt(f.pageAtLarge.mapSize)} (p99 ${fmtMs(f.pageAtSmall.p99)} / ${fmtMs(f.pageAtLarge.p99)})`,
  ].join('\n');
}
