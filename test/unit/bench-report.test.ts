/** The benchmark's command line and verdicts: pure functions of flags and of measurements. */
import { expect } from 'chai';
import { parseOptions } from '../../bench/options.js';
import { ratios, targets } from '../../bench/report.js';
import type { Measurement } from '../../bench/measurement.js';

const m = (id: string, over: Partial<Measurement> = {}): Measurement => ({
  id,
  group: id.replace(/-(post|get|put|read|\d+)$/, ''),
  title: id,
  target: id,
  connections: 32,
  durationSec: 10,
  requests: 1000,
  rps: 100,
  latencyMs: { p50: 10, p99: 20, max: 30, mean: 12 },
  errors: 0,
  non2xx: 0,
  statusCodes: { 200: 1000 },
  rssMb: {},
  cpuMs: {},
  machineCpuMs: undefined,
  notes: [],
  monotonicUs: [0, 1],
  ...over,
});

describe('bench options', () => {
  it('defaults to the issue\'s set-up: 32 connections, 10 s after a 3 s warm-up, four map sizes', () => {
    const o = parseOptions([]);
    expect(o).to.include({ connections: 32, durationSec: 10, warmupSec: 3, scaleConnections: 4, out: '.run/bench.json' });
    expect(o.sizes).to.deep.equal([10, 1_000, 10_000, 100_000]);
    expect(o.loggingCounts).to.deep.equal([1, 2, 3]);
    expect(o.remote).to.equal(undefined);
  });

  it('runs the open loop by default at 25, 50, 75 and 90 % of the maximum, 12 s each, drawn into docs/', () => {
    const o = parseOptions([]);
    expect(o.only).to.include('open-loop');
    expect(o).to.include({ openLoopSec: 12, openLoopSvg: 'docs/open-loop.svg' });
    expect(o.openLoopPercents).to.deep.equal([25, 50, 75, 90]);
    const small = parseOptions(['--open-loop-rates', '25,50', '--open-loop-duration', '2', '--open-loop-svg', '/tmp/x.svg']);
    expect(small).to.include({ openLoopSec: 2, openLoopSvg: '/tmp/x.svg' });
    expect(small.openLoopPercents).to.deep.equal([25, 50]);
  });

  it('skips groups with --skip, and the scenarios of a skipped group given to --only', () => {
    expect(parseOptions(['--skip', 'open-loop,million']).only).to.deep.equal(['limit-a', 'limit-b', 'direct', 'e2e', 'reads', 'scale-out']);
    expect(parseOptions(['--only', 'e2e-post,open-loop', '--skip', 'e2e']).only).to.deep.equal(['open-loop']);
    expect(() => parseOptions(['--skip', 'e2e-post'])).to.throw(/--skip/);
    expect(() => parseOptions(['--only', 'e2e', '--skip', 'e2e'])).to.throw(/nothing to run/);
    expect(() => parseOptions(['--open-loop-rates', '50,x'])).to.throw(/--open-loop-rates/);
  });

  it('takes durations, connections and sizes as flags', () => {
    const o = parseOptions(['--duration', '2.5', '--connections', '8', '--sizes', '10,500', '--only', 'e2e,limit-a-put', '--service-env', 'LOG_LEVEL=info']);
    expect(o).to.include({ durationSec: 2.5, connections: 8 });
    expect(o.sizes).to.deep.equal([10, 500]);
    expect(o.only).to.deep.equal(['e2e', 'limit-a-put']);
    expect(o.serviceEnv).to.deep.equal({ LOG_LEVEL: 'info' });
    expect(o.baseline).to.equal(undefined);
    expect(parseOptions(['--baseline', '.run/start.json']).baseline).to.equal('.run/start.json');
  });

  it('targets a running system when given its URLs', () => {
    const o = parseOptions(['--facade', 'http://127.0.0.1:8080/', '--members', '127.0.0.1:5701,127.0.0.1:5702']);
    expect(o.remote).to.deep.include({ facade: 'http://127.0.0.1:8080', members: ['127.0.0.1:5701', '127.0.0.1:5702'], clusterName: 'lab' });
  });

  it('rejects unknown groups, bad numbers and unknown flags, naming the flag', () => {
    expect(() => parseOptions(['--only', 'everything'])).to.throw(/--only/);
    expect(() => parseOptions(['--connections', 'many'])).to.throw(/--connections/);
    expect(() => parseOptions(['--logging-counts', '4'])).to.throw(/--logging-counts/);
    expect(() => parseOptions(['--facade', 'localhost'])).to.throw(/--facade/);
    expect(() => parseOptions(['--cpu-prof', 'x', '--facade', 'http://h:1'])).to.throw(/--cpu-prof/);
    expect(() => parseOptions(['--fast'])).to.throw();
  });
});

describe('bench verdicts', () => {
  it('divides each layer\'s throughput by the one below it', () => {
    const list = ratios([m('direct-post', { rps: 1000 }), m('e2e-post', { rps: 600 }), m('limit-a-put', { rps: 4000 })]);
    expect(list.find((r) => r.name === 'end-to-end POST ÷ direct POST')?.value).to.equal(0.6);
    expect(list.find((r) => r.name === 'direct POST ÷ limit A putIfAbsent')?.value).to.equal(0.25);
    expect(list.map((r) => r.name)).to.not.include('end-to-end GET ÷ direct GET');
  });

  it('judges issue 5\'s targets that still stand, and says n/a for what was not measured', () => {
    const list = targets({
      measurements: [
        m('direct-post', { rps: 1000 }),
        m('e2e-post', { rps: 400, rssMb: { facade: 120, 'logging-1': 151 } }),
        m('reads-10000', { latencyMs: { p50: 99, p99: 300, max: 400, mean: 120 } }),
      ],
    }).filter((t) => t.issue === 5);
    // 40% of direct; 10k p50 99 ms without errors; 100k not measured; logging-1 above 150 MB.
    expect(list.map((t) => t.verdict)).to.deep.equal(['MISS', 'PASS', 'n/a', 'MISS']);
    expect(list[0]!.measured).to.equal('40% (400 ÷ 1,000)');
    expect(list[3]!.measured).to.equal('151 MB (logging-1, e2e-post)');
  });

  it('counts non-2xx answers as errors against the read at 10,000', () => {
    const r10k = targets({ measurements: [m('reads-10000', { non2xx: 1 })] }).find((t) => t.figure.startsWith('GET /facade, 10,000'));
    expect(r10k!.verdict).to.equal('MISS');
  });
});
