/** When logging moves its client to the larger side of a split, and when it closes its connection to a member the others dropped. */
import { expect } from 'chai';
import { ClusterSide, droppedMembers, largerSide } from '../../services/logging/cluster-side.js';
import type { MemberView } from '../../lib/contract.js';
import { silentLogger } from '../support/fakes.js';

const view = (address: string, clusterSize: number | null, inClientCluster: boolean, nodeState: string | null = 'ACTIVE'): MemberView =>
  ({ address, clusterSize, nodeState, inClientCluster, heapUsedBytes: null, heapMaxBytes: null });

describe('largerSide', () => {
  it('finds the larger side when the client sees only the member that was cut off', () => {
    const views = [view('b:5701', 1, true), view('a:5701', 2, false), view('c:5701', 2, false)];
    expect(largerSide(views, 1)).to.deep.equal({ size: 2, addresses: ['a:5701', 'c:5701'] });
  });

  it('takes the largest of several, and only members that answer as ACTIVE', () => {
    const views = [view('b', 1, true), view('a', 2, false), view('c', 3, false), view('d', 4, false, 'PASSIVE'), view('e', null, false)];
    expect(largerSide(views, 1)).to.deep.equal({ size: 3, addresses: ['c'] });
  });

  it('does not follow the cut-off member while it still counts the others (it has not seen the split yet)', () => {
    // The client already has the larger side's list (a and c); a and c are too busy to answer.
    const views = [view('a', null, true), view('c', null, true), view('b', 3, false)];
    expect(largerSide(views, 2)).to.equal(undefined);
  });

  it('finds none on the larger side, where the member apart is alone', () => {
    const views = [view('a', 2, true), view('c', 2, true), view('b', 1, false)];
    expect(largerSide(views, 2)).to.equal(undefined);
  });

  it("finds none while the client's own members already count more than it sees: its list is only behind (a member merging back)", () => {
    const views = [view('a', 3, true), view('c', 3, true), view('b', 3, false)];
    expect(largerSide(views, 2)).to.equal(undefined);
  });

  it('finds none where the others do not answer (dead, or too busy to say)', () => {
    expect(largerSide([view('c', 1, true), view('a', null, false), view('b', null, false)], 1)).to.equal(undefined);
  });
});

describe('droppedMembers', () => {
  it('finds the member that does not answer when every other member of the client\'s list counts the cluster without it', () => {
    const views = [view('a', 2, true), view('b', null, true), view('c', 2, true)];
    expect(droppedMembers(views)).to.deep.equal(['b']);
  });

  it('finds none while a member that answers still counts the silent one (not dropped yet: a pause, a slow probe)', () => {
    expect(droppedMembers([view('a', 3, true), view('b', null, true), view('c', 2, true)])).to.deep.equal([]);
    expect(droppedMembers([view('a', 3, true), view('b', null, true), view('c', 3, true)])).to.deep.equal([]);
  });

  it('finds none when most of the client\'s members are silent: this instance may be the one cut off', () => {
    expect(droppedMembers([view('a', 1, true), view('b', null, true), view('c', null, true)])).to.deep.equal([]);
    expect(droppedMembers([view('a', 2, true), view('b', null, true), view('c', 2, true), view('d', null, true)])).to.deep.equal([]);
  });

  it('finds none during a split the client already follows, or where every member answers', () => {
    // b answers, alone: the split is largerSide's business, and b is out of the client's list already.
    expect(droppedMembers([view('a', 2, true), view('b', 1, false), view('c', 2, true)])).to.deep.equal([]);
    expect(droppedMembers([view('a', 3, true), view('b', 3, true), view('c', 3, true)])).to.deep.equal([]);
  });

  it('finds none where a member that answers is not ACTIVE, or the members outside the client\'s list are silent', () => {
    expect(droppedMembers([view('a', 2, true), view('b', null, true), view('c', 2, true, 'PASSIVE')])).to.deep.equal([]);
    expect(droppedMembers([view('a', 3, true), view('b', 3, true), view('c', 3, true), view('d', null, false)])).to.deep.equal([]);
  });

  it('finds several silent members when the answering ones are more and count only themselves', () => {
    const views = [view('a', 3, true), view('b', null, true), view('c', 3, true), view('d', null, true), view('e', 3, true)];
    expect(droppedMembers(views)).to.deep.equal(['b', 'd']);
  });
});

describe('ClusterSide', () => {
  /** A connection and member views to script: `sizes` is what each look's views report for a and c. */
  function setup(o: { clientSees: string[]; larger: number[]; moveAccepted?: boolean }) {
    let clientSees = o.clientSees;
    const moves: { preferred: string[]; accepted: boolean }[] = [];
    const disconnected: string[] = [];
    const removed: (() => void)[] = [];
    let look = 0;
    let clock = 0;
    const side = new ClusterSide({
      connection: {
        members: () => clientSees.map((address) => ({ address })),
        moveTo: async (preferred, accept) => {
          const after = ['a', 'c'];
          const accepted = (o.moveAccepted ?? true) && accept(after);
          moves.push({ preferred, accepted });
          if (accepted) clientSees = after;
          return accepted;
        },
        onMemberRemoved: (listener) => removed.push(listener),
        disconnectFrom: (address) => {
          disconnected.push(address);
          return true;
        },
      },
      views: {
        views: async () => {
          const size = o.larger[Math.min(look++, o.larger.length - 1)]!;
          return [view('b', 1, clientSees.includes('b')), view('a', size, clientSees.includes('a')), view('c', size, clientSees.includes('c'))];
        },
      },
      logger: silentLogger(),
      intervalMs: 1_000,
      watchMs: 5_000,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
    side.start();
    return { side, moves, removed, disconnected, looks: () => look };
  }

  it('does nothing until the client loses a member or a write is refused', async () => {
    const { side, moves, disconnected, looks } = setup({ clientSees: ['a', 'b', 'c'], larger: [3] });
    await side.stop();
    expect(looks()).to.equal(0);
    expect(moves).to.deep.equal([]);
    expect(disconnected).to.deep.equal([]);
  });

  it('closes the connection to a member the others dropped while the client still lists it, once they have, and moves nothing', async () => {
    let look = 0;
    const disconnected: string[] = [];
    let clock = 0;
    const side = new ClusterSide({
      connection: {
        members: () => ['a', 'b', 'c'].map((address) => ({ address })),
        moveTo: async () => expect.fail('no move: the client is on the larger side'),
        onMemberRemoved: () => undefined,
        disconnectFrom: (address) => (disconnected.push(address), true),
      },
      views: {
        // b vanished: it never answers; a and c count it for the first two looks, then drop it.
        views: async () => {
          const size = look++ < 2 ? 3 : 2;
          return [view('a', size, true), view('b', null, true), view('c', size, true)];
        },
      },
      logger: silentLogger(),
      intervalMs: 1_000,
      watchMs: 4_000,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
    await side.watch();
    expect(look).to.equal(4);
    expect(disconnected).to.deep.equal(['b', 'b']);
  });

  it('moves a client that kept only the cut-off member to the larger side, through its members', async () => {
    const { side, moves, removed, looks } = setup({ clientSees: ['b'], larger: [2] });
    removed.forEach((listener) => listener());
    await side.watch();
    expect(moves).to.deep.equal([{ preferred: ['a', 'c'], accepted: true }]);
    expect(looks(), 'it stops looking once moved').to.equal(1);
  });

  it('keeps looking while the larger side does not answer yet, and moves once it does', async () => {
    const { side, moves, looks } = setup({ clientSees: ['b'], larger: [0, 0, 2] });
    await side.watch();
    expect(looks()).to.equal(3);
    expect(moves).to.deep.equal([{ preferred: ['a', 'c'], accepted: true }]);
  });

  it('looks for at most watchMs, once a second, when no larger side answers', async () => {
    const { side, moves, looks } = setup({ clientSees: ['b'], larger: [0] });
    await side.watch();
    expect(looks()).to.equal(5);
    expect(moves).to.deep.equal([]);
  });

  it('does not keep a new client that sees no more members than the old one, and tries again', async () => {
    const { side, moves } = setup({ clientSees: ['b'], larger: [2], moveAccepted: false });
    await side.watch();
    expect(moves).to.have.length(5);
    expect(moves.every((m) => !m.accepted)).to.equal(true);
  });

  it('stops looking when stopped', async () => {
    const { side, moves, looks } = setup({ clientSees: ['b'], larger: [0] });
    const watching = side.watch();
    await side.stop();
    await watching;
    expect(looks()).to.equal(1);
    expect(moves).to.deep.equal([]);
  });
});
