/**
 * The benchmark's results as a person reads them: the table, the ratios between layers, every
 * target with PASS/MISS beside its baseline (the numbers are targets.ts's), and the RSS and CPU of
 * each process. Pure functions of the measurements.
 */
import { fmtInt, table } from '../local/console.js';
import type { Measurement, Skipped } from './measurement.js';
import type { MillionFigures, PostRate } from './million.js';
import type { OpenLoopFigures } from './open-loop.js';
import { TARGETS, describe, every, judge, sourceOf, type Source, type Target, type Verdict } from './targets.js';

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
/** The system's own processes, whose CPU a request costs: the services and the members, not the load generator. */
export const SYSTEM_PROCESSES = [...SERVICE_PROCESSES, ...MEMBERS];
const PROCESS_ORDER = [...SERVICE_PROCESSES, ...MEMBERS, 'noop', 'bench'];

export interface Ratio {
  name: string;
  value: number | undefined;
}

/** One target as judged in one run, with the issue (and goal) it comes from. */
export interface TargetResult extends Source {
  /** The figure judged, e.g. `full read: first byte`. */
  figure: string;
  measured: string;
  /** The bar, e.g. `≤ 50 ms` (targets.ts). */
  target: string;
  /** The same figure without what the target is about (the read, the large map…), from this run; `–`: none. */
  baseline: string;
  verdict: Verdict;
}

/** An earlier run's POST /facade, from its `--out` file: the baseline of the CPU target (`--baseline FILE`). */
export interface BaselineRun {
  file: string;
  startedAt?: string;
  commit?: string;
  e2ePost: Measurement;
}

/** Everything of one run the targets are judged on. */
export interface RunFigures {
  measurements: Measurement[];
  openLoop?: OpenLoopFigures;
  million?: MillionFigures;
  baseline?: BaselineRun;
}

const NOT_MEASURED = 'not measured';
const NONE = '–';
/** A judged row: the target's bar and source from targets.ts. */
const row = (t: Target, r: Pick<TargetResult, 'figure' | 'measured' | 'baseline' | 'verdict'>): TargetResult =>
  ({ ...r, target: describe(t), issue: t.issue, ...(t.goal !== undefined && { goal: t.goal }) });

const byId = (ms: Measurement[], id: string) => ms.find((m) => m.id === id);

/** Latency in ms: two decimals below 10, one below 100, whole above. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

/** Retries by reason, e.g. `status_5xx 12`; `none`, or n/a for an older run's JSON. */
function fmtRetries(r: Record<string, number> | undefined): string {
  if (r === undefined) return 'n/a';
  const list = Object.entries(r).map(([reason, n]) => `${reason} ${fmtInt(n)}`);
  return list.length > 0 ? list.join(', ') : 'none';
}

/** What logging asked of the members for one page: queries and the entries they fetched (older runs' JSON has neither). */
function fmtFetched(p: { queriesPerPage?: number; entriesPerPage?: number }): string {
  return p.queriesPerPage === undefined ? 'n/a' : `${p.queriesPerPage} queries, ${fmtInt(p.entriesPerPage ?? 0)} entries`;
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
 * CPU ms per request of these processes together (default: every one measured); undefined when
 * none of them was measured or no request was made.
 */
export function cpuPerRequest(m: Measurement, names: string[] = Object.keys(m.cpuMs)): number | undefined {
  const measured = names.filter((n) => m.cpuMs[n] !== undefined);
  if (measured.length === 0 || m.requests === 0) return undefined;
  return measured.reduce((sum, n) => sum + m.cpuMs[n]!, 0) / m.requests;
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
  const rows = ms.map((m) => {
    const per = (names?: string[]) => cpuPerRequest(m, names)?.toFixed(2) ?? '–';
    const ours = cpuPerRequest(m);
    const machine = m.machineCpuMs;
    const pct = (x: number) => `${Math.round((x / machine!.capacityMs) * 100)}%`;
    return [
      m.id,
      ...nodeNames.map((n) => per([n])),
      ...(hasMembers ? [per(MEMBERS)] : []),
      per(),
      ours ? fmtInt((cores * 1000) / ours) : '–',
      machine ? pct(machine.busyMs) : '–',
      machine ? pct(Math.max(0, machine.busyMs - Object.values(m.cpuMs).reduce((a, b) => a + b, 0))) : '–',
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

/**
 * Every target of targets.ts as this run meets it, newest issue first and each issue's goals in
 * order; n/a, saying what would measure it, where this run did not.
 */
export function targets(run: RunFigures): TargetResult[] {
  const list = [
    ...millionTargets(run.million),
    postCpuTarget(byId(run.measurements, 'e2e-post'), run.baseline),
    row(TARGETS.crashStallSec, {
      // A fault under a write load, which the chaos suite sets up and this bench does not.
      figure: 'slowest write after a member crash', measured: 'not here: npm run chaos', baseline: NONE, verdict: 'n/a',
    }),
    openLoopTarget(run.openLoop),
    ...firstBenchTargets(run.measurements),
  ];
  return list.sort((a, b) => b.issue - a.issue || (a.goal ?? 0) - (b.goal ?? 0));
}

/** `ms ms`, or `no answer` for a latency without one (NaN, or null as JSON writes it). */
const latency = (ms: number | null | undefined) => (typeof ms === 'number' && Number.isFinite(ms) ? `${fmtMs(ms)} ms` : 'no answer');

type Judged = Pick<TargetResult, 'measured' | 'baseline' | 'verdict'>;

/** The open-loop POSTs of the million group that did not get a 2xx. */
const failed = (p: MillionFigures['postIdle']) => p.errors + p.non2xx;

/** Where the million group's POST rate came from (the report must say which). */
const rateFrom = (r: PostRate) =>
  r.closedLoopRps === undefined ? '--post-rate: no e2e-post in this run' : `${Math.round((100 * r.rps) / r.closedLoopRps)}% of e2e-post's ${fmtInt(r.closedLoopRps)}`;

/**
 * Issue 24's goals 1–4 and issue 9's figures at a million messages, each beside its baseline from
 * the same run: each row's figure, and how it is judged from the million group's figures.
 */
const MILLION_ROWS: [Target, string, (f: MillionFigures) => Judged][] = [
  [TARGETS.fullReadInOrder, 'full GET /facade: every message, in order', ({ fullRead: r }) => ({
    measured: `${fmtInt(r.messages)} (${fmtInt(r.filled)} + ${fmtInt(r.postedBefore)} posted before)${r.inOrder ? ', in order' : ', NOT all in order'}, HTTP ${r.status}`,
    baseline: NONE,
    verdict: r.inOrder && r.status === 200 ? 'PASS' : 'MISS',
  })],
  [TARGETS.fullReadPerSec, 'full read: messages/s end to end', ({ fullRead: r, clientAlone: alone }) => ({
    measured: fmtInt(r.perSec),
    baseline: `${fmtInt(alone.perSec)}: one client alone, windows of ${fmtInt(alone.windowEntries)}`,
    verdict: judge(TARGETS.fullReadPerSec, r.perSec),
  })],
  [TARGETS.fullReadFirstByteMs, 'full read: first byte', ({ fullRead: r, clientAlone: alone }) => ({
    measured: latency(r.firstByteMs),
    baseline: `${latency(alone.firstWindowMs)}: that client's first window`,
    verdict: judge(TARGETS.fullReadFirstByteMs, r.firstByteMs),
  })],
  [TARGETS.fullReadRssMb, 'largest RSS of a Node process during it', ({ nodeRssMb, nodeRssBeforeMb }) => {
    const [name, mb] = Object.entries(nodeRssMb).sort((a, b) => b[1] - a[1])[0] ?? [];
    const before = name === undefined ? undefined : nodeRssBeforeMb[name];
    return {
      measured: name === undefined ? NOT_MEASURED : `${mb!.toFixed(0)} MB (${name})`,
      baseline: before === undefined ? NONE : `${before.toFixed(0)} MB (${name}) before it`,
      verdict: judge(TARGETS.fullReadRssMb, mb),
    };
  }],
  [TARGETS.postP99DuringReadMs, 'POST /facade p99 during it, open loop', ({ postIdle: idle, postDuringRead: during, postRate: rate }) => ({
    measured: `${latency(during.latencyMs.p99)} at ${fmtInt(rate.rps)}/s (${rateFrom(rate)}), ${fmtInt(failed(during))} of ${fmtInt(during.requests)} failed`,
    baseline: `${latency(idle.latencyMs.p99)} idle, ${fmtInt(failed(idle))} failed`,
    verdict: every(judge(TARGETS.postP99DuringReadMs, during.latencyMs.p99), failed(during) === 0 ? 'PASS' : 'MISS'),
  })],
  [TARGETS.pageAtMillionP50Ms, 'a page of 100 at the full map: p50', ({ pageAtLarge: large, pageAtSmall: small }) => ({
    measured: latency(large.p50),
    baseline: `${latency(small.p50)} at ${fmtInt(small.mapSize)}`,
    verdict: judge(TARGETS.pageAtMillionP50Ms, large.p50),
  })],
  [TARGETS.memberOutOfMemoryErrors, 'OutOfMemoryError on any member', ({ memberOutOfMemoryErrors: n }) => ({
    measured: String(n), baseline: NONE, verdict: judge(TARGETS.memberOutOfMemoryErrors, n),
  })],
  [TARGETS.clusterViewP50Ms, '/facade/cluster at the full map: p50', ({ clusterView: c }) => ({
    measured: `${latency(c.p50)} (max ${latency(c.max)})`, baseline: NONE, verdict: judge(TARGETS.clusterViewP50Ms, c.p50),
  })],
];

/** The million group's targets; n/a when it did not run. */
export function millionTargets(f: MillionFigures | undefined): TargetResult[] {
  const notRun: Judged = { measured: `${NOT_MEASURED} (the million group)`, baseline: NONE, verdict: 'n/a' };
  return MILLION_ROWS.map(([t, figure, judged]) => row(t, { figure, ...(f ? judged(f) : notRun) }));
}

/** `npm run bench`'s own how-to for the CPU target's baseline, printed where none was given. */
export const BASELINE_HOW_TO = 'n/a: pass --baseline FILE, the starting commit\'s --out';

/**
 * Issue 24's goal 5: CPU ms per POST /facade of the services and members together (the load
 * generator's is not the system's), this run's e2e-post against the `--baseline` file's.
 */
export function postCpuTarget(e2ePost: Measurement | undefined, baseline: BaselineRun | undefined): TargetResult {
  const t = TARGETS.postCpuOfBaseline;
  const figure = 'POST /facade CPU ms per request, services + members';
  const now = e2ePost && cpuPerRequest(e2ePost, SYSTEM_PROCESSES);
  const then = baseline && cpuPerRequest(baseline.e2ePost, SYSTEM_PROCESSES);
  const of = then === undefined ? undefined : [baseline!.file, baseline!.commit, baseline!.startedAt?.slice(0, 10)].filter(Boolean).join(', ');
  return row(t, {
    figure,
    measured: now === undefined ? `${NOT_MEASURED} (e2e-post)` : `${now.toFixed(2)}${then ? ` = ${(now / then).toFixed(2)} × baseline` : ''}`,
    baseline: then === undefined ? BASELINE_HOW_TO : `${then.toFixed(2)} (${of})`,
    verdict: now === undefined || !then ? 'n/a' : judge(t, now / then),
  });
}

/**
 * An earlier bench's `--out` file as the CPU target's baseline: its e2e-post, which holds each
 * process's CPU time.
 * @throws Error saying what the file lacks
 */
export function baselineRun(json: unknown, file: string): BaselineRun {
  const results = json as { measurements?: Measurement[]; startedAt?: string; commit?: string } | null;
  const e2ePost = Array.isArray(results?.measurements) ? results.measurements.find((m) => m?.id === 'e2e-post') : undefined;
  if (!e2ePost) throw new Error(`--baseline ${file}: no e2e-post measurement in it (write one with npm run bench -- --only e2e-post --out FILE)`);
  if (cpuPerRequest(e2ePost, SYSTEM_PROCESSES) === undefined) {
    throw new Error(`--baseline ${file}: its e2e-post has no CPU time of the services or members (a run against a remote system?)`);
  }
  return { file, startedAt: results!.startedAt, commit: results!.commit, e2ePost };
}

/** Issue 5's targets that still stand: the facade's share of a direct write, reads at 10,000 and 100,000, RSS under load. */
function firstBenchTargets(ms: Measurement[]): TargetResult[] {
  const T = TARGETS;
  const e2ePost = byId(ms, 'e2e-post');
  const directPost = byId(ms, 'direct-post');
  const share = ratio(e2ePost?.rps, directPost?.rps);
  const errors = (m: Measurement) => m.errors + m.non2xx;
  const r10k = byId(ms, 'reads-10000');
  const r100k = byId(ms, 'reads-100000');
  let peak: { name: string; mb: number; scenario: string } | undefined;
  for (const m of ms) {
    for (const name of SERVICE_PROCESSES) {
      const mb = m.rssMb[name];
      if (mb !== undefined && (!peak || mb > peak.mb)) peak = { name, mb, scenario: m.id };
    }
  }
  return [
    row(T.facadeShareOfDirectPct, {
      figure: 'POST /facade req/s ÷ direct POST /logging',
      measured: share === undefined ? `${NOT_MEASURED} (e2e-post, direct-post)` : `${(share * 100).toFixed(0)}% (${fmtInt(e2ePost!.rps)} ÷ ${fmtInt(directPost!.rps)})`,
      baseline: NONE,
      verdict: judge(T.facadeShareOfDirectPct, share === undefined ? undefined : share * 100),
    }),
    row(T.reads10kP50Ms, {
      figure: 'GET /facade, 10,000 messages: p50, no errors',
      measured: r10k ? `${latency(r10k.latencyMs.p50)} at ${r10k.connections} connections, ${errors(r10k)} errors` : `${NOT_MEASURED} (reads)`,
      baseline: NONE,
      verdict: r10k ? every(judge(T.reads10kP50Ms, r10k.latencyMs.p50), errors(r10k) === 0 ? 'PASS' : 'MISS') : 'n/a',
    }),
    row(T.reads100kErrors, {
      figure: 'GET /facade, 100,000 messages: answered',
      measured: r100k ? `${errors(r100k)} errors in ${r100k.requests} requests, p50 ${latency(r100k.latencyMs.p50)}` : `${NOT_MEASURED} (reads)`,
      baseline: NONE,
      verdict: !r100k ? 'n/a' : r100k.requests > 0 ? judge(T.reads100kErrors, errors(r100k)) : 'MISS',
    }),
    row(T.serviceRssUnderLoadMb, {
      figure: 'largest RSS of a Node service in any scenario',
      measured: peak ? `${peak.mb.toFixed(0)} MB (${peak.name}, ${peak.scenario})` : NOT_MEASURED,
      baseline: NONE,
      verdict: judge(T.serviceRssUnderLoadMb, peak?.mb),
    }),
  ];
}

export function renderRatios(list: Ratio[]): string {
  if (list.length === 0) return 'ratios: nothing to compare';
  const width = Math.max(...list.map((r) => r.name.length));
  return ['ratios (throughput)', ...list.map((r) => `  ${r.name.padEnd(width)}  ${r.value!.toFixed(2)}`)].join('\n');
}

export function renderTargets(list: TargetResult[]): string {
  const rows = list.map((t) => [t.verdict, t.figure, t.measured, t.target, t.baseline, sourceOf(t)]);
  return [
    'targets, each beside its baseline from this run',
    table(['', 'figure', 'measured', 'target', 'baseline', 'issue'], rows, '', () => false).join('\n'),
    '  (baseline: the same figure without what the target is about, measured in this run; the CPU target\'s',
    '   is an earlier run\'s, from --baseline. issue 24.1: issue 24, goal 1. docs/performance.md#targets-and-why-some-are-missed)',
  ].join('\n');
}

/** The open-loop target of issue 14: p99 at a share of the closed-loop maximum, with no errors (n/a when not run). */
export function openLoopTarget(f: OpenLoopFigures | undefined): TargetResult {
  const t = TARGETS.openLoopP99Ms;
  const { p99Ms, percent } = f?.target ?? openLoopGoal();
  // The figures' own target: a chart drawn for an earlier target is judged by it.
  const bar = p99Ms === t.value ? t : { ...t, value: p99Ms };
  const figure = `POST /facade p99 at ${percent}% of its closed-loop max, open loop`;
  const at = f?.points.find((p) => p.percent === percent);
  if (!at) return row(bar, { figure, measured: `${NOT_MEASURED} (open-loop)`, baseline: NONE, verdict: 'n/a' });
  const errors = at.errors + at.non2xx;
  const p99 = judge(bar, at.latencyMs.p99);
  return row(bar, {
    figure,
    measured: `${p99 === 'n/a' ? 'no answer' : `p99 ${latency(at.latencyMs.p99)}`} at ${fmtInt(at.offeredRps)} req/s, ${fmtInt(errors)} errors`,
    baseline: NONE,
    // Run, but without an answer to time: missed.
    verdict: every(p99 === 'n/a' ? 'MISS' : p99, errors === 0 ? 'PASS' : 'MISS'),
  });
}

/** Issue 14's target as the open-loop figures (and the chart) carry it. */
export const openLoopGoal = () => ({ p99Ms: TARGETS.openLoopP99Ms.value, percent: TARGETS.openLoopP99Ms.atShareOfMax * 100 });

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

/** The "million" group: what it measured, beyond its targets' rows. */
export function renderMillion(f: MillionFigures): string {
  const mb = (rss: Record<string, number>) => Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' · ');
  const alone = f.clientAlone;
  const posts = (p: MillionFigures['postIdle']) =>
    `p50 ${latency(p.latencyMs.p50)}, p99 ${latency(p.latencyMs.p99)}, ${fmtInt(p.requests)} sent, ${fmtInt(p.errors + p.non2xx)} failed`;
  return [
    `a million · ${fmtInt(f.count)} messages, filled at ${fmtInt(f.fillPerSec)}/s; the full read: ${fmtInt(f.fullRead.bytes / 1048576)} MB in ${f.fullRead.seconds} s`,
    `  one client alone, key windows of ${fmtInt(alone.windowEntries)}: ${fmtInt(alone.entries)} in ${alone.seconds} s, ${fmtInt(alone.perSec)}/s, the first after ${latency(alone.firstWindowMs)}`,
    `  RSS before the read (MB): ${mb(f.nodeRssBeforeMb)}`,
    `  RSS during the read (MB): ${mb(f.nodeRssMb)}`,
    `  CPU during the read (s): ${Object.entries(f.readCpuMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(' · ')}`,
    `  POST /facade in an open loop at ${fmtInt(f.postRate.rps)}/s (${rateFrom(f.postRate)}): idle ${posts(f.postIdle)}; during the read ${posts(f.postDuringRead)}`,
    `  the facade's retries on another instance, by reason: idle ${fmtRetries(f.retriesIdle)}; during the read ${fmtRetries(f.retriesDuringRead)}`,
    `  the read again with those POSTs alongside: ${fmtInt(f.readWithPosts.messages)} in ${f.readWithPosts.seconds} s, ${fmtInt(f.readWithPosts.perSec)}/s (HTTP ${f.readWithPosts.status})`,
    `  a page of 100: p50 ${fmtMs(f.pageAtSmall.p50)} ms at ${fmtInt(f.pageAtSmall.mapSize)}, ${fmtMs(f.pageAtLarge.p50)} ms at ${fmtInt(f.pageAtLarge.mapSize)} (p99 ${fmtMs(f.pageAtSmall.p99)} / ${fmtMs(f.pageAtLarge.p99)});`
      + ` fetched per page ${fmtFetched(f.pageAtSmall)} / ${fmtFetched(f.pageAtLarge)}`,
  ].join('\n');
}
