/** The chart's member configuration, made to run on this machine. */
import { parseDocument, stringify } from 'yaml';

/**
 * The rendered hazelcast.yaml, made to run alone on 127.0.0.1:`port`: only discovery changes, from
 * Kubernetes DNS to TCP-IP on loopback (the `kubernetes` section stays, disabled, so its keys are
 * still checked by the member's config validation).
 */
export function onLoopback(configText: string, port: number): string {
  const doc = parseDocument(configText).toJS();
  const network = doc.hazelcast.network;
  network.port.port = port;
  network['public-address'] = `127.0.0.1:${port}`;
  network.interfaces = { enabled: true, interfaces: ['127.0.0.1'] };
  network.join.kubernetes.enabled = false;
  network.join['tcp-ip'] = { enabled: true, 'member-list': [`127.0.0.1:${port}`] };
  return stringify(doc);
}
