/**
 * Logging acknowledges a write only once HZ_MIN_COPIES members hold it (lib/write-copies.ts), on
 * real members. The members here run the lab's configuration with split-brain protection taken
 * off the maps, so that a member alone takes writes with no backup, as a member cut off from the
 * others does in the moment before its protection refuses them (the case R9 caught once). The
 * members still declare two backups, so every write's owner reports how many it could send.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MEMBER_CONFIG, ensureHazelcastJar, startMember, waitForSafeCluster } from '../../local/hazelcast.js';
import { ManagedProcess } from '../../local/processes.js';
import { newMessageId } from '../../lib/ids.js';
import { parsePrometheusText, sampleValue } from '../../lib/prometheus-text.js';
import { start } from '../../services/logging/main.js';
import { loadLoggingConfig } from '../../services/logging/config.js';
import type { RunningService } from '../../services/index.js';
import { freePorts } from '../support/ports.js';
import { eventually } from '../support/eventually.js';
import { silentLogger } from '../support/fakes.js';
import { get, postJson, type ErrorAnswer } from '../support/http.js';

const PROTECTION_REF = /^\s*split-brain-protection-ref: lab-majority\n/gm;

describe('a write is acknowledged only once HZ_MIN_COPIES members hold it (real members, split-brain protection off)', function () {
  this.timeout(240_000);
  let dir: string;
  const members: ManagedProcess[] = [];
  const services: RunningService[] = [];
  let addresses: string[];
  let memberOptions: (i: number) => Parameters<typeof startMember>[0];
  /** Logging needing two copies, and logging needing one (what the members themselves accept). */
  let two: string;
  let one: string;
  let twoMetrics: string;
  let refusedUuid: string;

  before(async () => {
    const jar = ensureHazelcastJar();
    dir = mkdtempSync(join(tmpdir(), 'lab-write-copies-'));
    const config = readFileSync(MEMBER_CONFIG, 'utf8');
    const unprotected = config.replace(PROTECTION_REF, '');
    expect(config.match(PROTECTION_REF), 'both maps refer to the protection in the lab configuration').to.have.length(2);
    const file = join(dir, 'hazelcast.yaml');
    writeFileSync(file, unprotected);
    const ports = await freePorts(2);
    addresses = ports.map((p) => `127.0.0.1:${p}`);
    const clusterName = `write-copies-${process.pid}`;
    memberOptions = (i) => ({ name: `member-${i}`, port: ports[i]!, members: addresses, clusterName, mapName: 'messages', jar, configFile: file, heapMb: 256 });
    members.push(startMember(memberOptions(0)), startMember(memberOptions(1)));
    await waitForSafeCluster(members[0], addresses[0]!, 2, 90_000);
    for (const minCopies of ['2', '1']) {
      services.push(
        await start(
          loadLoggingConfig({ PORT: '0', INSTANCE_NAME: `logging-${minCopies}`, HZ_CLUSTER_NAME: clusterName, HZ_MEMBERS: addresses.join(','), HZ_MIN_COPIES: minCopies, SHUTDOWN_TIMEOUT_MS: '3000' }),
          silentLogger(),
        ),
      );
    }
    for (const s of services) await eventually(async () => expect((await get(`${s.url}/readyz`)).status).to.equal(200));
    [two, one] = services.map((s) => `${s.url}/logging`) as [string, string];
    twoMetrics = `${services[0]!.url}/metrics`;
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(members.map((m) => m.stop(10_000)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const refusedSoFar = async () => sampleValue(parsePrometheusText((await get(twoMetrics)).text), 'hazelcast_writes_held_by_too_few_total');

  it('with two members, acknowledges writes on both instances, refusing none', async () => {
    // Each instance also takes its capacity lease here (a write to the counter's entry), so that
    // the writes below, with one member, are the messages' own.
    expect((await postJson(two, { uuid: newMessageId(), msg: 'two members' })).status).to.equal(201);
    expect((await postJson(one, { uuid: newMessageId(), msg: 'two members' })).status).to.equal(201);
    expect(await refusedSoFar()).to.equal(0);
  });

  it('with one member left, refuses a write as unconfirmed (503 STORE_UNCONFIRMED, saying why), a replay of it too, and counts both', async () => {
    await members[1]!.stop(60_000);
    await waitForSafeCluster(members[0], addresses[0]!, 1, 90_000);
    const uuid = newMessageId();
    const refused = await postJson<ErrorAnswer>(two, { uuid, msg: 'on one member' });
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal('STORE_UNCONFIRMED');
    expect(refused.body.error.message).to.include('held by fewer members than HZ_MIN_COPIES');
    // The member took it (a refusal cannot undo a write): the same uuid again finds it and writes it again, with no backup either.
    const again = await postJson<ErrorAnswer>(two, { uuid, msg: 'on one member' });
    expect(again.status).to.equal(503);
    expect(again.body.error.code).to.equal('STORE_UNCONFIRMED');
    expect(await refusedSoFar()).to.equal(2);
    refusedUuid = uuid;
  });

  it('with one member, an instance that needs one copy takes the write: the check, not the member, refused it', async () => {
    expect((await postJson(one, { uuid: newMessageId(), msg: 'one copy is enough here' })).status).to.equal(201);
  });

  it('passes a put-if-absent that found its key: it changed nothing, so it needs no copy (409 for another text)', async () => {
    const uuid = newMessageId();
    expect((await postJson(one, { uuid, msg: 'first' })).status).to.equal(201);
    const before = await refusedSoFar();
    const conflict = await postJson<ErrorAnswer>(two, { uuid, msg: 'second' });
    expect(conflict.status).to.equal(409);
    expect(await refusedSoFar()).to.equal(before);
  });

  it('once a second member holds a copy again, acknowledges new writes and the replay of the refused one', async () => {
    members.push(startMember(memberOptions(1)));
    await waitForSafeCluster(members[2], addresses[0]!, 2, 90_000);
    await eventually(async () => expect((await postJson(two, { uuid: refusedUuid, msg: 'on one member' })).status).to.equal(200), { timeoutMs: 30_000, intervalMs: 250 });
    const before = await refusedSoFar();
    for (let i = 0; i < 20; i++) expect((await postJson(two, { uuid: newMessageId(), msg: `two-${i}` })).status).to.equal(201);
    expect(await refusedSoFar()).to.equal(before);
  });
});
