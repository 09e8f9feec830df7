/**
 * A 503 that tells the true reason, every time (issue 25, item 10): the lab's ten real processes
 * on loopback; two logging instances and two Hazelcast members killed with SIGKILL, as a new user
 * would. The last member is below the split-brain minimum and refuses writes; the facade still
 * tries the dead logging instances too, in a random order, and must never let one of them, tried
 * last, hide the live instance's reason behind NO_LOGGING_INSTANCE.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { LocalSystem } from '../../local/system.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, postForm, type ErrorAnswer, type FacadeList, type FacadePosted } from '../support/http.js';

/** Writes after the store has settled on its minority; each must say so. */
const WRITES = 10;
/**
 * Between two writes (ms): the user wrote once a second. Spread over a few seconds, the
 * writes also meet the dead instances both cooling down and out of their cooldown again.
 */
const PACE_MS = 500;

describe('a store on a minority side, with a logging instance dead, answers every write 503 STORE_MINORITY', function () {
  this.timeout(300_000);
  let system: LocalSystem;
  let facade: string;

  before(async () => {
    system = await createTestSystem();
    await system.start();
    facade = `${system.facadeUrl}/facade`;
  });
  after(stopAll);

  it('says STORE_MINORITY on every write, never NO_LOGGING_INSTANCE, and acknowledges none', async () => {
    const stored = await postForm<FacadePosted>(facade, { msg: 'before' });
    expect(stored.status).to.equal(201);

    for (const proc of [system.logging[0]!, system.logging[1]!, system.members[0]!, system.members[1]!]) proc.kill('SIGKILL');
    await Promise.all([system.logging[0]!.exited, system.logging[1]!.exited, system.members[0]!.exited, system.members[1]!.exited]);

    // The last member takes a moment to see that it is alone; until then a write may be refused
    // for another reason (STORE_UNCONFIRMED, say). Once it refuses as a minority, it stays one.
    let n = 0;
    await eventually(async () => {
      const r = await postForm<ErrorAnswer>(facade, { msg: `settling-${n++}` });
      expect(r.status).to.equal(503);
      expect(r.body.error.code).to.equal('STORE_MINORITY');
    }, { timeoutMs: 60_000, intervalMs: 250 });

    const codes: string[] = [];
    for (let i = 0; i < WRITES; i++) {
      if (i > 0) await sleep(PACE_MS);
      const r = await postForm<Partial<ErrorAnswer>>(facade, { msg: `alone-${i}` });
      codes.push(`${r.status} ${r.body.error?.code}`);
    }
    expect(codes).to.deep.equal(Array.from({ length: WRITES }, () => '503 STORE_MINORITY'));

    // Reads still work on the minority side: the message stored before is there, the refused ones are not.
    const read = await get<FacadeList>(facade);
    expect(read.status).to.equal(200);
    expect(read.body['logging-service']).to.include('before');
    expect(read.body['logging-service'].filter((m) => m.startsWith('alone-'))).to.deep.equal([]);
  });
});
