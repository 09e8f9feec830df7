/** Reading rendered manifests: finding objects, their pods and containers, and following Services. */
import { parse as parseYaml } from 'yaml';
import type { K8sObject } from './helm.js';

export const COMPONENT = 'app.kubernetes.io/component';

/** The ConfigMap of a component (the chart writes one each for hazelcast and config-server). */
export function configMapOf(objects: K8sObject[], component: string): K8sObject {
  const found = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.[COMPONENT] === component);
  if (found.length !== 1) throw new Error(`expected one ConfigMap of ${component}, found ${found.length}`);
  return found[0]!;
}

/** The members' hazelcast.yaml as the chart renders it: its text, and its `hazelcast:` parsed. */
export function memberConfigOf(objects: K8sObject[]): { text: string; config: any } {
  const text: string = configMapOf(objects, 'hazelcast').data['hazelcast.yaml'];
  return { text, config: parseYaml(text).hazelcast };
}

/** The object of a kind and name; throws naming what was there instead. */
export function get(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const names = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    throw new Error(`no ${kind} ${name} rendered (${kind}s: ${names.join(', ') || 'none'})`);
  }
  return found;
}

export const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** A workload's pod template (or a bare Pod) with the object it came from. */
export interface PodOf {
  owner: K8sObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: any;
}

export function pods(objects: K8sObject[]): PodOf[] {
  return objects.flatMap((o): PodOf[] => {
    if (o.kind === 'Pod') return [{ owner: o, labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {}, spec: o.spec }];
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind)) {
      const t = o.spec.template;
      return [{ owner: o, labels: t.metadata?.labels ?? {}, annotations: t.metadata?.annotations ?? {}, spec: t.spec }];
    }
    return [];
  });
}

export const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...(spec.containers ?? [])];

/** The pod of a component (by its app.kubernetes.io/component label). */
export function podOf(objects: K8sObject[], component: string): PodOf {
  const found = pods(objects).filter((p) => p.labels[COMPONENT] === component);
  if (found.length !== 1) throw new Error(`expected one workload of component ${component}, found ${found.length}`);
  return found[0]!;
}

export const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The env of a container as name → value; `valueFrom` entries become `valueFrom:<fieldPath>`. */
export function envOf(container: any): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).map((e: any) => [e.name, e.valueFrom ? `valueFrom:${e.valueFrom.fieldRef?.fieldPath ?? JSON.stringify(e.valueFrom)}` : String(e.value)]),
  );
}

/** Where a Service port leads: the pods it selects and the container port it targets. */
export interface ServiceTarget {
  service: K8sObject;
  pod: PodOf;
  containerPort: number;
}

/**
 * Follows `host:port` (a Service name, short or `<name>.<ns>.svc.<domain>`) to the pods and
 * container port behind it; throws when the Service, the port or a matching pod is missing.
 */
export function followService(objects: K8sObject[], host: string, port: number): ServiceTarget {
  const name = host.split('.')[0]!;
  const service = get(objects, 'Service', name);
  const sp = (service.spec.ports ?? []).find((p: any) => p.port === port);
  if (!sp) throw new Error(`Service ${name} has no port ${port}`);
  const selected = pods(objects).filter((p) => matches(service.spec.selector ?? {}, p.labels));
  if (selected.length === 0) throw new Error(`Service ${name} selects no pods`);
  for (const pod of selected) {
    for (const c of containersOf(pod.spec)) {
      const cp = (c.ports ?? []).find((p: any) => (typeof sp.targetPort === 'string' ? p.name === sp.targetPort : p.containerPort === (sp.targetPort ?? sp.port)));
      if (cp) return { service, pod, containerPort: cp.containerPort };
    }
  }
  throw new Error(`Service ${name} port ${port} targets ${sp.targetPort}, which no selected container exposes`);
}
