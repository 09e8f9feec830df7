/**
 * `npm run chaos`: starts the whole system on free loopback ports (beside any running `npm start`),
 * runs the fault scenarios R1–R13 under a paced write load, prints the table and writes the figures
 * to .run/chaos.json. Exits non-zero if any acknowledged message was lost or any request failed
 * unexpectedly. `npm run chaos -- R1 R2` runs a subset; `--repeat N` runs them N times over, on
 * the same system, and fails if any run fails.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLineOrExit, exitWithUsage } from '../local/args.js';
import { LocalSystem, freeSystemPorts } from '../local/system.js';
import { REPO_ROOT } from '../local/repo.js';
import { SCENARIOS, formatTable, runChaos, type ChaosResult } from '../drills/faults.js';
import { LOGGING_HOSTS, PARTITION_HOSTS, partitionUnsupported } from '../drills/partition.js';

const USAGE = 'usage: npm run chaos -- [R1 … R13] [--repeat N] [--logs DIR (every process\'s output, kept)]';

async function main(): Promise<void> {
  const { values, positionals: ids } = commandLineOrExit(USAGE, {
    allowPositionals: true,
    options: { repeat: { type: 'string', default: '1' }, logs: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) exitWithUsage(USAGE, `--repeat must be a whole number of runs, at least 1, not ${JSON.stringify(values.repeat)}`);
  const unknown = ids.filter((id) => !(id in SCENARIOS));
  if (unknown.length) exitWithUsage(USAGE, `no such scenario: ${unknown.join(', ')} (there are ${Object.keys(SCENARIOS).join(', ')})`);
  // R5 (every member down) last: it loses what is stored, on purpose.
  const order = (id: string) => (id === 'R5' ? Infinity : Number(id.slice(1)));
  let chosen = ids.length ? ids : Object.keys(SCENARIOS).sort((a, b) => order(a) - order(b));
  // R9 cuts links between members, R12 makes a member's address vanish, R13 a logging instance's: they need iptables.
  const noPartitions = partitionUnsupported();
  const needIptables: string[] = chosen.filter((id) => id === 'R9' || id === 'R12' || id === 'R13');
  if (noPartitions && needIptables.length) {
    if (needIptables.some((id) => ids.includes(id)) || process.env.CI) throw new Error(`${needIptables.join(', ')} cannot run: ${noPartitions}`);
    process.stdout.write(`\n  ⚠ SKIPPING ${needIptables.join(', ')} (iptables rules on loopback): ${noPartitions}.\n\n`);
    chosen = chosen.filter((id) => !needIptables.includes(id));
  }
  const dir = mkdtempSync(join(tmpdir(), 'lab-chaos-'));
  const system = new LocalSystem({
    ports: await freeSystemPorts(),
    runDir: dir,
    logDir: values.logs,
    clusterName: `lab-chaos-${process.pid}`,
    // Each member on its own loopback address, so R9 can cut the links between them; each logging
    // instance on its own, so R13 can make one vanish.
    memberHosts: PARTITION_HOSTS,
    loggingHosts: LOGGING_HOSTS,
    logLevel: 'warn',
    onState: (name, state) => state === 'failed' && process.stdout.write(`  ✘ ${name} failed\n`),
  });
  const stop = async () => {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  const t0 = Date.now();
  try {
    process.stdout.write('starting three members and the services on free ports …\n');
    await system.start();
    const results: ChaosResult[] = [];
    for (let run = 1; run <= repeat; run++) {
      const log = (l: string) => process.stdout.write(`  [${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]${repeat > 1 ? ` run ${run}/${repeat}` : ''} ${l}\n`);
      for (const r of await runChaos(system, chosen, { log })) results.push(repeat > 1 ? { ...r, id: `${r.id} #${run}` } : r);
    }
    process.stdout.write(`\n${formatTable(results)}\n\n`);
    mkdirSync(join(REPO_ROOT, '.run'), { recursive: true });
    const out = join(REPO_ROOT, '.run', 'chaos.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
    process.stdout.write(`figures written to ${out}\n`);
    const bad = results.filter((r) => r.lost > 0 || r.failed > 0 || r.duplicates > 0);
    await stop();
    if (repeat > 1) {
      for (const id of chosen) {
        const runs = results.filter((r) => r.id.startsWith(`${id} #`));
        process.stdout.write(`${id}: ${runs.length - runs.filter((r) => bad.includes(r)).length} of ${runs.length} runs passed\n`);
      }
    }
    if (bad.length) {
      process.stdout.write(`FAILED: ${bad.map((r) => r.id).join(', ')}\n`);
      process.exit(1);
    }
    process.stdout.write('zero acknowledged messages lost, zero unexpected failures.\n');
  } catch (err) {
    process.stderr.write(`chaos run failed: ${(err as Error).message}\n`);
    await stop();
    process.exit(1);
  }
}

void main();
