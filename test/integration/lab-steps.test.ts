/**
 * The lab's five steps (SPEC), end to end: ten real processes (three Hazelcast members,
 * config-server, messages, three logging instances, the facade) on loopback, real HTTP between
 * them, and members and logging instances killed with SIGKILL, not stopped politely.
 */
import { expect } from 'chai';
import type { LocalSystem } from '../../local/system.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, postForm, postJson, type ClusterSummary, type ErrorAnswer, type FacadeList, type FacadePosted } from '../support/http.js';

interface Stored { uuid: string; msg: string; loggedBy: string }

describe("the lab's five steps, end to end", function () {
  this.timeout(300_000);
  let system: LocalSystem;
  let facade: string;
  const ten = Array.from({ length: 10 }, (_, i) => `msg${i + 1}`);
  const loggedBy = new Map<string, string>();

  before(async () => {
    system = await createTestSystem();
    await system.start();
    facade = `${system.facadeUrl}/facade`;
  });
  after(stopAll);

  it('1. three logging instances and three members are up; each instance lists nothing', async () => {
    for (let i = 0; i < 3; i++) expect((await get(`${system.loggingUrl(i)}/logging`)).body).to.deep.equal([]);
    const summary = (await get<ClusterSummary>(`${system.loggingUrl(0)}/logging/cluster`)).body;
    expect(summary.members).to.have.length(3);
  });

  it('2. msg1 … msg10 posted through the facade all answer 201', async () => {
    for (const msg of ten) {
      const r = await postForm<FacadePosted>(facade, { msg });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      loggedBy.set(msg, r.body.loggedBy);
    }
    expect(new Set(loggedBy.values()).size, 'random choice spreads ten messages over more than one instance').to.be.greaterThan(1);
  });

  it('3. shows which instance received each message and how entries spread over the members', async () => {
    // The lab's GET /logging: the texts; `?fields=all` adds who stored each and when.
    expect((await get(`${system.loggingUrl(0)}/logging`)).body).to.deep.equal(ten);
    const stored = (await get(`${system.loggingUrl(1)}/logging?fields=all`)).body as Stored[];
    expect(stored.map((m) => m.msg)).to.deep.equal(ten);
    for (const m of stored) expect(m.loggedBy).to.equal(loggedBy.get(m.msg));
    // The lab read each instance's console: each message is logged by the instance that stored it.
    for (let i = 0; i < 3; i++) {
      const mine = ten.filter((msg) => loggedBy.get(msg) === `${system.loggingUrl(i)}/logging`);
      const lines = system.logging[i]!.logTail(200).filter((l) => l.includes('Message Was Logged'));
      expect(lines.map((l) => JSON.parse(l).msg.replace('Message Was Logged: ', ''))).to.have.members(mine);
    }
    const summary = (await get<ClusterSummary>(`${system.loggingUrl(2)}/logging/cluster`)).body;
    expect(summary.mapSize).to.equal(10);
    expect(summary.members.reduce((n, m) => n + m.ownedEntries, 0)).to.equal(10);
  });

  it('4. GET /facade returns all ten messages in order and the messages-service text', async () => {
    expect((await get(facade)).body).to.deep.equal({ 'logging-service': ten, 'messages-service': "I'm not implemented yet ^_^" });
  });

  it('5. with one, then two logging instances killed together with their members, all ten still read back', async () => {
    system.logging[0]!.kill('SIGKILL');
    system.members[0]!.kill('SIGKILL');
    await Promise.all([system.logging[0]!.exited, system.members[0]!.exited]);
    expect((await get<FacadeList>(facade)).body['logging-service']).to.deep.equal(ten);

    system.logging[1]!.kill('SIGKILL');
    system.members[1]!.kill('SIGKILL');
    await Promise.all([system.logging[1]!.exited, system.members[1]!.exited]);
    for (let i = 0; i < 5; i++) {
      const r = await get<FacadeList>(facade);
      expect(r.status).to.equal(200);
      expect(r.body['logging-service']).to.deep.equal(ten);
    }
    // One member is below the split-brain minimum (2 of 3): it serves every read, but refuses
    // writes with a clear 503 rather than acknowledge one that a larger side might not hold.
    let n = 0;
    await eventually(async () => {
      const r = await postForm<ErrorAnswer>(facade, { msg: `alone-${n++}` });
      expect(r.status).to.equal(503);
      expect(r.body.error.code).to.equal('STORE_MINORITY');
    });
    expect((await get<FacadeList>(facade)).body['logging-service'].slice(0, 10)).to.deep.equal(ten);
  });

  it('loses no acknowledged message when two of three members are killed at the same moment', async () => {
    // Bring the cluster back to three members and every logging instance back up.
    await system.startMember(0, false);
    await system.startMember(1, false);
    await system.waitForCluster(3);
    await Promise.all([system.startLogging(0), system.startLogging(1)]);

    const acknowledged: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => postForm<FacadePosted>(facade, { msg: `burst-${batch}-${i}` })));
      for (const r of replies) if (r.status === 201) acknowledged.push(r.body.message.msg);
    }
    expect(acknowledged).to.have.length(200);

    system.members[1]!.kill('SIGKILL');
    system.members[2]!.kill('SIGKILL');
    await Promise.all([system.members[1]!.exited, system.members[2]!.exited]);

    const all = await eventually(async () => {
      const r = await get<FacadeList>(facade);
      expect(r.status).to.equal(200);
      return r.body['logging-service'];
    });
    const missing = acknowledged.filter((m) => !all.includes(m));
    expect(missing, 'acknowledged messages lost').to.deep.equal([]);
    expect(all.slice(0, 10)).to.deep.equal(ten);
    expect(new Set(all).size, 'no message stored twice').to.equal(all.length);
    // Alone, the survivor refuses writes; with a second member back, they are acknowledged again.
    await eventually(async () => expect((await postForm(facade, { msg: `refused-${Date.now()}` })).status).to.equal(503));
    await system.startMember(1, false);
    await system.waitForCluster(2);
    const r = await eventually(async () => {
      const reply = await postForm<FacadePosted>(facade, { msg: 'with two members' });
      expect(reply.status).to.equal(201);
      return reply;
    });
    expect(r.body.message.msg).to.equal('with two members');
  });

  it('carries the request id from the facade to the logging instance that stored the message', async () => {
    const r = await postJson<FacadePosted>(facade, { msg: 'traced' }, { 'x-request-id': 'lab-trace-42' });
    expect(r.status).to.equal(201);
    expect(r.headers.get('x-request-id')).to.equal('lab-trace-42');
    const i = system.ports.logging.findIndex((p) => r.body.loggedBy.includes(`:${p}/`));
    await eventually(() => {
      const line = system.logging[i]!.logTail(50).find((l) => l.includes('lab-trace-42'));
      expect(line, 'a log line with the request id').to.be.a('string');
      expect(JSON.parse(line!)).to.include({ requestId: 'lab-trace-42', msg: 'Message Was Logged: traced' });
    });
  });

  it('stops a logging instance on SIGTERM with exit code 0', async () => {
    const proc = system.logging[2]!;
    const t0 = Date.now();
    expect(await proc.stop(10_000)).to.equal(0);
    expect(Date.now() - t0).to.be.below(10_000);
  });
});
