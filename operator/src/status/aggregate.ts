// Pods + their scraped load -> the per-node list and the totals of the CR status. Pure.
import type { NodeStatus } from '../api/types.js';
import { ordinalOf } from '../reconcile/names.js';
import type { NodeLoad } from './prometheus-text.js';

/** The parts of a Pod the status reads. */
export interface PodView {
  name: string;
  podIP?: string;
  ready: boolean;
  terminating: boolean;
}

export type LoadResult = { ok: true; load: NodeLoad } | { ok: false; error: string };

export interface Aggregate {
  nodes: NodeStatus[];
  readyNodes: number;
  drainingNodes: string[];
  rooms: number;
  peers: number;
  forwardedTracks: number;
}

export function aggregate(cluster: string, pods: readonly PodView[], loads: ReadonlyMap<string, LoadResult>): Aggregate {
  const nodes = pods
    .flatMap((pod) => {
      const ordinal = ordinalOf(cluster, pod.name);
      return ordinal === undefined ? [] : [{ pod, ordinal }];
    })
    .sort((a, b) => a.ordinal - b.ordinal)
    .map(({ pod, ordinal }): NodeStatus => {
      const result = loads.get(pod.name);
      const load = result?.ok ? result.load : undefined;
      const node: NodeStatus = {
        name: pod.name,
        ordinal,
        ready: pod.ready && !pod.terminating,
        // A terminating pod is draining by construction (its preStop drains) even before it says so.
        draining: load?.draining === true || pod.terminating,
      };
      if (pod.podIP) node.podIP = pod.podIP;
      if (load?.rooms !== undefined) node.rooms = load.rooms;
      if (load?.peers !== undefined) node.peers = load.peers;
      if (load?.forwardedTracks !== undefined) node.forwardedTracks = load.forwardedTracks;
      if (result && !result.ok) node.error = result.error;
      else if (!result) node.error = pod.podIP ? 'not scraped yet' : 'pod has no IP yet';
      return node;
    });
  const sum = (pick: (n: NodeStatus) => number | undefined) => nodes.reduce((acc, n) => acc + (pick(n) ?? 0), 0);
  return {
    nodes,
    readyNodes: nodes.filter((n) => n.ready).length,
    drainingNodes: nodes.filter((n) => n.draining).map((n) => n.name),
    rooms: sum((n) => n.rooms),
    peers: sum((n) => n.peers),
    forwardedTracks: sum((n) => n.forwardedTracks),
  };
}
