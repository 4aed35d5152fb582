// Scaling down one node at a time: drain the highest ordinal, wait until it holds no rooms (or its drain
// timeout passed), then shrink the StatefulSet past it. The drain's start is kept in the CR status, so an
// operator restart resumes the wait instead of starting over.
import type { NodeStatus, ScaleDownState } from '../api/types.js';

export interface ScaleInput {
  desiredReplicas: number;
  /** spec.replicas of the existing StatefulSet; undefined when it does not exist yet. */
  currentReplicas: number | undefined;
  scaleDown: ScaleDownState | undefined;
  nodes: readonly NodeStatus[];
  drainTimeoutSeconds: number;
  now: Date;
}

export interface ScalePlan {
  statefulSetReplicas: number;
  scaleDown: ScaleDownState | undefined;
  /** Ask this ordinal to drain (POST /admin/drain); idempotent, repeated until the node reports draining. */
  drainOrdinal: number | undefined;
  /** Check again after this many ms (a drain is under way). */
  requeueAfterMs: number | undefined;
}

/** Extra wait beyond the node's own drain timeout, for its last report to arrive. */
export const DRAIN_SLACK_MS = 10_000;
export const DRAIN_POLL_MS = 2_000;

export function planScale(input: ScaleInput): ScalePlan {
  const { desiredReplicas, currentReplicas, now } = input;
  if (currentReplicas === undefined || desiredReplicas >= currentReplicas) {
    return { statefulSetReplicas: desiredReplicas, scaleDown: undefined, drainOrdinal: undefined, requeueAfterMs: undefined };
  }
  const ordinal = currentReplicas - 1;
  const node = input.nodes.find((n) => n.ordinal === ordinal);
  const started = input.scaleDown?.ordinal === ordinal ? input.scaleDown : undefined;
  if (!started) {
    if (!node) {
      // The pod is already gone (crashed, never scheduled): nothing to drain.
      return shrink(ordinal);
    }
    return {
      statefulSetReplicas: currentReplicas,
      scaleDown: { ordinal, startedAt: now.toISOString() },
      drainOrdinal: ordinal,
      requeueAfterMs: DRAIN_POLL_MS,
    };
  }
  const elapsed = now.getTime() - Date.parse(started.startedAt);
  const empty = node === undefined || (node.draining && node.rooms === 0);
  if (empty || elapsed >= input.drainTimeoutSeconds * 1000 + DRAIN_SLACK_MS) return shrink(ordinal);
  return {
    statefulSetReplicas: currentReplicas,
    scaleDown: started,
    drainOrdinal: node.draining ? undefined : ordinal,
    requeueAfterMs: DRAIN_POLL_MS,
  };
}

function shrink(ordinal: number): ScalePlan {
  // The next ordinal (if still above the target) is started on the next pass, once this shrink is applied.
  return { statefulSetReplicas: ordinal, scaleDown: undefined, drainOrdinal: undefined, requeueAfterMs: DRAIN_POLL_MS };
}
