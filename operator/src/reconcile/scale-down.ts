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
  /** The StatefulSet now shrinks past this ordinal: why its drain ended (for an Event). */
  finished?: { ordinal: number; by: 'empty' | 'deadline' | 'gone' };
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
  const started = input.scaleDown?.ordinal === ordinal ? sane(input.scaleDown, now) : undefined;
  if (!started) {
    if (!node) {
      // The pod is already gone (crashed, never scheduled): nothing to drain.
      return shrink(ordinal, 'gone');
    }
    return {
      statefulSetReplicas: currentReplicas,
      scaleDown: { ordinal, startedAt: now.toISOString() },
      drainOrdinal: ordinal,
      requeueAfterMs: DRAIN_POLL_MS,
    };
  }
  const elapsed = now.getTime() - Date.parse(started.startedAt);
  if (node === undefined) return shrink(ordinal, 'gone');
  if (node.draining && node.rooms === 0) return shrink(ordinal, 'empty');
  // The drain deadline: a node whose rooms never end is removed anyway (its pod's grace period then bounds the rest),
  // so a scale-in never hangs on one long meeting.
  if (elapsed >= input.drainTimeoutSeconds * 1000 + DRAIN_SLACK_MS) return shrink(ordinal, 'deadline');
  return {
    statefulSetReplicas: currentReplicas,
    scaleDown: started,
    drainOrdinal: node.draining ? undefined : ordinal,
    requeueAfterMs: DRAIN_POLL_MS,
  };
}

/** A start time that is garbage or in the future (edited status, clock skew) restarts the wait now, never forever. */
function sane(state: ScaleDownState, now: Date): ScaleDownState {
  const at = Date.parse(state.startedAt);
  return Number.isFinite(at) && at <= now.getTime() ? state : { ordinal: state.ordinal, startedAt: now.toISOString() };
}

function shrink(ordinal: number, by: 'empty' | 'deadline' | 'gone'): ScalePlan {
  // The next ordinal (if still above the target) is started on the next pass, once this shrink is applied.
  return { statefulSetReplicas: ordinal, scaleDown: undefined, drainOrdinal: undefined, requeueAfterMs: DRAIN_POLL_MS, finished: { ordinal, by } };
}
