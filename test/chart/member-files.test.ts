/**
 * One source for the members' files. charts/lab/files/hazelcast.yaml is the member configuration
 * local members run as it is, and the chart renders its members' ConfigMap from it; rendered by a
 * real helm with the defaults, the two may differ only where KUBERNETES_ONLY says, each difference
 * with its value on both sides. Anything else that differs, appears or disappears fails. The
 * exporter rules exist once too, charts/lab/files/jmx-exporter.yaml, read by both.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'chai';
import { parse } from 'yaml';
import { JMX_EXPORTER_CONFIG, MEMBER_CONFIG } from '../../local/hazelcast.js';
import { REPO_ROOT } from '../../local/repo.js';
import { CHART_DIR, helmTemplate, helmTemplateOfCopy, requireHelm, type K8sObject } from './support/helm.js';
import { configMapOf, memberConfigOf } from './support/manifests.js';

/** A place in the config: the keys from `hazelcast:` down, joined by `/` (property names hold dots). */
type Path = string;

/** Where the rendered config differs from the file: a key's value on each side, undefined where it is absent. */
interface Difference {
  path: Path;
  local: unknown;
  chart: unknown;
}

/** The map names local members get from -Dlab.map.name, and the chart's (hazelcast.mapName: messages). */
const MAP_NAMES: Record<string, string> = { '${lab.map.name}': 'messages', '${lab.map.name}-meta': 'messages-meta' };

/**
 * Every way the chart's default member config may differ from the file local members run, and no
 * other. Each is a value (cluster name, port, heartbeat timeout, shutdown bound) or what finding and
 * binding members means on each side: loopback TCP-IP with a fixed address locally, DNS on Kubernetes.
 */
const KUBERNETES_ONLY: Difference[] = [
  { path: 'cluster-name', local: '${lab.cluster.name}', chart: 'lab' },
  { path: 'network/join/kubernetes', local: undefined, chart: { enabled: true, 'service-dns': 'lab-hazelcast-headless.default.svc.cluster.local', 'service-port': 5701 } },
  { path: 'network/join/tcp-ip', local: { enabled: true, members: '${lab.members}' }, chart: undefined },
  { path: 'network/port/port', local: '${lab.member.port}', chart: 5701 },
  { path: 'network/public-address', local: '${lab.member.host}:${lab.member.port}', chart: undefined },
  // terminationGracePeriodSeconds (120) less 15 s, so the member is done before the kubelet's SIGKILL.
  { path: 'properties/hazelcast.graceful.shutdown.max.wait', local: 20, chart: 105 },
  { path: 'properties/hazelcast.heartbeat.interval.seconds', local: 1, chart: 2 },
  { path: 'properties/hazelcast.local.localAddress', local: '${lab.member.host}', chart: undefined },
  { path: 'properties/hazelcast.logging.type', local: 'jdk', chart: undefined },
  { path: 'properties/hazelcast.max.no.heartbeat.seconds', local: 10, chart: 20 },
  { path: 'properties/hazelcast.socket.bind.any', local: false, chart: undefined },
  { path: 'properties/hazelcast.socket.client.bind.any', local: false, chart: undefined },
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The differences between two parsed configs, in path order: a key on one side only, or a value that differs (lists whole). */
function differences(local: unknown, chart: unknown, path: Path[] = []): Difference[] {
  if (isObject(local) && isObject(chart)) {
    const keys = [...new Set([...Object.keys(local), ...Object.keys(chart)])].sort();
    return keys.flatMap((k) => differences(local[k], chart[k], [...path, k]));
  }
  return isDeepStrictEqual(local, chart) ? [] : [{ path: path.join('/'), local, chart }];
}

/** The file local members run, parsed, its map names replaced by the chart's defaults (MAP_NAMES). */
function localConfig(): any {
  const config = parse(readFileSync(MEMBER_CONFIG, 'utf8')).hazelcast;
  config.map = Object.fromEntries(Object.entries(config.map).map(([name, map]) => [MAP_NAMES[name] ?? name, map]));
  return config;
}

/** Files of the repository with this name, wherever they are: tracked, or new and not ignored. */
const filesNamed = (name: string) =>
  execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter((f) => basename(f) === name);

describe("the members' files: one source for local members and the chart", function () {
  let helm: string;
  let defaults: K8sObject[];

  before(async function () {
    helm = requireHelm(this);
    defaults = (await helmTemplate(helm)).objects;
  });

  it('local members run the member configuration the chart renders from (charts/lab/files/hazelcast.yaml), the only one', () => {
    expect(MEMBER_CONFIG).to.equal(join(CHART_DIR, 'files', 'hazelcast.yaml'));
    expect(filesNamed('hazelcast.yaml')).to.deep.equal(['charts/lab/files/hazelcast.yaml']);
  });

  it('renders the same member configuration but for the Kubernetes differences listed here', () => {
    expect(differences(localConfig(), memberConfigOf(defaults).config)).to.deep.equal(KUBERNETES_ONLY);
  });

  it('sees a drift: a setting the chart adds on its own is a difference not listed', async () => {
    const drifted = await helmTemplateOfCopy(helm, (chartDir) => {
      const helpers = join(chartDir, 'templates', '_helpers.tpl');
      const text = readFileSync(helpers, 'utf8');
      const line = '  hazelcast.heartbeat.interval.seconds: 2\n';
      expect(text, 'the line the copy edits').to.include(line);
      writeFileSync(helpers, text.replace(line, `${line}  hazelcast.partition.count: 7\n`));
    });
    const found = differences(localConfig(), memberConfigOf(drifted.objects).config);
    expect(found).to.deep.include({ path: 'properties/hazelcast.partition.count', local: undefined, chart: 7 });
  });

  it('local members and the chart read the one set of exporter rules (charts/lab/files/jmx-exporter.yaml)', () => {
    expect(JMX_EXPORTER_CONFIG).to.equal(join(CHART_DIR, 'files', 'jmx-exporter.yaml'));
    expect(filesNamed('jmx-exporter.yaml')).to.deep.equal(['charts/lab/files/jmx-exporter.yaml']);
    const rendered: string = configMapOf(defaults, 'hazelcast').data['jmx-exporter.yaml'];
    expect(rendered.trim()).to.equal(readFileSync(JMX_EXPORTER_CONFIG, 'utf8').trim());
  });
});
