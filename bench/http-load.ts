/**
 * HTTP load with autocannon: an unmeasured warm-up, then a measured run at fixed concurrency for a
 * fixed time (or a fixed number of requests), as one `Measurement`.
 */
import autocannon from 'autocannon';
import { monotonicUs, type Measurement } from './measurement.js';
import { fmtInt } from '../local/console.js';
import { ProgressLine } from './progress.js';
import { ProcessSampler, type ProcessStats } from './process-stats.js';

export interface HttpScenario {
  id: string;
  group: string;
  title: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Makes each request's body (called once per request), e.g. to give every message its own uuid. */
  body?: () => string;
  connections: number;
  /** Measured seconds; ignored when `amount` is set. */
  durationSec: number;
  /** A fixed number of measured requests instead of a duration. */
  amount?: number;
  warmupSec: number;
  /** Seconds to wait for one response before it counts as an error. */
  timeoutSec?: number;
  notes?: string[];
}

/** The currently running autocannon instance, so Ctrl+C can stop it. */
let running: autocannon.Instance | undefined;
let stopRequested = false;

/** Stops the running load and refuses to start another (Ctrl+C). */
export function stopRunningLoad(): void {
  stopRequested = true;
  running?.stop();
}

function fire(options: autocannon.Options, progress: ProgressLine, phase: string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    if (stopRequested) return reject(new Error('interrupted'));
    let seconds = 0;
    let done = 0;
    const instance = autocannon(options, (err, result) => {
      running = undefined;
      if (err) reject(err);
      else resolve(result);
    });
    running = instance;
    instance.on('tick', ({ counter }: { counter: number }) => {
      seconds++;
      // autocannon ticks once more, with nothing, as it stops.
      if (options.duration !== undefined && !options.amount && seconds > options.duration) return;
      done += counter;
      const of = options.amount ? `${fmtInt(done)}/${fmtInt(options.amount)} requests` : `${seconds}/${options.duration} s`;
      progress.update(`${phase} ${of} · ${fmtInt(counter)} req/s`);
    });
  });
}

/** Runs one HTTP scenario; `processes` names the Node processes whose RSS is recorded. */
export async function runHttp(s: HttpScenario, processes: () => Record<string, number | undefined>): Promise<Measurement> {
  const progress = new ProgressLine(s.title);
  const { pathname, search } = new URL(s.url);
  const base: autocannon.Options = {
    url: s.url,
    connections: s.connections,
    timeout: s.timeoutSec ?? 10,
    method: s.method ?? 'GET',
    headers: s.headers ?? {},
  };
  if (s.body) {
    const body = s.body;
    base.requests = [{ method: s.method ?? 'GET', path: pathname + search, setupRequest: (req) => ({ ...req, body: body() }) }];
  }
  if (s.warmupSec > 0) await fire({ ...base, duration: s.warmupSec }, progress, 'warm-up');
  const sampler = new ProcessSampler(processes);
  let result: autocannon.Result;
  let stats: ProcessStats;
  const from = monotonicUs();
  try {
    result = await fire(s.amount ? { ...base, amount: s.amount } : { ...base, duration: s.durationSec }, progress, 'measuring');
  } finally {
    stats = sampler.stop();
  }
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]));
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const m: Measurement = {
    id: s.id,
    group: s.group,
    title: s.title,
    target: `${s.method ?? 'GET'} ${s.url}`,
    connections: s.connections,
    durationSec: result.duration,
    requests,
    rps: result.duration > 0 ? requests / result.duration : 0,
    // autocannon records the latency of 2xx answers only, in milliseconds.
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    errors: result.errors,
    non2xx: result.non2xx,
    statusCodes,
    rssMb: stats.rssMb,
    cpuMs: stats.cpuMs,
    machineCpuMs: stats.machine,
    notes: [...(s.notes ?? []), ...(s.amount ? [`${s.amount} requests, not a fixed duration`] : [])],
    monotonicUs: [from, monotonicUs()],
  };
  progress.done(`${fmtInt(m.rps)} req/s · p50 ${m.latencyMs.p50} ms · p99 ${m.latencyMs.p99} ms · ${m.errors + m.non2xx} errors`);
  return m;
}
