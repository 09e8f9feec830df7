/**
 * Open-loop load: requests sent on a fixed schedule, whatever the answers do, and every latency
 * measured from the moment the request was *due*, not from when it was sent.
 *
 * Why not autocannon: its `overallRate`/`connectionRate` cap each connection at N requests per
 * second but keep one request in flight per connection, so a slow answer still delays the next
 * request (closed loop), and the requests of a second go out back to back at its start. Its
 * "correction" (`recordValueWithExpectedInterval(ms, ceil(1 / rate))`) passes an interval of 1 ms
 * whatever the rate, and the latency it corrects is still taken from the actual send. Either way
 * the requests a stall delayed are measured as if they had been sent late on purpose: coordinated
 * omission. Here each request has its own due time (start + i ÷ rate), goes out on its own
 * connection from a large keep-alive pool, and its latency runs from that due time; if the load
 * generator itself falls behind (it shares the machine's cores), the lateness counts against the
 * system, and is reported separately as the send lag so a reader can tell the two apart.
 */
import http from 'node:http';
import { build } from 'hdr-histogram-js';
import { fmtInt } from '../local/console.js';
import { ProgressLine } from './progress.js';
import { fmtMs } from './report.js';

export interface OpenLoopRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Makes each request's body. */
  body?: () => string;
}

/** What one rate measured; latencies are of 2xx answers, in ms from each request's due time. */
export interface OpenLoopPoint {
  /** The offered rate as a share of the closed-loop maximum, in %. */
  percent: number;
  offeredRps: number;
  /** 2xx answers per second, from the first due time to the last answer. */
  achievedRps: number;
  /** Seconds the schedule ran. */
  durationSec: number;
  /** Requests sent (all of them were due within `durationSec`). */
  requests: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Connection errors and requests unanswered `timeoutMs` after their due time. */
  errors: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  /** How late the load generator sent, p99 and max, in ms: its own share of the latency. */
  sendLagMs: { p99: number; max: number };
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/** An open-loop run of one rate. */
export interface OpenLoopRun {
  request: OpenLoopRequest;
  percent: number;
  rateRps: number;
  durationSec: number;
  /** A request unanswered this long after its due time is abandoned and counted as an error (default 10,000). */
  timeoutMs?: number;
  /**
   * Keeps sending past `durationSec`, on the same schedule, until this settles: load beside work of
   * unknown length, such as a full read. `durationSec` is then the least the schedule runs.
   */
  until?: Promise<unknown>;
  /** Names the progress line on stderr; none without it. */
  label?: string;
}

/**
 * Sockets the generator may open. Open-loop needs one per request in flight (rate × latency);
 * beyond this, requests wait in the agent's queue, which still counts in their latency.
 */
const MAX_SOCKETS = 512;

let stopRequested = false;
const stoppers = new Set<() => void>();

/** Stops the running open-loop load and refuses to start another (Ctrl+C). */
export function stopOpenLoad(): void {
  stopRequested = true;
  for (const stop of stoppers) stop();
}

const histogram = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
/** µs to ms, rounded to 10 µs. */
const ms = (us: number) => Math.round(us / 10) / 100;

/**
 * Sends `rateRps × durationSec` requests (more, while `until` is pending), request i due at
 * start + i ÷ rate, and waits for every answer (each bounded by `timeoutMs` from its due time).
 */
export function runOpenLoop(run: OpenLoopRun): Promise<OpenLoopPoint> {
  if (stopRequested) return Promise.reject(new Error('interrupted'));
  const { request: r, rateRps, durationSec } = run;
  const timeoutMs = run.timeoutMs ?? 10_000;
  const planned = Math.max(1, Math.round(rateRps * durationSec));
  // How many requests are sent in all: open while `until` is pending.
  let total = run.until ? Number.POSITIVE_INFINITY : planned;
  const intervalMs = 1000 / rateRps;
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const latency = histogram();
  const lag = histogram();
  const progress = run.label === undefined ? undefined : new ProgressLine(run.label);
  let sent = 0;
  let settled = 0;
  let errors = 0;
  let non2xx = 0;
  let ok = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastAnswer = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // A little ahead, so the first due time is not already late.
  const start = performance.now() + 5;

  return new Promise<OpenLoopPoint>((resolve, reject) => {
    const finish = () => {
      clearInterval(ticker);
      stoppers.delete(stop);
      agent.destroy();
      if (stopped) return reject(new Error('interrupted'));
      // Over the schedule, or longer if the last answers came after it: a backlog lowers the achieved rate.
      const scheduled = run.until ? total / rateRps : durationSec;
      const seconds = Math.max(scheduled, ((lastAnswer || performance.now()) - start) / 1000);
      const point: OpenLoopPoint = {
        percent: run.percent,
        offeredRps: Math.round(rateRps * 10) / 10,
        achievedRps: seconds > 0 ? Math.round((ok / seconds) * 10) / 10 : 0,
        durationSec: scheduled,
        requests: sent,
        latencyMs: ok === 0 ? { p50: NaN, p90: NaN, p99: NaN, max: NaN } : {
          p50: ms(latency.getValueAtPercentile(50)),
          p90: ms(latency.getValueAtPercentile(90)),
          p99: ms(latency.getValueAtPercentile(99)),
          max: ms(latency.maxValue),
        },
        errors,
        non2xx,
        sendLagMs: { p99: ms(lag.getValueAtPercentile(99)), max: ms(lag.maxValue) },
        maxInFlight,
      };
      latency.destroy();
      lag.destroy();
      const l = point.latencyMs;
      progress?.done(`${fmtInt(point.achievedRps)} req/s · p50 ${fmtMs(l.p50)} ms · p99 ${fmtMs(l.p99)} ms · ${errors + non2xx} errors`);
      resolve(point);
    };

    const settle = () => {
      inFlight--;
      if (++settled === total) finish();
    };

    const send = (dueAt: number, now: number) => {
      lag.recordValue(Math.max(1, Math.round((now - dueAt) * 1000)));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let done = false;
      const end = (outcome: 'ok' | 'non2xx' | 'error') => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        const at = performance.now();
        if (outcome === 'ok') {
          ok++;
          lastAnswer = at;
          latency.recordValue(Math.max(1, Math.round((at - dueAt) * 1000)));
        } else if (outcome === 'non2xx') non2xx++;
        else errors++;
        settle();
      };
      const req = http.request(r.url, { method: r.method, headers: r.headers, agent }, (res) => {
        res.on('error', () => end('error'));
        res.on('end', () => end(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? 'ok' : 'non2xx'));
        res.resume();
      });
      const deadline = setTimeout(() => {
        end('error');
        req.destroy();
      }, Math.max(0, dueAt + timeoutMs - now));
      req.on('error', () => end('error'));
      req.end(r.body?.());
    };

    // Sends everything due by now (catching up if the event loop was late), then sleeps until the next due time.
    const tick = () => {
      timer = undefined;
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) send(start + sent++ * intervalMs, now);
      if (sent < total) timer = setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
    };

    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(ticker);
      stoppers.delete(stop);
      agent.destroy();
      reject(new Error('interrupted'));
    };
    stoppers.add(stop);

    let second = 0;
    const ticker = setInterval(() => {
      second++;
      const at = Math.min(second, Math.ceil(durationSec));
      const of = `${at}/${Math.ceil(durationSec)} s`;
      progress?.update(`${fmtInt(rateRps)} req/s offered · ${of} · ${fmtInt(ok)} answered · ${inFlight} in flight`);
    }, 1000);
    tick();
    const last = () => {
      total = Math.max(sent, planned);
      if (settled === total && !stopped) finish();
    };
    run.until?.then(last, last);
  });
}

/** The open-loop part of a bench run, as the JSON file, the table and the chart hold it. */
export interface OpenLoopFigures {
  /** The day of the run, YYYY-MM-DD. */
  date: string;
  /** The command that produced these figures. */
  command: string;
  /** Cores, CPU and Node version, e.g. `2 × AMD EPYC · Node v20.20.2`. */
  machine: string;
  /** The route loaded, e.g. `POST /facade (form)`. */
  route: string;
  /** The closed-loop measurement the rates are shares of. */
  closedLoop: { rps: number; connections: number; p99Ms: number };
  /** Measured seconds per rate. */
  durationSec: number;
  /** The target: p99 at most `p99Ms` at `percent` % of the closed-loop maximum. */
  target: { p99Ms: number; percent: number };
  points: OpenLoopPoint[];
}
