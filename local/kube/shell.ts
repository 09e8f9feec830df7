/** Running a command to its end, for the local Kubernetes: one way to call a tool and report its failure. */
import { spawnSync } from 'node:child_process';

export interface ShOptions {
  cwd?: string;
  input?: string;
  /** Report a failure in `ok` instead of throwing. */
  allowFail?: boolean;
}

/**
 * Runs `cmd` and waits for it.
 * @returns whether it exited 0, and its trimmed standard output
 * @throws Error with the end of its output when it fails, unless `allowFail`
 */
export function sh(cmd: string, args: string[], o: ShOptions = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd: o.cwd, input: o.input, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ok = r.status === 0;
  if (!ok && !o.allowFail) {
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed (${r.status ?? r.signal ?? r.error?.message}): ${`${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-4).join(' | ')}`);
  }
  return { ok, out: (r.stdout ?? '').trim() };
}
