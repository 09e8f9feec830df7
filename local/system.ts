/**
 * The whole system on one machine: three Hazelcast members, config-server (with a registry of
 * the local URLs), messages, three logging instances and the facade, each a real process.
 * `npm start` uses it with the lab's ports; tests use it with free ports.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, probeHttp, waitFor, type LineHandler } from './processes.js';
import { ensureHazelcastJar, ensureJmxExporterJar, startMember, waitForSafeCluster } from './hazelcast.js';
import { REPO_ROOT } from './repo.js';
import { freePorts, isPortFree, portHolder } from './ports.js';

export interface Ports {
  facade: number;
  messages: number;
  configServer: number;
  logging: number[];
  members: number[];
  /** Each member's Prometheus exporter (`/metrics`), on the member's own host. */
  memberMetrics: number[];
}

/** The lab's ports. */
export const LAB_PORTS: Ports = {
  facade: 8080,
  messages: 8082,
  configServer: 8888,
  logging: [8081, 8083, 8085],
  members: [5701, 5702, 5703],
  memberMetrics: [9701, 9702, 9703],
};

/** A full set of free loopback ports, for runs beside a running `npm start` (tests, chaos, bench). */
export async function freeSystemPorts(): Promise<Ports> {
  const p = await freePorts(12);
  return {
    facade: p[0]!, messages: p[1]!, configServer: p[2]!, logging: p.slice(3, 6), members: p.slice(6, 9), memberMetrics: p.slice(9, 12),
  };
}

export type ComponentState = 'starting' | 'up' | 'failed' | 'stopping' | 'stopped';

export interface SystemOptions {
  ports?: Ports;
  /** Where the generated registry file goes. */
  runDir: string;
  /** When set, every component's whole output also goes to `<logDir>/<name>.log`. */
  logDir?: string;
  clusterName?: string;
  mapName?: string;
  logLevel?: string;
  /** The members' heap (default MEMBER_HEAP_MB) and any more JVM flags. */
  memberHeapMb?: number;
  memberJvmFlags?: string[];
  /**
   * The loopback address each member binds and connects from (default 127.0.0.1 for all). Give
   * each its own (e.g. PARTITION_HOSTS) and a partition can cut the links between members by
   * address while clients, which connect from 127.0.0.1, still reach every member.
   */
  memberHosts?: string[];
  /**
   * The loopback address each logging instance listens on (default 127.0.0.1 for all). Give each
   * its own (e.g. LOGGING_HOSTS) and one can vanish alone, as a lost node's pod does.
   */
  loggingHosts?: string[];
  /** Extra environment for every Node service, e.g. shorter timeouts in tests. */
  serviceEnv?: Record<string, string>;
  onLine?: LineHandler;
  onState?: (name: string, state: ComponentState, detail?: string) => void;
  startTimeoutMs?: number;
}

/** A component failed to start; carries its name and the last lines it printed. */
export class StartError extends Error {
  constructor(
    readonly component: string,
    readonly logTail: string[],
    message: string,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/** Ports the system needs are taken; the message names the first, and who holds it where visible. */
export class PortsBusyError extends Error {
  constructor(
    readonly busy: { port: number; component: string }[],
    /** The process holding the first of them, where this machine shows it. */
    holder: string | undefined,
  ) {
    const [first, ...rest] = busy;
    const more = rest.length ? `; ${rest.length} more of its ports are taken too (${rest.map((b) => b.port).join(', ')})` : '';
    super(`port ${first!.port} (${first!.component}) is in use${holder ? ` by ${holder}` : ''}${more}. Is the lab already running? Stop it, or free the port.`);
    this.name = 'PortsBusyError';
  }
}

/** How a stopped process ended, for a person: nothing when it ended as asked (SIGTERM, or 143 from a JVM). */
export function stopDetail(status: number | string): string | undefined {
  if (status === 0 || status === 143 || status === 'SIGTERM' || status === 'SIGINT') return undefined;
  if (status === 'SIGKILL') return 'killed: it did not stop in time';
  return `exit ${status}`;
}

const ENTRY = join(REPO_ROOT, 'dist', 'bin', 'lab.js');
const url = (port: number) => `http://127.0.0.1:${port}`;

export class LocalSystem {
  readonly ports: Ports;
  readonly clusterName: string;
  readonly mapName: string;
  readonly registryFile: string;
  readonly members: (ManagedProcess | undefined)[] = [];
  readonly logging: (ManagedProcess | undefined)[] = [];
  facade: ManagedProcess | undefined;
  messages: ManagedProcess | undefined;
  configServer: ManagedProcess | undefined;
  /** `OutOfMemoryError` lines the members have printed since the system was made. */
  memberOutOfMemoryErrors = 0;
  private jar = '';
  private exporterJar = '';
  private stopping: Promise<void> | undefined;
  /** Node processes that have said `listening`: proof that the port answering is theirs. */
  private readonly listening = new WeakSet<ManagedProcess>();
  private readonly logFiles = new Map<string, WriteStream>();
  /** While start() runs: told when any component exits. */
  private onExitDuringStart: ((proc: ManagedProcess, status: number | string) => void) | undefined;

  constructor(private readonly options: SystemOptions) {
    this.ports = options.ports ?? LAB_PORTS;
    this.clusterName = options.clusterName ?? 'lab';
    this.mapName = options.mapName ?? 'messages';
    this.registryFile = join(options.runDir, 'service-config.json');
  }

  /** Member `i`'s `host:port`. */
  memberAddress(i: number): string {
    return `${this.options.memberHosts?.[i] ?? '127.0.0.1'}:${this.ports.members[i]}`;
  }
  /** Every member's `host:port`, as clients are told to find them. */
  get memberAddresses(): string[] {
    return this.ports.members.map((_, i) => this.memberAddress(i));
  }

  get facadeUrl(): string {
    return url(this.ports.facade);
  }
  get configServerUrl(): string {
    return url(this.ports.configServer);
  }
  loggingUrl(i: number): string {
    return `http://${this.options.loggingHosts?.[i] ?? '127.0.0.1'}:${this.ports.logging[i]}`;
  }
  /** The registry: what config-server serves, in the lab's form and under the lab's names. */
  registry(): Record<'logging-service' | 'messages-service', string[]> {
    return {
      'logging-service': this.ports.logging.map((_, i) => `${this.loggingUrl(i)}/logging`),
      'messages-service': [`${url(this.ports.messages)}/messages`],
    };
  }

  private state(name: string, state: ComponentState, detail?: string): void {
    this.options.onState?.(name, state, detail);
  }
  private get timeout(): number {
    return this.options.startTimeoutMs ?? 90_000;
  }

  /** Every port the system will listen on, with the component that will. */
  portPlan(): { port: number; component: string }[] {
    const { facade, messages, configServer, logging, members, memberMetrics } = this.ports;
    return [
      ...members.map((port, i) => ({ port, component: `hz-${i + 1}` })),
      ...memberMetrics.map((port, i) => ({ port, component: `hz-${i + 1} metrics` })),
      { port: configServer, component: 'config-server' },
      { port: messages, component: 'messages' },
      ...logging.map((port, i) => ({ port, component: `logging-${i + 1}` })),
      { port: facade, component: 'facade' },
    ];
  }

  /** @throws PortsBusyError when any of the system's ports is taken */
  async checkPorts(): Promise<void> {
    const busy = [];
    for (const p of this.portPlan()) if (!(await isPortFree(p.port))) busy.push(p);
    // Only the first is named with its holder: finding one reads every process's open files.
    if (busy.length > 0) throw new PortsBusyError(busy, portHolder(busy[0]!.port));
  }

  /**
   * Checks every port, then starts everything in dependency order. If any component fails, or
   * exits while the rest start, stops what started and throws StartError (PortsBusyError first).
   */
  async start(): Promise<void> {
    await this.checkPorts();
    let exitedEarly!: (err: Error) => void;
    const early = new Promise<never>((_, reject) => (exitedEarly = reject));
    early.catch(() => undefined);
    this.onExitDuringStart = (proc, status) => {
      this.state(proc.name, 'failed', `exited (${status})`);
      exitedEarly(new StartError(proc.name, proc.logTail(), `${proc.name} exited (${status}) while the system was starting`));
    };
    try {
      await Promise.race([this.startInOrder(), early]);
    } catch (err) {
      this.onExitDuringStart = undefined;
      await this.stop();
      throw err;
    } finally {
      this.onExitDuringStart = undefined;
    }
  }

  private async startInOrder(): Promise<void> {
    await this.startCluster();
    mkdirSync(this.options.runDir, { recursive: true });
    writeFileSync(this.registryFile, `${JSON.stringify(this.registry(), null, 2)}\n`);
    await Promise.all([this.startConfigServer(), this.startMessages()]);
    await Promise.all(this.ports.logging.map((_, i) => this.startLogging(i)));
    await this.startFacade();
  }

  /** Every line to the component's log file (when there is a log folder), then to onLine. */
  private lineSink(): LineHandler | undefined {
    const { logDir, onLine } = this.options;
    if (!logDir) return onLine;
    return (name, line) => {
      let file = this.logFiles.get(name);
      if (!file) {
        mkdirSync(logDir, { recursive: true });
        file = createWriteStream(join(logDir, `${name}.log`));
        this.logFiles.set(name, file);
      }
      file.write(`${line}\n`);
      onLine?.(name, line);
    };
  }

  /** Watches a process it starts: an exit during start() fails the start. */
  private watch(proc: ManagedProcess): ManagedProcess {
    void proc.exited.then((status) => this.onExitDuringStart?.(proc, status));
    return proc;
  }

  /** Starts every member and waits for a safe cluster of all of them. */
  async startCluster(): Promise<void> {
    this.jar = ensureHazelcastJar((line) => this.options.onLine?.('setup', line));
    this.exporterJar = ensureJmxExporterJar((line) => this.options.onLine?.('setup', line));
    await Promise.all(this.ports.members.map((_, i) => this.startMember(i, false)));
    await this.waitForCluster(this.ports.members.length);
  }

  /** Starts member `i` (again); waits for it to join unless `wait` is false. */
  async startMember(i: number, wait = true): Promise<ManagedProcess> {
    const name = `hz-${i + 1}`;
    this.state(name, 'starting', this.memberAddress(i));
    const sink = this.lineSink();
    const proc = startMember({
      name,
      port: this.ports.members[i]!,
      host: this.options.memberHosts?.[i],
      members: this.memberAddresses,
      clusterName: this.clusterName,
      mapName: this.mapName,
      jar: this.jar || (this.jar = ensureHazelcastJar()),
      metrics: { port: this.ports.memberMetrics[i]!, agentJar: this.exporterJar || (this.exporterJar = ensureJmxExporterJar()) },
      heapMb: this.options.memberHeapMb,
      jvmFlags: this.options.memberJvmFlags,
      onLine: (member, line) => {
        if (line.includes('OutOfMemoryError')) this.memberOutOfMemoryErrors++;
        sink?.(member, line);
      },
    });
    this.members[i] = this.watch(proc);
    await this.guard(proc, () =>
      waitFor(proc, 'its REST health endpoint', async () => (await probeHttp(`http://${this.memberAddress(i)}/hazelcast/health`)).status === 200 || undefined, this.timeout),
    );
    if (wait) await this.waitForCluster(this.liveMemberCount());
    else this.state(name, 'up', this.memberAddress(i));
    return proc;
  }

  liveMemberCount(): number {
    return this.members.filter((m) => m?.running).length;
  }

  /** Waits until a live member reports a safe cluster of `size` (all backups in place). */
  async waitForCluster(size: number, timeoutMs = this.timeout): Promise<void> {
    const i = this.members.findIndex((m) => m?.running);
    if (i < 0) throw new Error('no member is running');
    await this.guard(this.members[i]!, () => waitForSafeCluster(this.members[i], this.memberAddress(i), size, timeoutMs));
    this.members.forEach((m, j) => m?.running && this.state(m.name, 'up', `${this.memberAddress(j)} · cluster of ${size}, safe`));
  }

  private node(name: string, service: string, env: Record<string, string>): ManagedProcess {
    this.state(name, 'starting');
    const sink = this.lineSink();
    const procEnv = { ...process.env, LOG_LEVEL: this.options.logLevel ?? 'info', ...this.options.serviceEnv, ...env };
    const proc: ManagedProcess = new ManagedProcess(name, process.execPath, [ENTRY, service], {
      env: procEnv,
      onLine: (n, line) => {
        if (line.includes('"msg":"listening"')) this.listening.add(proc);
        sink?.(n, line);
      },
    });
    // Above info the `listening` line is not printed; the ports were checked free before start.
    if (!['trace', 'debug', 'info'].includes(procEnv.LOG_LEVEL ?? 'info')) this.listening.add(proc);
    return this.watch(proc);
  }

  /**
   * Waits until the process has said it is listening and `/readyz` answers 200, or fails with the
   * process's log tail. Its own `listening` line matters: a 200 alone may come from another
   * process on the same port.
   */
  private async ready(proc: ManagedProcess, base: string): Promise<ManagedProcess> {
    await this.guard(proc, () =>
      waitFor(proc, 'readiness', async () => (this.listening.has(proc) && (await probeHttp(`${base}/readyz`)).status === 200 ? true : undefined), this.timeout),
    );
    if (!proc.running) throw new StartError(proc.name, proc.logTail(), `${proc.name} exited (${proc.exitCode}) as it became ready`);
    this.state(proc.name, 'up', base);
    return proc;
  }

  private async guard<T>(proc: ManagedProcess, wait: () => Promise<T>): Promise<T> {
    try {
      return await wait();
    } catch (err) {
      this.state(proc.name, 'failed', (err as Error).message);
      throw new StartError(proc.name, proc.logTail(), (err as Error).message);
    }
  }

  async startConfigServer(): Promise<ManagedProcess> {
    const p = this.node('config-server', 'config-server', { PORT: String(this.ports.configServer), REGISTRY_FILE: this.registryFile, REGISTRY_POLL_MS: '500' });
    this.configServer = p;
    return this.ready(p, this.configServerUrl);
  }

  async startMessages(): Promise<ManagedProcess> {
    const p = this.node('messages', 'messages', { PORT: String(this.ports.messages) });
    this.messages = p;
    return this.ready(p, url(this.ports.messages));
  }

  async startLogging(i: number): Promise<ManagedProcess> {
    const p = this.node(`logging-${i + 1}`, 'logging', {
      PORT: String(this.ports.logging[i]),
      HOST: this.options.loggingHosts?.[i] ?? '127.0.0.1',
      INSTANCE_NAME: `${this.loggingUrl(i)}/logging`,
      HZ_CLUSTER_NAME: this.clusterName,
      HZ_MAP_NAME: this.mapName,
      HZ_MEMBERS: this.memberAddresses.join(','),
      HZ_METRICS_PORTS: this.ports.members.map((p, j) => `${p}=${this.ports.memberMetrics[j]}`).join(','),
    });
    this.logging[i] = p;
    return this.ready(p, this.loggingUrl(i));
  }

  async startFacade(): Promise<ManagedProcess> {
    const p = this.node('facade', 'facade', { PORT: String(this.ports.facade), CONFIG_SERVER_URL: this.configServerUrl });
    this.facade = p;
    return this.ready(p, this.facadeUrl);
  }

  /** Every process, in the order they are stopped: callers first, Hazelcast last. */
  processes(): ManagedProcess[] {
    return [this.facade, ...this.logging, this.messages, this.configServer, ...this.members]
      .filter((p): p is ManagedProcess => p !== undefined);
  }

  /** Stops everything, callers before callees; idempotent. */
  stop(timeoutMs = 15_000): Promise<void> {
    this.stopping ??= (async () => {
      const stopGroup = (group: (ManagedProcess | undefined)[]) =>
        Promise.all(
          group.map(async (p) => {
            if (!p?.running) return;
            this.state(p.name, 'stopping');
            this.state(p.name, 'stopped', stopDetail(await p.stop(timeoutMs)));
          }),
        );
      await stopGroup([this.facade]);
      await stopGroup(this.logging);
      await stopGroup([this.messages, this.configServer]);
      await stopGroup(this.members);
      await Promise.all([...this.logFiles.values()].map((f) => new Promise((resolve) => f.end(resolve))));
    })();
    return this.stopping;
  }
}
