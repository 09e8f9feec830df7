import { expect } from 'chai';
import { ENTRY_OVERHEAD_BYTES, LEASE_MAX_BYTES, NEAR_FULL_MAX_BYTES, StoreCapacity, entryCostBytes } from '../../services/logging/capacity.js';
import { StoreError } from '../../lib/store-errors.js';

/** A counter shared by several "instances", as the meta map's entry is. */
class SharedCounter {
  value = 0;
  calls = 0;
  readonly counter = {
    get: async () => (this.calls++, this.value),
    addAndGet: async (delta: number) => (this.calls++, (this.value += delta)),
  };
}

const isFull = (err: unknown) => err instanceof StoreError && err.code === 'STORE_FULL';
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe('store capacity', () => {
  it('charges a message its text, its instance name and a fixed overhead, in UTF-8 bytes', () => {
    expect(entryCostBytes('abc', 'x')).to.equal(ENTRY_OVERHEAD_BYTES + 4);
    expect(entryCostBytes('Привіт', '')).to.equal(ENTRY_OVERHEAD_BYTES + 12);
  });

  it('refuses with 507 STORE_FULL once the room every instance leased reaches the capacity', async () => {
    const shared = new SharedCounter();
    const a = new StoreCapacity(shared.counter, { capacityBytes: 10_000 });
    const b = new StoreCapacity(shared.counter, { capacityBytes: 10_000 });
    await a.reserve(4_000);
    await b.reserve(4_000);
    expect(shared.value, 'never past the capacity').to.be.at.most(10_000);
    const err = await refusal(a.reserve(4_000));
    expect(isFull(err), String(err)).to.equal(true);
    expect((err as StoreError).message).to.match(/the message store is full/);
    expect(shared.value, 'the refused room was given back').to.be.at.most(10_000);
    // What is left is shared out between the two leases, each of which can still be spent.
    await a.reserve(1_000);
    expect(shared.value).to.be.at.most(10_000);
    expect(isFull(await refusal(b.reserve(2_000)))).to.equal(true);
  });

  it('costs no round trip per write far from the capacity: room is leased in shares', async () => {
    const shared = new SharedCounter();
    const c = new StoreCapacity(shared.counter, { capacityBytes: 1e9 });
    for (let i = 0; i < 10_000; i++) await c.reserve(400);
    // 4 MB of writes in leases of at most LEASE_MAX_BYTES: two or three adds.
    expect(shared.calls).to.be.at.most(Math.ceil((10_000 * 400) / LEASE_MAX_BYTES) + 2);
    expect(shared.value).to.be.at.least(10_000 * 400);
    expect(c.usedBytes, 'its own unspent lease is not shown as used').to.equal(10_000 * 400);
  });

  it('leases in shares until the last NEAR_FULL_MAX_BYTES of a large capacity, then write by write', async () => {
    const shared = new SharedCounter();
    const capacityBytes = 600 * 1024 * 1024;
    // 80 % used: past a quarter of it left, far from its last NEAR_FULL_MAX_BYTES.
    shared.value = capacityBytes * 0.8;
    const c = new StoreCapacity(shared.counter, { capacityBytes });
    for (let i = 0; i < 10_000; i++) await c.reserve(450);
    expect(shared.calls, 'a few adds for 10,000 writes').to.be.at.most(Math.ceil((10_000 * 450) / LEASE_MAX_BYTES) + 2);
    await c.close();
    shared.value = capacityBytes - NEAR_FULL_MAX_BYTES + 1;
    shared.calls = 0;
    const d = new StoreCapacity(shared.counter, { capacityBytes });
    await d.reserve(LEASE_MAX_BYTES); // spends its whole first lease, which read the counter
    shared.calls = 0;
    for (let i = 0; i < 100; i++) await d.reserve(450);
    expect(shared.calls, 'one add per write in the last stretch').to.equal(100);
  });

  it('gives back the room of a write that stored nothing, and the whole lease when it closes', async () => {
    const shared = new SharedCounter();
    const c = new StoreCapacity(shared.counter, { capacityBytes: 1e9 });
    await c.reserve(1_000);
    c.release(1_000);
    await c.reserve(500);
    await c.close();
    expect(shared.value).to.equal(500);
    expect(isFull(await refusal(c.reserve(10))), 'a closed instance leases nothing').to.equal(true);
  });

  it('does not wait for the counter far from the capacity while its lease lasts, and does once it runs out', async () => {
    const shared = new SharedCounter();
    let blocked = false;
    const waiting: (() => void)[] = [];
    // A counter whose member is slow to answer, as after a SIGKILL, once told to block.
    const slow = {
      get: shared.counter.get,
      addAndGet: (delta: number) =>
        blocked ? new Promise<number>((r) => waiting.push(() => r((shared.value += delta)))) : shared.counter.addAndGet(delta),
    };
    const c = new StoreCapacity(slow, { capacityBytes: 1e9 });
    await c.reserve(1_000);
    blocked = true;
    const start = Date.now();
    for (let i = 0; i < 1_000; i++) await c.reserve(1_000); // 1 MB of a 4 MB lease
    expect(Date.now() - start).to.be.below(200);
    let done = false;
    const big = c.reserve(LEASE_MAX_BYTES).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done, 'more than the lease holds: waits for the counter').to.equal(false);
    blocked = false;
    waiting.forEach((w) => w());
    await big;
  });

  it('keeps a give-back the counter did not take, for its next add', async () => {
    const shared = new SharedCounter();
    shared.value = 9_000;
    let failNegative = true;
    const flaky = {
      get: shared.counter.get,
      addAndGet: async (delta: number) => {
        if (delta < 0 && failNegative) throw new Error('cluster away');
        return shared.counter.addAndGet(delta);
      },
    };
    const c = new StoreCapacity(flaky, { capacityBytes: 10_000 });
    expect(isFull(await refusal(c.reserve(2_000)))).to.equal(true); // took 2,000, could not give it back
    expect(shared.value).to.equal(11_000);
    failNegative = false;
    await c.reserve(500);
    expect(shared.value, 'the 2,000 given back with the next lease').to.be.within(9_500, 9_600);
    expect(c.usedBytes).to.equal(9_500);
  });

  it('lets no more in than fits when many writers of several instances race for the last room', async () => {
    // A counter that answers after a random few milliseconds, so that writers interleave as over a network.
    const shared = new SharedCounter();
    const jitter = <T>(f: () => T) => new Promise<T>((r) => setTimeout(() => r(f()), Math.random() * 4));
    const remote = { get: () => jitter(() => shared.value), addAndGet: (d: number) => jitter(() => (shared.value += d)) };
    const cost = 10_400;
    const capacityBytes = 1_048_576; // 100 fit
    let admitted = 0;
    const writer = async (cap: StoreCapacity) => {
      for (;;) {
        const err = await refusal(cap.reserve(cost));
        if (isFull(err)) return;
        if (err) throw err;
        admitted++;
        await jitter(() => undefined); // the write itself
      }
    };
    const instances = [0, 1, 2].map(() => new StoreCapacity(remote, { capacityBytes }));
    await Promise.all(instances.flatMap((cap) => Array.from({ length: 8 }, () => writer(cap))));
    // Exactly what fits: near the capacity each write leases its own room, so no scrap is left unspent.
    expect(admitted).to.equal(100);
    expect(shared.value).to.be.at.most(capacityBytes);
    await Promise.all(instances.map((cap) => cap.close()));
    expect(shared.value).to.equal(admitted * cost);
  });
});
