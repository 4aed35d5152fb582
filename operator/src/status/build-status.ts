// The whole status subresource, written by one writer with server-side apply: reconcile's conditions and
// scale-down state plus the aggregated pod load and a Ready condition.
import type { FishjamCluster, FishjamClusterStatus } from '../api/types.js';
import { mergeConditions, type ConditionInput } from '../reconcile/conditions.js';
import { CONDITION } from '../reconcile/desired.js';
import { selectorLabels, selectorString } from '../reconcile/names.js';
import type { Aggregate } from './aggregate.js';

export interface ReconcileOutcome {
  generation: number | undefined;
  valid: boolean;
  conditions: ConditionInput[];
  scaleDown: FishjamClusterStatus['scaleDown'];
  /** Last apply error, if the last reconcile failed. */
  error: string | undefined;
  /** Condition reason for the error (e.g. SecretNotAllowed); ApplyFailed when unset. */
  errorReason?: string | undefined;
  desiredReplicas: number;
}

export function readyCondition(outcome: ReconcileOutcome, agg: Aggregate): ConditionInput {
  if (!outcome.valid) return { type: CONDITION.ready, status: 'False', reason: 'InvalidSpec', message: 'the spec is invalid, see SpecValid' };
  const want = outcome.desiredReplicas;
  if (agg.readyNodes >= want && want > 0 && agg.nodes.length === want) {
    return { type: CONDITION.ready, status: 'True', reason: 'AllNodesReady', message: `${agg.readyNodes}/${want} nodes ready` };
  }
  if (want === 0) {
    return agg.nodes.length === 0
      ? { type: CONDITION.ready, status: 'True', reason: 'ScaledToZero', message: 'no nodes requested' }
      : { type: CONDITION.ready, status: 'False', reason: 'ScalingDown', message: `${agg.nodes.length} nodes still running` };
  }
  return { type: CONDITION.ready, status: 'False', reason: 'NodesNotReady', message: `${agg.readyNodes}/${want} nodes ready` };
}

export function buildStatus(cluster: FishjamCluster, outcome: ReconcileOutcome, agg: Aggregate, now: Date): FishjamClusterStatus {
  const reconciled: ConditionInput = outcome.error
    ? { type: CONDITION.reconciled, status: 'False', reason: outcome.errorReason ?? 'ApplyFailed', message: outcome.error }
    : outcome.valid
      ? { type: CONDITION.reconciled, status: 'True', reason: 'Applied', message: 'all objects applied' }
      : { type: CONDITION.reconciled, status: 'False', reason: 'InvalidSpec', message: 'nothing applied while the spec is invalid' };
  const conditions = mergeConditions(
    cluster.status?.conditions,
    [readyCondition(outcome, agg), reconciled, ...outcome.conditions],
    outcome.generation,
    now,
  );
  const status: FishjamClusterStatus = {
    observedGeneration: outcome.generation,
    replicas: agg.nodes.length,
    selector: selectorString(selectorLabels(cluster.metadata.name!)),
    readyNodes: agg.readyNodes,
    nodesSummary: `${agg.readyNodes}/${outcome.desiredReplicas}`,
    drainingNodes: agg.drainingNodes,
    rooms: agg.rooms,
    peers: agg.peers,
    forwardedTracks: agg.forwardedTracks,
    // Per node: identity and state only. Its live load (rooms, peers, tracks) is in the pod's metrics; in the status it
    // would make every join an etcd write (see status-writes.ts).
    nodes: agg.nodes.map(({ rooms: _r, peers: _p, forwardedTracks: _f, ...node }) => node),
    conditions,
  };
  if (outcome.scaleDown) status.scaleDown = outcome.scaleDown;
  return status;
}
