/**
 * The benchmark's command line. Durations, connections and sizes are flags, so a short noisy run
 * while developing and the long quiet one for the README are the same script.
 */
import { parseArgs } from 'node:util';

/** The measurement groups, in the order they run; `--only` picks some of them. */
export const GROUPS = ['limit-a', 'limit-b', 'direct', 'e2e', 'open-loop', 'reads', 'scale-out', 'million'] as const;
export type Group = (typeof GROUPS)[number];
/** Single scenarios `--only` also takes, e.g. to profile POST /facade alone. */
export const SCENARIOS = ['limit-a-put', 'limit-a-read', 'direct-get', 'direct-post', 'e2e-get', 'e2e-post'] as const;

export interface BenchOptions {
  /** Seconds of measurement per scenario. */
  durationSec: number;
  /** Seconds of unmeasured load before each scenario. */
  warmupSec: number;
  connections: number;
  /** Map sizes for "reads at scale". */
  sizes: number[];
  /** Connections for "reads at scale": big answers at 32 connections measure queueing, not a read. */
  scaleConnections: number;
  /** Sizes above this are measured with a fixed number of requests instead of for a duration. */
  fixedAbove: number;
  /** Requests per size above `fixedAbove`. */
  fixedRequests: number;
  /** Logging instance counts for "scale-out". */
  loggingCounts: number[];
  /** Length of each posted message, in characters. */
  msgBytes: number;
  /** Messages the "million" group fills the map with. */
  millionCount: number;
  /**
   * POSTs per second alongside the million group's full read (and on the idle system, to compare)
   * when this run has no closed-loop maximum of POST /facade to take a share of.
   */
  postRate: number;
  /** Shares of the closed-loop maximum of POST /facade offered by the open-loop group, in %. */
  openLoopPercents: number[];
  /** Measured seconds per open-loop rate. */
  openLoopSec: number;
  /** Where the open-loop chart is written. */
  openLoopSvg: string;
  /** Groups and single scenarios to run (`--only`, less `--skip`). */
  only: string[];
  out: string;
  /** An earlier run's `--out` file: its POST /facade CPU per request is the CPU target's baseline. */
  baseline: string | undefined;
  /** Where the services write `--cpu-prof` profiles, if set (own system only). */
  cpuProfDir: string | undefined;
  /** Extra environment for the services the bench starts, e.g. LOG_LEVEL=info to see its cost. */
  serviceEnv: Record<string, string>;
  /** A running system to target instead of starting one. */
  remote: { facade?: string; logging?: string; members?: string[]; clusterName: string; mapName: string } | undefined;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [flags]

Starts its own system on free ports (3 Hazelcast members, config-server, messages, 3 logging,
facade), measures, prints a table and writes JSON; stops everything at the end.

  --duration S            seconds measured per scenario            (default 10)
  --warmup S              seconds of unmeasured load before each   (default 3)
  --connections N         concurrent connections / async loops     (default 32)
  --sizes A,B,...         map sizes for GET /facade at scale       (default 10,1000,10000,100000)
  --scale-connections N   connections for the reads at scale       (default 4)
  --fixed-above N         sizes above N: a fixed request count     (default 10000)
  --fixed-requests N      requests per size above --fixed-above    (default 20)
  --logging-counts A,...  logging instances for the scale-out      (default 1,2,3)
  --msg-bytes N           length of each posted message            (default 32)
  --million N             messages for the "million" group         (default 1000000)
  --post-rate N           POSTs/s alongside its full read when this run
                          has no e2e-post to take half of          (default 50)
  --open-loop-rates P,... open loop: POST /facade at these % of its
                          closed-loop maximum (measured by e2e-post) (default 25,50,75,90)
  --open-loop-duration S  seconds measured per open-loop rate      (default 12)
  --open-loop-svg FILE    the open-loop chart                      (default docs/open-loop.svg)
  --only G,...            only these groups: ${GROUPS.join(', ')}
                          or scenarios: ${SCENARIOS.join(', ')}
  --skip G,...            all but these groups, e.g. --skip open-loop,million
  --out FILE              JSON results                             (default .run/bench.json)
  --baseline FILE         an earlier run's --out (the starting commit's): the
                          CPU per POST /facade target is judged against it
  --cpu-prof DIR          run the services with --cpu-prof, profiles into DIR
  --service-env K=V       extra environment for the services (repeatable; default LOG_LEVEL=warn)
  --facade URL            target a running facade instead (e.g. http://127.0.0.1:8080)
  --logging URL           ... and this logging instance for the direct scenarios
  --members H:P,...       ... and these Hazelcast members for limit A
  --cluster-name NAME     cluster name of --members                (default lab)
  --hz-map NAME           scratch map for limit A on --members     (default bench-limit-a)
  --help
`;

function number(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, not "${value}"`);
  return n;
}

function integers(name: string, value: string | undefined, fallback: number[], min: number): number[] {
  if (value === undefined) return fallback;
  const list = value.split(',').map((s) => s.trim()).filter(Boolean).map((s) => number(name, s, 0, min));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n))) throw new Error(`--${name} must be a comma-separated list of integers ≥ ${min}`);
  return list;
}

function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^/]+$/.test(value.replace(/\/+$/, ''))) throw new Error(`--${name} must be a base URL like http://127.0.0.1:8080, not "${value}"`);
  return value.replace(/\/+$/, '');
}

/**
 * Parses the command line.
 * @throws Error naming the flag for an unknown flag or a bad value
 */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      sizes: { type: 'string' },
      'scale-connections': { type: 'string' },
      'fixed-above': { type: 'string' },
      'fixed-requests': { type: 'string' },
      'logging-counts': { type: 'string' },
      'msg-bytes': { type: 'string' },
      million: { type: 'string' },
      'post-rate': { type: 'string' },
      'open-loop-rates': { type: 'string' },
      'open-loop-duration': { type: 'string' },
      'open-loop-svg': { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      out: { type: 'string' },
      baseline: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'service-env': { type: 'string', multiple: true },
      facade: { type: 'string' },
      logging: { type: 'string' },
      members: { type: 'string' },
      'cluster-name': { type: 'string' },
      'hz-map': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const only = values.only === undefined ? [...GROUPS] : values.only.split(',').map((s) => s.trim()).filter(Boolean);
  const known: readonly string[] = [...GROUPS, ...SCENARIOS];
  if (only.length === 0 || only.some((g) => !known.includes(g))) throw new Error(`--only takes groups or scenarios from: ${known.join(', ')}`);
  const skip = values.skip?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  if (skip.some((g) => !(GROUPS as readonly string[]).includes(g))) throw new Error(`--skip takes groups from: ${GROUPS.join(', ')}`);
  const selected = only.filter((g) => !skip.some((s) => g === s || g.startsWith(`${s}-`)));
  if (selected.length === 0) throw new Error('--skip leaves nothing to run');
  const openLoopPercents = integers('open-loop-rates', values['open-loop-rates'], [25, 50, 75, 90], 1);
  const loggingCounts = integers('logging-counts', values['logging-counts'], [1, 2, 3], 1);
  if (loggingCounts.some((n) => n > 3)) throw new Error('--logging-counts: the system has 3 logging instances');
  const facade = url('facade', values.facade);
  const logging = url('logging', values.logging);
  const members = values.members?.split(',').map((s) => s.trim()).filter(Boolean);
  const remote = facade || logging || members ? { facade, logging, members, clusterName: values['cluster-name'] ?? 'lab', mapName: values['hz-map'] ?? 'bench-limit-a' } : undefined;
  if (remote && values['cpu-prof']) throw new Error('--cpu-prof needs the bench to start the services itself');
  const serviceEnv: Record<string, string> = {};
  for (const pair of values['service-env'] ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--service-env takes KEY=VALUE, not "${pair}"`);
    serviceEnv[match[1]!] = match[2]!;
  }
  if (remote && Object.keys(serviceEnv).length > 0) throw new Error('--service-env needs the bench to start the services itself');
  return {
    durationSec: number('duration', values.duration, 10, 0.5),
    warmupSec: number('warmup', values.warmup, 3, 0),
    connections: Math.round(number('connections', values.connections, 32, 1)),
    sizes: integers('sizes', values.sizes, [10, 1_000, 10_000, 100_000], 1),
    scaleConnections: Math.round(number('scale-connections', values['scale-connections'], 4, 1)),
    fixedAbove: number('fixed-above', values['fixed-above'], 10_000, 0),
    fixedRequests: Math.round(number('fixed-requests', values['fixed-requests'], 20, 1)),
    loggingCounts,
    msgBytes: Math.round(number('msg-bytes', values['msg-bytes'], 32, 1)),
    millionCount: Math.round(number('million', values.million, 1_000_000, 2_000)),
    postRate: number('post-rate', values['post-rate'], 50, 1),
    openLoopPercents,
    openLoopSec: number('open-loop-duration', values['open-loop-duration'], 12, 0.5),
    openLoopSvg: values['open-loop-svg'] ?? 'docs/open-loop.svg',
    only: selected,
    out: values.out ?? '.run/bench.json',
    baseline: values.baseline,
    cpuProfDir: values['cpu-prof'],
    serviceEnv,
    remote,
    help: values.help ?? false,
  };
}
