/** Free loopback ports, held open together so the same one is not handed out twice. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Whether nothing listens on `port` on loopback yet. */
export const isPortFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/**
 * Who listens on TCP `port`, where this machine shows it: `pid 4242 (node dist/bin/lab.js facade)`.
 * Reads Linux's /proc (the listening socket's inode, then the process holding it); undefined
 * elsewhere, or when the holder belongs to a user whose processes we may not see.
 */
export function portHolder(port: number): string | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== '0A' /* LISTEN */) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && cols[9] !== '0') inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) return `pid ${pid} (${commandOf(pid)})`;
    }
  }
  return undefined;
}

/** A process's command line, shortened to what names it. */
function commandOf(pid: string): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // A JVM's line is mostly flags: its main class says what it is.
    const shown = args[0]?.endsWith('java') ? [args[0], args.find((a) => /^[a-z]+(\.[a-z0-9]+)+\.[A-Z]\w*$/.test(a)) ?? ''] : args;
    // The program by its name, paths by their last three parts (`dist/bin/lab.js`).
    const line = shown.map((a, i) => (i === 0 ? a.slice(a.lastIndexOf('/') + 1) : a.replace(/^\/(?:[^/]+\/)*(?=(?:[^/]+\/){2}[^/]+$)/, ''))).join(' ').replace(/\s+/g, ' ').trim();
    return line.length > 80 ? `${line.slice(0, 77)}…` : line;
  } catch {
    return 'unknown command';
  }
}

/** `host:port` or `[v6]:port` → its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`not a host:port address: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}
