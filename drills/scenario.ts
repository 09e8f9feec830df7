/**
 * `npm run scenario`: the lab's five steps against a running system, and the report.
 *
 * Where the system comes from:
 *  - a facade already answering at http://127.0.0.1:8080 (e.g. `npm start` in another terminal), or
 *    the one given with `--facade`: logging instances and members are stopped by pid, found through
 *    the ports they listen on (local/listeners.ts);
 *  - none answering: the scenario starts its own local system (the lab's ports, or free ones with
 *    `--free-ports`) and stops it at the end;
 *  - `--kubernetes` (e.g. `--facade http://127.0.0.1:8080` behind `kubectl port-forward`): it prints
 *    the `kubectl delete` commands for the pods to stop, and waits until the cluster shows them gone.
 * Exit code: 0 when every step passed, 1 when one failed, 2 when the system could not be reached or started.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, parseCommandLine } from '../local/args.js';
import { Progress } from '../local/console.js';
import { FacadeApi, loggingEntry, readyLogging } from './facade-api.js';
import { renderReport } from './lab-report.js';
import { runScenario, type StopTarget, type Stopper } from './lab-steps.js';
import { isAlive, listenersOn, type Listener } from '../local/listeners.js';
import { LAB_PORTS, LocalSystem, PortsBusyError, StartError, freeSystemPorts, type Ports } from '../local/system.js';
import { splitAddress } from '../local/ports.js';
import { PrerequisiteError } from '../local/hazelcast.js';
import { WaitTimeoutError, waitUntil } from '../local/wait.js';

export const USAGE = `usage: npm run scenario -- [options]

Runs the lab's five steps through the facade and prints the report.

  --facade URL        the facade to test (default: http://127.0.0.1:8080 if it answers,
                      else a local system started for the run)
  --kubernetes        the facade is a Kubernetes deployment (e.g. behind kubectl port-forward):
                      print the kubectl commands that stop pods, and wait for them to be run
  --namespace NS      the namespace for those kubectl commands
  --own-system        always start a local system for the run, and stop it at the end
  --free-ports        with --own-system: free ports instead of the lab's (8080, 5701, ...)
  --wait-timeout S    how long to wait for pods to be stopped by hand (default 600 s)
  -h, --help          this text
`;

export { UsageError };

export interface ScenarioArgs {
  facade?: string;
  kubernetes: boolean;
  namespace?: string;
  ownSystem: boolean;
  freePorts: boolean;
  waitTimeoutMs: number;
  help: boolean;
}

/** @throws UsageError for unknown options or bad values */
export function parseScenarioArgs(argv: string[]): ScenarioArgs {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      facade: { type: 'string' },
      kubernetes: { type: 'boolean', default: false },
      namespace: { type: 'string' },
      'own-system': { type: 'boolean', default: false },
      'free-ports': { type: 'boolean', default: false },
      'wait-timeout': { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  let facade = values.facade;
  if (facade !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(facade)) throw new UsageError(`--facade must be an http:// URL, not ${JSON.stringify(facade)}`);
    facade = facade.replace(/\/+$/, '');
  }
  const wait = Number(values['wait-timeout']);
  if (!Number.isInteger(wait) || wait < 1) throw new UsageError('--wait-timeout must be a whole number of seconds');
  if (values['own-system'] && (facade || values.kubernetes)) throw new UsageError('--own-system starts its own facade: leave out --facade and --kubernetes');
  if (values['free-ports'] && !values['own-system']) throw new UsageError('--free-ports goes with --own-system');
  if (values.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values.namespace)) throw new UsageError('--namespace must be a Kubernetes namespace name');
  return {
    facade,
    kubernetes: values.kubernetes!,
    namespace: values.namespace,
    ownSystem: values['own-system']!,
    freePorts: values['free-ports']!,
    waitTimeoutMs: wait * 1000,
    help: values.help!,
  };
}

// ---- addresses ----------------------------------------------------------------------------------

const hostOfUrl = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');
const portOfUrl = (url: string) => {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
};

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/**
 * The commands that delete the pod serving a logging instance and the pod of a member: pods are
 * found by IP, the one thing the facade knows about them.
 */
export function kubectlCommands(target: StopTarget, namespace?: string): string[] {
  const k = `kubectl${namespace ? ` -n ${namespace}` : ''}`;
  const byIp = (ip: string) => `${k} delete --wait=false $(${k} get pod -o name --field-selector status.podIP=${ip})`;
  return [byIp(hostOfUrl(target.logging)), byIp(splitAddress(target.member.address).host)];
}

/** Shell commands that stop the local processes listening on the target's ports. */
export function localKillCommands(target: StopTarget): string[] {
  const kill = (port: number) => `kill -9 $(lsof -t -iTCP:${port} -sTCP:LISTEN)`;
  return [kill(portOfUrl(target.logging)), kill(splitAddress(target.member.address).port)];
}

/** Until the cluster view shows the targets' logging instances not ready and their members gone. */
async function waitUntilGone(targets: StopTarget[], facade: FacadeApi, ui: Progress, timeoutMs: number, what: string): Promise<void> {
  await waitUntil(`${what} to go`, async (leftMs) => {
    const view = await facade.cluster('s5-wait').catch(() => undefined);
    if (view) {
      const ready = new Set(readyLogging(view));
      const members = new Set((view.hazelcast?.members ?? []).map((m) => m.uuid));
      if (view.hazelcast && targets.every((t) => !ready.has(t.logging) && !members.has(t.member.uuid))) return true;
    }
    ui.status(`step 5: waiting for ${what} to go (${Math.ceil(leftMs / 1000)} s left)`);
    return undefined;
  }, { timeoutMs, intervalMs: 1_000 }).catch((err: unknown) => {
    throw err instanceof WaitTimeoutError ? new Error(`${what}: not seen gone within ${Math.round(timeoutMs / 1000)} s`) : err;
  });
}

// ---- stoppers -----------------------------------------------------------------------------------

/** For a system the scenario started: its own process handles. */
class OwnSystemStopper implements Stopper {
  readonly description = 'SIGKILL, by the scenario, to the processes it started';
  constructor(private readonly system: LocalSystem) {}

  async stop(targets: StopTarget[]): Promise<string[]> {
    const lines: string[] = [];
    const procs = targets.flatMap((t) => {
      const li = this.system.ports.logging.findIndex((_, i) => `${this.system.loggingUrl(i)}/logging` === t.logging);
      const mi = this.system.ports.members.findIndex((p) => splitAddress(t.member.address).port === p);
      const logging = this.system.logging[li];
      const member = this.system.members[mi];
      if (!logging || !member) throw new Error(`${t.logging} or ${t.member.address} is not a process of this system`);
      lines.push(`SIGKILL ${logging.name} (pid ${logging.pid}, ${t.logging}) and ${member.name} (pid ${member.pid}, ${t.member.address})`);
      return [logging, member];
    });
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    return lines;
  }
}

/** For a local system started elsewhere (npm start): processes found by the port they listen on. */
class PidStopper implements Stopper {
  readonly description = 'SIGKILL, by the scenario, to the local processes listening on their ports';
  /** What this run has stopped, for the closing words. */
  readonly stopped: string[] = [];
  constructor(
    private readonly manual: ManualStopper,
    private readonly find: (port: number) => Listener[] | undefined = listenersOn,
  ) {}

  private identify(port: number, kind: string, looksRight: (command: string) => boolean): Listener | string {
    const found = this.find(port);
    if (found === undefined) return 'this platform cannot tell which process listens on a port';
    const matching = found.filter((l) => looksRight(l.command));
    if (matching.length === 1) return matching[0]!;
    if (found.length === 0) return `no process of this user listens on port ${port}`;
    return `port ${port} is held by ${found.map((l) => `"${l.command.slice(0, 60)}"`).join(', ')}, not one ${kind}`;
  }

  async stop(targets: StopTarget[], facade: FacadeApi, ui: Progress): Promise<string[]> {
    const found: { pid: number; what: string }[] = [];
    const problems: string[] = [];
    for (const t of targets) {
      const logging = this.identify(portOfUrl(t.logging), 'lab logging service', (c) => /\blab\.js logging\b/.test(c));
      const member = this.identify(splitAddress(t.member.address).port, 'Hazelcast member', (c) => c.includes('HazelcastMemberStarter'));
      for (const [l, what] of [[logging, `logging ${t.logging}`], [member, `member ${t.member.address}`]] as const) {
        if (typeof l === 'string') problems.push(`${what}: ${l}`);
        else found.push({ pid: l.pid, what });
      }
    }
    if (problems.length > 0) {
      // Not ours to find (another user's, a container's): ask the person instead.
      for (const p of problems) ui.log(`cannot stop it myself: ${p}`);
      return this.manual.stop(targets, facade, ui);
    }
    for (const f of found) process.kill(f.pid, 'SIGKILL');
    const allGone = () => !found.some((f) => isAlive(f.pid)) || undefined;
    await waitUntil('the processes to exit after SIGKILL', allGone, { timeoutMs: 15_000, intervalMs: 100 }).catch(() => undefined);
    this.stopped.push(...found.filter((f) => !isAlive(f.pid)).map((f) => f.what));
    const alive = found.filter((f) => isAlive(f.pid));
    if (alive.length > 0) throw new Error(`still running after SIGKILL: ${alive.map((f) => `${f.what} (pid ${f.pid})`).join(', ')}`);
    return [found.map((f) => `SIGKILL pid ${f.pid} (${f.what})`).join(' and ')];
  }
}

/** For a system the scenario cannot signal (Kubernetes, or foreign local processes): a person does it. */
class ManualStopper implements Stopper {
  readonly description: string;
  constructor(
    private readonly kubernetes: boolean,
    private readonly namespace: string | undefined,
    private readonly waitTimeoutMs: number,
  ) {
    this.description = kubernetes ? 'by you, with kubectl, when asked' : 'by you, when asked';
  }

  async stop(targets: StopTarget[], facade: FacadeApi, ui: Progress): Promise<string[]> {
    const lines: string[] = [];
    ui.log('');
    ui.log(`>>> Stop these now; the scenario waits until the cluster shows them gone (up to ${Math.round(this.waitTimeoutMs / 1000)} s):`);
    for (const t of targets) {
      const commands = this.kubernetes ? kubectlCommands(t, this.namespace) : localKillCommands(t);
      ui.log(`    # logging instance ${t.logging} and Hazelcast member ${t.member.address} (uuid ${t.member.uuid})`);
      for (const c of commands) ui.log(`    ${c}`);
      lines.push(...commands);
    }
    ui.log('');
    await waitUntilGone(targets, facade, ui, this.waitTimeoutMs, targets.map((t) => `${t.logging} and ${t.member.address}`).join(', '));
    return lines;
  }
}

// ---- the system under test ----------------------------------------------------------------------

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** How long a system that is already running gets to show all of its parts before it is called degraded. */
export const DEGRADED_AFTER_MS = 8_000;

/**
 * Checks that a running system has what the five steps need: three ready logging instances and
 * three members. Reports what it sees each second, and gives up after `timeoutMs`.
 * @throws UsageError naming what is missing
 */
async function checkWhole(facade: FacadeApi, ui: Progress, timeoutMs: number, restartHint: string): Promise<void> {
  let seen = 'no answer from /facade/cluster';
  ui.log(`checking the running system: three ready logging instances and three members (up to ${Math.round(timeoutMs / 1000)} s)`);
  const whole = async () => {
    const view = await facade.cluster('s0-check').catch((err: Error) => err);
    if (!(view instanceof Error)) {
      const logging = loggingEntry(view)?.instances ?? [];
      const ready = readyLogging(view).length;
      const members = view.hazelcast?.clusterSize ?? 0;
      if (ready >= 3 && members >= 3) return true;
      const s = members === 1 ? '' : 's';
      seen = `${ready} of ${logging.length} logging instances ready, ${members} Hazelcast member${s}${view.hazelcastError ? ` (${view.hazelcastError})` : ''}`;
    } else {
      seen = `/facade/cluster: ${view.message}`;
    }
    ui.status(`checking the running system: ${seen}`);
    return undefined;
  };
  await waitUntil('three ready logging instances and three members', whole, { timeoutMs, intervalMs: 1_000 }).catch(() => {
    throw new UsageError(`the running system is degraded: ${seen}. The five steps need three of each: ${restartHint}`);
  });
}

async function startOwnSystem(useFreePorts: boolean, ui: Progress): Promise<{ system: LocalSystem; dir: string }> {
  const ports: Ports = useFreePorts ? await freeSystemPorts() : LAB_PORTS;
  const dir = mkdtempSync(join(tmpdir(), 'lab-scenario-'));
  const states = new Map<string, string>();
  const system = new LocalSystem({
    ports,
    runDir: dir,
    clusterName: useFreePorts ? `lab-scenario-${process.pid}` : 'lab',
    onState: (name, state) => {
      states.set(name, state);
      const up = [...states].filter(([, s]) => s === 'up').map(([n]) => n);
      const starting = [...states].filter(([, s]) => s === 'starting').map(([n]) => n);
      ui.status(`starting a local system: ${up.length} of 9 up${starting.length ? ` · waiting for ${starting.join(', ')}` : ''}`);
    },
  });
  try {
    ui.log(`starting a local system for this run (${useFreePorts ? 'free ports' : "the lab's ports"}): 3 Hazelcast members, config-server, messages, 3 logging instances, facade`);
    await system.start(); // checks every port before anything starts
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof PortsBusyError) {
      throw new UsageError(`no facade answers at ${system.facadeUrl}, and the lab's ports ${err.busy.map((b) => b.port).join(', ')} are in use: stop what holds them, or run with --own-system --free-ports`);
    }
    throw err;
  }
  return { system, dir };
}

async function main(): Promise<void> {
  let args: ScenarioArgs;
  try {
    args = parseScenarioArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const ui = new Progress();
  let own: { system: LocalSystem; dir: string } | undefined;
  const cleanUp = async () => {
    ui.done();
    if (own) {
      ui.status('stopping the local system this run started');
      await own.system.stop();
      rmSync(own.dir, { recursive: true, force: true });
      ui.done();
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      ui.log(`${signal}: stopping`);
      void cleanUp().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  const defaultFacade = `http://127.0.0.1:${LAB_PORTS.facade}`;
  const manual = new ManualStopper(args.kubernetes, args.namespace, args.waitTimeoutMs);
  let facadeUrl: string;
  let stopper: Stopper;
  let mode: string;
  try {
    if (args.ownSystem || (!args.facade && !args.kubernetes && !(await answers(defaultFacade)))) {
      own = await startOwnSystem(args.freePorts, ui);
      facadeUrl = own.system.facadeUrl;
      stopper = new OwnSystemStopper(own.system);
      mode = `a local system started for this run (${args.freePorts ? 'free ports' : "the lab's ports"}) and stopped after it`;
    } else {
      facadeUrl = args.facade ?? defaultFacade;
      if (!(await answers(facadeUrl))) throw new UsageError(`no facade answers at ${facadeUrl}/readyz`);
      if (args.kubernetes || !isLoopback(hostOfUrl(facadeUrl))) {
        stopper = manual;
        mode = args.kubernetes ? 'Kubernetes, reached through the facade (pods are deleted with kubectl when asked)' : 'a remote system (members are stopped by hand when asked)';
      } else {
        stopper = new PidStopper(manual);
        mode = 'the local system already running (e.g. npm start); members and logging instances are stopped by pid';
      }
    }
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`\ncannot run the scenario: ${e.message}\n`);
    if (err instanceof StartError) for (const line of err.logTail) process.stderr.write(`  ${line}\n`);
    if (!(err instanceof UsageError || err instanceof StartError || err instanceof PrerequisiteError)) process.stderr.write(`${e.stack}\n`);
    await cleanUp();
    process.exit(2);
  }

  const facade = new FacadeApi(facadeUrl, `scenario-${randomBytes(3).toString('hex')}`);
  if (stopper instanceof PidStopper) {
    // A local system whose parts were stopped earlier (say, by the last run) does not heal by itself.
    try {
      await checkWhole(facade, ui, DEGRADED_AFTER_MS, 'restart npm start (Ctrl+C in its terminal, then npm start again), then run the scenario again.');
    } catch (err) {
      ui.done();
      process.stderr.write(`\ncannot run the scenario: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  const report = await runScenario({ facade, stopper, ui, mode });
  ui.done();
  process.stdout.write(renderReport(report, process.stdout.isTTY === true));
  if (stopper instanceof PidStopper && stopper.stopped.length > 0) {
    process.stderr.write(`\nThis run stopped ${stopper.stopped.join(', ')}; restart npm start to have them back.\n`);
  }
  await cleanUp();
  process.exit(report.ok ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
