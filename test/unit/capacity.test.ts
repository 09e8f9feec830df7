import { expect } from 'chai';
import { ENTRY_OVERHEAD_BYTES, StoreCapacity, entryCostBytes } from '../../services/logging/capacity.js';
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

describe('store capacity', () => {
  it('charges a message its text, its instance name and a fixed overhead, in UTF-8 bytes', () => {
    expect(entryCostBytes('abc', 'x')).to.equal(ENTRY_OVERHEAD_BYTES + 4);
    expect(entryCostBytes('Привіт', '')).to.equal(ENTRY_OVERHEAD_BYTES + 12);
  });

  it('refuses with 507 STORE_FULL once the charges of every instance reach the capacity', async () => {
    const shared = new SharedCounter();
    const a = new StoreCapacity(shared.counter, { capacityBytes: 10_000, refreshMs: 1 });
    const b = new StoreCapacity(shared.counter, { capacityBytes: 10_000, refreshMs: 1 });
    await a.reserve(4_000);
    await a.charge(4_000);
    await a.sync();
    await b.reserve(4_000);
    await b.charge(4_000);
    await b.sync();
    // Once its view is stale, an instance re-reads the total before answering.
    await new Promise((r) => setTimeout(r, 20));
    const err = await a.reserve(4_000).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StoreError);
    expect(err).to.include({ code: 'STORE_FULL' });
    await a.reserve(2_000);
    expect(a.usedBytes).to.equal(8_000);
  });

  it('costs no round trip per write: charges reach the counter in batches', async () => {
    const shared = new SharedCounter();
    const c = new StoreCapacity(shared.counter, { capacityBytes: 1e9, refreshMs: 50 });
    for (let i = 0; i < 100; i++) {
      await c.reserve(500);
      await c.charge(500);
    }
    expect(shared.calls).to.be.at.most(2);
    await new Promise((r) => setTimeout(r, 120));
    expect(shared.value).to.equal(50_000);
  });

  it('keeps charges that could not be added, for the next sync', async () => {
    let fail = true;
    const shared = new SharedCounter();
    const flaky = {
      get: () => shared.counter.get(),
      addAndGet: async (delta: number) => {
        if (fail) throw new Error('cluster away');
        return shared.counter.addAndGet(delta);
      },
    };
    const c = new StoreCapacity(flaky, { capacityBytes: 1e9, refreshMs: 1_000 });
    await c.charge(700);
    await c.sync().catch(() => undefined);
    fail = false;
    await c.sync();
    expect(shared.value).to.equal(700);
  });

  it('answers from a stale total far from the capacity (refreshing it behind), and waits for a fresh one near it', async () => {
    const shared = new SharedCounter();
    shared.value = 8_000;
    let release = () => undefined as void;
    let blocked = false;
    // A counter whose member is slow to answer, as after a SIGKILL, once told to block.
    const slow = {
      get: () => (blocked ? new Promise<number>((r) => (release = () => r(shared.value))) : shared.counter.get()),
      addAndGet: shared.counter.addAndGet,
    };
    const answered = async (capacityBytes: number) => {
      blocked = false;
      const c = new StoreCapacity(slow, { capacityBytes, refreshMs: 1 });
      await c.sync();
      await new Promise((r) => setTimeout(r, 10)); // stale now
      blocked = true;
      let done = false;
      const reserved = c.reserve(10).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 20));
      const before = done;
      release();
      await reserved;
      return before;
    };
    expect(await answered(1e9), 'far from the capacity: at once').to.equal(true);
    expect(await answered(10_000), 'a fifth of it left: after the re-read').to.equal(false);
  });

  it("near the capacity, reads the total before each write however fresh it is, and adds each charge at once", async () => {
    const shared = new SharedCounter();
    shared.value = 90_000;
    const a = new StoreCapacity(shared.counter, { capacityBytes: 100_000, refreshMs: 60_000 });
    await a.sync(); // fresh for a minute: 10,000 left as far as a knows, a tenth of the capacity
    shared.value += 9_500; // another instance stored 9,500 bytes meanwhile
    const refused = await a.reserve(1_000).then(() => undefined, (err: unknown) => err);
    expect(refused, 'only 500 bytes are left').to.be.instanceOf(StoreError);
    expect((refused as StoreError).code).to.equal('STORE_FULL');

    shared.value = 80_000;
    await a.sync();
    await a.charge(1_000); // a small charge, far below an eighth of the headroom
    expect(shared.value, 'the other instances see it before the write is acknowledged').to.equal(81_000);
  });
});
