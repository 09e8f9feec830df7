/**
 * The bench's open loop: the scheduler keeps sending through a stall and charges the stall to every
 * request it delayed (no coordinated omission), and the chart is a pure function of its figures,
 * the committed docs/open-loop.svg included.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { runOpenLoop, type OpenLoopFigures, type OpenLoopPoint } from '../../bench/open-loop.js';
import { figuresFromSvg, logTicks, renderOpenLoopSvg } from '../../bench/open-loop-chart.js';
import { openLoopTarget } from '../../bench/report.js';

const point = (percent: number, offeredRps: number, p50: number, p99: number, over: Partial<OpenLoopPoint> = {}): OpenLoopPoint => ({
  percent,
  offeredRps,
  achievedRps: offeredRps,
  durationSec: 12,
  requests: Math.round(offeredRps * 12),
  latencyMs: { p50, p90: (p50 + p99) / 2, p99, max: p99 * 2 },
  errors: 0,
  non2xx: 0,
  sendLagMs: { p99: 1, max: 3 },
  maxInFlight: 9,
  ...over,
});

const figures = (points: OpenLoopPoint[]): OpenLoopFigures => ({
  date: '2026-12-01',
  command: 'npm run bench -- --only open-loop --out "a&b<c>.json"',
  machine: '2 × AMD EPYC · Node v20.20.2',
  route: 'POST /facade',
  closedLoop: { rps: 800, connections: 32, p99Ms: 87 },
  durationSec: 12,
  target: { p99Ms: 25, percent: 50 },
  points,
});

describe('open-loop load', () => {
  it('keeps sending through a stall and measures each request from its due time', async () => {
    // Every answer is held until 500 ms after the first request arrives, then all are released.
    const held: http.ServerResponse[] = [];
    let release: NodeJS.Timeout | undefined;
    let released = false;
    const server = http.createServer((req, res) => {
      req.resume();
      if (released) return void res.end('ok');
      held.push(res);
      release ??= setTimeout(() => {
        released = true;
        for (const r of held) r.end('ok');
      }, 500);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const request = { url, method: 'POST' as const, headers: {}, body: () => 'x' };
      const p = await runOpenLoop({ request, percent: 50, rateRps: 50, durationSec: 1 });
      expect(p).to.include({ requests: 50, errors: 0, non2xx: 0, percent: 50, offeredRps: 50 });
      // A closed loop would have waited: here a good share of the requests went out during the stall.
      expect(held.length).to.be.at.least(15);
      expect(p.maxInFlight).to.be.at.least(15);
      // ~25 requests were due in the stall's first 500 ms and waited up to 500 ms; a closed loop would report one slow request.
      expect(p.latencyMs.max).to.be.at.least(400);
      expect(p.latencyMs.p90).to.be.at.least(250);
    } finally {
      clearTimeout(release);
      await new Promise((r) => server.close(r));
    }
  });

  it('keeps sending on its schedule until `until` settles, past its duration, then waits for every answer', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const until = new Promise((r) => setTimeout(r, 300));
      const p = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 50, rateRps: 100, durationSec: 0.05, until });
      // About 30 due in 300 ms at 100/s, where the duration alone asked for 5.
      expect(p.requests).to.be.within(25, 60);
      expect(p).to.include({ errors: 0, non2xx: 0, durationSec: p.requests / 100 });
      // A failed `until` ends the schedule just the same.
      const failed = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 50, rateRps: 100, durationSec: 0.05, until: Promise.reject(new Error('read failed')) });
      expect(failed.requests).to.equal(5);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('counts answers outside 2xx and refused connections as errors, apart from the latencies', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const p = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 25, rateRps: 40, durationSec: 0.25 });
    await new Promise((r) => server.close(r));
    expect(p).to.include({ requests: 10, non2xx: 10, errors: 0, achievedRps: 0 });
    expect(Number.isNaN(p.latencyMs.p99)).to.equal(true);
    const refused = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 25, rateRps: 40, durationSec: 0.25 });
    expect(refused).to.include({ requests: 10, errors: 10 });
  });
});

describe('open-loop target', () => {
  it('passes at p99 ≤ 25 ms with no errors at 50 % of the maximum, misses otherwise, and is n/a when not run', () => {
    expect(openLoopTarget(figures([point(25, 200, 2, 30), point(50, 400, 3, 25)])).verdict).to.equal('PASS');
    expect(openLoopTarget(figures([point(50, 400, 3, 25.1)])).verdict).to.equal('MISS');
    expect(openLoopTarget(figures([point(50, 400, 3, 10, { errors: 1 })])).verdict).to.equal('MISS');
    expect(openLoopTarget(figures([point(50, 400, NaN, NaN, { errors: 9 })])).measured).to.equal('no answer at 400 req/s, 9 errors');
    expect(openLoopTarget(figures([point(25, 200, 2, 3)])).verdict).to.equal('n/a');
    expect(openLoopTarget(undefined)).to.deep.include({ verdict: 'n/a', measured: 'not measured (open-loop)' });
  });
});

describe('open-loop chart', () => {
  const f = figures([point(25, 200, 2.5, 12), point(50, 400, 3.1, 24), point(75, 600, 6, 140), point(90, 720, 35, 1400)]);

  it('is the same bytes for the same figures, and carries them so they can be read back', () => {
    const svg = renderOpenLoopSvg(f);
    expect(renderOpenLoopSvg(f)).to.equal(svg);
    expect(figuresFromSvg(svg)).to.deep.equal(f);
    expect(() => figuresFromSvg('<svg/>')).to.throw(/metadata/);
  });

  it('labels both axes, draws p50 and p99 with a marker per rate, the 25 ms target and the verdict', () => {
    const svg = renderOpenLoopSvg(f);
    expect(svg).to.include('latency, ms (log scale)');
    expect(svg).to.include('offered load: requests/s, and % of the closed-loop maximum');
    for (const label of ['200', '400', '600', '720', '25 %', '50 %', '90 %', '100 %', 'target: p99 ≤ 25 ms']) {
      expect(svg).to.include(`>${label}</text>`);
    }
    expect(svg.match(/<polyline /g)).to.have.length(2);
    expect(svg.match(/<circle /g)).to.have.length(8);
    expect(svg).to.include('stroke-dasharray="6 4"');
    expect(svg).to.include('p99 24.0 ms at 400 req/s, 0 errors — met');
    expect(svg).to.include('Produced by: npm run bench -- --only open-loop --out "a&amp;b&lt;c&gt;.json"');
  });

  it('leaves a rate that got no answer out of the lines', () => {
    const svg = renderOpenLoopSvg(figures([point(25, 200, 2, 9), point(50, 400, NaN, NaN, { errors: 4800 })]));
    expect(svg.match(/<circle /g)).to.have.length(2);
    expect(svg).to.include('no answer at 400 req/s, 4,800 errors — not met');
  });

  it('puts the log axis on the 1-2-5 series around the values', () => {
    expect(logTicks(2.5, 1400)).to.deep.equal([2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]);
    expect(logTicks(0.3, 25)).to.deep.equal([0.2, 0.5, 1, 2, 5, 10, 20, 50]);
    expect(logTicks(1, 10)).to.deep.equal([1, 2, 5, 10]);
  });

  it('docs/open-loop.svg is what its own figures render (re-render: node dist/bench/open-loop-chart.js docs/open-loop.svg)', () => {
    const committed = readFileSync(join(REPO_ROOT, 'docs', 'open-loop.svg'), 'utf8');
    const own = figuresFromSvg(committed);
    expect(own.points.map((p) => p.percent)).to.deep.equal([25, 50, 75, 90]);
    expect(renderOpenLoopSvg(own)).to.equal(committed);
  });
});
