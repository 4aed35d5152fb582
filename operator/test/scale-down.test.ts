import test from 'ava';
import type { NodeStatus } from '../src/api/types.js';
import { DRAIN_SLACK_MS, planScale, type ScaleInput } from '../src/reconcile/scale-down.js';

const T0 = new Date('2025-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const node = (ordinal: number, extra: Partial<NodeStatus> = {}): NodeStatus => ({
  name: `media-${ordinal}`, ordinal, ready: true, draining: false, rooms: 2, ...extra,
});
const input = (over: Partial<ScaleInput>): ScaleInput => ({
  desiredReplicas: 3, currentReplicas: 3, scaleDown: undefined, nodes: [node(0), node(1), node(2)],
  drainTimeoutSeconds: 30, now: T0, ...over,
});

const table: [string, Partial<ScaleInput>, { sts: number; drain: number | undefined; scaleDown: number | undefined }][] = [
  ['first apply uses the desired count', { currentReplicas: undefined, desiredReplicas: 5 }, { sts: 5, drain: undefined, scaleDown: undefined }],
  ['steady state', {}, { sts: 3, drain: undefined, scaleDown: undefined }],
  ['scale up is immediate', { desiredReplicas: 6 }, { sts: 6, drain: undefined, scaleDown: undefined }],
  ['scale up cancels a pending drain', { desiredReplicas: 4, scaleDown: { ordinal: 2, startedAt: T0.toISOString() } }, { sts: 4, drain: undefined, scaleDown: undefined }],
  ['scale down starts by draining the highest ordinal', { desiredReplicas: 1 }, { sts: 3, drain: 2, scaleDown: 2 }],
  [
    'drain requested but node not draining yet: ask again',
    { desiredReplicas: 1, scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, now: at(1000) },
    { sts: 3, drain: 2, scaleDown: 2 },
  ],
  [
    'node draining with rooms: wait without asking again',
    { desiredReplicas: 1, scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, nodes: [node(0), node(1), node(2, { draining: true })], now: at(5000) },
    { sts: 3, drain: undefined, scaleDown: 2 },
  ],
  [
    'node drained to zero rooms: remove it',
    { desiredReplicas: 1, scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, nodes: [node(0), node(1), node(2, { draining: true, rooms: 0 })], now: at(5000) },
    { sts: 2, drain: undefined, scaleDown: undefined },
  ],
  [
    'drain timeout (plus slack) passed: remove it anyway',
    { desiredReplicas: 1, scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, nodes: [node(0), node(1), node(2, { draining: true })], now: at(30_000 + DRAIN_SLACK_MS) },
    { sts: 2, drain: undefined, scaleDown: undefined },
  ],
  [
    'a node that reports no load yet (rooms unknown) is not taken as empty',
    { desiredReplicas: 2, scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, nodes: [node(0), node(1), { name: 'media-2', ordinal: 2, ready: false, draining: true }], now: at(1000) },
    { sts: 3, drain: undefined, scaleDown: 2 },
  ],
  ['the pod to drain is already gone: shrink at once', { desiredReplicas: 2, nodes: [node(0), node(1)] }, { sts: 2, drain: undefined, scaleDown: undefined }],
  [
    'next step after a shrink drains the next ordinal',
    { desiredReplicas: 1, currentReplicas: 2, nodes: [node(0), node(1)], now: at(9000) },
    { sts: 2, drain: 1, scaleDown: 1 },
  ],
  [
    'a stale drain record for another ordinal is replaced',
    { desiredReplicas: 1, currentReplicas: 2, nodes: [node(0), node(1)], scaleDown: { ordinal: 2, startedAt: T0.toISOString() }, now: at(9000) },
    { sts: 2, drain: 1, scaleDown: 1 },
  ],
  ['scale to zero drains too', { desiredReplicas: 0, currentReplicas: 1, nodes: [node(0)] }, { sts: 1, drain: 0, scaleDown: 0 }],
];

for (const [name, over, want] of table) {
  test(`scale plan: ${name}`, (t) => {
    const plan = planScale(input(over));
    t.is(plan.statefulSetReplicas, want.sts);
    t.is(plan.drainOrdinal, want.drain);
    t.is(plan.scaleDown?.ordinal, want.scaleDown);
    if (plan.scaleDown) t.truthy(plan.requeueAfterMs, 'a pending drain is checked again');
  });
}

test('the drain start time is kept across passes', (t) => {
  const first = planScale(input({ desiredReplicas: 2 }));
  const second = planScale(input({ desiredReplicas: 2, scaleDown: first.scaleDown, now: at(4000) }));
  t.is(second.scaleDown?.startedAt, T0.toISOString());
});

test('why a drain ended: empty, deadline or gone (for the DrainFinished event)', (t) => {
  const draining = { desiredReplicas: 2, scaleDown: { ordinal: 2, startedAt: T0.toISOString() } };
  t.deepEqual(planScale(input({ ...draining, nodes: [node(0), node(1), node(2, { draining: true, rooms: 0 })], now: at(1000) })).finished, { ordinal: 2, by: 'empty' });
  t.deepEqual(planScale(input({ ...draining, nodes: [node(0), node(1), node(2, { draining: true })], now: at(30_000 + DRAIN_SLACK_MS) })).finished, { ordinal: 2, by: 'deadline' });
  t.deepEqual(planScale(input({ ...draining, nodes: [node(0), node(1)], now: at(1000) })).finished, { ordinal: 2, by: 'gone' });
  t.is(planScale(input({ ...draining, nodes: [node(0), node(1), node(2, { draining: true })], now: at(1000) })).finished, undefined);
});

for (const [name, startedAt] of [['garbage', 'yesterday-ish'], ['empty', ''], ['far future', '2999-01-01T00:00:00Z']] as const) {
  test(`a ${name} drain start time in the status restarts the wait now instead of waiting forever`, (t) => {
    const nodes = [node(0), node(1), node(2, { draining: true })];
    const plan = planScale(input({ desiredReplicas: 2, scaleDown: { ordinal: 2, startedAt }, nodes, now: at(5000) }));
    t.deepEqual(plan.scaleDown, { ordinal: 2, startedAt: at(5000).toISOString() });
    t.is(plan.statefulSetReplicas, 3);
    // And from that restarted start, the deadline applies as usual.
    const later = planScale(input({ desiredReplicas: 2, scaleDown: plan.scaleDown, nodes, now: at(5000 + 30_000 + DRAIN_SLACK_MS) }));
    t.is(later.statefulSetReplicas, 2);
    t.is(later.finished?.by, 'deadline');
  });
}
