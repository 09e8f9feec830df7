/**
 * What each process of the system cost while a scenario ran, from Linux `/proc`: its largest
 * resident set size, and the CPU time it used — which, unlike a latency or a CPU profile, does not
 * grow when other work on the machine takes the cores away. The machine's own CPU use over the
 * same time shows how much of it went to processes that are not the bench's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What `/proc` counts CPU time in when the system cannot say: USER_HZ is 100 on x86 and Arm Linux,
 * where a missing `getconf` (a trimmed image) is the only way not to know it.
 */
export const FALLBACK_TICKS_PER_SECOND = 100;

/**
 * Clock ticks per second of `/proc`'s CPU times (USER_HZ), from `getconf CLK_TCK`: Node has no
 * sysconf(), and pidusage, the npm package for a process's CPU time, asks getconf the same way (it
 * would replace only the per-process read, asynchronously, not the machine's). One call, about
 * 2.5 ms; FALLBACK_TICKS_PER_SECOND when getconf is missing or answers anything but a number.
 */
export function readTicksPerSecond(
  getconf: () => string = () => execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }),
): number {
  try {
    const ticks = Number(getconf().trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // No getconf: the fallback.
  }
  return FALLBACK_TICKS_PER_SECOND;
}

let ticksPerSecondRead: number | undefined;
/** readTicksPerSecond(), asked once, on first use. */
const ticksPerSecond = (): number => (ticksPerSecondRead ??= readTicksPerSecond());

/** The process's resident set size in MB, or undefined when it is gone or `/proc` is not there. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time the process has used so far (user + system, all threads), in ms. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** The whole machine's busy and total CPU time so far, in ms summed over all cores. */
export function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const t = ticks.slice(0, 8).map(Number);
    const total = t.reduce((a, b) => a + b, 0);
    const idle = t[3]! + t[4]!;
    const ms = 1000 / ticksPerSecond();
    return { busy: (total - idle) * ms, total: total * ms };
  } catch {
    return undefined;
  }
}

export interface ProcessStats {
  /** Largest RSS seen during the run, MB, per process. */
  rssMb: Record<string, number>;
  /** CPU time used during the run, ms, per process. */
  cpuMs: Record<string, number>;
  /** CPU time the whole machine used during the run, ms summed over all cores, and what was available. */
  machine: { busyMs: number; capacityMs: number } | undefined;
}

/**
 * Samples the RSS of `processes` every `intervalMs` until stopped, keeping each one's largest,
 * and the CPU time each used between start and stop. `processes` is called at every sample.
 */
export class ProcessSampler {
  private readonly peak: Record<string, number> = {};
  private readonly cpuAtStart: Record<string, number> = {};
  private readonly machineAtStart = machineCpuMs();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly processes: () => Record<string, number | undefined>,
    intervalMs = 250,
  ) {
    for (const [name, pid] of Object.entries(this.processes())) {
      const ms = pid === undefined ? undefined : cpuMs(pid);
      if (ms !== undefined) this.cpuAtStart[name] = ms;
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.processes())) {
      const mb = pid === undefined ? undefined : rssMb(pid);
      if (mb !== undefined) this.peak[name] = Math.max(this.peak[name] ?? 0, mb);
    }
  }

  /** Stops sampling (one last sample first); RSS rounded to 0.1 MB, CPU to 1 ms. */
  stop(): ProcessStats {
    this.sample();
    clearInterval(this.timer);
    const cpu: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.processes())) {
      const now = pid === undefined ? undefined : cpuMs(pid);
      const before = this.cpuAtStart[name];
      if (now !== undefined && before !== undefined) cpu[name] = Math.round(now - before);
    }
    const end = machineCpuMs();
    const start = this.machineAtStart;
    return {
      rssMb: Object.fromEntries(Object.entries(this.peak).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      cpuMs: cpu,
      machine: start && end ? { busyMs: Math.round(end.busy - start.busy), capacityMs: Math.round(end.total - start.total) } : undefined,
    };
  }
}
