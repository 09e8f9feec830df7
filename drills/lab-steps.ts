/**
 * The lab's five steps (SPEC), one function each, run through the facade alone — so the same code
 * works against the local system and against a port-forwarded cluster. How members are stopped in
 * step 5 is the caller's `Stopper`: by process handle, by pid, or by a person running `kubectl delete pod`.
 */
import type { ClusterView, HazelcastView } from '../services/facade/cluster-view.js';
import { keyToNumber, numberToKey } from '../services/logging/key-range.js';
import { seconds, table, type Progress } from '../local/console.js';
import { WaitTimeoutError, waitUntil } from '../local/wait.js';
import { naturally, pageQuery, readyLogging, type FacadeApi } from './facade-api.js';
import type { LabReport, StepResult } from './lab-report.js';

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

export interface ScenarioOptions {
  facade: FacadeApi;
  stopper: Stopper;
  ui: Progress;
  /** A description of the system under test, for the header. */
  mode: string;
  /** How long step 1 waits for three ready instances and members, ms (default 90 s). */
  readyTimeoutMs?: number;
  now?: () => Date;
}

/** The ten messages of the lab. */
export const LAB_MESSAGES = Array.from({ length: 10 }, (_, i) => `msg${i + 1}`);

/** Messages read back after this run's first one: its ten, and room for others posted meanwhile. */
const READ_BACK_LIMIT = 1_000;
/** Messages each instance shows in step 1: the first page of the map, the same on every instance. */
const FIRST_PAGE = 10;
/** Tables in the report sit under their step's title. */
const INDENT = '   ';

interface Posted {
  msg: string;
  uuid: string;
  loggedBy: string;
}

/** What a run carries from one step to the next. */
interface Run {
  facade: FacadeApi;
  stopper: Stopper;
  ui: Progress;
  readyTimeoutMs: number;
  /** Messages the map held before this run (step 1). */
  before: number;
  /** The cluster view step 1 saw. */
  firstView?: ClusterView;
  /** This run's messages, as their POSTs answered (step 2). */
  posted: Posted[];
}

/** A step adds what it found to `lines`, and throws when the step fails. */
type StepBody = (run: Run, lines: string[]) => Promise<void>;

/** The five steps in order, in the SPEC's words. */
const STEPS: { title: string; body: StepBody }[] = [
  { title: 'three logging instances and three Hazelcast members are up; each instance lists nothing', body: step1ThreeOfEachUp },
  { title: 'msg1 … msg10 posted through the facade; every POST answers 201', body: step2PostTen },
  {
    title: 'which logging instance received which message, and how the entries spread over the members',
    body: step3WhoStoredWhat,
  },
  { title: 'GET /facade returns all ten messages, in creation order, and the messages-service text', body: step4ReadTenBack },
  {
    title: 'one, then two logging instances stopped together with their members; all ten still read back',
    body: step5StopAndReadBack,
  },
];

/** Runs the five steps; never throws: a step that fails is reported as failed, and later steps still run where they can. */
export async function runScenario(o: ScenarioOptions): Promise<LabReport> {
  const startedAt = (o.now ?? (() => new Date()))();
  const run: Run = { facade: o.facade, stopper: o.stopper, ui: o.ui, readyTimeoutMs: o.readyTimeoutMs ?? 90_000, before: 0, posted: [] };
  const steps: StepResult[] = [];
  for (const [i, { title, body }] of STEPS.entries()) steps.push(await runStep(run, i + 1, title, body));
  const ok = steps.length === 5 && steps.every((s) => s.ok);
  return { startedAt, facadeUrl: o.facade.url, mode: o.mode, runId: o.facade.runId, steps, ok };
}

async function runStep(run: Run, n: number, title: string, body: StepBody): Promise<StepResult> {
  run.ui.log(`step ${n}: ${title}`);
  run.ui.status(`step ${n}: ${title}`);
  const lines: string[] = [];
  const t0 = Date.now();
  let ok = true;
  let error: string | undefined;
  try {
    await body(run, lines);
  } catch (err) {
    ok = false;
    error = (err as Error).message;
  }
  run.ui.log(`step ${n}: ${ok ? 'passed' : `FAILED: ${error}`}`);
  return { n, title, ok, lines, error, ms: Date.now() - t0 };
}

const byAddress = (a: { address: string }, b: { address: string }) => naturally(a.address, b.address);
const hostPort = (url: string) => new URL(url).host;
/** The page that starts just before this run's first message. */
const sinceFirstPosted = (run: Run) => ({
  after: run.posted[0] ? numberToKey(keyToNumber(run.posted[0].uuid) - 1n) : undefined,
  limit: READ_BACK_LIMIT,
});

// ---- step 1 -------------------------------------------------------------------------------------

/** Step 1: three of each are up, every instance lists the same first page (nothing, on a new map). */
async function step1ThreeOfEachUp(run: Run, lines: string[]): Promise<void> {
  const view = await threeOfEach(run);
  run.firstView = view;
  const hz = view.hazelcast!;
  const rows: (string | number)[][] = [];
  const firstPages: string[] = [];
  for (const url of readyLogging(view)) {
    const r = await run.facade.messages('s1-list', { limit: FIRST_PAGE }, url);
    if (r.status !== 200) throw new Error(`${url} answered ${r.status} to GET /logging`);
    const page = r.body.messages!;
    firstPages.push(page.map((m) => m.uuid).join());
    rows.push([url, 'ready', page.length < FIRST_PAGE ? page.length : `${FIRST_PAGE} shown of ${hz.mapSize}`]);
  }
  lines.push(...table(['logging instance', 'health', 'messages (GET /logging)'], rows, INDENT));
  lines.push('');
  lines.push(...table(['Hazelcast member', 'uuid'], [...hz.members].sort(byAddress).map((m) => [m.address, m.uuid]), INDENT));
  lines.push('');
  lines.push(`   map "${hz.mapName}": ${hz.mapSize} entries; backup count ${hz.backupCount ?? 'not reported by the logging service'}`);
  if (new Set(firstPages).size !== 1) throw new Error('the instances list different messages: the map should be the cluster\'s');
  run.before = hz.mapSize;
  if (run.before > 0) lines.push(`   note: the map already held ${run.before} messages; this run tells its own ten apart by their uuids`);
}

/** The first cluster view with three ready logging instances and three members. @throws Error saying what there is instead */
async function threeOfEach({ facade, ui, readyTimeoutMs }: Run): Promise<ClusterView> {
  try {
    return await waitUntil('three ready logging instances and three members', async () => {
      const v = await facade.cluster('s1-cluster');
      const ready = readyLogging(v).length;
      const members = v.hazelcast?.clusterSize ?? 0;
      ui.status(`step 1: waiting for three ready logging instances and three members (now ${ready} and ${members})`);
      return ready >= 3 && members >= 3 ? v : undefined;
    }, { timeoutMs: readyTimeoutMs, intervalMs: 1_000 });
  } catch (err) {
    const v = await facade.cluster('s1-cluster').catch(() => undefined);
    const last = err instanceof WaitTimeoutError && err.cause instanceof Error ? err.cause : (err as Error);
    const why = v?.hazelcastError ? ` (${v.hazelcastError})` : '';
    const seen = v ? `${readyLogging(v).length} logging instances ready, ${v.hazelcast?.clusterSize ?? 0} members${why}` : last.message;
    throw new Error(`not three of each within ${seconds(readyTimeoutMs)}: ${seen}`, { cause: err });
  }
}

// ---- step 2 -------------------------------------------------------------------------------------

/** Step 2: msg1 … msg10 posted one by one through the facade; each POST answer says who stored it. */
async function step2PostTen(run: Run, lines: string[]): Promise<void> {
  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  for (const [i, msg] of LAB_MESSAGES.entries()) {
    run.ui.status(`step 2: POST /facade msg=${msg} (${i + 1}/10)`);
    type Stored = { message?: { uuid: string }; loggedBy?: string; error?: { message: string } };
    const r = await run.facade.call<Stored>('/facade', `s2-${msg}`, { method: 'POST', form: { msg } });
    rows.push([msg, r.status, r.body.loggedBy ?? r.body.error?.message ?? '', r.body.message?.uuid ?? '']);
    const { message, loggedBy } = r.body;
    if (r.status === 201 && message && loggedBy) run.posted.push({ msg, uuid: message.uuid, loggedBy });
    else failures.push(`${msg}: ${r.status}`);
  }
  lines.push(...table(['message', 'status', 'stored by', 'uuid'], rows, INDENT));
  if (failures.length > 0) throw new Error(`not stored: ${failures.join(', ')}`);
}

// ---- step 3 -------------------------------------------------------------------------------------

/** Step 3: the messages per logging instance, then the entries per Hazelcast member. */
async function step3WhoStoredWhat(run: Run, lines: string[]): Promise<void> {
  if (run.posted.length === 0) throw new Error('nothing was posted');
  await messagesPerInstance(run, lines);
  await entriesPerMember(run, lines);
}

/** Which instance stored which message, from each POST answer, checked against the stored record. */
async function messagesPerInstance(run: Run, lines: string[]): Promise<void> {
  const { facade, posted, firstView } = run;
  const detail = await facade.messages('s3-list', sinceFirstPosted(run));
  if (detail.status !== 200) throw new Error(`GET /facade/messages answered ${detail.status}`);
  const stored = new Map(detail.body.messages!.map((m) => [m.uuid, m]));
  const mismatched = posted.filter((p) => stored.get(p.uuid)?.loggedBy !== p.loggedBy).map((p) => p.msg);
  const ready = readyLogging(firstView ?? (await facade.cluster('s3-cluster')));
  const instances = [...new Set([...ready, ...posted.map((p) => p.loggedBy)])].sort(naturally);
  const rows = instances.map((url) => {
    const mine = posted.filter((p) => p.loggedBy === url).map((p) => p.msg);
    return [url, mine.length, mine.join(', ') || '–'];
  });
  lines.push('   Messages per logging instance (from each POST answer, checked against the stored record):');
  lines.push(...table(['logging instance', 'messages', 'which'], rows, INDENT));
  if (mismatched.length > 0) throw new Error(`stored by another instance than the POST said: ${mismatched.join(', ')}`);
}

/** How the entries spread over the members (primary owners), once the client's view is consistent. */
async function entriesPerMember({ facade, posted, before }: Run, lines: string[]): Promise<void> {
  // The client's partition table may lag a moment behind the members; wait for a consistent view.
  const consistent = async () => {
    const v = await facade.cluster('s3-cluster');
    return v.hazelcast && v.hazelcast.clusterSize >= 3 && v.hazelcast.ownedEntriesTotal === v.hazelcast.mapSize ? v.hazelcast : undefined;
  };
  let hz: HazelcastView | undefined;
  try {
    hz = await waitUntil('a consistent view of the entries per member', consistent, { timeoutMs: 20_000, intervalMs: 500 });
  } catch {
    hz = (await facade.cluster('s3-cluster')).hazelcast ?? undefined;
  }
  if (!hz) throw new Error('the cluster summary is unavailable');
  const share = (n: number) => (hz.mapSize ? `${Math.round((100 * n) / hz.mapSize)}%` : '–');
  const rows = [
    ...[...hz.members].sort(byAddress).map((m) => [m.address, m.uuid.slice(0, 8), m.ownedEntries, share(m.ownedEntries)]),
    ['sum', '', hz.ownedEntriesTotal, `${hz.ownedEntriesTotal === hz.mapSize ? '=' : '≠'} map size ${hz.mapSize}`],
  ];
  lines.push('');
  lines.push(`   Entries per Hazelcast member (primary partition owners; Management Center's "Entries" table), map "${hz.mapName}":`);
  lines.push(...table(['Hazelcast member', 'uuid', 'entries', 'share'], rows, INDENT));
  const everywhere = hz.backupCount === 2 ? ' (every entry also lives on the two other members)' : '';
  lines.push(`   backup count: ${hz.backupCount ?? 'not reported'}${everywhere}`);
  if (hz.ownedEntriesTotal !== hz.mapSize) {
    throw new Error(`owned entries add up to ${hz.ownedEntriesTotal}, not the map size ${hz.mapSize}`);
  }
  const expected = before + posted.length;
  if (hz.mapSize < expected) throw new Error(`the map holds ${hz.mapSize} entries, fewer than the ${expected} expected`);
}

// ---- step 4 -------------------------------------------------------------------------------------

/** Step 4: GET /facade gives this run's ten, in creation order, and the messages-service text. */
async function step4ReadTenBack(run: Run, lines: string[]): Promise<void> {
  const r = await readBack(run, 's4');
  const shown = r.lab.length <= 12 ? ` ${JSON.stringify(r.lab)}` : `, this run's ten among them`;
  lines.push(`   logging-service: ${r.lab.length} messages${shown}`);
  lines.push(`   messages-service: ${JSON.stringify(r.stub)}`);
  const { posted } = run;
  if (r.found !== posted.length || posted.length !== 10) {
    throw new Error(`${r.found} of this run's ${posted.length} messages read back (10 expected)`);
  }
  if (!r.inOrder) throw new Error("this run's messages came back out of creation order");
  const exactlyTheTen = JSON.stringify(r.lab) === JSON.stringify(LAB_MESSAGES);
  if (run.before === 0 && !exactlyTheTen) throw new Error('GET /facade did not return exactly msg1 … msg10');
  if (typeof r.stub !== 'string') throw new Error('no messages-service text');
}

interface ReadBackResult {
  found: number;
  inOrder: boolean;
  /** What GET /facade listed as the logging service's messages. */
  lab: string[];
  /** The messages service's text. */
  stub: unknown;
}

/**
 * Reads back through the facade, from just before this run's first message (one bounded page,
 * never the whole map), and checks this run's messages are there, in order.
 */
async function readBack(run: Run, label: string): Promise<ReadBackResult> {
  const { facade, posted } = run;
  const page = sinceFirstPosted(run);
  type Lab = { 'logging-service'?: string[]; 'messages-service'?: unknown; error?: { message: string } };
  const [lab, detail] = await Promise.all([
    facade.call<Lab>(`/facade${pageQuery(page)}`, `${label}-get`),
    facade.messages(`${label}-list`, page),
  ]);
  if (lab.status !== 200) throw new Error(`GET /facade answered ${lab.status}: ${lab.body.error?.message ?? ''}`);
  if (detail.status !== 200) throw new Error(`GET /facade/messages answered ${detail.status}: ${detail.body.error?.message ?? ''}`);
  const ids = new Map(posted.map((p, i) => [p.uuid, i]));
  const order = detail.body.messages!.filter((m) => ids.has(m.uuid)).map((m) => ids.get(m.uuid)!);
  const inOrder = order.every((v, i) => v === i);
  return { found: order.length, inOrder, lab: lab.body['logging-service'] ?? [], stub: lab.body['messages-service'] };
}

// ---- step 5 -------------------------------------------------------------------------------------

/** One read-back of step 5, and what the cluster view showed after it. */
interface ReadBack {
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

/** Step 5: reads back, then stops one and then a second logging instance with its member, reading back after each. */
async function step5StopAndReadBack(run: Run, lines: string[]): Promise<void> {
  const { facade, stopper, ui } = run;
  const view = await facade.cluster('s5-cluster');
  const logging = readyLogging(view);
  const members = [...(view.hazelcast?.members ?? [])].sort(byAddress);
  if (logging.length < 3 || members.length < 3) {
    throw new Error(`needs three of each, found ${logging.length} logging instances and ${members.length} members`);
  }
  const targets: StopTarget[] = [0, 1].map((i) => ({ logging: logging[i]!, member: members[i]! }));
  const rows: ReadBack[] = [await measureReadBack(run, 'before stopping anything', 's5-before', [])];
  const done: string[] = [];
  for (const [round, target] of targets.entries()) {
    ui.log(`step 5: stopping logging ${target.logging} and member ${target.member.address}`);
    done.push(...(await stopper.stop([target], facade, ui)));
    const when = `after stopping ${round === 0 ? '' : 'also '}logging ${hostPort(target.logging)} + member ${target.member.address}`;
    rows.push(await measureReadBack(run, when, `s5-after-${round + 1}`, targets.slice(0, round + 1)));
  }
  lines.push(`   stopped (${stopper.description}):`);
  lines.push(...done.map((d) => `     ${d}`));
  lines.push('');
  lines.push(
    ...table(
      ['read-back (GET /facade)', 'logging up', 'members', 'messages', 'in order', 'took'],
      rows.map((r) => {
        const messages = `${r.found}/${r.expected}`;
        return [r.when, r.loggingReady ?? '?', r.members ?? '?', messages, r.inOrder ? 'yes' : 'NO', seconds(r.ms)];
      }),
      INDENT,
    ),
  );
  const bad = rows.filter((r) => r.found !== r.expected || !r.inOrder || r.expected !== 10);
  if (bad.length > 0) throw new Error(`read-back incomplete: ${bad.map((r) => `${r.when}: ${r.found}/${r.expected}`).join('; ')}`);
  const lingering = rows.filter((r) => !r.gone);
  if (lingering.length > 0) throw new Error(`the cluster did not show the stopped ones gone: ${lingering.map((r) => r.when).join('; ')}`);
}

/** Reads back until all of this run's messages are there (up to 30 s), then waits for the cluster to show `gone` gone. */
async function measureReadBack(run: Run, when: string, label: string, gone: StopTarget[]): Promise<ReadBack> {
  const { facade, posted, ui } = run;
  ui.status(`step 5: reading back ${when}`);
  const t0 = Date.now();
  const all = async () => {
    const x = await readBack(run, label);
    return x.found === posted.length ? x : undefined;
  };
  const r = await waitUntil(`all ${posted.length} messages read back ${when}`, all, { timeoutMs: 30_000, intervalMs: 500 }).catch(() =>
    readBack(run, label).catch(() => ({ found: 0, inOrder: false })),
  );
  const ms = Date.now() - t0;
  // Members leave the cluster view once the others notice (seconds after a SIGKILL).
  ui.status(`step 5: waiting for the cluster to notice (${when})`);
  const v = await seenGone(facade, label, gone);
  const seen = v ?? (await facade.cluster(`${label}-cluster`).catch(() => undefined));
  return {
    gone: v !== undefined,
    when,
    loggingReady: seen ? readyLogging(seen).length : null,
    members: seen?.hazelcast?.clusterSize ?? null,
    found: r.found,
    expected: posted.length,
    inOrder: r.inOrder,
    ms,
  };
}

/** The first cluster view (within 30 s) without the targets' logging instances and members; undefined if none came. */
function seenGone(facade: FacadeApi, label: string, targets: StopTarget[]): Promise<ClusterView | undefined> {
  const without = async () => {
    const c = await facade.cluster(`${label}-cluster`);
    const ready = readyLogging(c);
    const uuids = new Set((c.hazelcast?.members ?? []).map((m) => m.uuid));
    return targets.every((t) => !ready.includes(t.logging) && !uuids.has(t.member.uuid)) ? c : undefined;
  };
  return waitUntil('the stopped ones to leave the cluster view', without, { timeoutMs: 30_000, intervalMs: 500 }).catch(() => undefined);
}
