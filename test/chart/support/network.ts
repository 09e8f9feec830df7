/** NetworkPolicy semantics, enough to answer "may pod A open port P on pod B?", ingress and egress. */
import type { K8sObject } from './helm.js';
import { matches } from './manifests.js';

/** A pod: its labels, and its namespace's labels (`kubernetes.io/metadata.name` names it). */
export interface Endpoint {
  labels: Record<string, string>;
  namespace: Record<string, string>;
}

const NAME = 'kubernetes.io/metadata.name';

/** The namespace the chart is rendered into, as the API server labels it. */
export const releaseNamespace = (name = 'default') => ({ [NAME]: name });

/** Whether a policy's peer (`from` or `to` entry) admits `pod`, the policy living in namespace `home`. */
function peerAdmits(peer: any, pod: Endpoint, home: string): boolean {
  if (peer.ipBlock) return false; // pods are addressed by selectors here
  const namespaceOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector.matchLabels ?? {}, pod.namespace)
    : pod.namespace[NAME] === home;
  const podOk = peer.podSelector ? matches(peer.podSelector.matchLabels ?? {}, pod.labels) : true;
  return namespaceOk && podOk;
}

const portOk = (rule: any, port: number, protocol: string) =>
  !rule.ports || rule.ports.length === 0 || rule.ports.some((p: any) => (p.port === undefined || p.port === port) && (p.protocol ?? 'TCP') === protocol);

/** The policies of type `type` that select `pod` (policies live in the release's namespace). */
function selecting(objects: K8sObject[], type: 'Ingress' | 'Egress', pod: Endpoint, home: string): K8sObject[] {
  if (pod.namespace[NAME] !== home) return [];
  return objects.filter((o) => o.kind === 'NetworkPolicy' && (o.spec.policyTypes ?? ['Ingress']).includes(type) && matches(o.spec.podSelector?.matchLabels ?? {}, pod.labels));
}

/**
 * Whether `from` may connect to `port` of `to`: the target's ingress policies admit it (or none
 * selects the target) and the source's egress policies let it out (or none selects the source).
 */
export function mayConnect(objects: K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP', home = 'default'): boolean {
  const ingress = selecting(objects, 'Ingress', to, home);
  const admitsIn = (r: any) => portOk(r, port, protocol) && (!r.from?.length || r.from.some((peer: any) => peerAdmits(peer, from, home)));
  const inOk = ingress.length === 0 || ingress.some((p) => (p.spec.ingress ?? []).some(admitsIn));
  const egress = selecting(objects, 'Egress', from, home);
  const admitsOut = (r: any) => portOk(r, port, protocol) && (!r.to?.length || r.to.some((peer: any) => peerAdmits(peer, to, home)));
  const outOk = egress.length === 0 || egress.some((p) => (p.spec.egress ?? []).some(admitsOut));
  return inOk && outOk;
}
