/**
 * A local Kubernetes, start to stop: the binaries built where missing, the control plane, and
 * with `node` a node with the images loaded. One sequence for `npm run kube -- up` and the suites.
 */
import { ensureCoreDNS, ensureKubeBinaries, NODE_COMMANDS } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import { buildImages, importImages } from './images.js';
import { LocalNode } from './node.js';

export interface LocalKube {
  plane: ControlPlane;
  node: LocalNode | undefined;
  /** Stops the node, then the control plane. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts it all; if any step fails, stops what had started (the node's bridge, rules and
 * containers included) and rethrows.
 */
export async function startLocalKube(withNode: boolean, log: (line: string) => void): Promise<LocalKube> {
  await ensureKubeBinaries(log);
  if (withNode) {
    await ensureKubeBinaries(log, NODE_COMMANDS);
    await ensureCoreDNS(log);
  }
  // Images first: their build blocks, and nothing may be running whose output then goes unread.
  const archives = withNode ? buildImages(log) : [];
  const plane = new ControlPlane();
  const node = withNode ? new LocalNode(plane) : undefined;
  const stop = async () => {
    await node?.stop();
    await plane.stop();
  };
  try {
    log('starting etcd, kube-apiserver, kube-controller-manager and kube-scheduler on 127.0.0.1…');
    await plane.start();
    if (node) {
      log('starting containerd, loading the images, then CoreDNS, kube-proxy and the kubelet…');
      await node.startRuntime();
      await importImages(node.socket, archives);
      await node.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { plane, node, stop };
}
