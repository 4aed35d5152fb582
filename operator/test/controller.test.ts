// The controller against the stand-in API server, through the real @kubernetes/client-node.
import test from 'ava';
import { API_VERSION, KIND } from '../src/api/types.js';
import { counterValue, podIp, startHarness, waitFor, sleep, type Harness, withPodNetwork } from './controller-harness.js';

const NS = 'live';
const perPod = {
  mode: 'ServicePerPod',
  hostTemplate: '$(POD_NAME).media.example.com:443',
  announcedAddressTemplate: '$(POD_NAME).rtc.example.com',
};

function putCluster(h: Harness, spec: Record<string, unknown>, name = 'media') {
  return h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NS }, spec: withPodNetwork(spec) } as never);
}

function updateSpec(h: Harness, name: string, change: (spec: any) => void) {
  const current = h.server.get(KIND, NS, name)!;
  const spec = structuredClone(current['spec']) as any;
  change(spec);
  return h.server.put({ ...current, spec } as never);
}

const status = (h: Harness, name = 'media') => h.server.get(KIND, NS, name)?.['status'] as any;
const condition = (h: Harness, type: string, name = 'media') => status(h, name)?.conditions?.find((c: any) => c.type === type);

test('creating a FishjamCluster applies every object with server-side apply, owned by the cluster', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const cr = putCluster(h, { replicas: 2, exposure: perPod });
  const sts = await waitFor('StatefulSet', () => h.server.get('StatefulSet', NS, 'media'));
  t.is((sts['spec'] as any).replicas, 2);
  await waitFor('the last object (PodDisruptionBudget)', () => h.server.get('PodDisruptionBudget', NS, 'media'));
  const owned = [
    ...h.server.list('Service', NS), ...h.server.list('StatefulSet', NS), ...h.server.list('NetworkPolicy', NS),
    ...h.server.list('PodDisruptionBudget', NS), ...h.server.list('Secret', NS),
  ];
  t.deepEqual(owned.map((o) => `${o['kind']}/${o.metadata.name}`).sort(), [
    'NetworkPolicy/media-api', 'NetworkPolicy/media-dist', 'NetworkPolicy/media-media', 'NetworkPolicy/media-metrics',
    'PodDisruptionBudget/media',
    'Secret/media-api-token', 'Secret/media-dist-cookie', 'Secret/media-secret-key-base',
    'Service/media', 'Service/media-0', 'Service/media-1', 'Service/media-nodes',
    'StatefulSet/media',
  ]);
  for (const o of owned) {
    t.deepEqual(o.metadata.ownerReferences, [
      { apiVersion: API_VERSION, kind: KIND, name: 'media', uid: cr.metadata.uid, controller: true, blockOwnerDeletion: true },
    ], `${o['kind']}/${o.metadata.name}`);
  }
  // Applies are PATCH application/apply-patch+yaml with the operator's field manager, forced.
  const applies = h.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/statefulsets/media'));
  t.true(applies.length >= 1);
  for (const r of applies) {
    t.is(r.contentType, 'application/apply-patch+yaml');
    t.is(r.query.get('fieldManager'), 'fishjam-operator');
    t.is(r.query.get('force'), 'true');
  }
  t.deepEqual(sts.metadata.managedFields, [{ manager: 'fishjam-operator', operation: 'Apply', apiVersion: 'apps/v1' }]);
  // Generated secrets: created once, with the random content.
  const token = h.server.get('Secret', NS, 'media-api-token')!;
  t.is(Buffer.from((token['data'] as any).token, 'base64').toString(), 'secret-32');
  // The pod template carries the dist environment.
  const env = Object.fromEntries(((sts['spec'] as any).template.spec.containers[0].env as any[]).map((e) => [e.name, e.value]));
  t.is(env['FJ_DIST_QUERY'], 'media-nodes.live.svc.cluster.local');
});

test('status is refreshed from the pods and their metrics: nodes, totals, Ready with observedGeneration', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const cr = putCluster(h, { replicas: 3 });
  h.nodes.node(podIp(0)).rooms = 2;
  h.nodes.node(podIp(0)).peers = 5;
  h.nodes.node(podIp(1)).rooms = 1;
  h.nodes.node(podIp(1)).peers = 1;
  h.nodes.node(podIp(2)).tracks = 7;
  await waitFor('Ready=True', () => condition(h, 'Ready')?.status === 'True');
  const s = await waitFor('totals', () => (status(h)?.rooms === 3 ? status(h) : undefined));
  t.is(s.readyNodes, 3);
  t.is(s.nodesSummary, '3/3');
  t.is(s.peers, 6);
  t.is(s.forwardedTracks, 7);
  t.deepEqual(s.nodes.map((n: any) => [n.name, n.podIP, n.rooms]), [['media-0', podIp(0), undefined], ['media-1', podIp(1), undefined], ['media-2', podIp(2), undefined]], 'per-node load stays in metrics');
  t.is(s.selector, 'app.kubernetes.io/name=fishjam,app.kubernetes.io/instance=media');
  t.is(s.replicas, 3);
  t.is(condition(h, 'Ready').observedGeneration, cr.metadata.generation);
  t.is(s.observedGeneration, cr.metadata.generation);
  t.is(condition(h, 'NetworkPolicyEnforced').reason, 'PoliciesApplied', 'PodNetwork, the default');
  // Load changes show up within a few refreshes.
  h.nodes.node(podIp(2)).rooms = 4;
  h.nodes.node(podIp(1)).draining = true;
  await waitFor('updated totals', () => status(h)?.rooms === 7 && status(h)?.drainingNodes?.[0] === 'media-1');
  // A pod whose metrics cannot be read is listed with the reason.
  h.nodes.node(podIp(0)).down = true;
  await waitFor('scrape error', () => status(h)?.nodes?.[0]?.error === 'connect ECONNREFUSED');
  t.true((await counterValue(h.metrics, 'fishjam_operator_pod_scrape_errors_total')) > 0);
});

test('changing replicas updates the StatefulSet; scaling down drains the highest ordinal before removing it', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2 });
  await waitFor('2 pods', () => h.server.list('Pod', NS).length === 2);
  updateSpec(h, 'media', (s) => (s.replicas = 3));
  await waitFor('StatefulSet at 3', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 3);
  await waitFor('3 pods ready in status', () => status(h)?.readyNodes === 3);

  // media-2 holds a room: scale-down must drain it and wait.
  h.nodes.node(podIp(2)).rooms = 1;
  updateSpec(h, 'media', (s) => (s.replicas = 2));
  await waitFor('drain request to media-2', () => h.nodes.node(podIp(2)).drainCalls.length > 0);
  t.deepEqual(h.nodes.node(podIp(2)).drainCalls[0], { token: 'secret-32', port: 8080 });
  t.deepEqual(h.nodes.node(podIp(1)).drainCalls, [], 'only the highest ordinal is drained');
  await waitFor('ScalingDown condition', () => condition(h, 'ScalingDown')?.status === 'True');
  t.is(status(h).scaleDown.ordinal, 2);
  await sleep(1500);
  t.is((h.server.get('StatefulSet', NS, 'media')!['spec'] as any).replicas, 3, 'kept while the node has rooms');
  t.truthy(h.server.get('Pod', NS, 'media-2'));

  // The room ends: the StatefulSet shrinks past the drained node.
  h.nodes.node(podIp(2)).rooms = 0;
  await waitFor('StatefulSet at 2', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 2, 10_000);
  await waitFor('pod media-2 gone', () => !h.server.get('Pod', NS, 'media-2'));
  await waitFor('ScalingDown cleared', () => condition(h, 'ScalingDown')?.status === 'False' && status(h).scaleDown === undefined);
});

test('scaling down by several nodes drains them one at a time, highest first', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 3 });
  await waitFor('3 pods ready', () => status(h)?.readyNodes === 3);
  const order: string[] = [];
  for (const i of [0, 1, 2]) {
    const n = h.nodes.node(podIp(i));
    const drain = n.drainCalls;
    drain.push = (...items) => {
      order.push(`media-${i}`);
      return Array.prototype.push.apply(drain, items);
    };
  }
  updateSpec(h, 'media', (s) => (s.replicas = 1));
  await waitFor('StatefulSet at 1', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 1, 15_000);
  t.deepEqual([...new Set(order)], ['media-2', 'media-1']);
  await waitFor('one pod left', () => h.server.list('Pod', NS).length === 1);
});

test('deleting the FishjamCluster removes everything it owns (garbage collection by ownerReferences)', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2, exposure: perPod });
  await waitFor('pods and policies', () => h.server.list('Pod', NS).length === 2 && h.server.get('PodDisruptionBudget', NS, 'media'));
  await waitFor('status written', () => status(h)?.readyNodes === 2);
  h.server.remove(KIND, NS, 'media');
  for (const kind of ['StatefulSet', 'Service', 'Secret', 'NetworkPolicy', 'PodDisruptionBudget', 'Pod']) {
    t.deepEqual(h.server.list(kind, NS).map((o) => o.metadata.name), [], kind);
  }
  // And the controller does not resurrect anything afterwards.
  await sleep(600);
  t.deepEqual(h.server.list('StatefulSet', NS), []);
  t.falsy(h.server.requests.find((r) => r.method === 'PATCH' && r.status === 201 && r.at > Date.now() - 500));
});

test('a watch dropped and expired (410 Gone) is relisted and changes made meanwhile are acted on', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 1 });
  await waitFor('StatefulSet', () => h.server.get('StatefulSet', NS, 'media'));
  const listsBefore = h.controller.clusters.lists;
  const requestsBefore = h.server.requests.length;
  // History is compacted, then the connection drops; a change lands while the operator is not watching.
  h.server.compact();
  h.server.dropWatches();
  updateSpec(h, 'media', (s) => (s.replicas = 4));
  await waitFor('StatefulSet at 4', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 4);
  t.true(h.controller.clusters.lists > listsBefore, 'the cluster informer listed again');
  const after = h.server.requests.slice(requestsBefore).filter((r) => r.path.endsWith('/fishjamclusters'));
  const expiredWatch = after.findIndex((r) => r.query.get('watch') === 'true' && Number(r.query.get('resourceVersion')) > 0);
  const relist = after.findIndex((r, i) => i > expiredWatch && r.query.get('watch') !== 'true');
  t.true(expiredWatch >= 0, 'resumed the watch from its resourceVersion first');
  t.true(relist > expiredWatch, 'then relisted after the 410');
  await waitFor('watches back', () => h.server.activeWatches('fishjamclusters') === 1);
});

test('API errors are retried with growing backoff, reported in status, then succeed', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.failNext({ method: 'PATCH', path: /\/statefulsets\/media$/, status: 500, times: 4 });
  putCluster(h, { replicas: 1 });
  await waitFor('Reconciled=False ApplyFailed', () => condition(h, 'Reconciled')?.reason === 'ApplyFailed');
  t.regex(condition(h, 'Reconciled').message, /500: injected failure 500/);
  await waitFor('StatefulSet applied at last', () => h.server.get('StatefulSet', NS, 'media'), 10_000);
  const attempts = h.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/statefulsets/media')).map((r) => r.at);
  t.is(attempts.length, 5);
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
  // Backoff 100, 200, 400, 800 ms (base 100 ms, doubling), plus the time of the other calls in each pass.
  gaps.forEach((gap, i) => t.true(gap >= 100 * 2 ** i * 0.9, `gap ${i} waits the backoff: ${gaps.join(', ')}`));
  // The lower bounds above are what shows the doubling (gap 3 waited at least 720 ms); an upper comparison between
  // gaps is left out: a busy machine stretches any gap by up to a second (seen: 1239, 946, 1850, 979).
  t.is(await counterValue(h.metrics, 'fishjam_operator_reconcile_errors_total'), 4);
  await waitFor('Reconciled=True', () => condition(h, 'Reconciled')?.status === 'True');
  t.true((await counterValue(h.metrics, 'fishjam_operator_reconcile_total', { result: 'success' })) >= 1);
});

test('failing list calls restart the informer with backoff until the API answers', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.failNext({ method: 'GET', path: /\/fishjamclusters$/, status: 503, times: 3 });
  h.server.compact();
  h.server.dropWatches();
  putCluster(h, { replicas: 2 });
  await waitFor('StatefulSet after the API recovered', () => h.server.get('StatefulSet', NS, 'media'), 10_000);
  t.true((await counterValue(h.metrics, 'fishjam_operator_watch_restarts_total', { resource: 'fishjamclusters' })) >= 3);
});

test('status writes do not trigger reconciles: a steady cluster makes no more applies', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2, exposure: perPod });
  await waitFor('Ready', () => condition(h, 'Ready')?.status === 'True');
  await sleep(300);
  const mark = h.server.requests.length;
  h.nodes.node(podIp(0)).rooms = 5; // status changes keep coming
  await sleep(1200);
  const later = h.server.requests.slice(mark);
  t.deepEqual(later.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status')).map((r) => r.path), []);
  t.true(later.some((r) => r.method === 'PATCH' && r.path.endsWith('/status')), 'status itself was written');
  t.is(status(h).rooms, 5);
});

test('an invalid spec is reported in status with a clear reason and nothing is created', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const cr = putCluster(h, { replicas: 2, exposure: { mode: 'ServicePerPod' } });
  await waitFor('SpecValid=False', () => condition(h, 'SpecValid')?.status === 'False');
  const c = condition(h, 'SpecValid');
  t.is(c.reason, 'InvalidSpec');
  t.regex(c.message, /spec\.exposure\.hostTemplate is required with ServicePerPod/);
  t.is(c.observedGeneration, cr.metadata.generation);
  t.is(condition(h, 'Ready').reason, 'InvalidSpec');
  t.deepEqual(h.server.list('StatefulSet', NS), []);
  t.deepEqual(h.server.list('Secret', NS), []);
  // Fixing it brings the cluster up.
  updateSpec(h, 'media', (s) => (s.exposure = perPod));
  await waitFor('StatefulSet after the fix', () => h.server.get('StatefulSet', NS, 'media'));
  await waitFor('SpecValid=True', () => condition(h, 'SpecValid')?.status === 'True');
});

test('objects no longer desired are deleted; objects edited by others are repaired', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 3, exposure: perPod });
  await waitFor('policies', () => h.server.list('NetworkPolicy', NS).length === 4);
  updateSpec(h, 'media', (s) => {
    s.networkPolicy = { enabled: false };
    s.podDisruptionBudget = { enabled: false };
  });
  await waitFor('policies and PDB pruned', () => h.server.list('NetworkPolicy', NS).length === 0 && h.server.list('PodDisruptionBudget', NS).length === 0);
  // Someone scales the StatefulSet directly: the operator restores the CR's count.
  const sts = h.server.get('StatefulSet', NS, 'media')!;
  h.server.put({ ...sts, spec: { ...(sts['spec'] as object), replicas: 7 } } as never);
  await waitFor('replicas restored', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 3);
  // Someone deletes the StatefulSet: it comes back.
  h.server.remove('StatefulSet', NS, 'media');
  await waitFor('StatefulSet recreated', () => h.server.get('StatefulSet', NS, 'media'));
  // Generated secrets are never rewritten.
  const before = h.server.get('Secret', NS, 'media-api-token')!.metadata.resourceVersion;
  updateSpec(h, 'media', (s) => (s.replicas = 4));
  await waitFor('StatefulSet at 4', () => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas === 4);
  t.is(h.server.get('Secret', NS, 'media-api-token')!.metadata.resourceVersion, before);
});

test('ServiceMonitor: applied when enabled, a clear error when its CRD is missing', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { metrics: { serviceMonitor: { enabled: true, labels: { release: 'kps' } } } });
  const sm = await waitFor('ServiceMonitor', () => h.server.get('ServiceMonitor', NS, 'media'));
  t.is(sm.metadata.labels!['release'], 'kps');
  updateSpec(h, 'media', (s) => (s.metrics = { serviceMonitor: { enabled: false } }));
  await waitFor('ServiceMonitor pruned', () => !h.server.get('ServiceMonitor', NS, 'media'));

  const bare = await startHarness({ simulateStatefulSets: true, serviceMonitorCrd: false });
  t.teardown(() => bare.close());
  putCluster(bare, { metrics: { serviceMonitor: { enabled: true } } });
  await waitFor('ApplyFailed', () => condition(bare, 'Reconciled')?.reason === 'ApplyFailed');
  t.regex(condition(bare, 'Reconciled').message, /monitoring\.coreos\.com\/v1/);
  // Turning it off recovers without the CRD.
  updateSpec(bare, 'media', (s) => (s.metrics = { serviceMonitor: { enabled: false } }));
  await waitFor('Reconciled=True', () => condition(bare, 'Reconciled')?.status === 'True');
});
