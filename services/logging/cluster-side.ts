/**
 * Keeps this instance's Hazelcast client on the larger side of a split, and off a member the
 * others have dropped.
 *
 * A client learns the members from one member only, the one its cluster-view listener is on. When
 * the cluster splits and that member is on the smaller side, the client takes the smaller side's
 * member list for the whole cluster: it closes its connections to the larger side and sends every
 * operation to the smaller one, whose split-brain protection refuses writes for as long as the
 * split lasts (Hazelcast calls this working as designed: hazelcast/hazelcast#16732). In the
 * partition drill (R9) all three logging instances did so in some runs, and the side that held a
 * quorum took almost no writes.
 *
 * So when the client loses a member, or a write is refused as a minority's, this asks every member
 * for its own view (MemberViews). Where members outside the client's cluster report a larger
 * cluster than the client's, it moves the connection to a new client that joins through them
 * (HazelcastConnection.moveTo), and keeps it only if that one sees more members.
 *
 * The same member list goes stale another way: when the member the listener is on crashes or
 * vanishes (a pod deleted with --force, a lost node), nobody tells the client that the others
 * dropped it. It keeps the dead member's partitions until its own heartbeat timeout
 * (HZ_HEARTBEAT_TIMEOUT_MS, 10 s), and writes to them wait that long (R12 in docs/resilience.md).
 * So when a write is not confirmed, this looks too, and where the members the others dropped are
 * still in the client's list (`droppedMembers`), it closes the client's connection to them alone
 * (HazelcastConnection.disconnectFrom): the listener moves to a member that answers, which sends
 * the current members and partition table, and the writes waiting on the dead member go again.
 *
 * Cost: nothing while no member leaves; after a trigger, one round of health probes (two small
 * GETs per member, O(members)) every `intervalMs` for at most `watchMs`.
 */
import type { Logger } from '../../lib/log.js';
import type { MemberView } from '../../lib/contract.js';

/** A larger cluster than the client's: its size and the members that say they are in it, to join through. */
export interface LargerSide {
  size: number;
  addresses: string[];
}

/**
 * The largest cluster that members outside the client's cluster report, if it is larger than the
 * client's (`clientSize` members) and could be made of members other than the client's: of the
 * members probed, those outside the client's cluster. A member that claims more has not yet seen
 * the split (a member cut off still counts the others for seconds) and is not followed. None
 * either while a member of the client's own cluster reports more members than the client sees:
 * the client's list is only behind (a member joining, or one merging back, is counted by the
 * others first). Its members, in the order given.
 */
export function largerSide(views: readonly MemberView[], clientSize: number): LargerSide | undefined {
  if (views.some((v) => v.inClientCluster && v.clusterSize !== null && v.clusterSize > clientSize)) return undefined;
  const others = views.filter((v) => !v.inClientCluster).length;
  const apart = views.filter(
    (v) => !v.inClientCluster && v.nodeState === 'ACTIVE' && v.clusterSize !== null && v.clusterSize > clientSize && v.clusterSize <= others,
  );
  if (apart.length === 0) return undefined;
  const size = Math.max(...apart.map((v) => v.clusterSize!));
  return { size, addresses: apart.filter((v) => v.clusterSize === size).map((v) => v.address) };
}

/**
 * Members of the client's cluster that the others have dropped: they do not answer their health
 * probe, while every other member of the client's cluster answers, ACTIVE, that its cluster is
 * exactly as large as the number of them that answer, and those are more than the silent ones.
 * Then they are all in one cluster, and it is made of them alone: two disjoint clusters of that
 * size would need more members than the client lists. None while a member that answers still
 * counts the silent ones (they have not been dropped yet), or counts fewer (a split, which
 * `largerSide` handles), or when most do not answer (the trouble may be this instance's own network).
 */
export function droppedMembers(views: readonly MemberView[]): string[] {
  const mine = views.filter((v) => v.inClientCluster);
  const silent = mine.filter((v) => v.clusterSize === null);
  const answering = mine.filter((v) => v.clusterSize !== null);
  if (silent.length === 0 || answering.length <= silent.length) return [];
  if (!answering.every((v) => v.nodeState === 'ACTIVE' && v.clusterSize === answering.length)) return [];
  return silent.map((v) => v.address);
}

export interface ClusterSideDeps {
  connection: {
    members(): { address: string }[];
    moveTo(preferred: string[], accept: (members: string[]) => boolean): Promise<boolean>;
    /** Closes the client's connection to the member at `address`, if it has one. @returns whether it had */
    disconnectFrom(address: string, why: string): boolean;
    onMemberRemoved(listener: () => void): void;
  };
  views: { views(): Promise<MemberView[]> };
  logger: Logger;
  /** Between two looks while watching (default 1,000 ms). */
  intervalMs?: number;
  /** How long one trigger keeps it looking (default 30,000 ms: past the members' heartbeat timeout and a merge). */
  watchMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class ClusterSide {
  private watching: Promise<void> | undefined;
  private watchUntil = 0;
  private stopped = false;

  constructor(private readonly deps: ClusterSideDeps) {}

  /** Starts watching whenever the client loses a member (a write not confirmed or refused as a minority's calls `watch` too). */
  start(): void {
    this.deps.connection.onMemberRemoved(() => void this.watch());
  }

  /**
   * Looks now, and once every `intervalMs` for `watchMs` (from this call), until it has moved the
   * client: the client lost a member, or a write was refused as a minority's or not confirmed.
   * @returns when this watch ends
   */
  watch(): Promise<void> {
    const now = this.deps.now ?? Date.now;
    this.watchUntil = now() + (this.deps.watchMs ?? 30_000);
    this.watching ??= this.loop().finally(() => (this.watching = undefined));
    return this.watching;
  }

  /** Stops looking; resolves once the look in progress (and any move it started) is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
  }

  private async loop(): Promise<void> {
    const now = this.deps.now ?? Date.now;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    while (!this.stopped && now() < this.watchUntil) {
      try {
        if (await this.look()) return;
      } catch (err) {
        this.deps.logger.warn({ err }, 'could not tell which side of a split the Hazelcast client is on');
      }
      await sleep(this.deps.intervalMs ?? 1_000);
    }
  }

  /**
   * One look: closes the client's connections to members the others dropped, and moves the client
   * if a larger side answers. @returns whether it moved
   */
  private async look(): Promise<boolean> {
    const { connection, logger } = this.deps;
    const mine = connection.members().length;
    // Not connected at all: the client reconnects by itself, to whichever members answer.
    if (mine === 0) return false;
    const views = await this.deps.views.views();
    if (this.stopped) return false;
    for (const address of droppedMembers(views)) {
      connection.disconnectFrom(address, 'it does not answer, and the other members have dropped it');
    }
    const larger = largerSide(views, mine);
    if (!larger) return false;
    logger.warn({ clientMembers: mine, largerSide: larger }, 'the Hazelcast client sees a smaller cluster than other members report: moving to the larger side');
    return connection.moveTo(larger.addresses, (members) => members.length > mine);
  }
}
