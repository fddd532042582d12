import type { RtsNode } from '../node.js';

export interface ClusterOptions {
  servers: string;
  nodeId: string;
  region?: string;
}

export interface ClusterHandle {
  close(): Promise<void>;
}

/** Joins the node to a cluster over NATS (placeholder: the cluster is being built). */
export async function startCluster(_node: RtsNode, _opts: ClusterOptions): Promise<ClusterHandle> {
  throw new Error('clustering over NATS is not built yet');
}
