/**
 * `npm start`: the lab's seven terminals in one command. Checks the lab's ports, starts three
 * Hazelcast members, waits for the cluster, then config-server, messages, three logging instances
 * and the facade; shows each component's state, prefixes every log line with its process's name,
 * and stops it all on Ctrl+C. Members show WARNING and above (`--verbose`: everything); every
 * component's whole output is in `.run/logs/<name>.log`. Exits 1 when anything fails to start.
 */
import { join, relative } from 'node:path';
import { commandLineOrExit } from './args.js';
import { LocalSystem, PortsBusyError, StartError, type ComponentState } from './system.js';
import { MemberLogLevels, PrerequisiteError } from './hazelcast.js';
import { REPO_ROOT } from './repo.js';

const USAGE = 'usage: npm start [-- --verbose]   (--verbose: every line the members print, not only warnings)';

const tty = process.stdout.isTTY;
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];
const colorOf = new Map<string, number>();
const tag = (name: string) => {
  if (!colorOf.has(name)) colorOf.set(name, COLORS[colorOf.size % COLORS.length]!);
  return paint(colorOf.get(name)!, `[${name.padEnd(13)}]`);
};

/** Service lines are JSON; show them as `level message {rest}` so a person can read them. */
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, time, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    // Every line has these; the console shows the rest.
    const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'service' && k !== 'pid' && k !== 'hostname'));
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    const when = typeof time === 'string' ? time.slice(11, 23) : '';
    return `${when} ${String(level).padEnd(5)} ${msg}${extra}`;
  } catch {
    return line;
  }
}

const STATE_MARK: Record<ComponentState, string> = {
  starting: paint(33, '…'),
  up: paint(32, '✔'),
  failed: paint(31, '✘'),
  stopping: paint(33, '…'),
  stopped: paint(90, '■'),
};

async function main(): Promise<void> {
  const { values } = commandLineOrExit(USAGE, { options: { verbose: { type: 'boolean', default: false } } });
  const verbose = values.verbose;
  const logDir = join(REPO_ROOT, '.run', 'logs');
  const memberLevels = new MemberLogLevels();
  let quietLogs = false;
  const system = new LocalSystem({
    runDir: join(REPO_ROOT, '.run'),
    logDir,
    onLine: (name, line) => {
      const shown = verbose || !name.startsWith('hz-') || memberLevels.isWarningOrWorse(name, line);
      if (shown && !quietLogs) process.stdout.write(`${tag(name)} ${readable(line)}\n`);
    },
    onState: (name, state, detail) => {
      process.stdout.write(`${STATE_MARK[state]} ${name.padEnd(13)} ${state}${detail ? `  ${detail}` : ''}\n`);
    },
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping everything (facade first, Hazelcast last)…\n`);
    await system.stop();
    process.stdout.write('all stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await system.start();
  } catch (err) {
    quietLogs = true;
    if (err instanceof PrerequisiteError || err instanceof PortsBusyError) {
      process.stderr.write(`${paint(31, 'cannot start:')} ${err.message}\n`);
    } else if (err instanceof StartError) {
      process.stderr.write(`\n${paint(31, `${err.component} failed to start:`)} ${err.message}\nlast lines of ${err.component} (all of them: ${relative(process.cwd(), join(logDir, `${err.component}.log`))}):\n`);
      for (const line of err.logTail) process.stderr.write(`  ${readable(line)}\n`);
    } else {
      process.stderr.write(`${paint(31, 'cannot start:')} ${(err as Error).message}\n`);
    }
    await system.stop();
    process.exit(1);
  }

  const f = system.facadeUrl;
  process.stdout.write(
    [
      '',
      paint(32, 'lab is up:'),
      `  dashboard      ${f}/`,
      `  facade         ${f}/facade`,
      ...system.ports.logging.map((_, i) => `  logging-${i + 1}      ${system.loggingUrl(i)}/logging`),
      `  messages       http://127.0.0.1:${system.ports.messages}/messages`,
      `  config-server  ${system.configServerUrl}/services`,
      `  hazelcast      ${system.memberAddresses.join(', ')}  (cluster "${system.clusterName}", map "${system.mapName}")`,
      '',
      'try:',
      `  curl -d msg=hello ${f}/facade`,
      `  curl ${f}/facade`,
      '',
      `logs: ${relative(process.cwd(), logDir)}/<name>.log${verbose ? '' : ' (members show warnings here; npm start -- --verbose shows everything)'}`,
      'Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );

  // A component that dies while the system runs is reported; the rest keeps running, as in the lab.
  for (const p of system.processes()) {
    void p.exited.then((status) => {
      if (!stopping) process.stdout.write(`${paint(31, '✘')} ${p.name} exited (${status})\n`);
    });
  }
}

void main();
