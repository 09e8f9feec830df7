/**
 * The chart's member container, started the way the official image starts it: the official
 * distribution's own `bin/hz start` (the zip the image unpacks into /opt/hazelcast, with the JMX
 * exporter it bundles), the container's env as rendered, and its volumes laid out at their mount
 * paths under a scratch root. What this proves that member-config.test.ts cannot: the exporter
 * really runs with the chart's rules (PROMETHEUS_PORT, and the rules where `hz start` reads them),
 * so the names the alerts and the dashboard read are served.
 *
 * Changed from the rendering, and only so it runs on this machine: discovery (onLoopback), the
 * exporter bound to 127.0.0.1 on a free port instead of every address on 8090, and a 256 MiB heap.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { Client } from 'hazelcast-client';
import { parse } from 'yaml';
import { HAZELCAST_VERSION, JMX_EXPORTER_VERSION, OFFICIAL_IMAGE, ensureHazelcastDistribution, memberHealth } from '../../local/hazelcast.js';
import { ManagedProcess, probeHttp, waitFor } from '../../local/processes.js';
import { HEAP_METRICS } from '../../services/logging/member-views.js';
import { parsePrometheusText, sampleValue } from '../../lib/prometheus-text.js';
import { eventually } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { missingTool } from '../support/tools.js';
import { alertMetricNames, exporterMetricNames } from './support/alerts.js';
import { helmTemplate, requireHelm, type K8sObject } from './support/helm.js';
import { envOf, get } from './support/manifests.js';
import { onLoopback } from './support/member.js';

const IMAGE_HOME = OFFICIAL_IMAGE.home;

/** Metric names in Prometheus text. */
const servedNames = (text: string) => new Set(parsePrometheusText(text).map((s) => s.name));

describe(`the chart's members on the official start script (Hazelcast ${HAZELCAST_VERSION} distribution and its JMX exporter)`, function () {
  this.timeout(180_000);
  let root: string;
  let home: string;
  let member: ManagedProcess | undefined;
  let client: Client | undefined;
  let objects: K8sObject[];
  let container: any;
  /** The members' ConfigMap as rendered: hazelcast.yaml and jmx-exporter.yaml. */
  let memberFiles: Record<string, string>;
  let metricsUrl: string;

  /** A path inside the pretend container's filesystem. */
  const inRoot = (path: string) => join(root, path);

  before(async function () {
    const helm = requireHelm(this);
    if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status !== 0) {
      missingTool(this, 'the official start script test', 'unzip not found, which unpacks the Hazelcast distribution once; install it (e.g. `apt-get install unzip`)');
    }
    home = ensureHazelcastDistribution();
    ({ objects } = await helmTemplate(helm, { set: { 'metrics.prometheusRule.enabled': true } }));
    const sts = get(objects, 'StatefulSet', 'lab-hazelcast');
    const pod = sts.spec.template.spec;
    container = pod.containers.find((c: any) => c.name === 'hazelcast');
    memberFiles = get(objects, 'ConfigMap', 'lab-hazelcast').data;
    root = mkdtempSync(join(tmpdir(), 'lab-official-start-'));

    // The image: the distribution at /opt/hazelcast (lib/ linked, not copied: 40 MB of jars).
    mkdirSync(inRoot(IMAGE_HOME), { recursive: true });
    for (const dir of ['bin', 'config']) cpSync(join(home, dir), inRoot(join(IMAGE_HOME, dir)), { recursive: true });
    symlinkSync(join(home, 'lib'), inRoot(join(IMAGE_HOME, 'lib')));

    // The pod's volumes at their mount paths, over the image's files as a mount would be.
    const [port, metricsPort] = await freePorts(2);
    for (const mount of container.volumeMounts as { name: string; mountPath: string; subPath?: string }[]) {
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      const target = inRoot(mount.mountPath);
      if (volume.emptyDir) {
        mkdirSync(target, { recursive: true });
        continue;
      }
      expect(volume.configMap, `volume ${mount.name}: only ConfigMaps and emptyDirs are laid out here`).to.be.an('object');
      const data: Record<string, string> = get(objects, 'ConfigMap', volume.configMap.name).data;
      const files = mount.subPath
        ? { [target]: data[mount.subPath]! }
        : Object.fromEntries(Object.entries(data).map(([k, v]) => [join(target, k), v]));
      for (const [file, text] of Object.entries(files)) {
        expect(text, `${mount.name}/${mount.subPath ?? ''}`).to.be.a('string');
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, file.endsWith('/hazelcast.yaml') ? onLoopback(text, port!) : text);
      }
    }

    // The container's env, its absolute paths moved under the root; the image's own env first.
    const env = envOf(container);
    const prefixes = [IMAGE_HOME, ...container.volumeMounts.map((m: any) => m.mountPath)].sort((a, b) => b.length - a.length);
    const moved = (value: string) => value.replace(new RegExp(`(^|[\\s=:])(${prefixes.join('|')})(?=/|\\s|$)`, 'g'), (_m, lead, path) => lead + inRoot(path));
    expect(Object.values(env).filter((v) => v.startsWith('valueFrom:')), 'env from the downward API').to.deep.equal([]);
    const metricsPortSpec = container.ports.find((p: any) => p.name === 'metrics');
    expect(env.PROMETHEUS_PORT, 'PROMETHEUS_PORT is the metrics port the Service scrapes').to.equal(String(metricsPortSpec.containerPort));
    member = new ManagedProcess('official-hz', inRoot(join(IMAGE_HOME, 'bin', 'hz')), ['start'], {
      cwd: inRoot(IMAGE_HOME),
      tailLines: 400,
      env: {
        PATH: process.env.PATH,
        ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
        // The official image's ENV, then the chart's.
        ...Object.fromEntries(Object.entries({ ...OFFICIAL_IMAGE.env, ...env }).map(([k, v]) => [k, moved(v)])),
        PROMETHEUS_PORT: `127.0.0.1:${metricsPort}`,
        JAVA_OPTS: `${moved(env.JAVA_OPTS ?? '')} -Xms64m -Xmx256m`,
      },
    });
    const address = `127.0.0.1:${port}`;
    await waitFor(member, 'the member to be ready', async () => ((await memberHealth(address))?.nodeState === 'ACTIVE' ? true : undefined), 90_000, 250);
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // Entries in a map (not the messages map: one member is below its split-brain minimum), so the map rules have beans to read.
    const clusterName: string = parse(memberFiles['hazelcast.yaml']!).hazelcast['cluster-name'];
    client = await Client.newHazelcastClient({ clusterName, network: { clusterMembers: [address] }, properties: { 'hazelcast.logging.level': 'OFF' } });
    const map = await client.getMap<string, string>('probe');
    await Promise.all(Array.from({ length: 50 }, (_, i) => map.set(`key-${i}`, `message ${i}`)));
  });

  after(async () => {
    await client?.shutdown();
    await member?.stop(15_000);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const scrape = async () => {
    const res = await probeHttp(metricsUrl);
    expect(res.status, `${metricsUrl}\n${member?.logTail(20).join('\n')}`).to.equal(200);
    return String(res.body);
  };

  it('bundles the JMX exporter version that local members pin (package.json config.jmxExporterVersion)', () => {
    expect(readdirSync(join(home, 'lib')).filter((f) => f.startsWith('jmx_prometheus_javaagent'))).to.deep.equal([`jmx_prometheus_javaagent-${JMX_EXPORTER_VERSION}.jar`]);
    expect(member!.logTail(400).join('\n')).to.include('Prometheus enabled on port');
  });

  it("serves every name of the chart's exporter rules, so the rules in use are the chart's", async () => {
    const expected = exporterMetricNames(memberFiles['jmx-exporter.yaml']!);
    // Hazelcast publishes its metrics beans on its first collection, some seconds after the start.
    await eventually(async () => {
      const served = servedNames(await scrape());
      expect(expected.filter((n) => !served.has(n)), 'rule names not served').to.deep.equal([]);
    }, { timeoutMs: 30_000, intervalMs: 1_000 });
  });

  it("serves every member metric the chart's alerts read", async () => {
    const rule = get(objects, 'PrometheusRule', 'lab');
    const exprs: string[] = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr));
    // The alerts' names that the members' exporter rules make (the others are the services' own).
    const exporterNames = exporterMetricNames(memberFiles['jmx-exporter.yaml']!);
    const memberNames = [...new Set(exprs.flatMap(alertMetricNames))].filter((n) => exporterNames.includes(n));
    expect(memberNames).to.include.members([HEAP_METRICS.used, HEAP_METRICS.max, 'hazelcast_member_cluster_size']);
    const samples = parsePrometheusText(await scrape());
    for (const name of memberNames) expect(sampleValue(samples, name), name).to.be.a('number');
    expect(sampleValue(samples, 'hazelcast_member_cluster_size')).to.equal(1);
    expect(sampleValue(samples, HEAP_METRICS.max)).to.be.within(200 * 1024 * 1024, 256 * 1024 * 1024);
  });
});
