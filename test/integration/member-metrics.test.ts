/**
 * A real Hazelcast member with the Prometheus JMX exporter as local/hazelcast.ts starts it (the
 * pinned agent, charts/lab/files/jmx-exporter.yaml): its /metrics serves heap, GC, cluster,
 * partition, operation and map-entry metrics under the names the rules give, on the member's own host only.
 */
import { expect } from 'chai';
import { Client } from 'hazelcast-client';
import {
  HAZELCAST_VERSION, JMX_EXPORTER_VERSION, ensureHazelcastJar, ensureJmxExporterJar, startMember, waitForSafeCluster,
} from '../../local/hazelcast.js';
import { ManagedProcess, probeHttp } from '../../local/processes.js';
import { HEAP_METRICS } from '../../services/logging/member-views.js';
import { parsePrometheusText, sampleValue, samplesOf } from '../../lib/prometheus-text.js';
import { eventually } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';

describe(`member metrics: Hazelcast ${HAZELCAST_VERSION} with the JMX exporter ${JMX_EXPORTER_VERSION}`, function () {
  this.timeout(120_000);
  let member: ManagedProcess | undefined;
  let client: Client | undefined;
  let metricsUrl: string;

  const scrape = async () => {
    const res = await probeHttp(metricsUrl);
    expect(res.status).to.equal(200);
    return parsePrometheusText(String(res.body));
  };

  before(async () => {
    const [port, metricsPort] = await freePorts(2);
    const address = `127.0.0.1:${port}`;
    member = startMember({
      name: 'metrics-member', port: port!, members: [address], clusterName: 'metrics', mapName: 'messages',
      jar: ensureHazelcastJar(), metrics: { port: metricsPort!, agentJar: ensureJmxExporterJar() }, heapMb: 128,
    });
    await waitForSafeCluster(member, address, 1, 90_000);
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    client = await Client.newHazelcastClient({ clusterName: 'metrics', network: { clusterMembers: [address] }, properties: { 'hazelcast.logging.level': 'OFF' } });
    // Not the configured messages map: with one member its split-brain protection refuses writes.
    const map = await client.getMap<string, string>('probe');
    await Promise.all(Array.from({ length: 100 }, (_, i) => map.set(`key-${i}`, `message ${i}`)));
    // Hazelcast publishes its metrics beans on its first collection, some seconds after the start.
    await eventually(async () => expect(sampleValue(await scrape(), HEAP_METRICS.max)).to.be.a('number'), { timeoutMs: 20_000, intervalMs: 500 });
  });

  after(async () => {
    await client?.shutdown();
    await member?.stop(10_000);
  });

  it('serves the heap in use and the most it may use (-Xmx 128 MiB)', async () => {
    const samples = await scrape();
    const max = sampleValue(samples, HEAP_METRICS.max)!;
    const used = sampleValue(samples, HEAP_METRICS.used)!;
    expect(max).to.be.within(100 * 1024 * 1024, 128 * 1024 * 1024);
    expect(used).to.be.greaterThan(1024 * 1024).and.lessThan(max);
    expect(sampleValue(samples, 'hazelcast_memory_committed_heap_bytes')).to.be.at.least(used);
  });

  it('serves garbage collections and their time, minor and major', async () => {
    const samples = await scrape();
    const kinds = (name: string) => samplesOf(samples, name).map((s) => ({ ...s.labels }));
    expect(kinds('hazelcast_gc_collections_total')).to.have.deep.members([{ kind: 'major' }, { kind: 'minor' }]);
    expect(kinds('hazelcast_gc_collection_seconds_total')).to.have.deep.members([{ kind: 'major' }, { kind: 'minor' }]);
    // A member's start allocates enough for a young collection with a 128 MiB heap.
    expect(sampleValue(samples, 'hazelcast_gc_collections_total', { kind: 'minor' })).to.be.greaterThan(0);
  });

  it("serves the map's entries and their memory, the cluster size, partitions and operations", async () => {
    await eventually(async () => {
      const samples = await scrape();
      expect(sampleValue(samples, 'hazelcast_map_owned_entries', { map: 'probe' })).to.equal(100);
      expect(sampleValue(samples, 'hazelcast_map_owned_entry_memory_bytes', { map: 'probe' })).to.be.greaterThan(100 * 20);
      expect(sampleValue(samples, 'hazelcast_map_operations_total', { map: 'probe', operation: 'set' })).to.equal(100);
      expect(sampleValue(samples, 'hazelcast_member_cluster_size')).to.equal(1);
      expect(sampleValue(samples, 'hazelcast_partitions')).to.equal(271);
      expect(sampleValue(samples, 'hazelcast_partitions_owned')).to.equal(271);
      expect(sampleValue(samples, 'hazelcast_operations_completed_total')).to.be.greaterThan(0);
    }, { timeoutMs: 15_000, intervalMs: 500 });
  });

  it("listens on the member's own host only", async () => {
    const other = metricsUrl.replace('127.0.0.1', '127.0.0.2');
    const refused = await probeHttp(other).then(() => undefined, (err: Error) => err);
    expect(refused, 'another loopback address answered').to.be.instanceOf(Error);
  });
});
