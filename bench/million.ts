/**
 * The "million" group of `npm run bench`: the map filled to a size that breaks an unbounded read
 * (1,000,000 messages by default), then the figures of issues 9 and 24, each beside a baseline
 * from the same run: one full `GET /facade` (every message back, first byte, messages/s, the
 * largest RSS of every Node process, OutOfMemoryError on any member) against one Hazelcast client
 * walking the same map alone and against each process's RSS before it; POSTs in an open loop while
 * it runs against the same rate on the idle system; a page of 100 at this size against the same
 * page at 1,000; and `/facade/cluster` at this size. report.ts judges them (targets.ts).
 */
import http from 'node:http';
import { build } from 'hdr-histogram-js';
import { addMessages, type BulkLoadingStore } from '../local/fill.js';
import { ProcessSampler } from './process-stats.js';
import { fmtInt } from '../local/console.js';
import type { Measurement } from './measurement.js';
import { TARGETS } from './targets.js';
import { runOpenLoop, type OpenLoopPoint, type OpenLoopRequest } from './open-loop.js';
import { ProgressLine } from './progress.js';
import { countsSince } from '../drills/facade-api.js';

export interface MillionDeps {
  facadeUrl: string;
  store: BulkLoadingStore;
  /** Empties the map (and what the store keeps about it). */
  clear: () => Promise<void>;
  /** Node processes whose RSS is sampled during the full read, by name. */
  nodeProcesses: () => Record<string, number | undefined>;
  /** Every process whose CPU time is taken during the full read (the members too), by name. */
  allProcesses: () => Record<string, number | undefined>;
  /** OutOfMemoryError lines the members have printed so far. */
  memberOutOfMemory: () => number;
  count: number;
  /** The text of message `i`; numbered, so the read-back can check every one in order. */
  message: (i: number) => string;
  /** POSTs per second during the idle and the loaded POST measurement (postRateDuringRead). */
  postRate: PostRate;
  /**
   * The map's messages in key order, one window of about `windowEntries` at a time, as the
   * logging service's store walks them but from the bench's own client: the baseline of the read.
   */
  keyWindows: (windowEntries: number) => AsyncIterable<unknown[]>;
  /** Seconds of POSTs on the idle system. */
  idleSeconds: number;
  /** Read queries the logging instances have asked of the members so far, and the entries they fetched (their /metrics). */
  readsFetched: () => Promise<Fetched>;
  /** The facade's retries on another instance so far, by reason (its /metrics). */
  facadeRetries: () => Promise<Record<string, number>>;
}

/** Read queries asked of the members (windows, empty or refused ones too), and the entries they fetched. */
export interface Fetched {
  queries: number;
  entries: number;
}

interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** The open-loop rate of POSTs beside the read; `closedLoopRps` when it is a share of this run's e2e-post. */
export interface PostRate {
  rps: number;
  closedLoopRps?: number;
}

/**
 * Issue 24's rate for POSTs during the read: a share of the closed-loop maximum of POST /facade
 * when this run measured it (e2e-post, without errors, as the open-loop group takes it), else the
 * `--post-rate` flag's.
 */
export function postRateDuringRead(measurements: Measurement[], flagRps: number): PostRate {
  const max = measurements.find((m) => m.id === 'e2e-post');
  if (!max || max.rps <= 0 || max.errors + max.non2xx > 0) return { rps: flagRps };
  const closedLoopRps = Math.round(max.rps * 10) / 10;
  return { rps: Math.round(closedLoopRps * TARGETS.postP99DuringReadMs.atShareOfMax * 10) / 10, closedLoopRps };
}

/**
 * Window size of the baseline walk: the size at which one client alone fetched fastest when the
 * key windows were chosen (149,000/s, against 117,000 at 5,000: docs/reads-and-capacity.md), so
 * the baseline is the client's best, not the logging service's 2,000.
 */
export const BASELINE_WINDOW_ENTRIES = 10_000;

export interface MillionFigures {
  count: number;
  fillSeconds: number;
  fillPerSec: number;
  fullRead: {
    status: number; messages: number; filled: number; postedBefore: number; inOrder: boolean;
    firstByteMs: number; seconds: number; perSec: number; bytes: number;
  };
  /** The same full read again, with the open-loop POSTs alongside (goal 3's read). */
  readWithPosts: { status: number; messages: number; seconds: number; perSec: number };
  /** One client alone walking the filled map in key windows, counting: the read's baseline. */
  clientAlone: { windowEntries: number; entries: number; seconds: number; perSec: number; firstWindowMs: number };
  /** The largest RSS of each Node process during the full read, MB. */
  nodeRssMb: Record<string, number>;
  /** The largest RSS of each Node process during the idle POSTs just before the read, MB. */
  nodeRssBeforeMb: Record<string, number>;
  /** CPU time each process used during the full read alone, ms. */
  readCpuMs: Record<string, number>;
  memberOutOfMemoryErrors: number;
  postRate: PostRate;
  /** The open-loop POSTs on the idle system, then during the read: latencies from each one's due time. */
  postIdle: OpenLoopPoint;
  postDuringRead: OpenLoopPoint;
  /** The facade's retries during each of the two, by reason (absent from older runs). */
  retriesIdle?: Record<string, number>;
  retriesDuringRead?: Record<string, number>;
  pageAtSmall: PageFigures;
  pageAtLarge: PageFigures;
  clusterView: Quantiles;
}

/** A page of 100 at one map size: its latency, and what logging fetched from the members for it. */
export type PageFigures = Quantiles & { mapSize: number; queriesPerPage: number; entriesPerPage: number };

const SMALL = 1_000;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function quantiles(samplesMs: number[]): Quantiles {
  const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  for (const ms of samplesMs) h.recordValue(Math.max(1, Math.round(ms * 1000)));
  const q = (p: number) => Math.round(h.getValueAtPercentile(p) / 10) / 100;
  const result = { n: samplesMs.length, p50: q(50), p99: q(99), max: Math.round(h.maxValue / 10) / 100 };
  h.destroy();
  return result;
}

/** One request; resolves with the status, the body and when its first byte came (ms after the start). */
function call(
  url: string,
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; body: Buffer; firstByteMs: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', agent, headers: init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      let firstByteMs = -1;
      res.on('data', (c: Buffer) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), firstByteMs, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Walks `windows` to the end, counting and dropping each one: what one client alone reads per second. */
async function walkAlone(windows: AsyncIterable<unknown[]>): Promise<MillionFigures['clientAlone']> {
  const started = performance.now();
  let firstWindowMs: number | undefined;
  let entries = 0;
  for await (const window of windows) {
    firstWindowMs ??= performance.now() - started;
    entries += window.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    windowEntries: BASELINE_WINDOW_ENTRIES, entries, seconds: Math.round(seconds * 100) / 100,
    perSec: Math.round(entries / seconds), firstWindowMs: Math.round(firstWindowMs ?? NaN),
  };
}

/** A POST /facade of the form the lab's client sends, numbered, for an open-loop run. */
function posts(facadeUrl: string): OpenLoopRequest {
  let i = 0;
  return { url: `${facadeUrl}/facade`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: () => `msg=paced-${i++}` };
}

/** The 2xx answers of an open-loop run: the messages it stored. */
const stored = (p: OpenLoopPoint) => p.requests - p.errors - p.non2xx;

export async function runMillion(d: MillionDeps): Promise<MillionFigures> {
  const progress = new ProgressLine(`${fmtInt(d.count)} messages`);
  progress.update('clearing the map');
  await d.clear();

  const keys: string[] = [];
  const fill = (to: number) => {
    const base = keys.length;
    return addMessages(d.store, to - base, (i) => d.message(base + i), progress, (batch, from) => {
      batch.forEach((m, i) => (keys[base + from + i] = m.uuid));
    });
  };
  /** A page of 100 after random stored keys, `samples` times in a row. */
  const pages = async (samples: number, mapSize: number): Promise<PageFigures> => {
    const ms: number[] = [];
    const before = await d.readsFetched();
    for (let i = 0; i < samples; i++) {
      const after = keys[Math.floor(Math.random() * (keys.length - 200))]!;
      const r = await call(`${d.facadeUrl}/facade?limit=100&after=${after}`);
      if (r.status !== 200 || (JSON.parse(r.body.toString()) as { 'logging-service': string[] })['logging-service'].length !== 100) throw new Error(`a page of 100 answered ${r.status}`);
      ms.push(r.ms);
    }
    const after = await d.readsFetched();
    const per = (n: number) => Math.round((n / samples) * 10) / 10;
    const queriesPerPage = per(after.queries - before.queries);
    return { ...quantiles(ms), mapSize, queriesPerPage, entriesPerPage: per(after.entries - before.entries) };
  };

  await fill(SMALL);
  progress.update(`a page of 100 at ${fmtInt(SMALL)}`);
  const pageAtSmall = await pages(200, SMALL);

  const fillStarted = performance.now();
  await fill(d.count);
  const fillSeconds = (performance.now() - fillStarted) / 1000;

  progress.update(`a page of 100 at ${fmtInt(d.count)}`);
  const pageAtLarge = await pages(200, d.count);

  progress.update('/facade/cluster');
  const clusterMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await call(`${d.facadeUrl}/facade/cluster`);
    if (r.status !== 200) throw new Error(`/facade/cluster answered ${r.status}`);
    clusterMs.push(r.ms);
  }

  progress.update(`one client alone: the map in key windows of ${fmtInt(BASELINE_WINDOW_ENTRIES)}`);
  const clientAlone = await walkAlone(d.keyWindows(BASELINE_WINDOW_ENTRIES));

  // The same open loop on the idle system, then beside the read; each process's RSS during the first is the read's baseline.
  const rate = d.postRate.rps;
  // No closed-loop maximum to be a share of when the rate is the flag's: NaN, written as null.
  const percent = d.postRate.closedLoopRps ? (100 * rate) / d.postRate.closedLoopRps : NaN;
  progress.update(`POSTs at ${fmtInt(rate)}/s on the idle system for ${d.idleSeconds} s`);
  const before = new ProcessSampler(d.nodeProcesses, 100);
  const retriedBefore = await d.facadeRetries();
  const idle = await runOpenLoop({ request: posts(d.facadeUrl), percent, rateRps: rate, durationSec: d.idleSeconds });
  const rssBefore = before.stop().rssMb;
  const retriedIdle = await d.facadeRetries();

  // Goals 1 and 2: one full read alone, its rate, first byte and every process's RSS.
  progress.update('one full GET /facade');
  const oomBefore = d.memberOutOfMemory();
  const sampler = new ProcessSampler(d.nodeProcesses, 100);
  const cpu = new ProcessSampler(d.allProcesses, 1_000);
  const started = performance.now();
  const read = await call(`${d.facadeUrl}/facade`);
  const seconds = (performance.now() - started) / 1000;
  const rss = sampler.stop().rssMb;
  const readCpuMs = cpu.stop().cpuMs;

  // Goal 3: the same read again with the POSTs alongside, which it must leave unharmed.
  progress.update('one full GET /facade, POSTs alongside');
  const startedWithPosts = performance.now();
  const readingWithPosts = call(`${d.facadeUrl}/facade`);
  const during = runOpenLoop({ request: posts(d.facadeUrl), percent, rateRps: rate, durationSec: 0, until: readingWithPosts });
  const withPosts = await readingWithPosts;
  const secondsWithPosts = (performance.now() - startedWithPosts) / 1000;
  const loaded = await during;
  const retriedDuring = await d.facadeRetries();
  let messagesWithPosts = 0;
  try {
    messagesWithPosts = (JSON.parse(withPosts.body.toString('utf8')) as { 'logging-service': string[] })['logging-service'].length;
  } catch {
    // counted as 0 messages
  }

  let texts: string[] = [];
  try {
    texts = (JSON.parse(read.body.toString('utf8')) as { 'logging-service': string[] })['logging-service'];
  } catch {
    // reported as 0 messages
  }
  // The filled messages in order, then the POSTs made before the read (and some made during it).
  // A write from an earlier scenario that a facade retried after the map was cleared can land
  // first, with an older id: the filled run starts where its first message is (a text only the
  // fill uses, so such a write cannot be taken for it).
  const start = Math.max(0, texts.indexOf(d.message(0)));
  const inOrder = texts.length >= start + d.count + stored(idle)
    && texts.slice(start, start + d.count).every((t, i) => t === d.message(i));
  progress.done(`${fmtInt(texts.length)} messages read in ${seconds.toFixed(1)} s`);
  agent.destroy();
  return {
    count: d.count,
    fillSeconds: Math.round(fillSeconds * 10) / 10,
    fillPerSec: Math.round((d.count - SMALL) / fillSeconds),
    fullRead: {
      status: read.status, messages: texts.length, filled: d.count, postedBefore: stored(idle), inOrder,
      firstByteMs: Math.round(read.firstByteMs), seconds: Math.round(seconds * 100) / 100,
      perSec: Math.round(texts.length / seconds), bytes: read.body.length,
    },
    readWithPosts: {
      status: withPosts.status, messages: messagesWithPosts,
      seconds: Math.round(secondsWithPosts * 100) / 100, perSec: Math.round(messagesWithPosts / secondsWithPosts),
    },
    clientAlone,
    nodeRssMb: rss,
    nodeRssBeforeMb: rssBefore,
    readCpuMs,
    memberOutOfMemoryErrors: d.memberOutOfMemory() - oomBefore,
    postRate: d.postRate,
    postIdle: idle,
    postDuringRead: loaded,
    retriesIdle: countsSince(retriedBefore, retriedIdle),
    retriesDuringRead: countsSince(retriedIdle, retriedDuring),
    pageAtSmall,
    pageAtLarge,
    clusterView: quantiles(clusterMs),
  };
}
