/**
 * The "million" group of `npm run bench`: the map filled to a size that breaks an unbounded read
 * (1,000,000 messages by default), then the figures of issue 9, each against its target:
 * one full `GET /facade` (every message back, first byte, messages/s, the largest RSS of every Node
 * process, OutOfMemoryError on any member), POSTs while it runs against POSTs on an idle system,
 * a page of 100 at this size against the same page at 1,000, and `/facade/cluster` at this size.
 */
import http from 'node:http';
import { build } from 'hdr-histogram-js';
import { addMessages, type BulkLoadingStore } from '../local/fill.js';
import { ProcessSampler } from './process-stats.js';
import { fmtInt } from '../local/console.js';
import { ProgressLine } from './progress.js';

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
  /** POSTs per second during the idle and the loaded POST measurement. */
  postRate: number;
  /** Seconds of POSTs on the idle system. */
  idleSeconds: number;
}

interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface MillionFigures {
  count: number;
  fillSeconds: number;
  fillPerSec: number;
  fullRead: {
    status: number; messages: number; filled: number; postedBefore: number; inOrder: boolean;
    firstByteMs: number; seconds: number; perSec: number; bytes: number;
  };
  /** The largest RSS of each Node process during the full read, MB. */
  nodeRssMb: Record<string, number>;
  /** CPU time each process used during the full read (and the POSTs beside it), ms. */
  readCpuMs: Record<string, number>;
  memberOutOfMemoryErrors: number;
  postIdle: Quantiles;
  postDuringRead: Quantiles;
  pageAtSmall: Quantiles & { mapSize: number };
  pageAtLarge: Quantiles & { mapSize: number };
  clusterView: Quantiles;
}

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

/** POSTs at `rate` per second (open loop, each on its own schedule) until `until()`; the latencies of the 201s. */
async function pacedPosts(
  facadeUrl: string, rate: number, until: () => boolean, minSeconds: number,
): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; !until() || performance.now() - started < minSeconds * 1000; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      call(`${facadeUrl}/facade`, { method: 'POST', body: `msg=paced-${i}` }).then(
        (r) => void (r.status === 201 ? ms.push(r.ms) : failed++),
        () => void failed++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { ms, failed };
}

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
  const pages = async (samples: number): Promise<Quantiles> => {
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      const after = keys[Math.floor(Math.random() * (keys.length - 200))]!;
      const r = await call(`${d.facadeUrl}/facade?limit=100&after=${after}`);
      if (r.status !== 200 || (JSON.parse(r.body.toString()) as { 'logging-service': string[] })['logging-service'].length !== 100) throw new Error(`a page of 100 answered ${r.status}`);
      ms.push(r.ms);
    }
    return quantiles(ms);
  };

  await fill(SMALL);
  progress.update(`a page of 100 at ${fmtInt(SMALL)}`);
  const pageAtSmall = { ...(await pages(200)), mapSize: SMALL };

  const fillStarted = performance.now();
  await fill(d.count);
  const fillSeconds = (performance.now() - fillStarted) / 1000;

  progress.update(`a page of 100 at ${fmtInt(d.count)}`);
  const pageAtLarge = { ...(await pages(200)), mapSize: d.count };

  progress.update('/facade/cluster');
  const clusterMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await call(`${d.facadeUrl}/facade/cluster`);
    if (r.status !== 200) throw new Error(`/facade/cluster answered ${r.status}`);
    clusterMs.push(r.ms);
  }

  progress.update(`POSTs at ${d.postRate}/s on the idle system for ${d.idleSeconds} s`);
  const idle = await pacedPosts(d.facadeUrl, d.postRate, () => true, d.idleSeconds);

  progress.update('one full GET /facade, POSTs alongside');
  const oomBefore = d.memberOutOfMemory();
  const sampler = new ProcessSampler(d.nodeProcesses, 100);
  const cpu = new ProcessSampler(d.allProcesses, 1_000);
  let reading = true;
  const during = pacedPosts(d.facadeUrl, d.postRate, () => !reading, 0);
  const started = performance.now();
  const read = await call(`${d.facadeUrl}/facade`).finally(() => (reading = false));
  const seconds = (performance.now() - started) / 1000;
  const rss = sampler.stop().rssMb;
  const readCpuMs = cpu.stop().cpuMs;
  const loaded = await during;

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
  const inOrder = texts.length >= start + d.count + idle.ms.length
    && texts.slice(start, start + d.count).every((t, i) => t === d.message(i));
  progress.done(`${fmtInt(texts.length)} messages read in ${seconds.toFixed(1)} s`);
  agent.destroy();
  return {
    count: d.count,
    fillSeconds: Math.round(fillSeconds * 10) / 10,
    fillPerSec: Math.round((d.count - SMALL) / fillSeconds),
    fullRead: {
      status: read.status, messages: texts.length, filled: d.count, postedBefore: idle.ms.length, inOrder,
      firstByteMs: Math.round(read.firstByteMs), seconds: Math.round(seconds * 100) / 100,
      perSec: Math.round(texts.length / seconds), bytes: read.body.length,
    },
    nodeRssMb: rss,
    readCpuMs,
    memberOutOfMemoryErrors: d.memberOutOfMemory() - oomBefore,
    postIdle: { ...quantiles(idle.ms), n: idle.ms.length },
    postDuringRead: { ...quantiles(loaded.ms), n: loaded.ms.length },
    pageAtSmall,
    pageAtLarge,
    clusterView: quantiles(clusterMs),
  };
}

/** The targets, each with the figure measured and whether it was met. */
export function millionTargets(f: MillionFigures): { what: string; measured: string; target: string; met: boolean }[] {
  const maxRss = Math.max(...Object.values(f.nodeRssMb));
  const worst = Object.entries(f.nodeRssMb).sort((a, b) => b[1] - a[1])[0];
  return [
    {
      what: `full GET /facade returns all ${fmtInt(f.count)} and the ${f.fullRead.postedBefore} posted after, in order`,
      measured: `${fmtInt(f.fullRead.messages)}${f.fullRead.inOrder ? ', in order' : ', NOT all in order'} (HTTP ${f.fullRead.status})`,
      target: 'all',
      met: f.fullRead.inOrder && f.fullRead.status === 200,
    },
    { what: 'full read: first byte', measured: `${f.fullRead.firstByteMs} ms`, target: '≤ 200 ms', met: f.fullRead.firstByteMs <= 200 },
    { what: 'full read: messages streamed per second', measured: fmtInt(f.fullRead.perSec), target: '≥ 100,000', met: f.fullRead.perSec >= 100_000 },
    { what: 'largest RSS of any Node process during it', measured: `${maxRss.toFixed(0)} MB (${worst?.[0]})`, target: '≤ 150 MB', met: maxRss <= 150 },
    { what: 'OutOfMemoryError on any member', measured: String(f.memberOutOfMemoryErrors), target: '0', met: f.memberOutOfMemoryErrors === 0 },
    { what: 'POST p99 during the read vs idle', measured: `${f.postDuringRead.p99} vs ${f.postIdle.p99} ms`, target: '≤ 2×', met: f.postDuringRead.p99 <= 2 * f.postIdle.p99 },
    { what: `a page of 100 at ${fmtInt(f.count)}: p50 (at ${fmtInt(f.pageAtSmall.mapSize)}: ${f.pageAtSmall.p50} ms)`, measured: `${f.pageAtLarge.p50} ms`, target: '≤ 10 ms', met: f.pageAtLarge.p50 <= 10 },
    { what: `/facade/cluster at ${fmtInt(f.count)}: p50 / max`, measured: `${f.clusterView.p50} / ${f.clusterView.max} ms`, target: '≤ 50 ms', met: f.clusterView.p50 <= 50 },
  ];
}
