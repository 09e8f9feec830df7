/**
 * A network partition between local members, made with iptables: member links are cut by address
 * and port while clients, which connect from 127.0.0.1, still reach every member. Members need
 * their own loopback addresses for this (SystemOptions.memberHosts, e.g. PARTITION_HOSTS).
 *
 * Every rule lives in one chain of this process (LAB-PARTITION-<pid>), jumped to from OUTPUT
 * (loopback packets pass OUTPUT once, so one drop there cuts a direction). `heal()` removes the
 * chain, and so does this process's exit, so no rule outlives the run that made it.
 */
import { spawnSync } from 'node:child_process';
import { splitAddress } from '../local/ports.js';

/** Loopback addresses for members that a partition can separate (127.0.0.1 stays the clients'). */
export const PARTITION_HOSTS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

/** Loopback addresses for logging instances, so one can vanish alone (SystemOptions.loggingHosts). */
export const LOGGING_HOSTS = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];

/** Why partitions cannot be made here, or undefined when they can (root and iptables). */
export function partitionUnsupported(): string | undefined {
  if (process.platform !== 'linux') return 'network partitions need Linux iptables';
  if (process.getuid?.() !== 0) return 'network partitions need root (iptables rules on loopback)';
  if (spawnSync('iptables', ['-w', '-L', 'OUTPUT', '-n'], { stdio: 'ignore' }).status !== 0) return 'iptables is missing or cannot list rules (apt-get install iptables)';
  return undefined;
}

function iptables(args: string[], allowFailure = false): void {
  const res = spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  if (res.status !== 0 && !allowFailure) throw new Error(`iptables ${args.join(' ')}: ${(res.stderr || res.stdout).trim()}`);
}

export class Partition {
  private readonly chain = `LAB-PARTITION-${process.pid}`;
  private cut = false;
  private readonly onExit = () => this.heal();

  /**
   * Cuts every link between `isolated` and each of `others` (member `host:port`s): packets
   * between the two addresses to or from either member's port are dropped, both ways.
   * @throws when a partition is already in place, or iptables refuses
   */
  isolate(isolated: string, others: string[]): void {
    if (this.cut) throw new Error('a partition is already in place; heal it first');
    const a = splitAddress(isolated);
    iptables(['-N', this.chain]);
    this.cut = true;
    process.once('exit', this.onExit);
    try {
      for (const other of others) {
        const b = splitAddress(other);
        for (const [from, to] of [[a.host, b.host], [b.host, a.host]]) {
          iptables(['-A', this.chain, '-s', from!, '-d', to!, '-p', 'tcp', '-m', 'multiport', '--ports', `${a.port},${b.port}`, '-j', 'DROP']);
        }
      }
      iptables(['-I', 'OUTPUT', '1', '-j', this.chain]);
    } catch (err) {
      this.heal();
      throw err;
    }
  }

  /**
   * Makes `host` vanish as a deleted pod's or a lost node's address does: every packet to or from
   * it is dropped, members' and clients' alike, so nothing there answers or refuses a connection.
   * @throws when a partition is already in place, or iptables refuses
   */
  vanish(host: string): void {
    if (this.cut) throw new Error('a partition is already in place; heal it first');
    iptables(['-N', this.chain]);
    this.cut = true;
    process.once('exit', this.onExit);
    try {
      iptables(['-A', this.chain, '-d', host, '-j', 'DROP']);
      iptables(['-A', this.chain, '-s', host, '-j', 'DROP']);
      iptables(['-I', 'OUTPUT', '1', '-j', this.chain]);
    } catch (err) {
      this.heal();
      throw err;
    }
  }

  /** Packets the partition has dropped so far (0 when none is in place). */
  droppedPackets(): number {
    if (!this.cut) return 0;
    const res = spawnSync('iptables', ['-w', '-L', this.chain, '-n', '-v', '-x'], { encoding: 'utf8' });
    return res.stdout
      .split('\n')
      .filter((l) => l.includes('DROP'))
      .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0] ?? 0), 0);
  }

  /** Removes every rule of the partition; idempotent. */
  heal(): void {
    if (!this.cut) return;
    iptables(['-D', 'OUTPUT', '-j', this.chain], true);
    iptables(['-F', this.chain], true);
    iptables(['-X', this.chain], true);
    this.cut = false;
    process.removeListener('exit', this.onExit);
  }
}
