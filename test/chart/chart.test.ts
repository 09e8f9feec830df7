/**
 * The Helm chart charts/lab, checked with a real helm: lint, renderings with the defaults and
 * with other values, the Kubernetes schema, the design the issue asks for (Hazelcast StatefulSet,
 * three logging replicas, registry ConfigMap, restricted pods, NetworkPolicies, helm test), and
 * one source of truth for every setting the services read.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { HAZELCAST_VERSION } from '../../local/hazelcast.js';
import { REPO_ROOT } from '../../local/repo.js';
import { facadeSettings, loadFacadeConfig } from '../../services/facade/config.js';
import { loggingSettings, loadLoggingConfig } from '../../services/logging/config.js';
import { messagesSettings, loadMessagesConfig } from '../../services/messages/config.js';
import { configServerSettings, loadConfigServerConfig } from '../../services/config-server/config.js';
import { parseRegistry } from '../../services/config-server/registry.js';
import { isUuid, newMessageId } from '../../lib/ids.js';
import {
  CHART_DIR, helmRun, helmTemplate, helmTemplateOfCopy, objectsBySource, requireHelm, KUBE_VERSION,
  type K8sObject, type Rendering, type SetValues,
} from './support/helm.js';
import {
  COMPONENT, configMapOf, containersOf, envOf, followService, get, matches, memberConfigOf, ofKind, podOf, pods,
} from './support/manifests.js';
import { SCHEMA_KUBERNETES_VERSION, validateAll } from './support/kube-schema.js';
import { hardeningViolations, restrictedViolations } from './support/pod-security.js';
import { mayConnect, releaseNamespace, type Endpoint } from './support/network.js';
import { describedProperties, describingNode, valueDocs } from './support/values-doc.js';
import { alertMetricNames, exporterMetricNames } from './support/alerts.js';
import { createMetrics } from '../../lib/metrics.js';
import { createApp as createLoggingApp } from '../../services/logging/app.js';
import { MemberViews } from '../../services/logging/member-views.js';
import { InMemoryMessageStore, silentLogger } from '../support/fakes.js';

/** Value scenarios, each rendered once. */
const SCENARIOS: Record<string, { set?: SetValues; release?: string; namespace?: string }> = {
  defaults: {},
  'policies off': { set: { 'networkPolicy.enabled': false } },
  'other replica counts': { set: { 'hazelcast.replicas': 5, 'logging.replicas': 4, 'facade.replicas': 2 } },
  'Management Center on': { set: { 'managementCenter.enabled': true } },
  'autoscaling on': { set: { 'facade.autoscaling.enabled': true, 'logging.autoscaling.enabled': true } },
  'metrics scraper': {
    set: {
      'networkPolicy.metricsScraper.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name': 'monitoring',
      'networkPolicy.metricsScraper.podSelector.matchLabels.app': 'prometheus',
    },
  },
  'egress restricted': { set: { 'networkPolicy.egress.enabled': true } },
  'prometheus operator': { set: { 'metrics.serviceMonitor.enabled': true, 'metrics.prometheusRule.enabled': true } },
  'another release, namespace and names': {
    release: 'demo',
    namespace: 'shop',
    set: {
      'hazelcast.clusterName': 'prod',
      'hazelcast.mapName': 'msgs',
      'logging.port': 9091,
      'messages.port': 9092,
      'configServer.port': 9888,
      'facade.settings.LOGGING_SERVICE_NAME': 'log',
      'logging.settings.LOG_LEVEL': 'debug',
      'image.digest': `sha256:${'a'.repeat(64)}`,
    },
  },
};

/** The lab services: component name, settings object (from services/<name>/config.ts) and config loader. */
const SERVICES = [
  { component: 'facade', settings: facadeSettings, load: loadFacadeConfig },
  { component: 'logging', settings: loggingSettings, load: loadLoggingConfig },
  { component: 'messages', settings: messagesSettings, load: loadMessagesConfig },
  { component: 'config-server', settings: configServerSettings, load: loadConfigServerConfig },
] as const;

const labelsOf = (release: string, component: string) => ({
  'app.kubernetes.io/name': 'lab',
  'app.kubernetes.io/instance': release,
  [COMPONENT]: component,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hazelcastContainer = (objects: K8sObject[]) => podOf(objects, 'hazelcast').spec.containers[0];
const isHelmTestHook = (o: K8sObject) => o.metadata.annotations?.['helm.sh/hook'] === 'test';

describe('Helm chart charts/lab (real helm)', function () {
  let helm: string;
  const rendered: Record<string, Rendering> = {};
  const objectsOf = (scenario: keyof typeof SCENARIOS) => rendered[scenario]!.objects;

  before(async function () {
    helm = requireHelm(this);
    await Promise.all(
      Object.entries(SCENARIOS).map(async ([name, s]) => {
        rendered[name] = await helmTemplate(helm, s);
      }),
    );
  });

  describe('helm lint and the values schema', () => {
    it('passes `helm lint --strict` with the defaults and with every scenario\'s values', async () => {
      const results = await Promise.all(
        Object.entries(SCENARIOS).map(async ([name, s]) => {
          const sets = Object.entries(s.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
          const { code, output } = await helmRun(helm, ['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION, '--namespace', s.namespace ?? 'default', ...sets]);
          return { name, code, output };
        }),
      );
      for (const r of results) expect(r.code, `${r.name}:\n${r.output}`).to.equal(0);
    });

    it('rejects unknown keys, a "latest" or missing image tag, settings the chart computes, and out-of-range settings', async () => {
      const cases: [SetValues, RegExp][] = [
        [{ bogus: 1 }, /additional properties 'bogus' not allowed/],
        [{ 'image.tag': 'latest' }, /image\/tag/],
        [{ 'hazelcast.image.tag': '' }, /hazelcast\/image/],
        [{ 'logging.settings.HOST': '1.2.3.4' }, /'HOST' not allowed/],
        [{ 'facade.settings.CONFIG_SERVER_URL': 'http://x' }, /'CONFIG_SERVER_URL' not allowed/],
        [{ 'facade.settings.RETRY_MAX_ATTEMPTS': 0 }, /RETRY_MAX_ATTEMPTS/],
        [{ 'facade.settings.LOG_LEVEL': 'loud' }, /LOG_LEVEL/],
        [{ 'hazelcast.terminationGracePeriodSeconds': 10 }, /terminationGracePeriodSeconds/],
      ];
      for (const [set, message] of cases) {
        let error = '';
        await helmTemplate(helm, { set }).catch((err: Error) => (error = err.message));
        expect(error, `--set ${JSON.stringify(set)} was accepted`).to.match(message);
      }
    });

    it('renders as a subchart, to which Helm always hands `global`, and refuses a `global` that is not an object', async () => {
      const { objects } = await helmTemplateOfCopy(helm, (chartDir) => {
        const parent = join(dirname(chartDir), 'parent');
        mkdirSync(join(parent, 'charts'), { recursive: true });
        renameSync(chartDir, join(parent, 'charts', 'lab'));
        writeFileSync(join(parent, 'Chart.yaml'), 'apiVersion: v2\nname: parent\nversion: 1.0.0\n');
        writeFileSync(join(parent, 'values.yaml'), 'global:\n  team: shop\nlab:\n  logging:\n    replicas: 2\n');
        return parent;
      }, { release: 'shop' });
      expect(get(objects, 'Deployment', 'shop-lab-logging').spec.replicas).to.equal(2);
      for (const global of [3, 'x', [1]]) {
        const refused = await helmTemplate(helm, { setJson: { global } }).then(() => 'accepted', (err: Error) => err.message);
        expect(refused, JSON.stringify(global)).to.match(/at '\/global': got \w+, want object/);
      }
    });
  });

  describe(`Kubernetes ${SCHEMA_KUBERNETES_VERSION} OpenAPI schema (kubernetes-models)`, () => {
    it('finds every object of every scenario valid, with no unknown field', async () => {
      for (const [name, r] of Object.entries(rendered)) {
        expect(r.objects.length, name).to.be.greaterThan(10);
        // The Prometheus Operator's kinds are CRDs, outside the Kubernetes schema (checked in 'metrics').
        expect(await validateAll(r.objects.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'))), name).to.deep.equal([]);
      }
    });

    it('would catch a wrong type and a misspelled field (the check is not vacuous)', async () => {
      const sts = structuredClone(get(objectsOf('defaults'), 'StatefulSet', 'lab-hazelcast'));
      sts.spec.replicas = 'three';
      sts.spec.template.spec.containers[0].imagePullPolicyy = 'IfNotPresent';
      const problems = await validateAll([sts]);
      expect(problems.join('\n')).to.match(/replicas must be integer/).and.to.match(/imagePullPolicyy: unknown field/);
    });
  });

  describe('Hazelcast', () => {
    it('runs 3 members in a StatefulSet on the official image at package.json\'s pinned version', () => {
      const sts = get(objectsOf('defaults'), 'StatefulSet', 'lab-hazelcast');
      expect(sts.spec.replicas).to.equal(3);
      expect(hazelcastContainer(objectsOf('defaults')).image).to.equal(`hazelcast/hazelcast:${HAZELCAST_VERSION}`);
    });

    it('is governed by a headless Service that publishes not-ready members, and serves clients through a ClusterIP Service', () => {
      const objects = objectsOf('defaults');
      const sts = get(objects, 'StatefulSet', 'lab-hazelcast');
      const headless = get(objects, 'Service', sts.spec.serviceName);
      expect(headless.spec.clusterIP).to.equal('None');
      expect(headless.spec.publishNotReadyAddresses).to.equal(true);
      expect(followService(objects, headless.metadata.name, 5701).pod.owner).to.equal(sts);
      const client = followService(objects, 'lab-hazelcast', 5701);
      expect(client.service.spec.type).to.equal('ClusterIP');
      expect(client.pod.owner).to.equal(sts);
      expect(client.containerPort).to.equal(5701);
    });

    it('discovers members through DNS on the headless Service, so no RBAC object exists', () => {
      for (const [scenario, ns] of [['defaults', 'default'], ['another release, namespace and names', 'shop']] as const) {
        const objects = objectsOf(scenario);
        const { config } = memberConfigOf(objects);
        const sts = ofKind(objects, 'StatefulSet')[0]!;
        expect(config.network.join.kubernetes).to.include({ enabled: true, 'service-dns': `${sts.spec.serviceName}.${ns}.svc.cluster.local` });
        expect(config.network.join.multicast.enabled).to.equal(false);
        expect(objects.filter((o) => /Role/.test(o.kind)), scenario).to.deep.equal([]);
      }
    });

    it('configures the cluster name, the messages map with backup-count 2 and its key index, health endpoints, and no phone-home', () => {
      const { config } = memberConfigOf(objectsOf('defaults'));
      expect(config['cluster-name']).to.equal('lab');
      expect(config.map.messages).to.deep.equal({
        'backup-count': 2,
        'async-backup-count': 0,
        'cache-deserialized-values': 'NEVER',
        'metadata-policy': 'OFF',
        indexes: [{ type: 'SORTED', attributes: ['__key'] }],
        'split-brain-protection-ref': 'lab-majority',
        'merge-policy': { 'class-name': 'PutIfAbsentMergePolicy' },
      });
      expect(config.properties['hazelcast.query.result.size.limit']).to.equal(100_000);
      expect(config.map['messages-meta']).to.deep.equal({
        'backup-count': 2,
        'async-backup-count': 0,
        'split-brain-protection-ref': 'lab-majority',
        'merge-policy': { 'class-name': 'PutIfAbsentMergePolicy' },
      });
      expect(config.network['rest-api']).to.deep.equal({ enabled: true, 'endpoint-groups': { HEALTH_CHECK: { enabled: true } } });
      expect(config.properties['hazelcast.phone.home.enabled']).to.equal(false);
    });

    it('refuses writes on a side of a split with fewer than 2 members by default, and merges back within seconds; both are values', async () => {
      const { config } = memberConfigOf(objectsOf('defaults'));
      expect(config['split-brain-protection']).to.deep.equal({ 'lab-majority': { enabled: true, 'minimum-cluster-size': 2, 'protect-on': 'WRITE' } });
      expect(config.properties['hazelcast.merge.first.run.delay.seconds']).to.equal(10);
      expect(config.properties['hazelcast.merge.next.run.delay.seconds']).to.equal(5);
      const strict = memberConfigOf((await helmTemplate(helm, { set: { 'hazelcast.splitBrainProtection.protectOn': 'READ_WRITE' } })).objects).config;
      expect(strict['split-brain-protection']['lab-majority']['protect-on']).to.equal('READ_WRITE');
      const off = memberConfigOf((await helmTemplate(helm, { set: { 'hazelcast.splitBrainProtection.enabled': false } })).objects).config;
      expect(off['split-brain-protection']).to.equal(undefined);
      expect(off.map.messages['split-brain-protection-ref']).to.equal(undefined);
      expect(off.map['messages-meta']['split-brain-protection-ref']).to.equal(undefined);
      // Logging then acknowledges a write held by one member, as the members do.
      const offLogging = await helmTemplate(helm, { set: { 'hazelcast.splitBrainProtection.enabled': false } });
      expect(envOf(podOf(offLogging.objects, 'logging').spec.containers[0]).HZ_MIN_COPIES).to.equal('1');
      const three = await helmTemplate(helm, { set: { 'hazelcast.replicas': 5, 'hazelcast.splitBrainProtection.minimumMembers': 3 } });
      expect(envOf(podOf(three.objects, 'logging').spec.containers[0]).HZ_MIN_COPIES).to.equal('3');
    });

    it('refuses a split-brain minimum above the member count, where no side could ever take a write', async () => {
      const refused = await helmTemplate(helm, { set: { 'hazelcast.replicas': 1 } }).then(() => undefined, (err: Error) => err.message);
      expect(refused).to.match(/hazelcast\.splitBrainProtection\.minimumMembers \(2\) is more than hazelcast\.replicas \(1\)/);
      const lone = await helmTemplate(helm, { set: { 'hazelcast.replicas': 1, 'hazelcast.splitBrainProtection.enabled': false } });
      expect(memberConfigOf(lone.objects).config['split-brain-protection']).to.equal(undefined);
      await helmTemplate(helm, { set: { 'hazelcast.replicas': 2 } });
    });

    it('shuts members down gracefully, within a bound derived from terminationGracePeriodSeconds', async () => {
      const longer = await helmTemplate(helm, { set: { 'hazelcast.terminationGracePeriodSeconds': 300 } });
      for (const objects of [objectsOf('defaults'), longer.objects]) {
        const grace = podOf(objects, 'hazelcast').spec.terminationGracePeriodSeconds;
        const props = memberConfigOf(objects).config.properties;
        expect(props['hazelcast.shutdownhook.enabled']).to.equal(true);
        expect(props['hazelcast.shutdownhook.policy']).to.equal('GRACEFUL');
        expect(props['hazelcast.graceful.shutdown.max.wait']).to.equal(grace - 15);
      }
      expect(podOf(longer.objects, 'hazelcast').spec.terminationGracePeriodSeconds).to.equal(300);
    });

    it('probes readiness on /hazelcast/health/ready and liveness on the member port', () => {
      const c = hazelcastContainer(objectsOf('defaults'));
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: '/hazelcast/health/ready', port: 'hazelcast' });
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/hazelcast/health/node-state', port: 'hazelcast' });
    });

    it('holds liveness off with a startup probe on the liveness check, whose budget is a value', async () => {
      const budget = (probe: any) => probe.initialDelaySeconds + probe.failureThreshold * probe.periodSeconds;
      const c = hazelcastContainer(objectsOf('defaults'));
      expect(c.startupProbe.httpGet).to.deep.equal(c.livenessProbe.httpGet);
      expect(budget(c.startupProbe), 'a first start may take minutes').to.equal(305);
      expect(budget(c.startupProbe), "more than liveness's own window").to.be.greaterThan(budget(c.livenessProbe));
      const longer = await helmTemplate(helm, { set: { 'hazelcast.startupProbe.failureThreshold': 300 } });
      expect(budget(hazelcastContainer(longer.objects).startupProbe)).to.equal(605);
      const refused = await Promise.all([{ failureThreshold: 0 }, { periodSeconds: '2s' }, { successThreshold: 2 }].map((bad) =>
        helmTemplate(helm, { setJson: { 'hazelcast.startupProbe': bad } }).then(() => 'accepted', (err: Error) => err.message)));
      refused.forEach((message, i) => expect(message, String(i)).to.match(/hazelcast\/startupProbe/));
    });

    it('has a memory limit and sizes the JVM heap from it', () => {
      const c = hazelcastContainer(objectsOf('defaults'));
      expect(c.resources.limits.memory).to.be.a('string');
      const javaOpts = envOf(c).JAVA_OPTS!;
      expect(javaOpts).to.match(/-XX:MaxRAMPercentage=\d+/);
      expect(javaOpts).not.to.match(/-Xmx/);
      expect(envOf(c).HAZELCAST_CONFIG).to.equal('/data/hazelcast/hazelcast.yaml');
      expect(javaOpts).to.include('-Dhazelcast.config=/data/hazelcast/hazelcast.yaml');
    });

    it("holds a million messages: logging's capacity is about 60 % of a member's heap, which a million take 40 % of", () => {
      const objects = objectsOf('defaults');
      const limit = hazelcastContainer(objects).resources.limits.memory as string;
      const mi = Number(/^(\d+)Mi$/.exec(limit)?.[1] ?? /^(\d+)Gi$/.exec(limit)?.[1]) * (limit.endsWith('Gi') ? 1024 : 1);
      const percent = Number(/-XX:MaxRAMPercentage=(\d+)/.exec(envOf(hazelcastContainer(objects)).JAVA_OPTS!)![1]);
      const heapMb = (mi * percent) / 100;
      const capacityMb = Number(envOf(podOf(objects, 'logging').spec.containers[0]).STORE_CAPACITY_MB);
      expect(capacityMb / heapMb).to.be.within(0.4, 0.65);
      // docs/reads-and-capacity.md: about 417 bytes a message on each member; a million with room to spare.
      expect((1_000_000 * 417) / 1048576 / heapMb).to.be.below(0.45);
    });

    it('prefers one member per node and lets at most one member be disrupted', () => {
      const objects = objectsOf('defaults');
      const pod = podOf(objects, 'hazelcast');
      const [term] = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
      expect(term.podAffinityTerm.topologyKey).to.equal('kubernetes.io/hostname');
      expect(term.podAffinityTerm.labelSelector.matchLabels).to.deep.equal(labelsOf('lab', 'hazelcast'));
      const pdb = get(objects, 'PodDisruptionBudget', 'lab-hazelcast');
      expect(pdb.spec.maxUnavailable).to.equal(1);
      expect(pdb.spec.selector.matchLabels).to.deep.equal(labelsOf('lab', 'hazelcast'));
    });

    it('rolls the members when their configuration or exporter rules change (checksum of the rendered hazelcast.yaml and rules)', () => {
      const rules = readFileSync(join(CHART_DIR, 'files', 'jmx-exporter.yaml'), 'utf8');
      const checksum = (objects: K8sObject[]) => {
        const annotation = podOf(objects, 'hazelcast').annotations['checksum/config'];
        expect(annotation).to.equal(sha256(memberConfigOf(objects).text.replace(/\n$/, '') + rules));
        return annotation;
      };
      expect(checksum(objectsOf('defaults'))).not.to.equal(checksum(objectsOf('another release, namespace and names')));
    });
  });

  describe('logging', () => {
    it('runs 3 replicas whose hazelcast-client points at the member Service, with the members\' cluster and map names', () => {
      for (const scenario of ['defaults', 'another release, namespace and names']) {
        const objects = objectsOf(scenario);
        const deployment = podOf(objects, 'logging').owner;
        expect(deployment.kind).to.equal('Deployment');
        expect(deployment.spec.replicas).to.equal(3);
        const env = envOf(podOf(objects, 'logging').spec.containers[0]);
        const [host, port] = env.HZ_MEMBERS!.split(':');
        const target = followService(objects, host!, Number(port));
        expect(target.pod.owner.kind).to.equal('StatefulSet');
        const { config } = memberConfigOf(objects);
        expect(env.HZ_CLUSTER_NAME).to.equal(config['cluster-name']);
        expect(config.map[env.HZ_MAP_NAME!]['backup-count']).to.equal(2);
        expect(Number(env.HZ_BACKUP_COUNT), 'the backup count logging reports is the members\' own').to.equal(config.map[env.HZ_MAP_NAME!]['backup-count']);
        expect(Number(env.HZ_MIN_COPIES), 'logging acknowledges a write held by the members\' split-brain minimum').to.equal(config['split-brain-protection']['lab-majority']['minimum-cluster-size']);
        // Named by its URL, as config-server lists it (one URL per pod IP) and the facade reports it.
        expect(env.POD_IP).to.equal('valueFrom:status.podIP');
        expect(env.INSTANCE_NAME).to.equal(`http://$(POD_IP):${podOf(objects, 'logging').spec.containers[0].ports[0].containerPort}/logging`);
      }
    });

    it('is ready on /readyz, live on /healthz, and listed pod by pod through a headless Service', () => {
      const objects = objectsOf('defaults');
      const c = podOf(objects, 'logging').spec.containers[0];
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'http' });
      const headless = get(objects, 'Service', 'lab-logging-headless');
      expect(headless.spec.clusterIP).to.equal('None');
      expect(headless.spec.publishNotReadyAddresses ?? false, 'only ready pods become instance URLs').to.equal(false);
      expect(followService(objects, 'lab-logging-headless', 8081).pod.labels[COMPONENT]).to.equal('logging');
    });
  });

  describe('facade, messages and config-server', () => {
    it('each run as a Deployment behind a Service that reaches their HTTP port', () => {
      const objects = objectsOf('defaults');
      for (const [component, port] of [['facade', 8080], ['messages', 8082], ['config-server', 8888]] as const) {
        const target = followService(objects, `lab-${component}`, port);
        expect(target.pod.owner.kind).to.equal('Deployment');
        expect(target.pod.labels[COMPONENT]).to.equal(component);
        expect(target.containerPort).to.equal(port);
        expect(target.pod.spec.containers[0].args).to.deep.equal([component]);
      }
    });

    it('config-server mounts the registry ConfigMap as a directory (no subPath, so edits reach the pod) at REGISTRY_FILE', () => {
      const pod = podOf(objectsOf('defaults'), 'config-server');
      const c = pod.spec.containers[0];
      const file = envOf(c).REGISTRY_FILE!;
      const mount = c.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
      expect(mount, `a mount holding ${file}`).to.not.equal(undefined);
      expect(mount.subPath).to.equal(undefined);
      const volume = pod.spec.volumes.find((v: any) => v.name === mount.name);
      const configMap = get(objectsOf('defaults'), 'ConfigMap', volume.configMap.name);
      expect(configMap.data).to.have.property(file.slice(mount.mountPath.length + 1));
    });
  });

  describe('one source of truth for settings', () => {
    it('sets exactly the environment variables each service\'s config accepts (services/*/config.ts)', () => {
      for (const scenario of Object.keys(SCENARIOS)) {
        for (const s of SERVICES) {
          // POD_IP is the chart's own, only to build logging's INSTANCE_NAME from.
          const names = Object.keys(envOf(podOf(objectsOf(scenario), s.component).spec.containers[0])).filter((n) => n !== 'POD_IP').sort();
          expect(names, `${scenario}: ${s.component}`).to.deep.equal(Object.keys(s.settings).sort());
        }
      }
    });

    it('defaults every tunable setting to the service\'s own default, so a default changed in code is noticed here', () => {
      // Set by the chart from other components' names; everything else comes from values.yaml.
      const computed = ['HOST', 'HZ_MEMBERS', 'HZ_MEMBERS_PROBED', 'HZ_METRICS_PORTS', 'CONFIG_SERVER_URL', 'REGISTRY_FILE', 'INSTANCE_NAME', 'POD_IP'];
      for (const s of SERVICES) {
        const env = envOf(podOf(objectsOf('defaults'), s.component).spec.containers[0]);
        const fromChart = s.load(Object.fromEntries(Object.entries(env).filter(([k]) => !computed.includes(k)))) as Record<string, unknown>;
        const ownDefaults = s.load({}) as Record<string, unknown>;
        const differing = Object.keys(fromChart)
          .filter((k) => !computed.includes(k) && JSON.stringify(fromChart[k]) !== JSON.stringify(ownDefaults[k]));
        expect(differing.map((k) => `${k}: chart ${JSON.stringify(fromChart[k])}, service ${JSON.stringify(ownDefaults[k])}`), s.component).to.deep.equal([]);
      }
    });

    it('keeps the facade\'s upstream timeout above logging\'s Hazelcast invocation timeout', () => {
      for (const scenario of Object.keys(SCENARIOS)) {
        const facade = envOf(podOf(objectsOf(scenario), 'facade').spec.containers[0]);
        const logging = envOf(podOf(objectsOf(scenario), 'logging').spec.containers[0]);
        expect(Number(facade.UPSTREAM_TIMEOUT_MS), scenario).to.be.greaterThan(Number(logging.HZ_INVOCATION_TIMEOUT_MS));
      }
    });

    it('lets a service override a shared setting for itself only', () => {
      const objects = objectsOf('another release, namespace and names');
      expect(envOf(podOf(objects, 'logging').spec.containers[0]).LOG_LEVEL).to.equal('debug');
      expect(envOf(podOf(objects, 'facade').spec.containers[0]).LOG_LEVEL).to.equal('info');
    });

    it('gives each service values its own config validation accepts', () => {
      for (const scenario of Object.keys(SCENARIOS)) {
        for (const s of SERVICES) {
          const env = envOf(podOf(objectsOf(scenario), s.component).spec.containers[0]);
          for (const [k, v] of Object.entries(env)) if (v.startsWith('valueFrom:')) env[k] = `${s.component}-7d9c6b5f4-x2x8q`;
          expect(() => s.load(env), `${scenario}: ${s.component}`).not.to.throw();
        }
      }
    });

    it('writes a registry config-server accepts, whose entries lead to the Services, pods and ports the chart defines', () => {
      for (const scenario of ['defaults', 'another release, namespace and names']) {
        const objects = objectsOf(scenario);
        const facadeEnv = envOf(podOf(objects, 'facade').spec.containers[0]);
        const registry = parseRegistry(configMapOf(objects, 'config-server').data['service-config.json']);
        const upstreams = [facadeEnv.LOGGING_SERVICE_NAME, facadeEnv.MESSAGES_SERVICE_NAME];
        expect([...registry.keys()].sort(), scenario).to.deep.equal(upstreams.sort());

        const logging = registry.get(facadeEnv.LOGGING_SERVICE_NAME!)!;
        if (Array.isArray(logging)) throw new Error('the logging entry must expand a headless Service');
        const viaDns = followService(objects, logging.dns, logging.port);
        expect(viaDns.service.spec.clusterIP, 'a headless Service: one address per pod').to.equal('None');
        expect(viaDns.pod.labels[COMPONENT]).to.equal('logging');
        expect(logging.path).to.equal('/logging');

        const messages = registry.get(facadeEnv.MESSAGES_SERVICE_NAME!)!;
        if (!Array.isArray(messages)) throw new Error('the messages entry must be a URL list');
        for (const u of messages.map((m) => new URL(m))) {
          expect(followService(objects, u.hostname, Number(u.port)).pod.labels[COMPONENT]).to.equal('messages');
          expect(u.pathname).to.equal('/messages');
        }

        const configServer = new URL(facadeEnv.CONFIG_SERVER_URL!);
        expect(followService(objects, configServer.hostname, Number(configServer.port)).pod.labels[COMPONENT]).to.equal('config-server');
      }
    });
  });

  describe('every pod', () => {
    const allPods = () => Object.entries(rendered).flatMap(([scenario, r]) => pods(r.objects).map((p) => ({ scenario, ...p })));

    it('meets the "restricted" Pod Security Standard', () => {
      for (const p of allPods()) expect(restrictedViolations(p.spec), `${p.scenario}: ${p.owner.kind}/${p.owner.metadata.name}`).to.deep.equal([]);
    });

    it('has a read-only root filesystem, mounts no service-account token and gets no service-link variables', () => {
      for (const p of allPods()) {
        const v = hardeningViolations(p.spec);
        // Management Center's image writes under its home, as its own user: run as it expects.
        const expected = p.labels[COMPONENT] === 'management-center' ? ['container management-center has a writable root filesystem'] : [];
        expect(v, `${p.scenario}: ${p.owner.kind}/${p.owner.metadata.name}`).to.deep.equal(expected);
      }
    });

    it('runs as the release\'s ServiceAccount, or the one serviceAccount names, never with a token; bad shapes are refused', async () => {
      const [named, existing, none] = await Promise.all([
        helmTemplate(helm, { set: { 'serviceAccount.name': 'lab-runner' }, setJson: { 'serviceAccount.annotations': { team: 'shop' } } }),
        helmTemplate(helm, { set: { 'serviceAccount.create': false, 'serviceAccount.name': 'shared' } }),
        helmTemplate(helm, { set: { 'serviceAccount.create': false } }),
      ]);
      const cases = [
        [objectsOf('defaults'), 'lab', true], [named.objects, 'lab-runner', true],
        [existing.objects, 'shared', false], [none.objects, 'default', false],
      ] as const;
      for (const [objects, name, created] of cases) {
        expect(new Set(pods(objects).map((p) => p.spec.serviceAccountName)), name).to.deep.equal(new Set([name]));
        expect(pods(objects).filter((p) => p.spec.automountServiceAccountToken !== false), name).to.deep.equal([]);
        const accounts = ofKind(objects, 'ServiceAccount');
        expect(accounts.map((a) => a.metadata.name), name).to.deep.equal(created ? [name] : []);
        for (const a of accounts) expect(a.automountServiceAccountToken, name).to.equal(false);
      }
      expect(get(objectsOf('defaults'), 'ServiceAccount', 'lab').metadata.annotations).to.equal(undefined);
      expect(get(named.objects, 'ServiceAccount', 'lab-runner').metadata.annotations).to.deep.equal({ team: 'shop' });
      const bad: Record<string, unknown>[] = [{ create: 'yes' }, { name: 'Lab_Runner' }, { annotations: { replicas: 3 } }, { automount: true }];
      const refused = await Promise.all(bad.map((serviceAccount) =>
        helmTemplate(helm, { setJson: { serviceAccount } }).then(() => 'accepted', (err: Error) => err.message)));
      refused.forEach((message, i) => expect(message, JSON.stringify(bad[i])).to.match(/serviceAccount/));
    });

    /** The chart's own security contexts: "restricted" as each image's user, a read-only root but Management Center's. */
    const restricted = (component: string) => {
      const uid = ({ hazelcast: 65534, 'management-center': 10001 } as Record<string, number>)[component] ?? 1000;
      const seccompProfile = { type: 'RuntimeDefault' };
      return {
        pod: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile },
        container: {
          allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: component !== 'management-center',
          runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile,
        },
      };
    };

    it('keeps its own restricted security contexts when no value changes them', () => {
      for (const p of [...pods(objectsOf('defaults')), podOf(objectsOf('Management Center on'), 'management-center')]) {
        const component = p.labels[COMPONENT]!;
        expect(p.spec.securityContext, component).to.deep.equal(restricted(component).pod);
        expect(p.spec.containers[0].securityContext, component).to.deep.equal(restricted(component).container);
      }
    });

    it('takes security-context fields chart-wide and per component over its own, field by field; refuses bad shapes and a user set there', async () => {
      const { objects } = await helmTemplate(helm, {
        set: { 'managementCenter.enabled': true },
        setJson: {
          podSecurityContext: { supplementalGroups: [4000], fsGroupChangePolicy: 'OnRootMismatch' },
          containerSecurityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } },
          'hazelcast.podSecurityContext': { fsGroupChangePolicy: 'Always', seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hz.json' } },
          'managementCenter.containerSecurityContext': { readOnlyRootFilesystem: true },
          'logging.containerSecurityContext': { readOnlyRootFilesystem: false },
        },
      });
      for (const p of pods(objects)) {
        const component = p.labels[COMPONENT]!;
        const own = restricted(component);
        const hazelcast = component === 'hazelcast';
        expect(p.spec.securityContext, component).to.deep.equal({
          ...own.pod, supplementalGroups: [4000], fsGroupChangePolicy: hazelcast ? 'Always' : 'OnRootMismatch',
          ...(hazelcast ? { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hz.json' } } : {}),
        });
        expect(p.spec.containers[0].securityContext, component).to.deep.equal({
          ...own.container, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
          readOnlyRootFilesystem: component !== 'logging',
        });
        expect(restrictedViolations(p.spec), component).to.deep.equal([]);
      }
      expect(await validateAll(objects)).to.deep.equal([]);
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ podSecurityContext: { runAsUser: 0 } }, /podSecurityContext.*runAsUser/s],
        [{ 'hazelcast.containerSecurityContext': { runAsUser: 1 } }, /hazelcast\/containerSecurityContext.*runAsUser/s],
        [{ 'facade.containerSecurityContext': { privileged: 'no' } }, /facade\/containerSecurityContext\/privileged/],
        [{ 'logging.containerSecurityContext': { capabilities: { drop: 'ALL' } } }, /logging\/containerSecurityContext\/capabilities\/drop/],
        [{ 'messages.podSecurityContext': { seccompProfile: { type: 'Default' } } }, /messages\/podSecurityContext\/seccompProfile\/type/],
        [{ containerSecurityContext: { readOnlyRootFileSystem: true } }, /containerSecurityContext.*readOnlyRootFileSystem/s],
      ];
      const refused = await Promise.all(bad.map(([setJson]) => helmTemplate(helm, { setJson }).then(() => 'accepted', (err: Error) => err.message)));
      refused.forEach((message, i) => expect(message, JSON.stringify(bad[i]![0])).to.match(bad[i]![1]));
    });

    it("runs Management Center as its image's own user (10001)", () => {
      const mc = podOf(objectsOf('Management Center on'), 'management-center');
      expect(mc.spec.securityContext).to.include({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, runAsNonRoot: true });
    });

    it('keeps the chart and its version off pod templates, so a chart bump restarts no pod; every object keeps them', async () => {
      const chart = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
      // The image pinned, as skaffold and a registry install pin it: only the chart changes.
      const set = { 'image.tag': chart.appVersion };
      const bump = (chartDir: string) => {
        const file = join(chartDir, 'Chart.yaml');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^version: .*$/m, 'version: 9.9.9').replace(/^appVersion: .*$/m, 'appVersion: "9.9.9"'));
      };
      const [before, after] = await Promise.all([helmTemplate(helm, { set }), helmTemplateOfCopy(helm, bump, { set })]);
      const workloads = pods(before.objects).filter((p) => p.owner.kind !== 'Pod');
      expect(workloads.length).to.be.greaterThan(4);
      for (const p of workloads) {
        const at = `${p.owner.kind}/${p.owner.metadata.name}`;
        expect(p.labels, at).not.to.have.any.keys('helm.sh/chart', 'app.kubernetes.io/version');
        expect(get(after.objects, p.owner.kind, p.owner.metadata.name).spec.template, at).to.deep.equal(p.owner.spec.template);
      }
      for (const o of after.objects) {
        expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).to.include({ 'helm.sh/chart': 'lab-9.9.9', 'app.kubernetes.io/version': '9.9.9' });
      }
    });

    it('requests CPU and memory and limits memory, in every container', () => {
      for (const p of allPods()) {
        for (const c of containersOf(p.spec)) {
          const at = `${p.scenario}: ${p.owner.metadata.name}/${c.name}`;
          expect(c.resources?.requests, at).to.include.keys('cpu', 'memory');
          expect(c.resources?.limits, at).to.include.keys('memory');
        }
      }
    });

    it('has liveness and readiness probes on every long-running container (the one-shot `helm test` pod excepted)', () => {
      const longRunning = allPods().filter((p) => !isHelmTestHook(p.owner));
      expect(longRunning.length).to.be.greaterThan(20);
      for (const p of longRunning) {
        for (const c of containersOf(p.spec)) {
          const at = `${p.scenario}: ${p.owner.metadata.name}/${c.name}`;
          expect(c.livenessProbe, at).to.be.an('object');
          expect(c.readinessProbe, at).to.be.an('object');
        }
      }
    });

    it('annotates the four services\' pods for Prometheus scraping on their own port, unless turned off', async () => {
      const objects = objectsOf('defaults');
      for (const [component, port] of [['facade', 8080], ['logging', 8081], ['messages', 8082], ['config-server', 8888]] as const) {
        const annotations = podOf(objects, component).owner.spec.template.metadata.annotations ?? {};
        expect(annotations, component).to.include({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
      }
      const off = await helmTemplate(helm, { set: { 'metrics.scrapeAnnotations': false } });
      const facade = podOf(off.objects, 'facade').owner;
      expect(facade.spec.template.metadata.annotations?.['prometheus.io/scrape']).to.equal(undefined);
    });

    it('uses only pinned images: a version tag or a digest, never "latest"', () => {
      for (const p of allPods()) {
        for (const c of containersOf(p.spec)) {
          const m = /^(?<repo>[^@]+?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/.exec(c.image);
          expect(m, `${c.image} is not an image reference`).to.not.equal(null);
          expect(m!.groups!.tag ?? m!.groups!.digest, `${p.scenario}: ${c.image} is not pinned`).to.be.a('string');
          expect(m!.groups!.tag, `${p.scenario}: ${c.image}`).not.to.equal('latest');
        }
      }
      expect(podOf(objectsOf('another release, namespace and names'), 'facade').spec.containers[0].image).to.equal(`lab:0.1.0@sha256:${'a'.repeat(64)}`);
    });

    it('puts image.registry before each repository, for every image (the helm test\'s too), and refuses one that is not a registry', async () => {
      const { objects } = await helmTemplate(helm, {
        set: {
          'image.registry': 'mirror.internal:5000', 'image.digest': `sha256:${'c'.repeat(64)}`,
          'hazelcast.image.registry': 'mirror.internal:5000/hub', 'managementCenter.enabled': true, 'managementCenter.image.registry': 'mirror.internal',
        },
      });
      const images = Object.fromEntries(pods(objects).map((p) => [p.labels[COMPONENT], containersOf(p.spec).map((c) => c.image)]));
      const { appVersion } = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
      const { managementCenter } = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
      const lab = [`mirror.internal:5000/lab:${appVersion}@sha256:${'c'.repeat(64)}`];
      expect(images).to.deep.equal({
        facade: lab, logging: lab, messages: lab, 'config-server': lab, test: lab,
        hazelcast: [`mirror.internal:5000/hub/hazelcast/hazelcast:${HAZELCAST_VERSION}`],
        'management-center': [`mirror.internal/hazelcast/management-center:${managementCenter.image.tag}`],
      });
      for (const registry of ['https://mirror.internal', 'mirror.internal/', 'mirror internal']) {
        const refused = await helmTemplate(helm, { set: { 'hazelcast.image.registry': registry } }).then(() => 'accepted', (err: Error) => err.message);
        expect(refused, registry).to.match(/hazelcast\/image.*registry/s);
      }
    });

    it('gives lab services a grace period that covers the preStop pause and the services\' own shutdown bound', () => {
      for (const s of SERVICES) {
        const pod = podOf(objectsOf('defaults'), s.component);
        const c = pod.spec.containers[0];
        const pause = Number(c.lifecycle.preStop.exec.command[1]);
        // lib/lifecycle.ts gives a stop SHUTDOWN_TIMEOUT_MS plus 2 s before it exits on its own.
        const stopSeconds = Number(envOf(c).SHUTDOWN_TIMEOUT_MS) / 1000 + 2;
        expect(pod.spec.terminationGracePeriodSeconds, s.component).to.be.at.least(pause + stopSeconds);
      }
    });
  });

  describe('NetworkPolicies', () => {
    const components = ['facade', 'logging', 'messages', 'config-server', 'hazelcast'];
    const PORTS: Record<string, number> = { facade: 8080, logging: 8081, messages: 8082, 'config-server': 8888, hazelcast: 5701 };
    const MEMBER_METRICS = 8090;
    const pod = (component: string, namespace = 'default'): Endpoint => ({ labels: labelsOf('lab', component), namespace: releaseNamespace(namespace) });
    const reachers = (objects: K8sObject[], target: string, sources: string[]) =>
      sources.filter((source) => mayConnect(objects, pod(source), pod(target), PORTS[target]!));
    const everyone = [...components, 'management-center', 'test', 'some-other-pod'];
    const prometheus = (namespace: string, app = 'prometheus'): Endpoint => ({ labels: { app }, namespace: releaseNamespace(namespace) });
    const dns: Endpoint = { labels: { 'k8s-app': 'kube-dns' }, namespace: releaseNamespace('kube-system') };

    it('are on by default: anyone reaches the facade; only the facade reaches logging, messages and config-server', () => {
      const objects = objectsOf('defaults');
      expect(reachers(objects, 'facade', everyone)).to.deep.equal(everyone);
      for (const target of ['logging', 'messages', 'config-server']) expect(reachers(objects, target, everyone), target).to.deep.equal(['facade']);
    });

    it('let only logging pods and the members themselves reach the member port (and Management Center when it is on)', () => {
      expect(reachers(objectsOf('defaults'), 'hazelcast', everyone)).to.deep.equal(['logging', 'hazelcast']);
      expect(reachers(objectsOf('Management Center on'), 'hazelcast', everyone)).to.deep.equal(['logging', 'hazelcast', 'management-center']);
    });

    it('let the configured metrics scraper reach every service\'s port, and only it', () => {
      const objects = objectsOf('metrics scraper');
      for (const target of ['facade', 'logging', 'messages', 'config-server']) {
        expect(mayConnect(objects, prometheus('monitoring'), pod(target), PORTS[target]!), target).to.equal(true);
        expect(mayConnect(objects, prometheus('elsewhere'), pod(target), PORTS[target]!), `${target} from another namespace`).to.equal(target === 'facade');
        expect(mayConnect(objects, prometheus('monitoring', 'grafana'), pod(target), PORTS[target]!), `${target} from another pod`).to.equal(target === 'facade');
        expect(mayConnect(objectsOf('defaults'), prometheus('monitoring'), pod(target), PORTS[target]!), `${target} with no scraper set`).to.equal(target === 'facade');
      }
      expect(mayConnect(objects, prometheus('monitoring'), pod('hazelcast'), PORTS.hazelcast!)).to.equal(false);
      expect(mayConnect(objects, prometheus('monitoring'), pod('hazelcast'), MEMBER_METRICS), 'members\' exporters').to.equal(true);
      expect(mayConnect(objects, prometheus('elsewhere'), pod('hazelcast'), MEMBER_METRICS)).to.equal(false);
    });

    it("let only logging (and the scraper) reach the members' exporter port, also with egress restricted", () => {
      for (const scenario of ['defaults', 'egress restricted'] as const) {
        const reaching = everyone.filter((source) => mayConnect(objectsOf(scenario), pod(source), pod('hazelcast'), MEMBER_METRICS));
        expect(reaching, scenario).to.deep.equal(['logging']);
      }
    });

    it("let members, and only members, reach each other's port 7: the failure detector's ping without ICMP", () => {
      for (const scenario of ['defaults', 'egress restricted'] as const) {
        const reaching = everyone.filter((source) => mayConnect(objectsOf(scenario), pod(source), pod('hazelcast'), 7));
        expect(reaching, scenario).to.deep.equal(['hazelcast']);
      }
    });

    it('leave egress open by default, and with networkPolicy.egress on allow DNS and the release\'s own paths only', () => {
      const open = objectsOf('defaults');
      expect(mayConnect(open, pod('messages'), pod('logging'), 8081)).to.equal(false); // ingress still closed
      expect(mayConnect(open, pod('logging'), prometheus('monitoring'), 443)).to.equal(true);
      const closed = objectsOf('egress restricted');
      for (const c of components) {
        expect(mayConnect(closed, pod(c), dns, 53, 'UDP'), `${c} → DNS`).to.equal(true);
        expect(mayConnect(closed, pod(c), prometheus('monitoring'), 443), `${c} → elsewhere`).to.equal(false);
      }
      const paths = components.flatMap((from) => components.filter((to) => mayConnect(closed, pod(from), pod(to), PORTS[to]!)).map((to) => `${from} → ${to}`));
      expect(paths).to.deep.equal([
        'facade → logging', 'facade → messages', 'facade → config-server', 'logging → hazelcast', 'hazelcast → hazelcast',
      ]);
      // Reaching the facade stays open to anyone whose own egress is not restricted (the helm test pod).
      expect(mayConnect(closed, pod('test'), pod('facade'), 8080)).to.equal(true);
    });

    it('are gone when networkPolicy.enabled is false', () => {
      expect(ofKind(objectsOf('policies off'), 'NetworkPolicy')).to.deep.equal([]);
      expect(reachers(objectsOf('policies off'), 'hazelcast', everyone)).to.deep.equal(everyone);
    });
  });

  describe('metrics', () => {
    const serviceMonitor = () => get(objectsOf('prometheus operator'), 'ServiceMonitor', 'lab');
    const prometheusRule = () => get(objectsOf('prometheus operator'), 'PrometheusRule', 'lab');

    it("runs the image's JMX exporter in every member on metrics.memberPort, with the repo's rules and Hazelcast's MBeans", () => {
      const objects = objectsOf('defaults');
      const c = hazelcastContainer(objects);
      expect(c.ports).to.deep.include({ name: 'metrics', containerPort: 8090, protocol: 'TCP' });
      // The image's `hz start` reads the rules from config/jmx_agent_config.yaml only (official-start.test.ts runs it).
      expect(envOf(c)).to.include({ PROMETHEUS_PORT: '8090', PROMETHEUS_CONFIG: '/opt/hazelcast/config/jmx_agent_config.yaml' });
      expect(c.volumeMounts).to.deep.include({ name: 'config', mountPath: '/data/hazelcast', readOnly: true });
      expect(c.volumeMounts).to.deep.include({
        name: 'config', mountPath: '/opt/hazelcast/config/jmx_agent_config.yaml', subPath: 'jmx-exporter.yaml', readOnly: true,
      });
      const rules = readFileSync(join(CHART_DIR, 'files', 'jmx-exporter.yaml'), 'utf8');
      expect(configMapOf(objects, 'hazelcast').data['jmx-exporter.yaml'].trim()).to.equal(rules.trim());
      expect(memberConfigOf(objects).config.properties['hazelcast.jmx']).to.equal(true);
      expect(podOf(objects, 'hazelcast').annotations).to.include({
        'prometheus.io/scrape': 'true', 'prometheus.io/port': '8090', 'prometheus.io/path': '/metrics',
      });
    });

    it("lists every member's exporter on the headless Service, and tells logging where to read the heap", () => {
      const objects = objectsOf('defaults');
      expect(followService(objects, 'lab-hazelcast-headless', 8090).containerPort).to.equal(8090);
      expect(envOf(podOf(objects, 'logging').spec.containers[0]).HZ_METRICS_PORTS).to.equal('8090');
    });

    it("has logging probe the members one by one through the headless Service, never the Service's single address", () => {
      const objects = objectsOf('defaults');
      const env = envOf(podOf(objects, 'logging').spec.containers[0]);
      // The ClusterIP answers as whichever member kube-proxy picks: probed, it would count as one more member, "apart".
      expect(env.HZ_MEMBERS_PROBED).to.equal('lab-hazelcast-headless:5701');
      expect(get(objects, 'Service', 'lab-hazelcast-headless').spec).to.include({ clusterIP: 'None', publishNotReadyAddresses: true });
    });

    it('creates no ServiceMonitor or PrometheusRule by default', () => {
      for (const kind of ['ServiceMonitor', 'PrometheusRule']) expect(ofKind(objectsOf('defaults'), kind), kind).to.deep.equal([]);
    });

    it("scrapes the four services' http port and the members' metrics port once each (headless Services dropped from http)", () => {
      const objects = objectsOf('prometheus operator');
      const sm = serviceMonitor();
      const selected = ofKind(objects, 'Service').filter((svc) =>
        Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels[k] === v)
        && sm.spec.selector.matchExpressions.every((e: any) => e.values.includes(svc.metadata.labels[e.key])));
      const scraped = sm.spec.endpoints.flatMap((e: any) => selected
        .filter((svc) => svc.spec.ports.some((p: any) => p.name === e.port))
        .filter((svc) => !(e.relabelings ?? []).some((r: any) => r.action === 'drop' && new RegExp(`^(?:${r.regex})$`).test(svc.metadata.name),
        ))
        .map((svc) => `${svc.metadata.name}:${e.port}`));
      expect(scraped.sort()).to.deep.equal([
        'lab-config-server:http', 'lab-facade:http', 'lab-hazelcast-headless:metrics', 'lab-logging:http', 'lab-messages:http',
      ]);
    });

    it('takes a scrape timeout, relabelings and a namespace of its own from values; by default none of them', async () => {
      const sm = serviceMonitor();
      expect(sm.metadata.namespace).to.equal(undefined);
      expect(sm.spec.namespaceSelector).to.equal(undefined);
      expect(sm.spec.endpoints.map((e: any) => e.scrapeTimeout)).to.deep.equal([undefined, undefined]);
      const drop = sm.spec.endpoints[0].relabelings;
      expect(sm.spec.endpoints.map((e: any) => e.relabelings)).to.deep.equal([drop, undefined]);
      const node = { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' };
      const { objects } = await helmTemplate(helm, {
        namespace: 'shop',
        set: {
          'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.interval': '1m',
          'metrics.serviceMonitor.scrapeTimeout': '45s', 'metrics.serviceMonitor.namespace': 'monitoring',
        },
        setJson: { 'metrics.serviceMonitor.relabelings': [node] },
      });
      const moved = get(objects, 'ServiceMonitor', 'lab');
      expect(moved.metadata.namespace).to.equal('monitoring');
      expect(moved.spec.namespaceSelector, "it still selects the release's Services").to.deep.equal({ matchNames: ['shop'] });
      expect(moved.spec.endpoints.map((e: any) => e.scrapeTimeout)).to.deep.equal(['45s', '45s']);
      expect(moved.spec.endpoints.map((e: any) => e.relabelings)).to.deep.equal([[...drop, node], [node]]);
    });

    it('refuses a scrape timeout longer than the interval, and relabelings, timeouts and namespaces of the wrong shape', async () => {
      const on = { 'metrics.serviceMonitor.enabled': true };
      const refusal = (o: { set?: SetValues; setJson?: Record<string, unknown> }) =>
        helmTemplate(helm, { set: { ...on, ...o.set }, setJson: o.setJson }).then(() => 'accepted', (err: Error) => err.message);
      const [longer, equal, compound] = await Promise.all([
        refusal({ set: { 'metrics.serviceMonitor.scrapeTimeout': '31s' } }),
        refusal({ set: { 'metrics.serviceMonitor.scrapeTimeout': '30s' } }),
        refusal({ set: { 'metrics.serviceMonitor.interval': '1m30s', 'metrics.serviceMonitor.scrapeTimeout': '1m31s' } }),
      ]);
      expect(longer).to.match(/scrapeTimeout \(31s\) is longer than metrics\.serviceMonitor\.interval \(30s\)/);
      expect(equal).to.equal('accepted');
      expect(compound).to.match(/scrapeTimeout \(1m31s\) is longer/);
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ 'metrics.serviceMonitor.scrapeTimeout': '10 s' }, /serviceMonitor\/scrapeTimeout/],
        [{ 'metrics.serviceMonitor.namespace': 'Monitoring' }, /serviceMonitor\/namespace/],
        // Prometheus's own spelling, not the Operator's: refused rather than silently ignored.
        [{ 'metrics.serviceMonitor.relabelings': [{ source_labels: ['a'], action: 'drop' }] }, /serviceMonitor\/relabelings\/0.*source_labels/s],
        [{ 'metrics.serviceMonitor.relabelings': [{ action: 'dropp' }] }, /serviceMonitor\/relabelings\/0\/action/],
      ];
      const refused = await Promise.all(bad.map(([setJson]) => refusal({ setJson })));
      refused.forEach((message, i) => expect(message, JSON.stringify(bad[i]![0])).to.match(bad[i]![1]));
    });

    it('alerts on member heap, cluster size, logging not ready and facade 5xx, naming only metrics that exist', async () => {
      const rules = prometheusRule().spec.groups[0].rules;
      const alerts = ['LabMemberHeapHigh', 'LabClusterTooSmall', 'LabLoggingNotReady', 'LabFacade5xx'];
      expect(rules.map((r: any) => r.alert)).to.deep.equal(alerts);
      expect(rules[0].expr).to.include('> 80').and.to.include('job="lab-hazelcast-headless"');
      expect(rules[0].for).to.equal('5m');
      expect(rules[1].expr).to.include('< 3');
      expect(rules[3].expr).to.include('status=~"5.."').and.to.include('job="lab-facade"');
      // What exists: the exporter rules' names, and what the services register (logging with its members' views).
      const logging = createMetrics('logging');
      const client = { request: async () => ({ status: 503, text: '' }) } as never;
      const views = new MemberViews({ configured: [], clientMembers: () => [], client });
      const store = new InMemoryMessageStore();
      createLoggingApp({ store, logger: silentLogger(), metrics: logging, instanceName: 'l', bodyLimitBytes: 1024, isReady: () => true, memberViews: views });
      const serviceNames = (await logging.metricsRegistry.getMetricsAsJSON()).map((m) => m.name);
      const exporter = exporterMetricNames(readFileSync(join(CHART_DIR, 'files', 'jmx-exporter.yaml'), 'utf8'));
      const exists = new Set([...exporter, ...serviceNames, 'http_requests_total']);
      const byAlert = Object.fromEntries(rules.map((r: any) => [r.alert, alertMetricNames(r.expr)]));
      expect(byAlert).to.deep.equal({
        LabMemberHeapHigh: ['hazelcast_memory_max_heap_bytes', 'hazelcast_memory_used_heap_bytes'],
        LabClusterTooSmall: ['hazelcast_member_cluster_size'],
        LabLoggingNotReady: ['hazelcast_client_connected'],
        LabFacade5xx: ['http_requests_total'],
      });
      for (const [alert, names] of Object.entries(byAlert)) {
        for (const n of names as string[]) expect(exists.has(n), `${alert}: ${n}`).to.equal(true);
      }
      // The check is not vacuous: a misspelled name is caught.
      expect(exists.has(alertMetricNames('hazelcast_memory_usedheap_bytes > 1')[0]!)).to.equal(false);
    });

    it('takes the thresholds and extra labels from values', async () => {
      const { objects } = await helmTemplate(helm, {
        set: {
          'metrics.prometheusRule.enabled': true,
          'metrics.prometheusRule.memberHeapPercent': 90,
          'metrics.prometheusRule.labels.release': 'prom',
          'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.interval': '15s', 'hazelcast.replicas': 5,
        },
      });
      const rule = get(objects, 'PrometheusRule', 'lab');
      expect(rule.metadata.labels.release).to.equal('prom');
      expect(rule.spec.groups[0].rules[0].expr).to.include('> 90');
      expect(rule.spec.groups[0].rules[1].expr).to.include('< 5');
      expect(get(objects, 'ServiceMonitor', 'lab').spec.endpoints.map((e: any) => e.interval)).to.deep.equal(['15s', '15s']);
    });
  });

  describe('value scenarios', () => {
    it('other replica counts reach the StatefulSet, the Deployments and the helm test\'s expected member count', () => {
      const objects = objectsOf('other replica counts');
      expect(podOf(objects, 'hazelcast').owner.spec.replicas).to.equal(5);
      expect(podOf(objects, 'logging').owner.spec.replicas).to.equal(4);
      expect(podOf(objects, 'facade').owner.spec.replicas).to.equal(2);
      expect(envOf(podOf(objects, 'test').spec.containers[0]).EXPECTED_MEMBERS).to.equal('5');
    });

    it('Management Center is off by default; on, it runs pinned and connects to the member Service with the cluster name', () => {
      expect(pods(objectsOf('defaults')).map((p) => p.labels[COMPONENT])).not.to.include('management-center');
      const objects = objectsOf('Management Center on');
      const mc = podOf(objects, 'management-center');
      const env = envOf(mc.spec.containers[0]);
      expect(env.MC_DEFAULT_CLUSTER).to.equal('lab');
      const [host, port] = env.MC_DEFAULT_CLUSTER_MEMBERS!.split(':');
      expect(followService(objects, host!, Number(port)).pod.labels[COMPONENT]).to.equal('hazelcast');
      expect(followService(objects, 'lab-management-center', 8080).pod).to.deep.equal(mc);
    });

    it('HorizontalPodAutoscalers are off by default; on, they scale the facade and logging Deployments, which leave replicas to them', () => {
      expect(ofKind(objectsOf('defaults'), 'HorizontalPodAutoscaler')).to.deep.equal([]);
      const objects = objectsOf('autoscaling on');
      const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).to.deep.equal(['lab-facade', 'lab-logging']);
      for (const h of hpas) {
        const target = get(objects, 'Deployment', h.spec.scaleTargetRef.name);
        expect(target.spec.replicas, h.metadata.name).to.equal(undefined);
        expect(h.spec.maxReplicas).to.be.greaterThan(3);
      }
      expect(get(objects, 'HorizontalPodAutoscaler', 'lab-logging').spec.minReplicas).to.be.at.least(3);
    });
  });

  describe('escape hatches per component: pod annotations and labels, extraEnv, scheduling, security contexts', () => {
    /** The components that have them: values key → component label. */
    const HATCHED = {
      facade: 'facade', logging: 'logging', messages: 'messages', configServer: 'config-server',
      hazelcast: 'hazelcast', managementCenter: 'management-center',
    } as const;
    /** A component's hatches, each marked `hatch-<component>` so that one in the wrong place shows where it came from. */
    const hatchesOf = (component: string) => {
      const mark = `hatch-${component}`;
      const matchExpressions = [{ key: mark, operator: 'Exists' }];
      return {
        podAnnotations: { 'lab.test/hatch': mark },
        podLabels: { 'lab.test/hatch': mark },
        extraEnv: [{ name: 'HATCH', value: mark }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } },
        nodeSelector: { [mark]: 'yes' },
        tolerations: [{ key: mark, operator: 'Exists', effect: 'NoSchedule' }],
        priorityClassName: mark,
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: mark, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { [mark]: 'yes' } } }],
        podSecurityContext: { seLinuxOptions: { level: mark } },
        containerSecurityContext: { seLinuxOptions: { level: mark } },
      };
    };
    const everyHatch = Object.fromEntries(Object.entries(HATCHED).flatMap(([key, component]) =>
      Object.entries(hatchesOf(component)).map(([hatch, value]) => [`${key}.${hatch}`, value])));
    const marksIn = (value: unknown) => Object.values(HATCHED).filter((c) => JSON.stringify(value).includes(`"hatch-${c}"`));
    let hatched: K8sObject[];

    before(async () => {
      hatched = (await helmTemplate(helm, { set: { 'managementCenter.enabled': true }, setJson: everyHatch })).objects;
    });

    it("puts each component's hatches on its pod template, as valid Kubernetes objects", async () => {
      for (const component of Object.values(HATCHED)) {
        const pod = podOf(hatched, component);
        const want = hatchesOf(component);
        expect(pod.annotations, component).to.include(want.podAnnotations);
        expect(pod.labels, component).to.include(want.podLabels);
        expect(pod.spec.containers[0].env.at(-1), component).to.deep.equal(want.extraEnv[0]);
        expect(pod.spec.affinity, component).to.deep.equal(want.affinity);
        expect(pod.spec.nodeSelector, component).to.deep.equal(want.nodeSelector);
        expect(pod.spec.tolerations, component).to.deep.equal(want.tolerations);
        expect(pod.spec.priorityClassName, component).to.equal(want.priorityClassName);
        expect(pod.spec.topologySpreadConstraints, component).to.deep.equal(want.topologySpreadConstraints);
        expect(pod.spec.securityContext, component).to.deep.include(want.podSecurityContext);
        expect(pod.spec.containers[0].securityContext, component).to.deep.include(want.containerSecurityContext);
      }
      expect(await validateAll(hatched)).to.deep.equal([]);
    });

    it('puts them nowhere else: no other workload, not the helm test pod, no Service, policy or ConfigMap', () => {
      for (const o of hatched) {
        // Every component's pods belong to a Deployment or a StatefulSet; the helm test is a bare Pod.
        const own = ['Deployment', 'StatefulSet'].includes(o.kind) ? [o.metadata.labels[COMPONENT]] : [];
        expect(marksIn(o), `${o.kind}/${o.metadata.name}`).to.deep.equal(own);
      }
    });

    it("keeps the chart's own annotations over clashing podAnnotations, and a component's scheduling over the chart-wide", async () => {
      const { objects } = await helmTemplate(helm, {
        setJson: {
          'hazelcast.podAnnotations': { 'checksum/config': 'mine', team: 'lab' },
          'facade.podAnnotations': { 'prometheus.io/port': '1' },
          nodeSelector: { disk: 'ssd' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'lab', effect: 'NoSchedule' }],
          'logging.nodeSelector': { zone: 'a' },
          'logging.tolerations': [{ key: 'logging', operator: 'Exists' }],
        },
      });
      const members = podOf(objects, 'hazelcast');
      expect(members.annotations).to.deep.equal({ ...podOf(objectsOf('defaults'), 'hazelcast').annotations, team: 'lab' });
      expect(podOf(objects, 'facade').annotations['prometheus.io/port']).to.equal('8080');
      for (const p of pods(objects)) {
        const at = `${p.owner.kind}/${p.owner.metadata.name}`;
        const logging = p.labels[COMPONENT] === 'logging';
        expect(p.spec.nodeSelector, at).to.deep.equal(logging ? { zone: 'a' } : { disk: 'ssd' });
        expect(p.spec.tolerations.map((t: any) => t.key), at).to.deep.equal(logging ? ['logging'] : ['dedicated']);
      }
    });

    it('refuses an extraEnv variable the chart sets itself, naming it', async () => {
      const mc = podOf(objectsOf('Management Center on'), 'management-center').spec.containers[0];
      const cases: [string, string][] = [
        ['facade', 'PORT'], ['logging', 'HZ_MEMBERS'], ['messages', 'MESSAGES_TEXT'], ['configServer', 'REGISTRY_FILE'],
        // Named in the templates, not derived from the rendered env: every one of them is tried.
        ...Object.keys(envOf(hazelcastContainer(objectsOf('defaults')))).map((name): [string, string] => ['hazelcast', name]),
        ...Object.keys(envOf(mc)).map((name): [string, string] => ['managementCenter', name]),
      ];
      const errors = await Promise.all(cases.map(([key, name]) =>
        helmTemplate(helm, { set: { 'managementCenter.enabled': true }, setJson: { [`${key}.extraEnv`]: [{ name, value: 'x' }] } })
          .then(() => 'accepted', (err: Error) => err.message)));
      cases.forEach(([key, name], i) => {
        const component = HATCHED[key as keyof typeof HATCHED];
        expect(errors[i], `${key}.extraEnv ${name}`).to.match(new RegExp(`${component}: extraEnv sets ${name}, which the chart sets`));
      });
    });

    it('rejects hatches of the wrong shape', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ 'facade.extraEnv': [{ value: 'no name' }] }, /facade\/extraEnv\/0/],
        [{ 'logging.tolerations': [{ key: 'a', operater: 'Exists' }] }, /logging\/tolerations\/0.*operater/s],
        [{ 'hazelcast.affinity': { podAntiAfinity: {} } }, /hazelcast\/affinity.*podAntiAfinity/s],
        [{ 'messages.podAnnotations': { replicas: 3 } }, /messages\/podAnnotations\/replicas/],
        [{ 'configServer.podLabels': { team: 'two words' } }, /configServer\/podLabels\/team/],
        // helm's validator names the wrong place for a bad key (a neighbouring value), but names the key.
        [{ 'managementCenter.podLabels': { 'a/b/c': 'x' } }, /invalid propertyName 'a\/b\/c'/],
        [{ podLabels: { team: 3 } }, /podLabels\/team/],
        [{ 'hazelcast.topologySpreadConstraints': [{ maxSkew: 1, topologyKey: 'zone' }] }, /hazelcast\/topologySpreadConstraints\/0.*whenUnsatisfiable/s],
        [{ topologySpreadConstraints: [{ maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }] }, /topologySpreadConstraints\/0\/maxSkew/],
        [{ 'facade.priorityClassName': 'High Priority' }, /facade\/priorityClassName/],
      ];
      for (const [setJson, message] of cases) {
        const error = await helmTemplate(helm, { setJson }).then(() => 'accepted', (err: Error) => err.message);
        expect(error, JSON.stringify(setJson)).to.match(message);
      }
    });

    it("gives every pod the chart-wide podLabels (the helm test's too), a component's own over them, never over the chart's", async () => {
      const { objects } = await helmTemplate(helm, {
        set: { 'managementCenter.enabled': true },
        setJson: { podLabels: { team: 'shop', tier: 'lab' }, 'logging.podLabels': { tier: 'store', [COMPONENT]: 'facade' } },
      });
      for (const p of pods(objects)) {
        const at = `${p.owner.kind}/${p.owner.metadata.name}`;
        const logging = p.owner.metadata.labels[COMPONENT] === 'logging';
        expect(p.labels, at).to.include({ team: 'shop', tier: logging ? 'store' : 'lab', [COMPONENT]: p.owner.metadata.labels[COMPONENT] });
        if (p.owner.kind !== 'Pod') expect(p.labels, `${at} is selected by its own selector`).to.include(p.owner.spec.selector.matchLabels);
      }
      expect(followService(objects, 'lab-logging', 8081).pod.owner.metadata.name).to.equal('lab-logging');
      expect(followService(objects, 'lab-facade', 8080).pod.owner.metadata.name).to.equal('lab-facade');
    });

    it("gives the chart-wide priorityClassName to every pod (the helm test's too), and the chart-wide topology spread, selecting each one's own pods, to every component's; a component's own replace them", async () => {
      const zone = { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' };
      const { objects } = await helmTemplate(helm, {
        set: { priorityClassName: 'lab-normal', 'hazelcast.priorityClassName': 'lab-members', 'managementCenter.enabled': true },
        setJson: { topologySpreadConstraints: [zone], 'logging.topologySpreadConstraints': [{ ...zone, maxSkew: 2 }] },
      });
      for (const p of pods(objects)) {
        const component = p.labels[COMPONENT]!;
        expect(p.spec.priorityClassName, component).to.equal(component === 'hazelcast' ? 'lab-members' : 'lab-normal');
        if (isHelmTestHook(p.owner)) {
          expect(p.spec.topologySpreadConstraints, component).to.equal(undefined);
          continue;
        }
        const [constraint, ...more] = p.spec.topologySpreadConstraints;
        expect(more, component).to.deep.equal([]);
        expect(constraint, component).to.deep.equal({ ...zone, maxSkew: component === 'logging' ? 2 : 1, labelSelector: { matchLabels: labelsOf('lab', component) } });
        expect(matches(constraint.labelSelector.matchLabels, p.labels), `${component} counts its own pods`).to.equal(true);
      }
      expect(await validateAll(objects.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/')))).to.deep.equal([]);
    });

    it('leaves the defaults as they were: only the chart\'s annotations, no scheduling constraints, spreading where it was', () => {
      for (const p of pods(objectsOf('defaults'))) {
        const at = `${p.owner.kind}/${p.owner.metadata.name}`;
        expect(Object.keys(p.annotations).filter((k) => !/^(checksum\/config|prometheus\.io\/|helm\.sh\/)/.test(k)), at).to.deep.equal([]);
        expect(p.spec.nodeSelector, at).to.equal(undefined);
        expect(p.spec.tolerations, at).to.equal(undefined);
        expect(p.spec.priorityClassName, at).to.equal(undefined);
        expect(p.spec.topologySpreadConstraints, at).to.equal(undefined);
        const spreads = ['facade', 'logging', 'hazelcast'].includes(p.labels[COMPONENT]!);
        expect(p.spec.affinity ? Object.keys(p.spec.affinity) : [], at).to.deep.equal(spreads ? ['podAntiAffinity'] : []);
      }
    });
  });

  describe('helm test', () => {
    it('is a test-hook pod on the lab image that posts and reads through the facade and checks the cluster size through it', () => {
      const objects = objectsOf('defaults');
      const test = podOf(objects, 'test');
      expect(test.owner.kind).to.equal('Pod');
      expect(isHelmTestHook(test.owner)).to.equal(true);
      expect(test.spec.restartPolicy).to.equal('Never');
      const c = test.spec.containers[0];
      expect(c.image).to.equal(podOf(objects, 'facade').spec.containers[0].image);
      const env = envOf(c);
      const facade = new URL(env.FACADE_URL!);
      expect(followService(objects, facade.hostname, Number(facade.port)).pod.labels[COMPONENT]).to.equal('facade');
      expect(env.HAZELCAST_URL, 'the test pod never talks to a member').to.equal(undefined);
      expect(env.EXPECTED_MEMBERS).to.equal('3');
      const script = c.command.at(-1) as string;
      expect(script).to.include("method: 'POST'").and.to.include('/facade/cluster');
    });

    it('its script passes against a facade that keeps messages and a cluster of the expected size, and fails otherwise', async () => {
      const c = podOf(objectsOf('defaults'), 'test').spec.containers[0];
      const runScript = async (fake: { loseMessages?: boolean; members: number }) => {
        const stored: string[] = [];
        const server = http.createServer((req, res) => {
          let body = '';
          req.on('data', (d) => (body += d));
          req.on('end', () => {
            res.setHeader('content-type', 'application/json');
            const query = new URL(req.url ?? '/', 'http://x').searchParams;
            if (req.method === 'POST' && req.url === '/facade') {
              const { msg } = JSON.parse(body);
              if (!fake.loseMessages) stored.push(msg);
              res.statusCode = 201;
              res.end(JSON.stringify({ message: { uuid: newMessageId(), msg }, loggedBy: 'http://logging-0/logging' }));
            } else if (req.url?.startsWith('/facade?') && isUuid(query.get('after')) && Number(query.get('limit')) > 0) {
              // Only a page is answered: the script must never read the whole map.
              res.end(JSON.stringify({ 'logging-service': stored, 'messages-service': "I'm not implemented yet ^_^" }));
            } else if (req.url === '/facade/cluster') {
              const members = Array.from({ length: fake.members }, (_, i) => ({ address: `10.0.0.${i}:5701`, uuid: String(i), ownedEntries: 0 }));
              res.end(JSON.stringify({ hazelcast: { members, clusterSize: fake.members }, hazelcastError: null }));
            } else {
              res.statusCode = 404;
              res.end('{}');
            }
          });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
          const env = { ...envOf(c), FACADE_URL: url, CLUSTER_WAIT_SECONDS: '1', PATH: process.env.PATH ?? '' };
          const [cmd, ...args] = c.command as string[];
          expect(cmd).to.equal('node');
          return await new Promise<{ code: number | null; output: string }>((resolve) => {
            execFile(process.execPath, args, { env, timeout: 20_000 }, (err, stdout, stderr) =>
              resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
          });
        } finally {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        }
      };
      const ok = await runScript({ members: 3 });
      expect(ok.code, ok.output).to.equal(0);
      expect(ok.output).to.include('cluster has 3 members');
      const lost = await runScript({ members: 3, loseMessages: true });
      expect(lost.code, lost.output).to.equal(1);
      expect(lost.output).to.include('missing messages');
      const small = await runScript({ members: 2 });
      expect(small.code, small.output).to.equal(1);
      expect(small.output).to.include('cluster size is 2, expected 3');
    });

    it('is left out of a rendering with --skip-tests', async () => {
      const { objects } = await helmTemplate(helm, { skipTests: true });
      expect(objects.filter(isHelmTestHook)).to.deep.equal([]);
    });
  });

  describe('chart files', () => {
    it('has Chart.yaml, a values.yaml, values.schema.json, _helpers.tpl, NOTES.txt, one template per object and templates/tests/', () => {
      const templates = readdirSync(join(CHART_DIR, 'templates')).sort();
      expect(templates).to.include.members([
        '_helpers.tpl', 'NOTES.txt', 'hazelcast-statefulset.yaml', 'logging-deployment.yaml', 'facade-deployment.yaml',
        'messages-deployment.yaml', 'config-server-deployment.yaml', 'management-center-deployment.yaml', 'networkpolicies.yaml',
        'serviceaccount.yaml', 'tests',
      ]);
      expect(readdirSync(join(CHART_DIR, 'templates', 'tests'))).to.have.length.greaterThan(0);
      for (const f of ['Chart.yaml', 'values.yaml', 'values.schema.json', 'README.md']) expect(readdirSync(CHART_DIR)).to.include(f);
    });

    it('renders one object per template file, named <component>-<kind>.yaml (release-wide objects and the helm test aside)', () => {
      const KIND: Record<string, string> = {
        ConfigMap: 'configmap', Service: 'service', StatefulSet: 'statefulset', Deployment: 'deployment',
        PodDisruptionBudget: 'pdb', HorizontalPodAutoscaler: 'hpa',
      };
      // One NetworkPolicy per component from one table of who may talk to whom; the release's ServiceAccount; `helm test`.
      const ownNames: Record<string, string> = {
        'templates/networkpolicies.yaml': 'NetworkPolicy',
        'templates/serviceaccount.yaml': 'ServiceAccount',
        'templates/tests/smoke-test.yaml': 'Pod',
        'templates/servicemonitor.yaml': 'ServiceMonitor',
        'templates/prometheusrule.yaml': 'PrometheusRule',
      };
      const seen = new Set<string>();
      for (const [scenario, r] of Object.entries(rendered)) {
        for (const [source, objects] of objectsBySource(r.text)) {
          seen.add(source);
          const at = `${scenario}: ${source}`;
          if (ownNames[source]) {
            expect(new Set(objects.map((o) => o.kind)), at).to.deep.equal(new Set([ownNames[source]]));
            continue;
          }
          expect(objects.map((o) => `${o.kind}/${o.metadata.name}`), at).to.have.length(1);
          const [o] = objects as [K8sObject];
          const headless = o.kind === 'Service' && o.spec.clusterIP === 'None' ? '-headless' : '';
          expect(source, at).to.equal(`templates/${o.metadata.labels[COMPONENT]}-${KIND[o.kind]}${headless}.yaml`);
        }
      }
      const files = readdirSync(join(CHART_DIR, 'templates'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
      expect(files.map((f) => `templates/${f}`).filter((f) => !seen.has(f)), 'template files no scenario renders').to.deep.equal([]);
    });

    it("names its maintainers, and links the project's repository exactly when package.json names one", () => {
      const chart = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
      expect(chart.maintainers.map((m: { name: string }) => m.name)).to.have.length.greaterThan(0).and.not.to.include('');
      const repository = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
      expect(chart.sources, 'sources').to.deep.equal(repository ? [repository] : undefined);
      expect(chart.home, 'home').to.equal(pkg.homepage ?? repository);
    });

    it('keeps appVersion equal to package.json\'s version and the member image tag equal to config.hazelcastVersion', () => {
      const chart = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
      expect(chart.appVersion).to.equal(pkg.version);
      const values = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
      expect(values.hazelcast.image.tag).to.equal(pkg.config.hazelcastVersion);
    });

    it('comments every value in values.yaml (a "# --" comment documents the whole value beneath it)', () => {
      const undocumented = valueDocs(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')).filter((v) => !v.comment);
      expect(undocumented.map((v) => v.path.join('.'))).to.deep.equal([]);
    });

    it("describes every value in values.schema.json with its comment in values.yaml, and nothing else", () => {
      const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
      const checked = new Set<object>();
      const drift: string[] = [];
      for (const { path, comment } of valueDocs(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'))) {
        const node = describingNode(schema, path);
        if (node) checked.add(node);
        const description = node?.description?.replace(/\s+/g, ' ').trim();
        if (description !== comment) drift.push(`${path.join('.')}\n  values.yaml: ${comment}\n  schema:      ${description}`);
      }
      expect(drift, drift.join('\n')).to.deep.equal([]);
      // A description that no comment checks would drift unseen (a definition's property no value uses, say).
      const unchecked = describedProperties(schema).filter((p) => !checked.has(p.node)).map((p) => p.at);
      expect(unchecked).to.deep.equal([]);
    });

    it('has a schema that rejects unknown keys at every level of values', () => {
      const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
      const open: string[] = [];
      const walk = (node: any, at: string) => {
        if (!node || typeof node !== 'object') return;
        if (node.type === 'object' && node.properties && node.additionalProperties !== false) open.push(at);
        for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
      };
      walk(schema, '#');
      expect(open).to.deep.equal([]);
    });

    /** NOTES.txt as `helm install` would print it: rendered through a template in a copy of the chart (helm template leaves it out). */
    async function renderNotes(namespace: string, set: SetValues = {}): Promise<string> {
      const { objects } = await helmTemplateOfCopy(helm, (chartDir) => {
        const notes = readFileSync(join(chartDir, 'templates', 'NOTES.txt'), 'utf8');
        rmSync(join(chartDir, 'templates', 'NOTES.txt'));
        writeFileSync(
          join(chartDir, 'templates', 'notes-probe.yaml'),
          `{{- define "notes-probe" -}}\n${notes}\n{{- end -}}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "notes-probe" . | quote }}\n`,
        );
      }, { namespace, set });
      return get(objects, 'ConfigMap', 'notes').data.notes;
    }

    it('prints the exact port-forward and curl commands in NOTES.txt', async () => {
      const text = await renderNotes('shop');
      expect(text).to.include('kubectl --namespace shop port-forward svc/lab-facade 8080:8080');
      expect(text).to.include("curl -i -X POST --data-urlencode 'msg=msg1' http://localhost:8080/facade");
      expect(text).to.include('curl -s http://localhost:8080/facade');
      expect(text).to.include('helm test lab --namespace shop');
      expect(text).to.include('3 logging pods');
    });

    it('says in NOTES.txt which image the lab pods run, and how a local cluster gets it unless a registry or digest is set', async () => {
      const { appVersion } = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
      const local = await renderNotes('shop');
      expect(local).to.include(`kind load docker-image lab:${appVersion} --name lab`).and.to.include(`minikube image load lab:${appVersion}`);
      const pulled = await renderNotes('shop', { 'image.registry': 'mirror.internal:5000' });
      expect(pulled).to.include(`run mirror.internal:5000/lab:${appVersion}: the cluster pulls it`).and.not.to.include('kind load');
    });

    it("counts logging's pods in NOTES.txt by the autoscaler's bounds when it is on", async () => {
      const text = await renderNotes('shop', { 'logging.autoscaling.enabled': true, 'logging.autoscaling.minReplicas': 2, 'logging.autoscaling.maxReplicas': 6 });
      expect(text).to.include('2 to 6 logging pods (autoscaled)');
      expect(text).to.not.include('3 logging pods');
    });
  });
});
