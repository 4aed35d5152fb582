import test from 'ava';
import type { Condition } from '../src/api/types.js';
import { mergeConditions } from '../src/reconcile/conditions.js';
import { aggregate, type LoadResult, type PodView } from '../src/status/aggregate.js';
import { buildStatus, type ReconcileOutcome } from '../src/status/build-status.js';
import { nodeLoad, parseSamples } from '../src/status/prometheus-text.js';
import { makeCluster } from './cluster-fixture.js';

const exposition = `# HELP fishjam_rooms rooms on this node
# TYPE fishjam_rooms gauge
fishjam_rooms 3
# HELP fishjam_peers peers on this node (all rooms)
# TYPE fishjam_peers gauge
fishjam_peers{} 7
fishjam_room_peers{room_id="a"} 4
fishjam_room_peers{room_id="b"} 3
fishjam_forwarded_tracks 12 1700000000000
fishjam_node_draining 0
fishjam_worker_cpu_ratio{worker="0"} 0.25
process_cpu_seconds_total 1.5e+2
`;

test('parses unlabelled samples, skipping comments, labelled series and timestamps', (t) => {
  const s = parseSamples(exposition);
  t.is(s.get('fishjam_rooms'), 3);
  t.is(s.get('fishjam_peers'), 7);
  t.is(s.get('fishjam_forwarded_tracks'), 12);
  t.is(s.get('process_cpu_seconds_total'), 150);
  t.false(s.has('fishjam_room_peers'));
  t.false(s.has('fishjam_worker_cpu_ratio'));
});

const loadTable: [string, string, ReturnType<typeof nodeLoad>][] = [
  ['full report', exposition, { rooms: 3, peers: 7, forwardedTracks: 12, draining: false }],
  ['draining node', 'fishjam_node_draining 1\nfishjam_rooms 0\n', { rooms: 0, peers: undefined, forwardedTracks: undefined, draining: true }],
  ['empty body', '', { rooms: undefined, peers: undefined, forwardedTracks: undefined, draining: undefined }],
  ['garbage and NaN', 'fishjam_rooms NaN\nfishjam_peers abc\nnot a metric line at all\n', { rooms: undefined, peers: undefined, forwardedTracks: undefined, draining: undefined }],
  ['negative gauges are ignored', 'fishjam_rooms -1\n', { rooms: undefined, peers: undefined, forwardedTracks: undefined, draining: undefined }],
];
for (const [name, text, want] of loadTable) {
  test(`node load: ${name}`, (t) => t.deepEqual(nodeLoad(text), want));
}

const pod = (name: string, extra: Partial<PodView> = {}): PodView => ({ name, podIP: '10.0.0.1', ready: true, terminating: false, ...extra });
const ok = (rooms: number, peers: number, tracks: number, draining = false): LoadResult => ({
  ok: true, load: { rooms, peers, forwardedTracks: tracks, draining },
});

test('aggregates pods and loads into nodes and totals, ordered by ordinal', (t) => {
  const pods = [pod('media-10'), pod('media-2', { ready: false }), pod('media-0'), pod('other-0'), pod('media-x')];
  const loads = new Map<string, LoadResult>([
    ['media-0', ok(2, 5, 8)],
    ['media-2', ok(1, 1, 0, true)],
    ['media-10', { ok: false, error: 'connect ECONNREFUSED' }],
  ]);
  const agg = aggregate('media', pods, loads);
  t.deepEqual(agg.nodes.map((n) => n.name), ['media-0', 'media-2', 'media-10']);
  t.is(agg.readyNodes, 2);
  t.deepEqual(agg.drainingNodes, ['media-2']);
  t.is(agg.rooms, 3);
  t.is(agg.peers, 6);
  t.is(agg.forwardedTracks, 8);
  t.is(agg.nodes[2]!.error, 'connect ECONNREFUSED');
  t.is(agg.nodes[2]!.rooms, undefined);
});

test('a terminating pod counts as draining and not ready; a pod without IP says so', (t) => {
  const agg = aggregate('media', [pod('media-0', { terminating: true }), pod('media-1', { podIP: undefined, ready: false })], new Map());
  t.deepEqual(agg.drainingNodes, ['media-0']);
  t.is(agg.readyNodes, 0);
  t.is(agg.nodes[1]!.error, 'pod has no IP yet');
  t.is(agg.nodes[1]!.podIP, undefined);
});

const outcome = (over: Partial<ReconcileOutcome> = {}): ReconcileOutcome => ({
  generation: 3, valid: true, conditions: [], scaleDown: undefined, error: undefined, desiredReplicas: 2, ...over,
});

const readyTable: [string, Partial<ReconcileOutcome>, PodView[], Condition['status'], string][] = [
  ['all ready', {}, [pod('media-0'), pod('media-1')], 'True', 'AllNodesReady'],
  ['one not ready', {}, [pod('media-0'), pod('media-1', { ready: false })], 'False', 'NodesNotReady'],
  ['missing pod', {}, [pod('media-0')], 'False', 'NodesNotReady'],
  ['invalid spec', { valid: false }, [], 'False', 'InvalidSpec'],
  ['scaled to zero', { desiredReplicas: 0 }, [], 'True', 'ScaledToZero'],
  ['scaling to zero', { desiredReplicas: 0 }, [pod('media-0')], 'False', 'ScalingDown'],
];
for (const [name, over, pods, status, reason] of readyTable) {
  test(`Ready condition: ${name}`, (t) => {
    const s = buildStatus(makeCluster({}), outcome(over), aggregate('media', pods, new Map()), new Date(0));
    const ready = s.conditions!.find((c) => c.type === 'Ready')!;
    t.is(ready.status, status);
    t.is(ready.reason, reason);
    t.is(ready.observedGeneration, 3);
  });
}

test('status carries totals, selector for the scale subresource, summary and scale-down state', (t) => {
  const agg = aggregate('media', [pod('media-0'), pod('media-1')], new Map([['media-0', ok(1, 2, 3)], ['media-1', ok(4, 5, 6, true)]]));
  const s = buildStatus(makeCluster({}), outcome({ scaleDown: { ordinal: 1, startedAt: 'x' }, desiredReplicas: 1 }), agg, new Date(0));
  t.is(s.observedGeneration, 3);
  t.is(s.replicas, 2);
  t.is(s.selector, 'app.kubernetes.io/name=fishjam,app.kubernetes.io/instance=media');
  t.is(s.nodesSummary, '2/1');
  t.is(s.rooms, 5);
  t.is(s.peers, 7);
  t.is(s.forwardedTracks, 9);
  t.deepEqual(s.drainingNodes, ['media-1']);
  t.deepEqual(s.scaleDown, { ordinal: 1, startedAt: 'x' });
});

test('an apply error shows as Reconciled=False ApplyFailed', (t) => {
  const s = buildStatus(makeCluster({}), outcome({ error: 'statefulsets "media" is forbidden' }), aggregate('media', [], new Map()), new Date(0));
  const c = s.conditions!.find((x) => x.type === 'Reconciled')!;
  t.is(c.status, 'False');
  t.is(c.reason, 'ApplyFailed');
  t.regex(c.message, /forbidden/);
});

test('conditions keep lastTransitionTime while the status is unchanged', (t) => {
  const before: Condition[] = [
    { type: 'Ready', status: 'True', reason: 'A', message: '', lastTransitionTime: '2020-01-01T00:00:00.000Z', observedGeneration: 1 },
    { type: 'SpecValid', status: 'True', reason: 'Valid', message: '', lastTransitionTime: '2020-01-01T00:00:00.000Z', observedGeneration: 1 },
  ];
  const now = new Date('2025-06-01T00:00:00Z');
  const after = mergeConditions(before, [
    { type: 'Ready', status: 'False', reason: 'B', message: 'm' },
    { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'still' },
    { type: 'New', status: 'True', reason: 'C', message: '' },
  ], 2, now);
  t.is(after[0]!.lastTransitionTime, now.toISOString());
  t.is(after[1]!.lastTransitionTime, '2020-01-01T00:00:00.000Z');
  t.is(after[2]!.lastTransitionTime, now.toISOString());
  t.true(after.every((c) => c.observedGeneration === 2));
});
