/**
 * Child processes of a local run or a test: each has a name, its output split into lines (kept
 * as a short tail for error reports), and a bounded stop (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitUntil } from './wait.js';

export type LineHandler = (name: string, line: string) => void;

/** Every child still running, so an exiting parent can take them all down with it. */
const live = new Set<ManagedProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class ManagedProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has gone. */
  readonly exited: Promise<number | string>;
  private readonly tail: string[] = [];
  private exitStatus: number | string | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; onLine?: LineHandler; tailLines?: number },
  ) {
    // A process group of its own: Ctrl+C in the terminal reaches only the supervisor, which then
    // stops the children in order (facade first, Hazelcast members last).
    this.child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(this);
    const keep = options.tailLines ?? 60;
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > keep) this.tail.shift();
      options.onLine?.(name, line);
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        this.exitStatus = code ?? signal ?? 'unknown';
        resolve(this.exitStatus);
      });
      this.child.once('error', (err) => {
        live.delete(this);
        this.exitStatus = `spawn failed: ${err.message}`;
        resolve(this.exitStatus);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** How the process ended, or undefined while it runs. */
  get exitCode(): number | string | undefined {
    return this.exitStatus;
  }

  logTail(lines = 20): string[] {
    return this.tail.slice(-lines);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) {
      try {
        this.child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL if it is still there after `timeoutMs`; resolves with the exit status. */
  async stop(timeoutMs = 15_000): Promise<number | string> {
    if (!this.running) return this.exitStatus!;
    this.kill('SIGCONT'); // a paused process could not handle SIGTERM
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

/**
 * `waitUntil` while a process lives: polls `probe` until it returns a value, the process dies, or
 * time runs out.
 * @throws Error naming the process and what was awaited
 */
export function waitFor<T>(
  proc: ManagedProcess | undefined,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const giveUpIf = () => (proc && !proc.running ? `${proc.name} exited (${proc.exitCode}) before ${what}` : undefined);
  return waitUntil(what, probe, { timeoutMs, intervalMs, who: proc?.name ?? 'system', giveUpIf });
}

/** GETs a URL with a short timeout; resolves with status and parsed JSON (or text), never throws on status. */
export async function probeHttp(url: string, timeoutMs = 1_000): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: res.status, body };
}
