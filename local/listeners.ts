/**
 * Which local process listens on a TCP port: how `npm run scenario`, attached to a system that
 * `npm start` runs in another terminal, finds the logging instances and Hazelcast members it must
 * stop. Linux reads /proc (the socket's inode in /proc/net/tcp*, then the process holding it);
 * elsewhere `lsof` answers. Both only see processes the user may inspect, which are the ones the
 * user may signal anyway.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** A process found listening on a port, with its command line to check what it is. */
export interface Listener {
  pid: number;
  command: string;
}

/** Inodes of the sockets listening on `port` in a /proc/net/tcp or tcp6 table. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
    const localPort = parseInt(f[1]!.split(':')[1] ?? '', 16);
    if (localPort === port && f[9] !== '0') inodes.push(f[9]!);
  }
  return inodes;
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function viaProc(port: number): Listener[] {
  const inodes = new Set(['/proc/net/tcp', '/proc/net/tcp6'].flatMap((t) => listeningInodes(readOr(t), port)));
  if (inodes.size === 0) return [];
  const found: Listener[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to inspect
    }
    const holds = fds.some((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        return m !== null && inodes.has(m[1]!);
      } catch {
        return false;
      }
    });
    if (holds) found.push({ pid: Number(entry), command: readOr(`/proc/${entry}/cmdline`).split('\0').join(' ').trim() });
  }
  return found;
}

function viaLsof(port: number): Listener[] | undefined {
  const res = spawnSync('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'], { encoding: 'utf8' });
  if (res.error) return undefined; // no lsof
  return res.stdout
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map((l) => {
      const pid = Number(l.trim());
      const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
      return { pid, command: (ps.stdout ?? '').trim() };
    });
}

/**
 * The processes listening on `port` on this machine.
 * @returns undefined when this platform offers no way to tell (no /proc, no lsof)
 */
export function listenersOn(port: number): Listener[] | undefined {
  if (existsSync('/proc/net/tcp')) return viaProc(port);
  return viaLsof(port);
}

/** True while a process with this pid runs; a zombie (dead, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last parenthesis.
  const stat = readOr(`/proc/${pid}/stat`);
  return !stat || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
