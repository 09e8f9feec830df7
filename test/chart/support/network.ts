/** NetworkPolicy semantics for ingress, enough to answer "may pod A open port P on pod B?". */
import type { K8sObject } from './helm.js';
import { matches } from './manifests.js';

/**
 * Whether a pod labelled `from` may connect to port `port` of a pod labelled `to` in the same
 * namespace: allowed when no Ingress policy selects the target, or when one of those that do has
 * a rule admitting both the port and the source.
 */
export function mayConnect(objects: K8sObject[], from: Record<string, string>, to: Record<string, string>, port: number): boolean {
  const selecting = objects.filter(
    (o) => o.kind === 'NetworkPolicy' && (o.spec.policyTypes ?? ['Ingress']).includes('Ingress') && matches(o.spec.podSelector?.matchLabels ?? {}, to),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (policy.spec.ingress ?? []).some((rule: any) => {
      const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((p: any) => p.port === undefined || p.port === port);
      const peers: any[] | undefined = rule.from;
      const sourceOk =
        !peers || peers.length === 0 || peers.some((peer) => peer.podSelector && !peer.namespaceSelector && !peer.ipBlock && matches(peer.podSelector.matchLabels ?? {}, from));
      return portOk && sourceOk;
    }),
  );
}
