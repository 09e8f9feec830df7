#!/usr/bin/env node
/**
 * `npm run bench`: how fast the system does its job, against its limits, in one run.
 *
 * Starts its own system on free loopback ports (services at LOG_LEVEL=warn, so the benchmark does
 * not measure log writing), or targets a running one (`--facade`, `--logging`, `--members`), and
 * measures at fixed concurrency for a fixed time after a warm-up: limit A (the Hazelcast client
 * alone), limit B (a do-nothing route on the same HTTP stack), the logging service directly, the
 * facade end to end, POST /facade in an open loop at fixed shares of its closed-loop maximum
 * (drawn as docs/open-loop.svg), reads at growing map sizes, and the facade over 1, 2 and 3 logging
 * instances. Prints a table, the ratios and every target beside its baseline from the same run
 * (bench/targets.ts), and writes the figures as JSON.
 * Everything it started is stopped at the end, on Ctrl+C and on errors. `--help` lists the flags.
 */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, tmpdir, totalmem, release, loadavg } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { LocalSystem, StartError, freeSystemPorts } from '../local/system.js';
import { HAZELCAST_VERSION } from '../local/hazelcast.js';
import { REPO_ROOT } from '../local/repo.js';
import { ManagedProcess, probeHttp, waitFor } from '../local/processes.js';
import { pino } from 'pino';
import { createLogger } from '../lib/log.js';
import type { HazelcastConnection } from '../lib/hazelcast.js';
import type { StoredValue } from '../lib/contract.js';
import { loadLoggingConfig } from '../services/logging/config.js';
import { HazelcastMessageStore } from '../services/logging/store.js';
import { postRateDuringRead, runMillion, type MillionFigures } from './million.js';
import { freePorts } from '../local/ports.js';
import { BulkLoadingStore } from '../local/fill.js';
import { GROUPS, USAGE, parseOptions, type BenchOptions, type Group } from './options.js';
import type { Measurement, Skipped } from './measurement.js';
import { facadeRetries, loggingMetric } from '../drills/facade-api.js';
import { runHttp, stopRunningLoad, type HttpScenario } from './http-load.js';
import { addMessages, connect, runHazelcast, stopHazelcastLoad, storedValue, type MessageMap } from './hazelcast-load.js';
import { fmtInt } from '../local/console.js';
import { ProgressLine, note } from './progress.js';
import {
  baselineRun, openLoopGoal, ratios, renderCpu, renderMillion, renderOpenLoop, renderRatios, renderResults, renderRss, renderTargets,
  targets, type BaselineRun,
} from './report.js';
import { runOpenLoop, stopOpenLoad, type OpenLoopFigures, type OpenLoopPoint, type OpenLoopRequest } from './open-loop.js';
import { renderOpenLoopSvg } from './open-loop-chart.js';
import { setTimeout as sleep } from 'node:timers/promises';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
/** A message of exactly `bytes` ASCII characters, numbered so they differ. */
const message = (i: number, bytes: number) => `bench message ${i} `.padEnd(bytes, 'x').slice(0, bytes);

class Bench {
  private system: LocalSystem | undefined;
  private noop: ManagedProcess | undefined;
  private hz: HazelcastConnection | undefined;
  private map: MessageMap | undefined;
  /** The map as the logging service uses it, for filling: keeps the floor and the capacity charge. */
  private store: BulkLoadingStore | undefined;
  private million: MillionFigures | undefined;
  private openLoop: OpenLoopFigures | undefined;
  /** How many messages the map holds, while the bench knows it (undefined after POST load). */
  private mapSize: number | undefined;
  private runDir: string | undefined;
  private readonly measurements: Measurement[] = [];
  private readonly skipped: Skipped[] = [];
  /** The bench's own Hazelcast client logs here: errors only, on stderr, so stdout keeps just the results. */
  private readonly logger = createLogger({ service: 'bench', level: 'error', destination: pino.destination({ fd: 2, sync: false }) });
  private cleaning: Promise<void> | undefined;
  private readonly startedAt = new Date();
  /** The command line as it was typed, for the JSON file and the chart. */
  private readonly command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, '');

  constructor(
    private readonly o: BenchOptions,
    /** The `--baseline` file's run, read before anything starts. */
    private readonly baseline: BaselineRun | undefined,
  ) {}

  /** Whether `--only` asked for this group, or for this one scenario of it. */
  private wants(group: Group, scenario?: string): boolean {
    return this.o.only.includes(group) || (scenario !== undefined && this.o.only.includes(scenario)) || (scenario === undefined && this.o.only.some((o) => o.startsWith(`${group}-`)));
  }

  private get facadeUrl(): string | undefined {
    return this.system?.facadeUrl ?? this.o.remote?.facade;
  }

  private get loggingUrl(): string | undefined {
    return this.system ? this.system.loggingUrl(0) : this.o.remote?.logging;
  }

  /** The processes whose RSS and CPU time are recorded, by name: the services, the members, the bench. */
  private processes = (): Record<string, number | undefined> => {
    const s = this.system;
    return {
      ...(s && {
        facade: s.facade?.pid,
        'logging-1': s.logging[0]?.pid,
        'logging-2': s.logging[1]?.pid,
        'logging-3': s.logging[2]?.pid,
        messages: s.messages?.pid,
        'config-server': s.configServer?.pid,
        'hz-1': s.members[0]?.pid,
        'hz-2': s.members[1]?.pid,
        'hz-3': s.members[2]?.pid,
      }),
      ...(this.noop?.running && { noop: this.noop.pid }),
      bench: process.pid,
    };
  };

  private skip(id: string, title: string, reason: string): void {
    this.skipped.push({ id, title, reason });
    note(`  skipped ${title}: ${reason}`);
  }

  async run(): Promise<void> {
    if (this.o.remote) note(`targeting a running system: ${JSON.stringify(this.o.remote)}`);
    else await this.startSystem();
    const needsHz = this.wants('limit-a') || (!this.o.remote && (this.wants('direct') || this.wants('e2e') || this.wants('reads') || this.wants('million')));
    const members = this.system ? this.system.memberAddresses : this.o.remote?.members;
    if (needsHz && members) {
      note(`connecting the bench's Hazelcast client to ${members.join(',')}…`);
      this.hz = await connect(members, this.system?.clusterName ?? this.o.remote!.clusterName, this.logger);
      this.map = await this.hz.getMap(this.system?.mapName ?? this.o.remote!.mapName);
      if (this.system) {
        // The services' own capacity, so what the bench stores counts against it as theirs does.
        const { STORE_CAPACITY_MB } = loadLoggingConfig(this.o.serviceEnv);
        this.store = new BulkLoadingStore(this.hz, this.system.mapName, { capacityBytes: STORE_CAPACITY_MB * 1024 * 1024 });
      }
    }

    if (this.wants('limit-a')) await this.limitA();
    if (this.wants('limit-b')) await this.limitB();
    // Reads first, on a map of 10 messages; the POST scenarios then add many more.
    if (this.wants('direct', 'direct-get')) await this.directGet();
    if (this.wants('e2e', 'e2e-get')) await this.e2eGet();
    if (this.wants('direct', 'direct-post')) await this.directPost();
    if (this.wants('e2e', 'e2e-post')) await this.e2ePost();
    if (this.wants('open-loop')) await this.runOpenLoop();
    if (this.wants('reads')) await this.readsAtScale();
    if (this.wants('scale-out')) await this.scaleOut();
    if (this.wants('million')) await this.runMillion();
    this.finish();
  }

  private async startSystem(): Promise<void> {
    const ports = await freeSystemPorts();
    this.runDir = mkdtempSync(join(tmpdir(), 'lab-bench-'));
    const serviceEnv: Record<string, string> = { ...this.o.serviceEnv };
    if (this.o.cpuProfDir) {
      mkdirSync(resolve(this.o.cpuProfDir), { recursive: true });
      // Node refuses --cpu-prof in NODE_OPTIONS; this preload does the same job (bench/cpu-profile.ts).
      serviceEnv.NODE_OPTIONS = `--import=${join(REPO_ROOT, 'dist', 'bench', 'cpu-profile.js')}`;
      serviceEnv.BENCH_CPU_PROF_DIR = resolve(this.o.cpuProfDir);
    }
    this.system = new LocalSystem({
      ports,
      runDir: this.runDir,
      clusterName: `lab-bench-${process.pid}`,
      logLevel: this.o.serviceEnv.LOG_LEVEL ?? 'warn',
      serviceEnv,
      startTimeoutMs: 180_000,
      onState: (name, state, detail) => {
        if (state !== 'stopping') note(`  ${name.padEnd(13)} ${state}${detail ? `  ${detail}` : ''}`);
      },
    });
    note('starting the system on free ports: 3 Hazelcast members, config-server, messages, 3 logging, facade…');
    await this.system.start();
  }

  /** Brings the map to exactly `size` messages (own system only): adds what is missing, or clears and refills. */
  private async ensureMapSize(size: number, label: string): Promise<void> {
    const store = this.store!;
    this.checkNotStopping();
    if (this.mapSize === size) return;
    const progress = new ProgressLine(label);
    if (this.mapSize === undefined || this.mapSize > size) {
      progress.update('clearing the map');
      await store.clear();
      this.mapSize = 0;
    }
    const from = this.mapSize;
    await addMessages(store, size - from, (i) => message(from + i, this.o.msgBytes), progress);
    this.mapSize = size;
    progress.done(`map holds ${fmtInt(size)} messages`);
  }

  /** Stops the run between scenarios once cleanup (Ctrl+C) has begun. */
  private checkNotStopping(): void {
    if (this.cleaning) throw new Error('interrupted');
  }

  private http(s: Omit<HttpScenario, 'connections' | 'durationSec' | 'warmupSec'> & Partial<HttpScenario>): Promise<Measurement> {
    this.checkNotStopping();
    return runHttp({ connections: this.o.connections, durationSec: this.o.durationSec, warmupSec: this.o.warmupSec, ...s }, this.processes);
  }

  private record(m: Measurement): void {
    this.checkNotStopping();
    this.measurements.push(m);
  }

  private async limitA(): Promise<void> {
    note(`\n▸ limit A — the Hazelcast client alone, ${this.o.connections} concurrent loops in this process`);
    if (!this.map) {
      this.skip('limit-a-put', 'limit A', 'needs the Hazelcast members: pass --members (and --cluster-name) with a remote target');
      return;
    }
    const map = this.map;
    const msg = message(0, this.o.msgBytes);
    const scratch = this.o.remote ? [`scratch map "${this.o.remote.mapName}" (its backup count is the cluster's default, maybe not 2)`] : [];
    if (this.wants('limit-a', 'limit-a-put')) await this.limitAPut(map, msg, scratch);
    if (this.wants('limit-a', 'limit-a-read')) await this.limitARead(map, scratch);
    if (this.o.remote) await map.clear();
  }

  private async limitAPut(map: MessageMap, msg: string, scratch: string[]): Promise<void> {
    if (!this.o.remote) await this.ensureMapSize(0, 'limit A');
    else await map.clear();
    this.record(
      await runHazelcast(
        { id: 'limit-a-put', group: 'limit-a', title: 'putIfAbsent', target: 'hazelcast putIfAbsent', connections: this.o.connections, durationSec: this.o.durationSec, warmupSec: this.o.warmupSec, op: () => map.putIfAbsent(uuidv7(), storedValue(msg)), notes: scratch },
        this.processes,
      ),
    );
    this.mapSize = undefined;
  }

  private async limitARead(map: MessageMap, scratch: string[]): Promise<void> {
    if (!this.o.remote) await this.ensureMapSize(10, 'limit A');
    else {
      await map.clear();
      await map.putAll(Array.from({ length: 10 }, (_, i) => [uuidv7(), storedValue(message(i, this.o.msgBytes))] as [string, StoredValue]));
    }
    this.record(
      await runHazelcast(
        { id: 'limit-a-read', group: 'limit-a', title: 'entrySet, 10 messages', target: 'hazelcast entrySet', connections: this.o.connections, durationSec: this.o.durationSec, warmupSec: this.o.warmupSec, op: () => map.entrySet(), notes: [...scratch, 'entrySet is what GET /logging calls'] },
        this.processes,
      ),
    );
  }

  private async limitB(): Promise<void> {
    note('\n▸ limit B — a do-nothing route on the services\' HTTP stack, in its own process');
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    this.noop = new ManagedProcess('noop', process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'noop-server.js'), String(port)], { env: process.env });
    try {
      await waitFor(this.noop, 'noop-server readiness', async () => ((await probeHttp(`${url}/readyz`)).status === 200 ? true : undefined), 15_000);
      this.record(await this.http({ id: 'limit-b', group: 'limit-b', title: 'GET /noop', url: `${url}/noop` }));
    } finally {
      await this.noop.stop(5_000);
    }
  }

  private async directGet(): Promise<void> {
    note('\n▸ direct — GET /logging on one logging instance');
    if (!this.loggingUrl) return this.skip('direct-get', 'GET /logging', 'no logging URL: pass --logging');
    if (this.system) await this.ensureMapSize(10, 'GET /logging');
    // A page, as a client at 32 connections reads: full reads are capped at a few at once by design.
    this.record(await this.http({ id: 'direct-get', group: 'direct', title: this.system ? 'GET /logging?limit=100, 10 messages' : 'GET /logging?limit=100', url: `${this.loggingUrl}/logging?limit=100`, notes: this.system ? [] : ['map size not controlled on a remote target'] }));
  }

  private async e2eGet(): Promise<void> {
    note('\n▸ end to end — GET /facade');
    if (!this.facadeUrl) return this.skip('e2e-get', 'GET /facade', 'no facade URL: pass --facade');
    if (this.system) await this.ensureMapSize(10, 'GET /facade');
    this.record(await this.http({ id: 'e2e-get', group: 'e2e', title: this.system ? 'GET /facade?limit=100, 10 messages' : 'GET /facade?limit=100', url: `${this.facadeUrl}/facade?limit=100`, notes: this.system ? [] : ['map size not controlled on a remote target'] }));
  }

  private async directPost(): Promise<void> {
    note('\n▸ direct — POST /logging on one logging instance (JSON, a new UUIDv7 per request)');
    if (!this.loggingUrl) return this.skip('direct-post', 'POST /logging', 'no logging URL: pass --logging');
    const msg = message(0, this.o.msgBytes);
    this.mapSize = undefined;
    this.record(
      await this.http({ id: 'direct-post', group: 'direct', title: 'POST /logging (JSON)', url: `${this.loggingUrl}/logging`, method: 'POST', headers: JSON_TYPE, body: () => JSON.stringify({ uuid: uuidv7(), msg }) }),
    );
  }

  private async e2ePost(): Promise<void> {
    note('\n▸ end to end — POST /facade (form body, as the lab\'s client sends)');
    if (!this.facadeUrl) return this.skip('e2e-post', 'POST /facade', 'no facade URL: pass --facade');
    this.mapSize = undefined;
    this.record(await this.http(this.formPost('e2e-post', 'e2e', 'POST /facade (form)')));
  }

  private formPost(id: string, group: string, title: string): Parameters<Bench['http']>[0] {
    const body = new URLSearchParams({ msg: message(0, this.o.msgBytes) }).toString();
    return { id, group, title, url: `${this.facadeUrl}/facade`, method: 'POST', headers: FORM, body: () => body };
  }

  /**
   * POST /facade at fixed shares of the closed-loop maximum that e2e-post measured (measured first
   * if this run has not), latency from each request's due time (bench/open-loop.ts says why not
   * autocannon); writes the chart.
   */
  private async runOpenLoop(): Promise<void> {
    const { openLoopPercents: percents, openLoopSec: seconds } = this.o;
    note(`\n▸ open loop — POST /facade at ${percents.join(', ')} % of its closed-loop maximum, ${seconds} s each`);
    if (!this.facadeUrl) return this.skip('open-loop', 'open loop', 'no facade URL: pass --facade');
    if (!this.measurements.some((m) => m.id === 'e2e-post')) {
      note('  its closed-loop maximum first:');
      await this.e2ePost();
    }
    const max = this.measurements.find((m) => m.id === 'e2e-post')!;
    const failed = max.errors + max.non2xx;
    if (max.rps <= 0 || failed > 0) return this.skip('open-loop', 'open loop', `the closed-loop run had ${failed} errors`);
    this.mapSize = undefined;
    const { url, headers, body } = this.formPost('open-loop', 'open-loop', 'POST /facade (form)');
    const request: OpenLoopRequest = { url, method: 'POST', headers: headers!, body: body! };
    const maxRps = Math.round(max.rps * 10) / 10;
    const rate = (percent: number) => (maxRps * percent) / 100;
    if (this.o.warmupSec > 0) {
      await runOpenLoop({ request, percent: percents[0]!, rateRps: rate(percents[0]!), durationSec: this.o.warmupSec, label: 'warm-up' });
    }
    const points: OpenLoopPoint[] = [];
    for (const percent of percents) {
      this.checkNotStopping();
      const label = `${percent} % of the maximum`;
      points.push(await runOpenLoop({ request, percent, rateRps: rate(percent), durationSec: seconds, label }));
    }
    const m = this.machine();
    this.openLoop = {
      date: this.startedAt.toISOString().slice(0, 10),
      command: this.command,
      machine: `${m.cpus} × ${m.cpuModel} · Node ${m.node}`,
      route: 'POST /facade',
      closedLoop: { rps: maxRps, connections: max.connections, p99Ms: max.latencyMs.p99 },
      durationSec: seconds,
      target: openLoopGoal(),
      points,
    };
    const svg = resolve(this.o.openLoopSvg);
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(svg, renderOpenLoopSvg(this.openLoop));
    note(`  chart written to ${svg}`);
  }

  private async readsAtScale(): Promise<void> {
    note(`\n▸ reads at scale — GET /facade at ${this.o.scaleConnections} connections`);
    if (!this.system) {
      for (const size of this.o.sizes) this.skip(`reads-${size}`, `GET /facade, ${fmtInt(size)} messages`, 'fills and clears the map: only on a system the bench starts');
      return;
    }
    for (const size of this.o.sizes) {
      const title = `GET /facade, ${fmtInt(size)} messages`;
      await this.ensureMapSize(size, title);
      // One read first, unmeasured: checks the answer holds every message (and warms the path up).
      const check = await probeHttp(`${this.facadeUrl}/facade`, 300_000).catch((err: Error) => ({ status: 0, body: err.message }));
      const got = (check.body as { 'logging-service'?: unknown[] })?.['logging-service'];
      const notes = check.status === 200 && got?.length === size ? [] : [`check read: HTTP ${check.status}, ${Array.isArray(got) ? got.length : 'no'} messages instead of ${size}`];
      const fixed = size > this.o.fixedAbove;
      this.record(
        await this.http({
          id: `reads-${size}`,
          group: 'reads',
          title,
          url: `${this.facadeUrl}/facade`,
          connections: this.o.scaleConnections,
          warmupSec: fixed ? 0 : this.o.warmupSec,
          amount: fixed ? Math.max(this.o.fixedRequests, this.o.scaleConnections) : undefined,
          timeoutSec: 120,
          notes,
        }),
      );
    }
  }

  /** Makes config-server list the first `count` logging instances and waits until the facade uses exactly those. */
  private async useLoggingInstances(count: number): Promise<void> {
    const system = this.system!;
    const wanted = system.registry()['logging-service'].slice(0, count);
    const tmp = `${system.registryFile}.tmp`;
    // Written aside and renamed, so config-server never reads half a file.
    writeFileSync(tmp, `${JSON.stringify({ ...system.registry(), 'logging-service': wanted }, null, 2)}\n`);
    renameSync(tmp, system.registryFile);
    const progress = new ProgressLine(`${count} logging instance${count > 1 ? 's' : ''}`);
    progress.update('waiting for config-server');
    await waitFor(system.configServer, 'config-server to serve the new list', async () => {
      const { body } = await probeHttp(`${system.configServerUrl}/services/logging-service`);
      return JSON.stringify(body) === JSON.stringify(wanted) ? true : undefined;
    }, 30_000);
    progress.update('waiting for the facade to use exactly these instances');
    // The facade refreshes its cached list in the background after REGISTRY_TTL_MS; until it has,
    // some posts still go elsewhere. Which instances 30 posts reach shows which list it uses.
    await waitFor(system.facade, 'the facade to use the new list', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${system.facadeUrl}/facade`, { method: 'POST', headers: FORM, body: 'msg=scale-out-probe', signal: AbortSignal.timeout(5_000) });
        seen.add(((await res.json()) as { loggedBy: string }).loggedBy);
      }
      return [...seen].sort().join() === [...wanted].sort().join() ? true : undefined;
    }, 60_000, 500);
    progress.done(`facade uses ${wanted.join(', ')}`);
  }

  private async scaleOut(): Promise<void> {
    note(`\n▸ scale-out — POST /facade with ${this.o.loggingCounts.join(', ')} logging instances`);
    if (!this.system) {
      for (const n of this.o.loggingCounts) this.skip(`scale-out-${n}`, `${n} logging instance${n > 1 ? 's' : ''}`, 'rewrites the registry: only on a system the bench starts');
      return;
    }
    this.mapSize = undefined;
    try {
      for (const n of this.o.loggingCounts) {
        await this.useLoggingInstances(n);
        this.record(await this.http(this.formPost(`scale-out-${n}`, 'scale-out', `${n} logging instance${n > 1 ? 's' : ''}`)));
      }
    } finally {
      if (this.o.loggingCounts.at(-1) !== 3) await this.useLoggingInstances(3).catch(() => undefined);
    }
  }

  private async runMillion(): Promise<void> {
    note(`\n▸ a million — the map filled to ${fmtInt(this.o.millionCount)} messages: pages, the cluster view, one client alone, one full GET /facade`);
    if (!this.system || !this.store) {
      this.skip('million', 'a million messages', 'fills and clears the map: only on a system the bench starts');
      return;
    }
    const s = this.system;
    this.mapSize = undefined;
    this.million = await runMillion({
      facadeUrl: s.facadeUrl,
      store: this.store,
      clear: () => this.store!.clear(),
      nodeProcesses: () => ({ facade: s.facade?.pid, 'logging-1': s.logging[0]?.pid, 'logging-2': s.logging[1]?.pid, 'logging-3': s.logging[2]?.pid, messages: s.messages?.pid, 'config-server': s.configServer?.pid }),
      allProcesses: this.processes,
      memberOutOfMemory: () => s.memberOutOfMemoryErrors,
      count: this.o.millionCount,
      // Its own text, which no other POST of the bench sends: the read finds where the filled run starts by it.
      message: (i) => `filled ${i} `.padEnd(this.o.msgBytes, 'x').slice(0, this.o.msgBytes),
      postRate: postRateDuringRead(this.measurements, this.o.postRate),
      // The logging service's own walk, from the bench's client alone, with windows of the size asked.
      keyWindows: (windowEntries) => new HazelcastMessageStore(this.hz!, s.mapName, { windowEntries }).read({}),
      idleSeconds: this.o.durationSec,
      readsFetched: async () => ({
        // Every query asked of the members: the windows that held entries and the empty or refused ones.
        queries: await loggingMetric(s, ['hazelcast_read_windows_total', 'hazelcast_read_misses_total']),
        entries: await loggingMetric(s, 'hazelcast_read_entries_total'),
      }),
      facadeRetries: () => facadeRetries(s.facadeUrl),
    });
  }

  /** The machine the bench runs on; the free memory and load average are as of now. */
  private machine() {
    return {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      freeMemoryGbAtEnd: Math.round((freemem() / 2 ** 30) * 10) / 10,
      loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
      os: `${process.platform} ${release()}`,
      node: process.version,
      hazelcast: HAZELCAST_VERSION,
      hazelcastClient: (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'hazelcast-client', 'package.json'), 'utf8')) as { version: string }).version,
    };
  }

  private finish(): void {
    const ordered = [...this.measurements].sort((a, b) => GROUPS.indexOf(a.group as Group) - GROUPS.indexOf(b.group as Group));
    const ratioList = ratios(ordered);
    const targetList = targets({ measurements: ordered, openLoop: this.openLoop, million: this.million, baseline: this.baseline });
    const machine = this.machine();
    const out = resolve(this.o.out);
    mkdirSync(dirname(out), { recursive: true });
    const { remote, ...settings } = this.o;
    const results = {
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      command: this.command,
      commit: gitCommit(),
      options: settings,
      target: remote ?? { ownSystem: this.system?.ports },
      measurements: ordered,
      skipped: this.skipped,
      ratios: ratioList,
      targets: targetList,
      million: this.million,
      openLoop: this.openLoop,
    };
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    const lines = [
      '',
      `lab benchmark · ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB · Node ${machine.node} · Hazelcast ${machine.hazelcast} (client ${machine.hazelcastClient})`,
      `${this.o.durationSec} s per scenario after ${this.o.warmupSec} s warm-up · latencies of 2xx answers · load average at the end ${machine.loadAverageAtEnd.join(' ')}`,
      '',
      renderResults(ordered, this.skipped),
      '',
      renderRatios(ratioList),
      '',
      renderTargets(targetList),
      '',
      ...(this.openLoop ? [renderOpenLoop(this.openLoop), `  chart: ${resolve(this.o.openLoopSvg)}`, ''] : []),
      renderRss(ordered),
      '',
      renderCpu(ordered, machine.cpus),
      '',
      ...(this.million ? [renderMillion(this.million), ''] : []),
      `figures written to ${out}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Stops everything the bench started; idempotent. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      stopRunningLoad();
      stopOpenLoad();
      stopHazelcastLoad();
      await Promise.race([this.hz?.shutdown(), sleep(10_000)]).catch(() => undefined);
      await this.noop?.stop(5_000);
      if (this.system) {
        note('stopping the system…');
        await this.system.stop(15_000);
      }
      if (this.runDir) rmSync(this.runDir, { recursive: true, force: true });
      this.logger.flush();
    })();
    return this.cleaning;
  }
}

/** The `--baseline` file's run; throws naming the file when it cannot be read or lacks what the target needs. */
function readBaseline(file: string): BaselineRun {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--baseline ${file}: ${(err as Error).message}`, { cause: err });
  }
  return baselineRun(json, file);
}

/**
 * The commit the bench runs from, so a later run can name its `--baseline`: `-dirty` when tracked
 * files were changed, since the figures are then not that commit's alone. Undefined outside a git checkout.
 */
function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  let baseline: BaselineRun | undefined;
  try {
    baseline = options.baseline === undefined ? undefined : readBaseline(options.baseline);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const bench = new Bench(options, baseline);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130); // a second Ctrl+C: leave now; processes.ts kills the children on exit
    interrupted = true;
    note(`\n${signal}: stopping everything the bench started…`);
    void bench.cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await bench.run();
  } catch (err) {
    if (interrupted) return;
    if (err instanceof StartError) note(`\n${err.component} failed to start: ${err.message}\n${err.logTail.join('\n')}`);
    else note(`\nbench failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  } finally {
    if (!interrupted) await bench.cleanup();
  }
  if (!interrupted) process.exit(process.exitCode ?? 0);
}

void main();
