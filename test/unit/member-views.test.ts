import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemberViews, membersApart } from '../../services/logging/member-views.js';
import { createApp } from '../../services/logging/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { ServiceClient } from '../../lib/service-client.js';
import { freePorts } from '../support/ports.js';
import { InMemoryMessageStore, silentLogger } from '../support/fakes.js';
import { get, serve } from '../support/http.js';

/** A stand-in for a member's health endpoint: answers `/hazelcast/health` with `clusterSize`. */
async function fakeMember(clusterSize: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/hazelcast/health' ? { nodeState: 'ACTIVE', clusterState: 'ACTIVE', clusterSize } : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("member views (each member's own account of its cluster)", () => {
  const client = new ServiceClient({
    timeoutMs: 1_000, policy: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, cooldownMs: 0 }, logger: silentLogger(),
  });
  let members: Awaited<ReturnType<typeof fakeMember>>[];
  let deadPort: number;

  before(async () => {
    members = [await fakeMember(2), await fakeMember(2), await fakeMember(1)];
    [deadPort] = await freePorts(1);
  });
  after(async () => {
    await Promise.all(members.map((m) => m.close()));
    client.close();
  });

  const address = (i: number) => `127.0.0.1:${members[i]!.port}`;

  it("finds a member that answers but is not in the client's cluster, and resolves configured names", async () => {
    const views = new MemberViews({
      configured: [`localhost:${members[2]!.port}`, `127.0.0.1:${deadPort}`],
      clientMembers: () => [address(0), address(1)],
      client,
    });
    const seen = await views.views();
    expect(seen).to.deep.include.members([
      { address: address(0), clusterSize: 2, nodeState: 'ACTIVE', inClientCluster: true },
      { address: address(2), clusterSize: 1, nodeState: 'ACTIVE', inClientCluster: false },
      { address: `127.0.0.1:${deadPort}`, clusterSize: null, nodeState: null, inClientCluster: false },
    ]);
    // The one alone is apart; the one that does not answer may simply be down, and is not.
    expect(membersApart(seen).map((v) => v.address)).to.deep.equal([address(2)]);
  });

  it('a name that does not resolve costs nothing and hides nothing', async () => {
    const views = new MemberViews({ configured: ['no-such-member.invalid:5701'], clientMembers: () => [address(0)], client });
    expect((await views.views()).map((v) => v.address)).to.deep.equal([address(0)]);
  });

  it("logging's /logging/cluster and /metrics report them (hazelcast_members_apart)", async () => {
    const views = new MemberViews({ configured: [address(2)], clientMembers: () => [address(0), address(1)], client });
    const app = createApp({ store: new InMemoryMessageStore(), logger: silentLogger(), metrics: createMetrics('logging'), instanceName: 'l', bodyLimitBytes: 1024, isReady: () => true, memberViews: views });
    const { url, close } = await serve(app);
    try {
      const cluster = await get(`${url}/logging/cluster`);
      expect(cluster.status).to.equal(200);
      expect((cluster.body as { memberViews: unknown[] }).memberViews).to.have.length(3);
      const metrics = await get(`${url}/metrics`);
      expect(metrics.text).to.match(/^hazelcast_members_apart{service="logging"} 1$/m);
    } finally {
      await close();
    }
  });
});
