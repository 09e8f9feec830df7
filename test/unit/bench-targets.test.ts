/**
 * The bench's targets: one table of numbers, each from its issue and listed the same in the docs,
 * the verdicts of issue 24's goals beside their same-run baselines, the rate of the POSTs beside
 * the read, and the CPU target against an earlier run's file.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { TARGETS, describe as bar, every, judge, sourceOf, type Target } from '../../bench/targets.js';
import { BASELINE_HOW_TO, baselineRun, millionTargets, postCpuTarget, renderTargets, targets, type TargetResult } from '../../bench/report.js';
import { postRateDuringRead, type MillionFigures } from '../../bench/million.js';
import type { Measurement } from '../../bench/measurement.js';
import type { OpenLoopPoint } from '../../bench/open-loop.js';

const m = (id: string, over: Partial<Measurement> = {}): Measurement => ({
  id, group: 'e2e', title: id, target: id, connections: 32, durationSec: 10, requests: 1000, rps: 600,
  latencyMs: { p50: 10, p99: 20, max: 30, mean: 12 }, errors: 0, non2xx: 0, statusCodes: {}, rssMb: {}, cpuMs: {},
  machineCpuMs: undefined, notes: [], monotonicUs: [0, 1], ...over,
});

const posts = (p99: number, over: Partial<OpenLoopPoint> = {}): OpenLoopPoint => ({
  percent: 50, offeredRps: 300, achievedRps: 300, durationSec: 10, requests: 3000,
  latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 }, errors: 0, non2xx: 0,
  sendLagMs: { p99: 1, max: 2 }, maxInFlight: 9, ...over,
});

/** A million group that meets every target, with `over` changing some figures. */
const million = (over: Partial<MillionFigures> = {}): MillionFigures => ({
  count: 1_000_000, fillSeconds: 30, fillPerSec: 33_000,
  fullRead: {
    status: 200, messages: 1_003_000, filled: 1_000_000, postedBefore: 3000, inOrder: true,
    firstByteMs: 31, seconds: 7.9, perSec: 126_000, bytes: 33e6,
  },
  readWithPosts: { status: 200, messages: 1_003_500, seconds: 9.5, perSec: 105_631 },
  clientAlone: { windowEntries: 10_000, entries: 1_000_000, seconds: 7.1, perSec: 140_845, firstWindowMs: 12 },
  nodeRssMb: { facade: 120, 'logging-1': 149 },
  nodeRssBeforeMb: { facade: 90, 'logging-1': 95 },
  readCpuMs: {},
  memberOutOfMemoryErrors: 0,
  postRate: { rps: 300, closedLoopRps: 600 },
  postIdle: posts(19),
  postDuringRead: posts(99),
  pageAtSmall: { n: 200, p50: 9, p99: 20, max: 30, mapSize: 1000, queriesPerPage: 1, entriesPerPage: 500 },
  pageAtLarge: { n: 200, p50: 10, p99: 40, max: 60, mapSize: 1_000_000, queriesPerPage: 1, entriesPerPage: 200 },
  clusterView: { n: 50, p50: 8, p99: 40, max: 44 },
  ...over,
});

const byFigure = (list: TargetResult[], start: string) => list.find((t) => t.figure.startsWith(start))!;

describe('bench target table', () => {
  it('holds issue 24\'s goals with the issue\'s numbers', () => {
    const goals = Object.values(TARGETS as Record<string, Target>).filter((t) => t.issue === 24);
    expect(goals.map((t) => `${sourceOf(t)} ${bar(t)}`)).to.deep.equal([
      '24.1 all, in order',
      '24.1 ≥ 120,000 msg/s',
      '24.1 ≤ 50 ms',
      '24.2 ≤ 150 MB',
      '24.3 ≤ 100 ms',
      '24.4 ≤ 10 ms',
      '24.5 ≤ 0.75 × baseline',
      '24.6 ≤ 5 s',
    ]);
    expect(TARGETS.postP99DuringReadMs.atShareOfMax).to.equal(0.5);
  });

  it('keeps the earlier targets that still stand, each naming its issue', () => {
    expect(bar(TARGETS.openLoopP99Ms)).to.equal('≤ 25 ms');
    expect(TARGETS.openLoopP99Ms).to.include({ issue: 14, atShareOfMax: 0.5 });
    expect(bar(TARGETS.memberOutOfMemoryErrors)).to.equal('0');
    expect(bar(TARGETS.reads100kErrors)).to.equal('0 errors');
    expect(bar(TARGETS.facadeShareOfDirectPct)).to.equal('≥ 50 %');
    for (const [name, t] of Object.entries(TARGETS as Record<string, Target>)) expect([5, 9, 14, 24], name).to.include(t.issue);
  });

  it('is what docs/performance.md\'s targets section lists, row for row', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'performance.md'), 'utf8');
    const start = doc.indexOf('## Targets');
    expect(start).to.be.at.least(0);
    const rows = doc.slice(start, doc.indexOf('\n## ', start + 3)).split('\n').filter((l) => /^\| \d+(\.\d+)? \|/.test(l));
    const all = Object.values(TARGETS as Record<string, Target>);
    expect(rows).to.have.length(all.length);
    all.forEach((t, i) => {
      const [issue, ...cells] = rows[i]!.split(' | ');
      expect(issue, rows[i]).to.equal(`| ${sourceOf(t)}`);
      expect(cells[1], rows[i]).to.satisfy((target: string) => target.startsWith(bar(t)));
    });
  });

  it('passes a figure at its bound, misses past it, and has no verdict without a figure', () => {
    expect(judge(TARGETS.fullReadPerSec, 120_000)).to.equal('PASS');
    expect(judge(TARGETS.fullReadPerSec, 119_999)).to.equal('MISS');
    expect(judge(TARGETS.fullReadFirstByteMs, 50)).to.equal('PASS');
    expect(judge(TARGETS.fullReadFirstByteMs, 50.1)).to.equal('MISS');
    for (const none of [undefined, null, NaN]) expect(judge(TARGETS.fullReadFirstByteMs, none)).to.equal('n/a');
    expect(every('PASS', 'PASS')).to.equal('PASS');
    expect(every('n/a', 'MISS')).to.equal('MISS');
    expect(every('PASS', 'n/a')).to.equal('n/a');
  });
});

describe('bench targets of issue 24', () => {
  it('takes the POSTs beside the read at half of this run\'s closed-loop maximum, else at --post-rate', () => {
    expect(postRateDuringRead([m('e2e-post', { rps: 612.34 })], 50)).to.deep.equal({ rps: 306.2, closedLoopRps: 612.3 });
    expect(postRateDuringRead([m('direct-post')], 50)).to.deep.equal({ rps: 50 });
    // A closed-loop run with failures is no maximum to take a share of.
    expect(postRateDuringRead([m('e2e-post', { non2xx: 3 })], 50)).to.deep.equal({ rps: 50 });
  });

  it('passes goals 1–4 at their bounds and prints each beside its baseline from the same run', () => {
    const list = millionTargets(million());
    expect(list.map((t) => t.verdict)).to.deep.equal(['PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
    expect(byFigure(list, 'full read: messages/s')).to.include({ measured: '126,000', baseline: '140,845: one client alone, windows of 10,000' });
    expect(byFigure(list, 'full read: first byte')).to.include({ measured: '31.0 ms', baseline: '12.0 ms: that client\'s first window' });
    expect(byFigure(list, 'largest RSS')).to.include({ measured: '149 MB (logging-1)', baseline: '95 MB (logging-1) before it' });
    expect(byFigure(list, 'POST /facade p99')).to.include({ measured: '99.0 ms at 300/s (50% of e2e-post\'s 600), 0 of 3,000 failed', baseline: '19.0 ms idle, 0 failed' });
    expect(byFigure(list, 'a page of 100')).to.include({ measured: '10.0 ms', baseline: '9.00 ms at 1,000' });
  });

  it('misses each goal past its bound, and the POSTs on any failure', () => {
    const list = millionTargets(million({
      fullRead: { ...million().fullRead, perSec: 82_088, firstByteMs: 51, inOrder: false },
      nodeRssMb: { 'logging-3': 300 },
      postDuringRead: posts(20, { errors: 1 }),
      pageAtLarge: { n: 200, p50: 25, p99: 60, max: 90, mapSize: 1_000_000, queriesPerPage: 1.2, entriesPerPage: 2_500 },
      memberOutOfMemoryErrors: 1,
      clusterView: { n: 50, p50: 51, p99: 60, max: 70 },
    }));
    expect(list.map((t) => t.verdict)).to.deep.equal(['MISS', 'MISS', 'MISS', 'MISS', 'MISS', 'MISS', 'MISS', 'MISS']);
    // No RSS before the read for this process: no baseline rather than another process's.
    expect(byFigure(list, 'largest RSS').baseline).to.equal('–');
  });

  it('says where the POST rate came from when it is the flag\'s', () => {
    const post = byFigure(millionTargets(million({ postRate: { rps: 50 } })), 'POST /facade p99');
    expect(post.measured).to.equal('99.0 ms at 50/s (--post-rate: no e2e-post in this run), 0 of 3,000 failed');
  });

  it('says n/a for goals 1–4 when the million group did not run', () => {
    const list = millionTargets(undefined);
    expect(list).to.have.length(8);
    for (const t of list) expect(t).to.include({ verdict: 'n/a', measured: 'not measured (the million group)' });
  });

  it('judges CPU per POST of the services and members against the --baseline file\'s, and says how to get one', () => {
    const cpu = (facade: number, bench: number) => ({ facade, 'logging-1': 500, 'hz-1': 1000, 'hz-2': 1000, 'hz-3': 1000, bench });
    const before = baselineRun({ startedAt: '2026-12-03T10:00:00Z', commit: 'c442a70', measurements: [m('e2e-post', { cpuMs: cpu(500, 300) })] }, 'start.json');
    // 4,000 ms over 1,000 requests before; the load generator's CPU is not the system's.
    const now = postCpuTarget(m('e2e-post', { cpuMs: cpu(0, 9000) }), before);
    expect(now).to.include({ measured: '3.50 = 0.88 × baseline', baseline: '4.00 (start.json, c442a70, 2026-12-03)', verdict: 'MISS' });
    expect(postCpuTarget(m('e2e-post', { requests: 1400, cpuMs: cpu(0, 0) }), before).verdict).to.equal('PASS');
    expect(postCpuTarget(m('e2e-post', { cpuMs: cpu(500, 0) }), undefined)).to.include({ measured: '4.00', baseline: BASELINE_HOW_TO, verdict: 'n/a' });
    expect(postCpuTarget(undefined, before)).to.include({ measured: 'not measured (e2e-post)', verdict: 'n/a' });
  });

  it('refuses a --baseline file without an e2e-post of the system\'s processes', () => {
    expect(() => baselineRun({ measurements: [m('direct-post')] }, 'x.json')).to.throw(/--baseline x\.json: no e2e-post/);
    expect(() => baselineRun({ measurements: [m('e2e-post', { cpuMs: { bench: 100 } })] }, 'x.json')).to.throw(/no CPU time of the services/);
    expect(() => baselineRun(null, 'x.json')).to.throw(/no e2e-post/);
  });

  it('lists issue 24\'s goals first and in order, the crash stall as the chaos suite\'s, then the earlier issues', () => {
    const list = targets({ measurements: [], million: million() });
    expect(list.map(sourceOf)).to.deep.equal(['24.1', '24.1', '24.1', '24.2', '24.3', '24.4', '24.5', '24.6', '14', '9', '9', '5', '5', '5', '5']);
    expect(list[7]).to.include({ figure: 'slowest write after a member crash', measured: 'not here: npm run chaos', verdict: 'n/a' });
    const printed = renderTargets(list).split('\n');
    expect(printed[1]).to.match(/^ +figure +measured +target +baseline +issue$/);
    expect(printed.find((l) => l.startsWith('PASS  full read: messages/s'))).to.match(/126,000 +≥ 120,000 msg\/s +140,845: one client alone, windows of 10,000 +24\.1$/);
  });
});
