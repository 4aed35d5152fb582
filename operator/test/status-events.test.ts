// Status written only when it changes meaningfully (live load does not churn it) and Kubernetes Events, against the
// stand-in API server.
import test from 'ava';
import { API_VERSION, KIND, type FishjamClusterStatus } from '../src/api/types.js';
import { EventRecorder, MAX_MESSAGE } from '../src/controller/events.js';
import type { KubeApi } from '../src/controller/kube-api.js';
import { statusWrite, type StatusWrite } from '../src/status/status-writes.js';
import { makeCluster } from './cluster-fixture.js';
import { podIp, silentLog, sleep, startHarness, waitFor, type Harness, withPodNetwork } from './controller-harness.js';

const NS = 'live';
const base: FishjamClusterStatus = { observedGeneration: 1, replicas: 2, readyNodes: 2, rooms: 1, peers: 2, forwardedTracks: 3, conditions: [] };

const writeTable: [string, FishjamClusterStatus | undefined, FishjamClusterStatus, number | undefined, number, StatusWrite][] = [
  ['first status', undefined, base, undefined, 0, 'changed'],
  ['identical', base, base, 0, 1000, 'none'],
  ['a node became not ready', base, { ...base, readyNodes: 1 }, 0, 1000, 'changed'],
  ['a new generation observed', base, { ...base, observedGeneration: 2 }, 0, 1000, 'changed'],
  ['load moved within the load interval', base, { ...base, rooms: 9, peers: 30 }, 0, 59_999, 'none'],
  ['load moved past the load interval', base, { ...base, rooms: 9 }, 0, 60_000, 'load'],
  ['load moved, never written before', base, { ...base, forwardedTracks: 0 }, undefined, 0, 'load'],
];
for (const [name, prev, next, last, now, want] of writeTable) {
  test(`statusWrite: ${name}`, (t) => t.is(statusWrite(prev, next, last, now, 60_000), want));
}

const putCluster = (h: Harness, spec: Record<string, unknown>) =>
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'media', namespace: NS }, spec: withPodNetwork(spec) } as never);
const statusPatches = (h: Harness, since = 0) => h.server.requests.slice(since).filter((r) => r.method === 'PATCH' && r.path.endsWith('/fishjamclusters/media/status')).length;
const events = (h: Harness) =>
  h.server.list('Event', NS).map((e: any) => ({ type: e.type, reason: e.reason, message: e.message, involved: e.involvedObject }));

test('live load changing every 100 ms writes no status; a node going unready is written at once', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true }, { statusLoadIntervalMs: 60_000 });
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2 });
  await waitFor('Ready', () => ((h.server.get(KIND, NS, 'media')?.['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
  await sleep(600);
  const mark = h.server.requests.length;
  let rooms = 0;
  const churn = setInterval(() => {
    rooms++;
    h.nodes.node(podIp(0)).rooms = rooms % 7;
    h.nodes.node(podIp(1)).peers = rooms;
  }, 100);
  t.teardown(() => clearInterval(churn));
  await sleep(2500); // about 10 status refreshes (every 250 ms) with new figures each time
  clearInterval(churn);
  t.is(statusPatches(h, mark), 0, 'no status write for load alone');
  // A state change is written at the next refresh.
  h.nodes.node(podIp(1)).down = true;
  const downAt = Date.now();
  await waitFor('scrape error in status', () => ((h.server.get(KIND, NS, 'media')?.['status'] as any)?.nodes ?? [])[1]?.error);
  t.true(Date.now() - downAt < 3000);
  t.is(statusPatches(h, mark), 1);
});

test('Events: Created, Scaled, DrainStarted, DrainFinished on the FishjamCluster', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const cr = putCluster(h, { replicas: 2 });
  await waitFor('Created event', () => events(h).find((e) => e.reason === 'Created'));
  const created = events(h).find((e) => e.reason === 'Created')!;
  t.deepEqual(created.involved, { apiVersion: API_VERSION, kind: KIND, name: 'media', namespace: NS, uid: cr.metadata.uid });
  t.is(created.type, 'Normal');
  t.is(created.message, 'created StatefulSet media with 2 replicas');
  await waitFor('status of 2 ready nodes', () => (h.server.get(KIND, NS, 'media')?.['status'] as any)?.readyNodes === 2);

  h.nodes.node(podIp(1)).rooms = 1;
  h.server.put({ ...h.server.get(KIND, NS, 'media')!, spec: withPodNetwork({ replicas: 1 }) } as never);
  await waitFor('DrainStarted', () => events(h).find((e) => e.reason === 'DrainStarted'));
  t.regex(events(h).find((e) => e.reason === 'DrainStarted')!.message, /^draining media-1 before removing it \(removed at the latest after 40 s\)$/);
  h.nodes.node(podIp(1)).rooms = 0;
  await waitFor('DrainFinished', () => events(h).find((e) => e.reason === 'DrainFinished'), 10_000);
  t.is(events(h).find((e) => e.reason === 'DrainFinished')!.message, 'media-1 drained: no rooms left; removing it');
  await waitFor('Scaled', () => events(h).find((e) => e.reason === 'Scaled'));
  t.is(events(h).find((e) => e.reason === 'Scaled')!.message, 'scaled StatefulSet media from 2 to 1 replicas');
  t.is(events(h).filter((e) => e.reason === 'Created').length, 1);
});

test('Events: InvalidSpec and ApplyFailed are warnings, recorded once however often the failure repeats', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 1, webrtc: { minPort: 50000, maxPort: 50000 }, workers: 4 });
  await waitFor('InvalidSpec event', () => events(h).find((e) => e.reason === 'InvalidSpec'));
  const invalid = events(h).find((e) => e.reason === 'InvalidSpec')!;
  t.is(invalid.type, 'Warning');
  t.regex(invalid.message, /spec\.webrtc\.maxPort/);

  h.server.failNext({ method: 'PATCH', path: /\/statefulsets\/media$/, status: 500, times: 4 });
  h.server.put({ ...h.server.get(KIND, NS, 'media')!, spec: withPodNetwork({ replicas: 1 }) } as never);
  await waitFor('StatefulSet after the retries', () => h.server.get('StatefulSet', NS, 'media'), 15_000);
  const failed = events(h).filter((e) => e.reason === 'ApplyFailed');
  t.is(failed.length, 1, 'four failures, one event');
  t.is(failed[0]!.type, 'Warning');
  t.regex(failed[0]!.message, /injected failure 500/);
});

test('Events cannot stall or fail a reconcile: the events API failing or hanging changes nothing else', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.failNext({ method: 'POST', path: /\/events$/, status: 503, times: 1000 });
  putCluster(h, { replicas: 1 });
  await waitFor('StatefulSet', () => h.server.get('StatefulSet', NS, 'media'));
  await waitFor('Reconciled=True', () => ((h.server.get(KIND, NS, 'media')?.['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Reconciled' && c.status === 'True'));
  t.is(events(h).length, 0);
});

test('EventRecorder: huge messages are cut to 1 KiB, a flood of distinct warnings stays bounded in memory, writes are not awaited', async (t) => {
  const sent: any[] = [];
  let hang = false;
  const api = {
    createEvent: (_ns: string, e: unknown) => {
      sent.push(e);
      return hang ? new Promise<void>(() => undefined) : Promise.resolve();
    },
  } as unknown as KubeApi;
  const rec = new EventRecorder({ api, log: silentLog, instance: 'op-0', maxRemembered: 100 });
  const cluster = makeCluster({});
  rec.record(cluster, 'Warning', 'ApplyFailed', 'x'.repeat(100_000));
  t.is(sent[0].message.length, MAX_MESSAGE);
  for (let i = 0; i < 5000; i++) rec.record(cluster, 'Warning', 'ApplyFailed', `failure ${i}`);
  t.is(sent.length, 5001);
  t.true((rec as unknown as { recent: Map<string, number> }).recent.size <= 100);
  rec.record(cluster, 'Warning', 'ApplyFailed', 'failure 4999');
  t.is(sent.length, 5001, 'a recent duplicate is dropped');
  hang = true;
  const started = Date.now();
  rec.record(cluster, 'Normal', 'Scaled', 'scaled');
  t.true(Date.now() - started < 50, 'record() returns at once even when the API hangs');
  // Garbage cluster objects (no namespace) are ignored rather than thrown on.
  rec.record({ ...cluster, metadata: { name: 'x' } }, 'Normal', 'Created', 'm');
  t.is(sent.length, 5002);
});
