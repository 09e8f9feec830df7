import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEALTH_PATHS, HEAP_METRICS, MemberViews, membersApart, parseMetricsPorts } from '../../services/logging/member-views.js';
import { loadLoggingConfig } from '../../services/logging/config.js';
import { createApp } from '../../services/logging/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { ServiceClient } from '../../lib/service-client.js';
import { freePorts } from '../support/ports.js';
import { InMemoryMessageStore, silentLogger } from '../support/fakes.js';
import { get, serve } from '../support/http.js';

/** Part of what the JMX exporter answers (charts/lab/files/jmx-exporter.yaml), as 0.20.0 prints it: labels end in a comma. */
const EXPOSITION = [
  '# TYPE hazelcast_map_owned_entries gauge',
  'hazelcast_map_owned_entries{map="messages",} 10.0',
  `# HELP ${HEAP_METRICS.max} The most heap the member may use (-Xmx), in bytes.`,
  `# TYPE ${HEAP_METRICS.max} gauge`,
  `${HEAP_METRICS.max} 1.34217728E8`,
  `# TYPE ${HEAP_METRICS.used} gauge`,
  `${HEAP_METRICS.used} 3.0244856E7`,
  '',
].join('\n');

/**
 * A stand-in for a member: answers `/hazelcast/health/cluster-size` with `clusterSize` and
 * `/hazelcast/health/node-state` with ACTIVE, as JSON values, as a member does, and, on the same
 * port, `/metrics` with its heap; `urls` records what was asked.
 */
interface FakeMember { port: number; urls: string[]; close: () => Promise<void> }
async function fakeMember(clusterSize: number, exposition = EXPOSITION): Promise<FakeMember> {
  const urls: string[] = [];
  const server = http.createServer((req, res) => {
    urls.push(req.url ?? '');
    if (req.url?.startsWith('/metrics')) {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(exposition);
      return;
    }
    const value = { [HEALTH_PATHS.clusterSize]: clusterSize, [HEALTH_PATHS.nodeState]: 'ACTIVE' }[req.url ?? ''];
    res.statusCode = value === undefined ? 404 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(value ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, urls, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
      { address: address(0), clusterSize: 2, nodeState: 'ACTIVE', inClientCluster: true, heapUsedBytes: null, heapMaxBytes: null },
      { address: address(2), clusterSize: 1, nodeState: 'ACTIVE', inClientCluster: false, heapUsedBytes: null, heapMaxBytes: null },
      { address: `127.0.0.1:${deadPort}`, clusterSize: null, nodeState: null, inClientCluster: false, heapUsedBytes: null, heapMaxBytes: null },
    ]);
    // The one alone is apart; the one that does not answer may simply be down, and is not.
    expect(membersApart(seen).map((v) => v.address)).to.deep.equal([address(2)]);
  });

  it('a name that does not resolve costs nothing and hides nothing', async () => {
    const views = new MemberViews({ configured: ['no-such-member.invalid:5701'], clientMembers: () => [address(0)], client });
    expect((await views.views()).map((v) => v.address)).to.deep.equal([address(0)]);
  });

  it("reads each member's heap from its exporter when asked, on the port HZ_METRICS_PORTS names for it", async () => {
    const byPort = new Map(members.map((m) => [m.port, m.port] as const));
    byPort.set(deadPort, deadPort);
    const views = new MemberViews({ configured: [`127.0.0.1:${deadPort}`], clientMembers: () => [address(0)], client, metricsPorts: { byMemberPort: byPort } });
    const before = members[0]!.urls.length;
    expect((await views.views()).every((v) => v.heapUsedBytes === null)).to.equal(true);
    expect(members[0]!.urls.slice(before).sort(), 'no exporter call without heap, and not the whole health (it blocks while members drop one another)')
      .to.deep.equal([HEALTH_PATHS.clusterSize, HEALTH_PATHS.nodeState].sort());
    const seen = await views.views({ heap: true });
    expect(seen).to.deep.include.members([
      { address: address(0), clusterSize: 2, nodeState: 'ACTIVE', inClientCluster: true, heapUsedBytes: 30_244_856, heapMaxBytes: 134_217_728 },
      { address: `127.0.0.1:${deadPort}`, clusterSize: null, nodeState: null, inClientCluster: false, heapUsedBytes: null, heapMaxBytes: null },
    ]);
    expect(members[0]!.urls.at(-1)).to.equal('/metrics');
  });

  it('shows no heap for a member whose exporter answers something that is not Prometheus text', async () => {
    const odd = await fakeMember(1, '<html>Service Unavailable</html>\n');
    try {
      const at = `127.0.0.1:${odd.port}`;
      const metricsPorts = { byMemberPort: new Map([[odd.port, odd.port]]) };
      const views = new MemberViews({ configured: [], clientMembers: () => [at], client, metricsPorts });
      expect(await views.views({ heap: true })).to.deep.equal([
        { address: at, clusterSize: 1, nodeState: 'ACTIVE', inClientCluster: true, heapUsedBytes: null, heapMaxBytes: null },
      ]);
      expect(odd.urls).to.include('/metrics');
    } finally {
      await odd.close();
    }
  });

  it('finds the exporter on the member\'s own host: one port for all, or a port per member port', () => {
    const views = (text: string) =>
      new MemberViews({ configured: [], clientMembers: () => [], client, metricsPorts: parseMetricsPorts(text) });
    expect(views('8090').metricsAddress('10.0.0.7:5701')).to.equal('10.0.0.7:8090');
    expect(views('5701=9701,5702=9702').metricsAddress('127.0.0.12:5702')).to.equal('127.0.0.12:9702');
    expect(views('5701=9701').metricsAddress('127.0.0.1:5703')).to.equal(undefined);
    expect(views('').metricsAddress('127.0.0.1:5701')).to.equal(undefined);
  });

  it('parses HZ_METRICS_PORTS and refuses anything else, naming the setting', () => {
    expect(parseMetricsPorts('')).to.deep.equal({ byMemberPort: new Map() });
    expect(parseMetricsPorts('8090')).to.deep.equal({ all: 8090, byMemberPort: new Map() });
    expect(parseMetricsPorts('5701=9701, 5702=9702')).to.deep.equal({ byMemberPort: new Map([[5701, 9701], [5702, 9702]]) });
    for (const bad of ['0', '70000', 'x', '5701=', '5701=9701=1', '5701:9701', '8090,5701=9701']) expect(parseMetricsPorts(bad), bad).to.equal(undefined);
    expect(loadLoggingConfig({}).HZ_METRICS_PORTS).to.deep.equal({ byMemberPort: new Map() });
    expect(() => loadLoggingConfig({ HZ_METRICS_PORTS: '5701:9701' })).to.throw(/HZ_METRICS_PORTS/);
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
