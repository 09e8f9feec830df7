/**
 * The open-loop chart (docs/open-loop.svg): p50 and p99 of `POST /facade` against the offered
 * rate, in requests per second and in % of the closed-loop maximum, with the 25 ms target.
 *
 * Hand-written SVG from a pure function of the figures, which the file also carries as JSON in
 * its `<metadata>`: `figuresFromSvg` reads them back, so a test re-renders the committed chart
 * and checks it is unchanged, and `node dist/bench/open-loop-chart.js FILE` re-renders a chart in
 * place after a change to this layout, without running the bench again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { OpenLoopFigures, OpenLoopPoint } from './open-loop.js';
import { fmtMs, openLoopTarget } from './report.js';
import { fmtInt } from '../local/console.js';
import { commandLineOrExit, exitWithUsage } from '../local/args.js';

const W = 640;
const H = 400;
const PLOT = { left: 64, right: W - 24, top: 64, bottom: H - 84 };
const P99 = '#c2410c';
const P50 = '#1d4ed8';
const METADATA_ID = 'open-loop-figures';

/** Text as element content (never as an attribute: those hold only numbers and colours here). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unesc = (s: string) => s.replace(/&quot;/g, '"').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
const n = (x: number) => (Math.round(x * 10) / 10).toString();
const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** The 1-2-5 series from the largest value at or below `lo` to the first at or above `hi`: a log axis's ticks. */
export function logTicks(lo: number, hi: number): number[] {
  const series: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); series.length === 0 || series.at(-1)! < hi; e++) {
    for (const m of [1, 2, 5]) if (series.length === 0 || series.at(-1)! < hi) series.push(Number((m * 10 ** e).toPrecision(1)));
  }
  const first = series.findLastIndex((v) => v <= lo);
  return series.slice(Math.max(0, first));
}

/** The chart as SVG text; the same figures always give the same bytes. */
export function renderOpenLoopSvg(f: OpenLoopFigures): string {
  const points = [...f.points].sort((a, b) => a.offeredRps - b.offeredRps);
  const xMax = Math.max(f.closedLoop.rps, ...points.map((p) => p.offeredRps));
  const values = points.flatMap((p) => [p.latencyMs.p50, p.latencyMs.p99]).filter(finite);
  const yTicks = logTicks(Math.max(0.1, Math.min(...values, f.target.p99Ms)), Math.max(...values, f.target.p99Ms));
  const [yLo, yHi] = [yTicks[0]!, yTicks.at(-1)!];
  const x = (rps: number) => PLOT.left + ((PLOT.right - PLOT.left) * rps) / xMax;
  const y = (ms: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * Math.log(ms / yLo)) / Math.log(yHi / yLo);
  const target = openLoopTarget(f);
  const met = target.verdict === 'PASS' ? 'met' : target.verdict === 'MISS' ? 'not met' : 'n/a';
  const verdict = `p99 ≤ ${f.target.p99Ms} ms at ${f.target.percent} % of the maximum: ${target.measured} — ${met}`;
  const out: string[] = [];
  const line = (s: string) => out.push(s);

  const size = `width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"`;
  line(`<svg xmlns="http://www.w3.org/2000/svg" ${size} font-family="sans-serif" font-size="11">`);
  line(`  <title>${esc(`${f.route}, open loop: p50 and p99 latency against offered load`)}</title>`);
  line(`  <desc>${esc(`Target: ${verdict}.`)}\n    ${esc(`Produced by: ${f.command}`)}</desc>`);
  // Indented, so a re-run's figures read as a diff.
  line(`  <metadata id="${METADATA_ID}">\n${esc(JSON.stringify(f, null, 2))}\n  </metadata>`);
  line(`  <rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const title = esc(`${f.route}, open loop: latency against offered load`);
  line(`  <text x="${PLOT.left}" y="22" font-size="14" font-weight="bold">${title}</text>`);
  const closed = `closed-loop maximum ${fmtInt(f.closedLoop.rps)} req/s at ${f.closedLoop.connections} connections`;
  const subtitle = esc(`${f.date} · ${f.machine} · ${closed} · ${n(f.durationSec)} s per rate`);
  line(`  <text x="${PLOT.left}" y="40" fill="#444">${subtitle}</text>`);
  line(`  <text x="${PLOT.left}" y="56" fill="${target.verdict === 'MISS' ? '#b91c1c' : '#444'}">${esc(`target: ${verdict}`)}</text>`);

  // The frame, the y grid on the 1-2-5 series, and the x grid at each measured rate.
  line('  <g stroke="#e5e5e5">');
  for (const t of yTicks) line(`    <line x1="${PLOT.left}" x2="${PLOT.right}" y1="${n(y(t))}" y2="${n(y(t))}"/>`);
  for (const p of points) line(`    <line x1="${n(x(p.offeredRps))}" x2="${n(x(p.offeredRps))}" y1="${PLOT.top}" y2="${PLOT.bottom}"/>`);
  line('  </g>');
  const frame = `x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}"`;
  line(`  <rect ${frame} fill="none" stroke="#888"/>`);
  line('  <g text-anchor="end" fill="#444">');
  for (const t of yTicks) line(`    <text x="${PLOT.left - 6}" y="${n(y(t) + 4)}">${t}</text>`);
  line('  </g>');
  line('  <g text-anchor="middle" fill="#444">');
  line(`    <text x="${PLOT.left}" y="${PLOT.bottom + 16}">0</text>`);
  for (const p of points) {
    line(`    <text x="${n(x(p.offeredRps))}" y="${PLOT.bottom + 16}">${fmtInt(p.offeredRps)}</text>`);
    line(`    <text x="${n(x(p.offeredRps))}" y="${PLOT.bottom + 30}">${p.percent} %</text>`);
  }
  if (!points.some((p) => Math.abs(p.offeredRps - f.closedLoop.rps) < xMax / 20)) {
    line(`    <text x="${n(x(f.closedLoop.rps))}" y="${PLOT.bottom + 16}">${fmtInt(f.closedLoop.rps)}</text>`);
    line(`    <text x="${n(x(f.closedLoop.rps))}" y="${PLOT.bottom + 30}">100 %</text>`);
  }
  const xTitle = 'offered load: requests/s, and % of the closed-loop maximum';
  line(`    <text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 52}">${xTitle}</text>`);
  line('  </g>');
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  line(`  <text transform="translate(18 ${yMid}) rotate(-90)" text-anchor="middle" fill="#444">latency, ms (log scale)</text>`);

  // The target: p99 at most 25 ms, at 50 % of the maximum.
  const ty = n(y(f.target.p99Ms));
  line(`  <line x1="${PLOT.left}" x2="${PLOT.right}" y1="${ty}" y2="${ty}" stroke="#15803d" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  line(`  <text x="${PLOT.left + 6}" y="${n(y(f.target.p99Ms) - 5)}" fill="#15803d">${esc(`target: p99 ≤ ${f.target.p99Ms} ms`)}</text>`);
  const tx = n(x((f.closedLoop.rps * f.target.percent) / 100));
  line(`  <line x1="${tx}" x2="${tx}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#15803d" stroke-dasharray="2 3"/>`);

  const series = (color: string, of: (p: OpenLoopPoint) => number, dy: number) => {
    const pts = points.filter((p) => finite(of(p)));
    if (pts.length === 0) return;
    line(`  <g fill="${color}">`);
    const path = pts.map((p) => `${n(x(p.offeredRps))},${n(y(of(p)))}`).join(' ');
    line(`    <polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`);
    for (const p of pts) {
      const [px, py] = [n(x(p.offeredRps)), y(of(p))];
      line(`    <circle cx="${px}" cy="${n(py)}" r="3.5"/>`);
      line(`    <text x="${px}" y="${n(py + dy)}" text-anchor="middle">${fmtMs(of(p))}</text>`);
    }
    line('  </g>');
  };
  series(P99, (p) => p.latencyMs.p99, -8);
  series(P50, (p) => p.latencyMs.p50, 16);

  // The legend, top left inside the plot, where low rates leave room.
  const lx = PLOT.left + 12;
  line('  <g>');
  line(`    <line x1="${lx}" x2="${lx + 20}" y1="${PLOT.top + 14}" y2="${PLOT.top + 14}" stroke="${P99}" stroke-width="2"/>`);
  line(`    <text x="${lx + 26}" y="${PLOT.top + 18}">p99</text>`);
  line(`    <line x1="${lx}" x2="${lx + 20}" y1="${PLOT.top + 30}" y2="${PLOT.top + 30}" stroke="${P50}" stroke-width="2"/>`);
  line(`    <text x="${lx + 26}" y="${PLOT.top + 34}">p50</text>`);
  line('  </g>');
  const method = esc('latency of 2xx answers, from each request\'s due time on a fixed schedule (free of coordinated omission)');
  line(`  <text x="${PLOT.left}" y="${H - 10}" fill="#666">${method}</text>`);
  line('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The figures a chart was drawn from, read back from its `<metadata>`.
 * @throws Error when the SVG carries none
 */
export function figuresFromSvg(svg: string): OpenLoopFigures {
  const match = new RegExp(`<metadata id="${METADATA_ID}">([\\s\\S]*?)</metadata>`).exec(svg);
  if (!match) throw new Error(`no <metadata id="${METADATA_ID}"> in this SVG`);
  return JSON.parse(unesc(match[1]!)) as OpenLoopFigures;
}

/** Re-renders the charts named on the command line from their own figures. */
function main(): void {
  const usage = 'usage: node dist/bench/open-loop-chart.js FILE.svg ...  (re-renders each from its <metadata>)';
  const { positionals: files } = commandLineOrExit(usage, { allowPositionals: true, options: {} });
  if (files.length === 0) exitWithUsage(usage, 'no chart named');
  for (const file of files) writeFileSync(file, renderOpenLoopSvg(figuresFromSvg(readFileSync(file, 'utf8'))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
