/**
 * Hazelcast members for local runs and tests: the pinned jar from the local Maven repository
 * (fetched with Maven on first use), started with the repo's member configuration.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, probeHttp, waitFor, type LineHandler } from './processes.js';
import { REPO_ROOT } from './repo.js';
import { HEALTH_PATHS } from '../services/logging/member-views.js';

/** The pinned Hazelcast version: package.json's `config.hazelcastVersion`, the one place it is set. */
export const HAZELCAST_VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).config.hazelcastVersion;

/**
 * The one member configuration, run as it is with the system properties startMember sets. It lives
 * in the chart because helm reads only files inside it: the chart renders its members' ConfigMap
 * from this file, changing only what differs on Kubernetes (discovery, ports, timings).
 */
export const MEMBER_CONFIG = join(REPO_ROOT, 'charts', 'lab', 'files', 'hazelcast.yaml');

/** The pinned Prometheus JMX exporter (a Java agent in each member): package.json's `config.jmxExporterVersion`. */
export const JMX_EXPORTER_VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).config.jmxExporterVersion;

/** The exporter's rules, the chart's own file (its members' ConfigMap carries it), like MEMBER_CONFIG. */
export const JMX_EXPORTER_CONFIG = join(REPO_ROOT, 'charts', 'lab', 'files', 'jmx-exporter.yaml');

/** JVM flags Hazelcast asks for on Java 9+ to reach the internal APIs it uses for speed. */
const JAVA_MODULE_FLAGS = [
  '--add-modules', 'java.se',
  '--add-exports', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.management/sun.management=ALL-UNNAMED',
  '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
];

/** A prerequisite is missing; the message says what to install, in one line. */
export class PrerequisiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrerequisiteError';
  }
}

const hasCommand = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** An artifact's place in the local Maven repository (a jar unless `type` says otherwise). */
function m2Path(group: string, artifact: string, version: string, type = 'jar', classifier = ''): string {
  const file = `${artifact}-${version}${classifier ? `-${classifier}` : ''}.${type}`;
  return join(homedir(), '.m2', 'repository', ...group.split('.'), artifact, version, file);
}

/** Returns an artifact from ~/.m2, fetching it with Maven first if needed. @throws PrerequisiteError */
function ensureMavenArtifact(
  what: string, group: string, artifact: string, version: string, log: (line: string) => void, type = 'jar', classifier = '',
): string {
  const file = m2Path(group, artifact, version, type, classifier);
  if (existsSync(file)) return file;
  const coordinates = [group, artifact, version, ...(type !== 'jar' || classifier ? [type] : []), ...(classifier ? [classifier] : [])].join(':');
  if (!hasCommand('mvn', ['-v'])) {
    throw new PrerequisiteError(`Maven is needed once to fetch ${what} (${coordinates}): install Maven (e.g. \`apt-get install maven\`) and run again.`);
  }
  log(`fetching ${coordinates} with Maven (once)…`);
  const res = spawnSync('mvn', ['-q', '-B', 'dependency:get', `-Dartifact=${coordinates}`, '-Dtransitive=false'], { encoding: 'utf8' });
  if (res.status !== 0 || !existsSync(file)) {
    const why = (res.stdout + res.stderr).trim().split('\n').slice(-3).join(' | ');
    throw new PrerequisiteError(`Maven could not fetch ${coordinates}: ${why}`);
  }
  return file;
}

/**
 * Checks for Java and returns the Hazelcast jar, fetching it with Maven into ~/.m2 if needed.
 * @throws PrerequisiteError when Java or Maven is missing or the download fails
 */
export function ensureHazelcastJar(log: (line: string) => void = () => undefined): string {
  if (!hasCommand('java', ['-version'])) {
    throw new PrerequisiteError('Java 17 or newer is needed to run Hazelcast members: install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) and put `java` on PATH.');
  }
  return ensureMavenArtifact(`the Hazelcast ${HAZELCAST_VERSION} jar`, 'com.hazelcast', 'hazelcast', HAZELCAST_VERSION, log);
}

/** The Prometheus JMX exporter's agent jar, fetched with Maven into ~/.m2 on first use. @throws PrerequisiteError */
export function ensureJmxExporterJar(log: (line: string) => void = () => undefined): string {
  return ensureMavenArtifact(`the Prometheus JMX exporter ${JMX_EXPORTER_VERSION}`, 'io.prometheus.jmx', 'jmx_prometheus_javaagent', JMX_EXPORTER_VERSION, log);
}

/**
 * The official Hazelcast image's layout and ENV (hazelcast-docker's Dockerfile): the distribution
 * unpacked in `home`, its working directory, and these variables before any a pod sets. The local
 * node's image is made with them, and the chart test that runs `hz start` starts it with them.
 */
export const OFFICIAL_IMAGE = {
  home: '/opt/hazelcast',
  env: {
    HZ_HOME: '/opt/hazelcast',
    CLASSPATH_DEFAULT: '/opt/hazelcast/*',
    JAVA_OPTS_DEFAULT: '-Djava.net.preferIPv4Stack=true -XX:MaxRAMPercentage=80.0',
    PROMETHEUS_PORT: '',
    PROMETHEUS_CONFIG: '/opt/hazelcast/config/jmx_agent_config.yaml',
    HAZELCAST_CONFIG: 'config/hazelcast-docker.xml',
    LANG: 'C.UTF-8',
  },
} as const;

/**
 * The official Hazelcast distribution of the pinned version, slim variant (the zip the official
 * image unpacks into /opt/hazelcast: its `bin/hz` start script, `config/` and `lib/`, the JMX
 * exporter the image runs included), fetched with Maven and unpacked once under .run/. Tests run
 * the image's own start script from it, and the local node's Hazelcast image is made from it.
 * @returns the unpacked home (HZ_HOME) @throws PrerequisiteError
 */
export function ensureHazelcastDistribution(log: (line: string) => void = () => undefined): string {
  const home = join(REPO_ROOT, '.run', `hazelcast-${HAZELCAST_VERSION}-slim`);
  if (existsSync(join(home, 'bin', 'hz'))) return home;
  const zip = ensureMavenArtifact(`the Hazelcast ${HAZELCAST_VERSION} distribution (slim)`, 'com.hazelcast', 'hazelcast-distribution', HAZELCAST_VERSION, log, 'zip', 'slim');
  if (!hasCommand('unzip', ['-v'])) throw new PrerequisiteError('unzip is needed once to unpack the Hazelcast distribution: install it (e.g. `apt-get install unzip`).');
  const scratch = `${home}.unpacking-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const res = spawnSync('unzip', ['-q', zip, '-d', scratch], { encoding: 'utf8' });
  if (res.status !== 0) throw new PrerequisiteError(`could not unpack ${zip}: ${res.stderr.trim()}`);
  // The zip holds one folder, hazelcast-<version>-slim; the rename makes the unpacked home appear whole or not at all.
  rmSync(home, { recursive: true, force: true });
  renameSync(join(scratch, `hazelcast-${HAZELCAST_VERSION}-slim`), home);
  rmSync(scratch, { recursive: true, force: true });
  return home;
}

export interface MemberOptions {
  name: string;
  port: number;
  /** The loopback address it binds and connects from (default 127.0.0.1); see SystemOptions.memberHosts. */
  host?: string;
  /** `host:port` of every member of the cluster, this one included (TCP-IP join). */
  members: string[];
  clusterName: string;
  mapName: string;
  jar: string;
  /**
   * Where the member's Prometheus exporter listens (`/metrics`, on `host` only): the JMX exporter
   * agent (`agentJar`) with charts/lab/files/jmx-exporter.yaml. None when not given.
   */
  metrics?: { port: number; agentJar: string };
  heapMb?: number;
  /** More JVM flags, e.g. for a measurement. */
  jvmFlags?: string[];
  configFile?: string;
  onLine?: LineHandler;
}

/**
 * Heap of a local member (npm start, tests, bench): room for 1,000,000 messages with backup-count 2
 * and headroom. Each member holds every entry; measured at about 417 bytes a message of 32
 * characters (docs/reads-and-capacity.md), so a million take about 40 % of it. Only what is used is committed.
 */
export const MEMBER_HEAP_MB = 1024;

/** One line per record, level first after the time (java.util.logging's SimpleFormatter). */
const MEMBER_LOG_FORMAT = '%1$tH:%1$tM:%1$tS.%1$tL %4$s %3$s %5$s%6$s%n';
const RECORD_START = /^\d\d:\d\d:\d\d\.\d{3} (SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST) /;

/**
 * Sorts members' output lines by the level of the record they belong to: a record's first line
 * names its level, and its other lines (the logo, a member list, a stack trace) follow it.
 */
export class MemberLogLevels {
  private readonly current = new Map<string, string>();

  isWarningOrWorse(member: string, line: string): boolean {
    const level = RECORD_START.exec(line)?.[1];
    if (level) this.current.set(member, level);
    const now = this.current.get(member);
    // Output before any record (e.g. the JVM's own) is shown: it is rare and usually an error.
    return now === undefined || now === 'WARNING' || now === 'SEVERE';
  }
}

export function startMember(o: MemberOptions): ManagedProcess {
  const heap = o.heapMb ?? MEMBER_HEAP_MB;
  return new ManagedProcess(
    o.name,
    'java',
    [
      `-Xms${Math.min(64, heap)}m`,
      `-Xmx${heap}m`,
      '-XX:+UseSerialGC',
      ...(o.jvmFlags ?? []),
      ...(o.metrics ? [`-javaagent:${o.metrics.agentJar}=${o.host ?? '127.0.0.1'}:${o.metrics.port}:${JMX_EXPORTER_CONFIG}`] : []),
      ...JAVA_MODULE_FLAGS,
      `-Djava.util.logging.SimpleFormatter.format=${MEMBER_LOG_FORMAT}`,
      `-Dhazelcast.config=${o.configFile ?? MEMBER_CONFIG}`,
      `-Dlab.cluster.name=${o.clusterName}`,
      `-Dlab.member.host=${o.host ?? '127.0.0.1'}`,
      `-Dlab.member.port=${o.port}`,
      `-Dlab.members=${o.members.join(',')}`,
      `-Dlab.map.name=${o.mapName}`,
      '-cp',
      o.jar,
      'com.hazelcast.core.server.HazelcastMemberStarter',
    ],
    { env: process.env, onLine: o.onLine },
  );
}

/** A member's own view of the cluster (`/hazelcast/health`). */
export interface MemberHealth {
  nodeState: string;
  clusterState: string;
  clusterSafe: boolean;
  migrationQueueSize: number;
  clusterSize: number;
}

/** @param address the member's `host:port` */
export async function memberHealth(address: string): Promise<MemberHealth | undefined> {
  const { status, body } = await probeHttp(`http://${address}/hazelcast/health`);
  return status === 200 && typeof body === 'object' ? (body as MemberHealth) : undefined;
}

/**
 * The size of the cluster a member sees (`/hazelcast/health/cluster-size`). Unlike the whole
 * `/hazelcast/health` it works nothing else out, so it answers at once while members drop one
 * another; the whole one can take seconds then (services/logging/member-views.ts).
 * @returns undefined when the member does not answer 200 with a number
 */
export async function memberClusterSize(address: string): Promise<number | undefined> {
  const { status, body } = await probeHttp(`http://${address}${HEALTH_PATHS.clusterSize}`);
  return status === 200 && typeof body === 'number' ? body : undefined;
}

/**
 * Waits until the member on `port` sees a cluster of `size` members that is safe: no migrations
 * pending and every partition's backups in place.
 */
export function waitForSafeCluster(
  member: ManagedProcess | undefined, address: string, size: number, timeoutMs: number,
): Promise<MemberHealth> {
  return waitFor(
    member,
    `a safe cluster of ${size} members`,
    async () => {
      const h = await memberHealth(address);
      return h && h.nodeState === 'ACTIVE' && h.clusterSize === size && h.clusterSafe && h.migrationQueueSize === 0 ? h : undefined;
    },
    timeoutMs,
    250,
  );
}
