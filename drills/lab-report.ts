/**
 * The lab's five steps (SPEC) run through the facade alone — so the same code works against the
 * local system and against a port-forwarded cluster — and the report a teaching assistant reads:
 * each step with its result, messages per logging instance, entries per Hazelcast member, and the
 * read-back before and after members are stopped. How members are stopped is the caller's
 * `Stopper`: by process handle, by pid, or by a person running `kubectl delete pod`.
 */
import type { ClusterView, HazelcastView } from '../services/facade/cluster-view.js';
import type { StoredMessage } from '../lib/contract.js';
import { keyToNumber, numberToKey } from '../services/logging/key-range.js';
import { pageQuery } from '../lib/paging.js';
import { setTimeout as sleep } from 'node:timers/promises';

// ---- talking to the facade ---------------------------------------------------------------------

/** Bound on one call to the facade. */
export const CALL_TIMEOUT_MS = 15_000;

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/** The facade's HTTP API as the scenario uses it; every call carries `x-request-id: <runId>-<label>`. */
export class FacadeApi {
  constructor(
    readonly url: string,
    readonly runId: string,
  ) {}

  async call<T>(path: string, label: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': `${this.runId}-${label}` };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.url}${path}`, { method: init.method ?? 'GET', headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** The facade's cluster view. @throws Error unless it answers 200 */
  async cluster(label: string): Promise<ClusterView> {
    const r = await this.call<ClusterView>('/facade/cluster', label);
    if (r.status !== 200) throw new Error(`GET /facade/cluster answered ${r.status}`);
    return r.body;
  }

  /**
   * One page of stored messages with their details (never the whole map), from a random instance
   * or from `instance`: the first `limit`, or the `limit` after the uuid `after`.
   */
  async messages(label: string, page: { after?: string; limit: number }, instance?: string): Promise<Reply<{ messages?: StoredMessage[]; readFrom?: string; error?: { message: string } }>> {
    const only = instance ? `&instance=${encodeURIComponent(instance)}` : '';
    return this.call(`/facade/messages${pageQuery(page)}${only}`, label);
  }
}

// ---- progress ---------------------------------------------------------------------------------

/** A progress display on stderr: a live spinner line on a terminal, plain lines elsewhere (CI, pipes). */
export class Progress {
  private text = '';
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = out.isTTY === true;
  }

  /** A transient status (shown only on a terminal). */
  status(text: string): void {
    this.text = text;
    if (!this.tty) return;
    this.timer ??= setInterval(() => this.draw(), 100);
    this.draw();
  }

  /** A line that stays. */
  log(line: string): void {
    if (this.tty) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.tty && this.timer) this.draw();
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.out.write('\r\x1b[2K');
  }

  private draw(): void {
    const spinner = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[this.frame++ % 10];
    const width = Math.max(20, (this.out.columns || 100) - 3);
    this.out.write(`\r\x1b[2K${spinner} ${this.text.slice(0, width)}`);
  }
}

// ---- stopping members ---------------------------------------------------------------------------

/** A logging instance and the Hazelcast member stopped together with it. */
export interface StopTarget {
  logging: string;
  member: { address: string; uuid: string };
}

export interface Stopper {
  /** How processes get stopped, for the report's header. */
  readonly description: string;
  /** Stops the targets together; resolves once they are gone, with lines saying what was done. */
  stop(targets: StopTarget[], facade: FacadeApi, ui: Progress): Promise<string[]>;
}

// ---- the steps ----------------------------------------------------------------------------------

export interface StepResult {
  n: number;
  title: string;
  ok: boolean;
  /** What was found, one line per fact; tables included. */
  lines: string[];
  error?: string;
  ms: number;
}

export interface ReadBack {
  when: string;
  loggingReady: number | null;
  members: number | null;
  found: number;
  expected: number;
  inOrder: boolean;
  ms: number;
  /** Whether the cluster view showed the stopped instances and members gone. */
  gone: boolean;
}

export interface LabReport {
  startedAt: Date;
  facadeUrl: string;
  mode: string;
  runId: string;
  steps: StepResult[];
  ok: boolean;
}

export interface ScenarioOptions {
  facade: FacadeApi;
  stopper: Stopper;
  ui: Progress;
  /** A description of the system under test, for the header. */
  mode: string;
  /** How long step 1 waits for three ready instances and members. */
  readyTimeoutMs?: number;
  now?: () => Date;
}

/** Polls `probe` until it returns a value; rethrows its last error after `timeoutMs`. */
async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last ?? new Error(`not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(intervalMs);
  }
}

export const loggingEntry = (view: ClusterView) => view.registry.find((e) => e.usedFor === 'logging');
const naturally = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
/** The facade's logging instances that answer ready, in natural order. */
export const readyLogging = (view: ClusterView) =>
  (loggingEntry(view)?.instances ?? []).filter((i) => i.health === 'ready').map((i) => i.url).sort(naturally);
const byAddress = (a: { address: string }, b: { address: string }) => naturally(a.address, b.address);
const hostPort = (url: string) => new URL(url).host;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A plain-text table; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][], indent = '   '): string[] {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? '')].length)));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || /^\d+(\/\d+)?$/.test(String(r[c]))));
  const line = (r: string[]) =>
    indent +
    r
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - [...cell].length);
        return numeric[c] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), indent + widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
}

/** The ten messages of the lab. */
export const LAB_MESSAGES = Array.from({ length: 10 }, (_, i) => `msg${i + 1}`);

/** Messages read back after this run's first one: its ten, and room for others posted meanwhile. */
const READ_BACK_LIMIT = 1_000;
/** Messages each instance shows in step 1: the first page of the map, the same on every instance. */
const FIRST_PAGE = 10;

interface Posted {
  msg: string;
  uuid: string;
  loggedBy: string;
}

/** Runs the five steps; never throws: a step that fails is reported as failed, and later steps still run where they can. */
export async function runScenario(o: ScenarioOptions): Promise<LabReport> {
  const { facade, stopper, ui } = o;
  const now = o.now ?? (() => new Date());
  const startedAt = now();
  const steps: StepResult[] = [];
  const posted: Posted[] = [];
  let before = 0; // messages stored before this run
  let firstView: ClusterView | undefined;

  async function step(n: number, title: string, body: (lines: string[]) => Promise<void>): Promise<boolean> {
    ui.log(`step ${n}: ${title}`);
    ui.status(`step ${n}: ${title}`);
    const lines: string[] = [];
    const t0 = Date.now();
    let ok = true;
    let error: string | undefined;
    try {
      await body(lines);
    } catch (err) {
      ok = false;
      error = (err as Error).message;
    }
    steps.push({ n, title, ok, lines, error, ms: Date.now() - t0 });
    ui.log(`step ${n}: ${ok ? 'passed' : `FAILED: ${error}`}`);
    return ok;
  }

  /**
   * Reads back through the facade, from just before this run's first message (one bounded page,
   * never the whole map), and checks this run's messages are there, in order.
   */
  async function readBack(label: string): Promise<{ found: number; inOrder: boolean; lab: string[]; stub: unknown }> {
    const page = { after: posted[0] ? numberToKey(keyToNumber(posted[0].uuid) - 1n) : undefined, limit: READ_BACK_LIMIT };
    const [lab, detail] = await Promise.all([
      facade.call<{ 'logging-service'?: string[]; 'messages-service'?: unknown; error?: { message: string } }>(`/facade${pageQuery(page)}`, `${label}-get`),
      facade.messages(`${label}-list`, page),
    ]);
    if (lab.status !== 200) throw new Error(`GET /facade answered ${lab.status}: ${lab.body.error?.message ?? ''}`);
    if (detail.status !== 200) throw new Error(`GET /facade/messages answered ${detail.status}: ${detail.body.error?.message ?? ''}`);
    const ids = new Map(posted.map((p, i) => [p.uuid, i]));
    const order = detail.body.messages!.filter((m) => ids.has(m.uuid)).map((m) => ids.get(m.uuid)!);
    const inOrder = order.every((v, i) => v === i);
    return { found: order.length, inOrder, lab: lab.body['logging-service'] ?? [], stub: lab.body['messages-service'] };
  }

  // 1 ─────────────────────────────────────────────────────────────────────────────────────────────
  await step(1, 'three logging instances and three Hazelcast members are up; each instance lists nothing', async (lines) => {
    const view = await until(async () => {
      const v = await facade.cluster('s1-cluster');
      const ready = readyLogging(v).length;
      const members = v.hazelcast?.clusterSize ?? 0;
      ui.status(`step 1: waiting for three ready logging instances and three members (now ${ready} and ${members})`);
      return ready >= 3 && members >= 3 ? v : undefined;
    }, o.readyTimeoutMs ?? 90_000, 1_000).catch(async (err: Error) => {
      const v = await facade.cluster('s1-cluster').catch(() => undefined);
      throw new Error(
        `not three of each within ${seconds(o.readyTimeoutMs ?? 90_000)}: ${v ? `${readyLogging(v).length} logging instances ready, ${v.hazelcast?.clusterSize ?? 0} members${v.hazelcastError ? ` (${v.hazelcastError})` : ''}` : err.message}`,
      );
    });
    firstView = view;
    const hz = view.hazelcast!;
    const rows: (string | number)[][] = [];
    const firstPages: string[] = [];
    for (const url of readyLogging(view)) {
      const r = await facade.messages('s1-list', { limit: FIRST_PAGE }, url);
      if (r.status !== 200) throw new Error(`${url} answered ${r.status} to GET /logging`);
      const page = r.body.messages!;
      firstPages.push(page.map((m) => m.uuid).join());
      rows.push([url, 'ready', page.length < FIRST_PAGE ? page.length : `${FIRST_PAGE} shown of ${hz.mapSize}`]);
    }
    lines.push(...table(['logging instance', 'health', 'messages (GET /logging)'], rows));
    lines.push('');
    lines.push(...table(['Hazelcast member', 'uuid'], [...hz.members].sort(byAddress).map((m) => [m.address, m.uuid])));
    lines.push('');
    lines.push(`   map "${hz.mapName}": ${hz.mapSize} entries; backup count ${hz.backupCount ?? 'not reported by the logging service'}`);
    if (new Set(firstPages).size !== 1) throw new Error('the instances list different messages: the map should be the cluster\'s');
    before = hz.mapSize;
    if (before > 0) lines.push(`   note: the map already held ${before} messages; this run tells its own ten apart by their uuids`);
  });

  // 2 ─────────────────────────────────────────────────────────────────────────────────────────────
  await step(2, 'msg1 … msg10 posted through the facade; every POST answers 201', async (lines) => {
    const rows: (string | number)[][] = [];
    const failures: string[] = [];
    for (const [i, msg] of LAB_MESSAGES.entries()) {
      ui.status(`step 2: POST /facade msg=${msg} (${i + 1}/10)`);
      const r = await facade.call<{ message?: { uuid: string }; loggedBy?: string; error?: { message: string } }>('/facade', `s2-${msg}`, { method: 'POST', form: { msg } });
      rows.push([msg, r.status, r.body.loggedBy ?? r.body.error?.message ?? '', r.body.message?.uuid ?? '']);
      if (r.status === 201 && r.body.message && r.body.loggedBy) posted.push({ msg, uuid: r.body.message.uuid, loggedBy: r.body.loggedBy });
      else failures.push(`${msg}: ${r.status}`);
    }
    lines.push(...table(['message', 'status', 'stored by', 'uuid'], rows));
    if (failures.length > 0) throw new Error(`not stored: ${failures.join(', ')}`);
  });

  // 3 ─────────────────────────────────────────────────────────────────────────────────────────────
  await step(3, 'which logging instance received which message, and how the entries spread over the members', async (lines) => {
    if (posted.length === 0) throw new Error('nothing was posted');
    const detail = await facade.messages('s3-list', { after: numberToKey(keyToNumber(posted[0]!.uuid) - 1n), limit: READ_BACK_LIMIT });
    if (detail.status !== 200) throw new Error(`GET /facade/messages answered ${detail.status}`);
    const stored = new Map(detail.body.messages!.map((m) => [m.uuid, m]));
    const mismatched = posted.filter((p) => stored.get(p.uuid)?.loggedBy !== p.loggedBy).map((p) => p.msg);
    const instances = [...new Set([...readyLogging(firstView ?? (await facade.cluster('s3-cluster'))), ...posted.map((p) => p.loggedBy)])].sort(naturally);
    lines.push('   Messages per logging instance (from each POST answer, checked against the stored record):');
    lines.push(
      ...table(
        ['logging instance', 'messages', 'which'],
        instances.map((url) => {
          const mine = posted.filter((p) => p.loggedBy === url).map((p) => p.msg);
          return [url, mine.length, mine.join(', ') || '–'];
        }),
      ),
    );
    if (mismatched.length > 0) throw new Error(`stored by another instance than the POST said: ${mismatched.join(', ')}`);

    // The client's partition table may lag a moment behind the members; wait for a consistent view.
    let hz: HazelcastView | undefined;
    try {
      hz = await until(async () => {
        const v = await facade.cluster('s3-cluster');
        return v.hazelcast && v.hazelcast.clusterSize >= 3 && v.hazelcast.ownedEntriesTotal === v.hazelcast.mapSize ? v.hazelcast : undefined;
      }, 20_000);
    } catch {
      hz = (await facade.cluster('s3-cluster')).hazelcast ?? undefined;
    }
    if (!hz) throw new Error('the cluster summary is unavailable');
    lines.push('');
    lines.push(`   Entries per Hazelcast member (primary partition owners; Management Center's "Entries" table), map "${hz.mapName}":`);
    const members = [...hz.members].sort(byAddress);
    lines.push(
      ...table(
        ['Hazelcast member', 'uuid', 'entries', 'share'],
        [
          ...members.map((m) => [m.address, m.uuid.slice(0, 8), m.ownedEntries, hz.mapSize ? `${Math.round((100 * m.ownedEntries) / hz.mapSize)}%` : '–']),
          ['sum', '', hz.ownedEntriesTotal, `${hz.ownedEntriesTotal === hz.mapSize ? '=' : '≠'} map size ${hz.mapSize}`],
        ],
      ),
    );
    lines.push(`   backup count: ${hz.backupCount ?? 'not reported'}${hz.backupCount === 2 ? ' (every entry also lives on the two other members)' : ''}`);
    if (hz.ownedEntriesTotal !== hz.mapSize) throw new Error(`owned entries add up to ${hz.ownedEntriesTotal}, not the map size ${hz.mapSize}`);
    if (hz.mapSize < before + posted.length) throw new Error(`the map holds ${hz.mapSize} entries, fewer than the ${before + posted.length} expected`);
  });

  // 4 ─────────────────────────────────────────────────────────────────────────────────────────────
  await step(4, 'GET /facade returns all ten messages, in creation order, and the messages-service text', async (lines) => {
    const r = await readBack('s4');
    lines.push(`   logging-service: ${r.lab.length} messages${r.lab.length <= 12 ? ` ${JSON.stringify(r.lab)}` : `, this run's ten among them`}`);
    lines.push(`   messages-service: ${JSON.stringify(r.stub)}`);
    if (r.found !== posted.length || posted.length !== 10) throw new Error(`${r.found} of this run's ${posted.length} messages read back (10 expected)`);
    if (!r.inOrder) throw new Error("this run's messages came back out of creation order");
    if (before === 0 && JSON.stringify(r.lab) !== JSON.stringify(LAB_MESSAGES)) throw new Error('GET /facade did not return exactly msg1 … msg10');
    if (typeof r.stub !== 'string') throw new Error('no messages-service text');
  });

  // 5 ─────────────────────────────────────────────────────────────────────────────────────────────
  await step(5, 'one, then two logging instances stopped together with their members; all ten still read back', async (lines) => {
    const view = await facade.cluster('s5-cluster');
    const logging = readyLogging(view);
    const members = [...(view.hazelcast?.members ?? [])].sort(byAddress);
    if (logging.length < 3 || members.length < 3) throw new Error(`needs three of each, found ${logging.length} logging instances and ${members.length} members`);
    const targets: StopTarget[] = [0, 1].map((i) => ({ logging: logging[i]!, member: members[i]! }));
    const rows: ReadBack[] = [];

    const measure = async (when: string, label: string, expectGone: StopTarget[]): Promise<ReadBack> => {
      ui.status(`step 5: reading back ${when}`);
      const t0 = Date.now();
      let r;
      try {
        r = await until(async () => {
          const x = await readBack(label);
          return x.found === posted.length ? x : undefined;
        }, 30_000);
      } catch {
        r = await readBack(label).catch(() => ({ found: 0, inOrder: false }));
      }
      const ms = Date.now() - t0;
      // Members leave the cluster view once the others notice (seconds after a SIGKILL).
      ui.status(`step 5: waiting for the cluster to notice (${when})`);
      let gone = true;
      const v = await until(async () => {
        const c = await facade.cluster(`${label}-cluster`);
        const ready = readyLogging(c);
        const uuids = new Set((c.hazelcast?.members ?? []).map((m) => m.uuid));
        return expectGone.every((t) => !ready.includes(t.logging) && !uuids.has(t.member.uuid)) ? c : undefined;
      }, 30_000).catch(() => {
        gone = false;
        return facade.cluster(`${label}-cluster`).catch(() => undefined);
      });
      return {
        gone,
        when,
        loggingReady: v ? readyLogging(v).length : null,
        members: v?.hazelcast?.clusterSize ?? null,
        found: r.found,
        expected: posted.length,
        inOrder: r.inOrder,
        ms,
      };
    };

    rows.push(await measure('before stopping anything', 's5-before', []));
    const done: string[] = [];
    for (const [round, target] of targets.entries()) {
      ui.log(`step 5: stopping logging ${target.logging} and member ${target.member.address}`);
      done.push(...(await stopper.stop([target], facade, ui)));
      const what = `logging ${hostPort(target.logging)} + member ${target.member.address}`;
      rows.push(await measure(`after stopping ${round === 0 ? '' : 'also '}${what}`, `s5-after-${round + 1}`, targets.slice(0, round + 1)));
    }
    lines.push(`   stopped (${stopper.description}):`);
    lines.push(...done.map((d) => `     ${d}`));
    lines.push('');
    lines.push(
      ...table(
        ['read-back (GET /facade)', 'logging up', 'members', 'messages', 'in order', 'took'],
        rows.map((r) => [r.when, r.loggingReady ?? '?', r.members ?? '?', `${r.found}/${r.expected}`, r.inOrder ? 'yes' : 'NO', seconds(r.ms)]),
      ),
    );
    const bad = rows.filter((r) => r.found !== r.expected || !r.inOrder || r.expected !== 10);
    if (bad.length > 0) throw new Error(`read-back incomplete: ${bad.map((r) => `${r.when}: ${r.found}/${r.expected}`).join('; ')}`);
    const lingering = rows.filter((r) => !r.gone);
    if (lingering.length > 0) throw new Error(`the cluster did not show the stopped ones gone: ${lingering.map((r) => r.when).join('; ')}`);
  });

  return { startedAt, facadeUrl: facade.url, mode: o.mode, runId: facade.runId, steps, ok: steps.length === 5 && steps.every((s) => s.ok) };
}

// ---- the report ---------------------------------------------------------------------------------

/** The report as text; `color` adds terminal colours to the verdicts. */
export function renderReport(r: LabReport, color = false): string {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const passed = r.steps.filter((s) => s.ok).length;
  const out: string[] = [
    '',
    paint(1, 'Lab report — messages in a Hazelcast distributed map'),
    '═'.repeat(60),
    `when      ${r.startedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    `facade    ${r.facadeUrl}`,
    `system    ${r.mode}`,
    `requests  every request carries x-request-id ${r.runId}-<step>, so each log line can be found`,
    '',
  ];
  for (const s of r.steps) {
    const verdict = s.ok ? paint(32, '✔ PASS') : paint(31, '✘ FAIL');
    out.push(`Step ${s.n}  ${verdict}  ${s.title}  (${seconds(s.ms)})`);
    out.push(...s.lines);
    if (s.error) out.push(paint(31, `   failed: ${s.error}`));
    out.push('');
  }
  out.push('═'.repeat(60));
  out.push(r.ok ? paint(32, `Result: all ${r.steps.length} steps passed.`) : paint(31, `Result: ${passed} of 5 steps passed.`));
  out.push('');
  return out.join('\n');
}
