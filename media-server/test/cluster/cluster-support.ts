// In-process cluster nodes for tests of the cluster layer alone: real ClusterNodes (dist listener, port mapper, cookie
// handshake, heartbeats) on loopback, with a fixed synthetic load.
import { pino } from 'pino';
import { ClusterNode } from '../../src/cluster/cluster-node.js';
import type { DistConfig } from '../../src/config/config.js';

export function clusterNode(name: string, mapperPort: number, nodes: string[], over: { leftAfterMs?: number } = {}): ClusterNode {
  const dist: DistConfig = {
    enabled: true, strategy: 'NODES_LIST', mode: 'sname', nodeName: name, cookie: 'test-cookie', cookieIsDefault: false,
    nodes, query: undefined, pollingIntervalMs: 5000, minPort: undefined, maxPort: undefined, tls: undefined, portMapperPort: mapperPort,
  };
  return new ClusterNode({
    dist, bindIp: '127.0.0.1', publicHost: `${name}:5002`, portMapperPort: mapperPort, reportIntervalMs: 1000, staleAfterMs: 2000,
    leftAfterMs: over.leftAfterMs ?? 15_000, logger: pino({ level: 'silent' }),
    localLoad: () => ({ state: 'SERVING', rooms: 0, peers: 0, forwardedTracks: 0, cpu: 0 }),
  });
}

/** Every node has all the others as members. */
export const fullMesh = (nodes: readonly ClusterNode[]) => () => nodes.every((n) => n.linkedNodes().length === nodes.length - 1);
