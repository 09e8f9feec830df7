/**
 * A local Kubernetes, start to stop: the binaries built where missing, the control plane, and a
 * node (node.ts) or several (nodes.ts) with the images loaded. One sequence for `npm run kube -- up`
 * and the suites.
 */
import { ensureCoreDNS, ensureKubeBinaries, ensureKubeRouter, NODE_COMMANDS } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import { buildImages, importImages } from './images.js';
import { LocalNode } from './node.js';
import { LocalNodes } from './nodes.js';

/** What runs the pods: nothing (they stay Pending), one node in the host's network, or N nodes of their own. */
export type KubeShape = 'control-plane' | 'node' | { nodes: number };

export interface LocalKube {
  plane: ControlPlane;
  /** The single node (shape 'node'). */
  node: LocalNode | undefined;
  /** The nodes (shape {nodes: N}). */
  nodes: LocalNodes | undefined;
  /** Stops the node(s), then the control plane. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts it all; if any step fails, stops what had started (bridges, namespaces, rules and
 * containers included) and rethrows.
 */
export async function startLocalKube(shape: KubeShape, log: (line: string) => void): Promise<LocalKube> {
  const count = shape === 'control-plane' ? 0 : shape === 'node' ? 1 : shape.nodes;
  if (typeof shape === 'object' && !(Number.isInteger(count) && count >= 2 && count <= 9)) throw new Error(`--nodes takes 2 to 9, not ${count}`);
  await ensureKubeBinaries(log);
  if (count > 0) {
    await ensureKubeBinaries(log, NODE_COMMANDS);
    await ensureCoreDNS(log);
  }
  if (count > 1) await ensureKubeRouter(log);
  // Images first: their build blocks, and nothing may be running whose output then goes unread.
  const archives = count > 0 ? buildImages(log) : [];
  const plane = new ControlPlane();
  const node = shape === 'node' ? new LocalNode(plane) : undefined;
  const nodes = count > 1 ? new LocalNodes(plane, count) : undefined;
  const stop = async () => {
    await node?.stop();
    await nodes?.stop();
    await plane.stop();
  };
  try {
    log('starting etcd, kube-apiserver, kube-controller-manager and kube-scheduler on 127.0.0.1…');
    await plane.start();
    if (node) {
      log('starting containerd, loading the images, then CoreDNS, kube-proxy and the kubelet…');
      await node.startRuntime();
      await importImages([node.socket], archives);
      await node.start();
    }
    if (nodes) {
      log(`starting ${count} nodes: their namespaces and containerd, loading the images into each, then CoreDNS, and each node's kube-proxy, kube-router and kubelet…`);
      await nodes.startRuntime();
      await importImages(nodes.sockets, archives);
      await nodes.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { plane, node, nodes, stop };
}
