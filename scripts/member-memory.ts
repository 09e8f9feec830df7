/**
 * `npm run member-memory [-- --messages N --heap-mb M]`: how much memory a Hazelcast member needs
 * beyond its heap, measured. Three members with the chart's heap (70 % of 1536Mi: 1075 MB, the
 * heap fully committed as the chart's InitialRAMPercentage does) and Native Memory Tracking; the
 * map filled with N messages of 32 characters (default 1,000,000) through the logging service's
 * store, then read in full through a logging instance. For each member: the peak RSS, and what
 * the JVM committed outside the heap (metaspace, threads, code, GC, buffers).
 * The chart's member memory limit must cover heap + the largest non-heap figure + a margin.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { commandLineOrExit, exitWithUsage } from '../local/args.js';
import { LocalSystem, freeSystemPorts } from '../local/system.js';
import { BulkLoadingStore, addMessages, connect } from '../local/fill.js';
import { createLogger } from '../lib/log.js';

const USAGE = 'usage: npm run member-memory [-- --messages N (default 1000000) --heap-mb M (default 1075)]';
const { values } = commandLineOrExit(USAGE, { options: { messages: { type: 'string', default: '1000000' }, 'heap-mb': { type: 'string', default: '1075' } } });
const messages = Number(values.messages);
const heapMb = Number(values['heap-mb']);
if (!Number.isInteger(messages) || messages < 1) exitWithUsage(USAGE, `--messages must be a whole number, at least 1, not ${JSON.stringify(values.messages)}`);
if (!Number.isInteger(heapMb) || heapMb < 1) exitWithUsage(USAGE, `--heap-mb must be a whole number of MB, at least 1, not ${JSON.stringify(values['heap-mb'])}`);

const mb = (kb: number) => Math.round(kb / 1024);
function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
/** Committed KB by category from `jcmd <pid> VM.native_memory summary`. */
function nativeMemory(pid: number): { total: number; heap: number } {
  const out = execFileSync('jcmd', [String(pid), 'VM.native_memory', 'summary'], { encoding: 'utf8' });
  const committed = (label: string) => Number(new RegExp(`${label}.*committed=(\\d+)KB`).exec(out)?.[1] ?? NaN);
  return { total: committed('Total:'), heap: committed('Java Heap \\(') };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-member-memory-'));
  const system = new LocalSystem({
    ports: await freeSystemPorts(),
    runDir: dir,
    clusterName: `member-memory-${process.pid}`,
    memberHeapMb: heapMb,
    memberJvmFlags: [`-Xms${heapMb}m`, '-XX:NativeMemoryTracking=summary'],
  });
  const logger = createLogger({ service: 'member-memory', level: 'silent' });
  try {
    process.stderr.write(`starting 3 members with ${heapMb} MB heaps…\n`);
    await system.startCluster();
    const hz = await connect(system.memberAddresses, system.clusterName, logger);
    const store = new BulkLoadingStore(hz, system.mapName, { capacityBytes: Number.MAX_SAFE_INTEGER });
    const t0 = Date.now();
    let last = 0;
    await addMessages(store, messages, (i) => `message ${String(i).padStart(24, '0')}`, {
      update: (text) => {
        if (Date.now() - last > 5_000) process.stderr.write(`${text}\n`);
        last = Date.now();
      },
    });
    process.stderr.write(`filled ${messages} in ${Math.round((Date.now() - t0) / 1000)} s; reading them all back…\n`);
    let read = 0;
    for await (const batch of store.read({})) read += batch.length;
    process.stderr.write(`read ${read}\n`);
    await hz.shutdown();
    const rows = system.members.map((m) => {
      const pid = m!.pid!;
      const nmt = nativeMemory(pid);
      return { member: m!.name, peakRssMb: mb(statusKb(pid, 'VmHWM')), rssMb: mb(statusKb(pid, 'VmRSS')), heapCommittedMb: mb(nmt.heap), nonHeapCommittedMb: mb(nmt.total - nmt.heap) };
    });
    console.log(`\n${messages.toLocaleString('en-US')} messages of 32 characters, ${heapMb} MB heap, 3 members (backup count 2):`);
    console.table(rows);
    console.log(`largest non-heap committed: ${Math.max(...rows.map((r) => r.nonHeapCommittedMb))} MB; largest peak RSS: ${Math.max(...rows.map((r) => r.peakRssMb))} MB`);
  } finally {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
