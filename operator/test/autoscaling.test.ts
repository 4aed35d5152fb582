// Autoscaling: the chart renders a HorizontalPodAutoscaler or a KEDA ScaledObject that validate (kubernetes-models)
// and point at the FishjamCluster's scale subresource, whose selector picks exactly the media pods and whose metric
// is the gauge the media server exports; scale-in through that subresource goes the drain-first way, with a deadline.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { buildCrd } from '../src/api/crd.js';
import { API_VERSION, KIND } from '../src/api/types.js';
import { buildStatus } from '../src/status/build-status.js';
import { aggregate } from '../src/status/aggregate.js';
import { parseLabelSelector } from './fake-kube/label-selector.js';
import { helm } from '../tools/kube-binaries.js';
import { CHART_DIR, repoRoot } from '../tools/write-manifests.js';
import { find, makeCluster, reconcileSpec } from './cluster-fixture.js';
import { podIp, sleep, startHarness, waitFor, type Harness, withPodNetwork } from './controller-harness.js';
import { validateKubeObject } from './kube-validation.js';

function valuesFile(values: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fishjam-as-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}
const render = (values: object) =>
  parseAllDocuments(helm(['template', 'fj', CHART_DIR, '--namespace', 'ops', '-f', valuesFile(values)]))
    .map((d) => d.toJS())
    .filter(Boolean) as any[];

/** The gauge name as the media server defines it (read from its source: the two workspaces do not import each other). */
const mediaServerGauge = () => /LOAD_RATIO_METRIC = '([a-z_]+)'/.exec(readFileSync(join(repoRoot, 'media-server/src/metrics/load-ratio.ts'), 'utf8'))![1];

test('the CRD scale subresource carries replicas and the label selector an HPA needs', (t) => {
  const version = (buildCrd() as any).spec.versions[0];
  t.deepEqual(version.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
});

test('status.selector selects exactly the media pods of the StatefulSet', (t) => {
  const d = reconcileSpec({ replicas: 2 });
  const podLabels = find(d, 'StatefulSet', 'media').spec.template.metadata.labels;
  const status = buildStatus(makeCluster({}), { generation: 1, valid: true, conditions: [], scaleDown: undefined, error: undefined, desiredReplicas: 2 }, aggregate('media', [], new Map()), new Date(0));
  const matches = parseLabelSelector(status.selector!);
  t.true(matches(podLabels));
  t.false(matches({ ...podLabels, 'app.kubernetes.io/instance': 'other' }), 'another cluster pods are not counted');
});

test('hpa: renders when enabled, validates, targets the FishjamCluster, averages the media server gauge, scales in one pod at a time', async (t) => {
  t.deepEqual(render({}).filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject'), [], 'off by default');
  const objs = render({ autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 20, targetLoadRatio: '0.7' }, fishjamCluster: { enabled: true, namespace: 'media', spec: { replicas: 3 } } });
  const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler');
  await t.notThrowsAsync(validateKubeObject(hpa));
  t.is(hpa.apiVersion, 'autoscaling/v2');
  t.is(hpa.metadata.namespace, 'media', 'next to its target');
  t.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: API_VERSION, kind: KIND, name: 'media' });
  t.deepEqual(hpa.spec.metrics, [{ type: 'Pods', pods: { metric: { name: mediaServerGauge() }, target: { type: 'AverageValue', averageValue: '0.7' } } }]);
  t.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 20]);
  t.deepEqual(hpa.spec.behavior.scaleDown.policies, [{ type: 'Pods', value: 1, periodSeconds: 120 }]);
  // The autoscaler owns replicas: the chart's FishjamCluster leaves them out, so an upgrade does not reset them.
  t.false('replicas' in objs.find((o) => o.kind === 'FishjamCluster').spec);
});

test('keda: a ScaledObject that validates, targets the FishjamCluster and sums the gauge over the cluster pods', async (t) => {
  const objs = render({ autoscaling: { enabled: true, engine: 'keda', target: { name: 'edge', namespace: 'live' } } });
  const so = objs.find((o) => o.kind === 'ScaledObject');
  await t.notThrowsAsync(validateKubeObject(so));
  t.is(so.apiVersion, 'keda.sh/v1alpha1');
  t.is(so.metadata.namespace, 'live');
  t.deepEqual(so.spec.scaleTargetRef, { apiVersion: API_VERSION, kind: KIND, name: 'edge' });
  const trigger = so.spec.triggers[0];
  t.is(trigger.type, 'prometheus');
  t.is(trigger.metricType, 'AverageValue');
  t.is(trigger.metadata.query, `sum(${mediaServerGauge()}{namespace="live",pod=~"edge-[0-9]+"})`);
  t.is(trigger.metadata.threshold, '0.6');
  t.deepEqual(so.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies, [{ type: 'Pods', value: 1, periodSeconds: 120 }]);
  // The validator is no rubber stamp for ScaledObjects either.
  await t.throwsAsync(validateKubeObject({ ...so, spec: { ...so.spec, triggers: 'prometheus' } }));
});

test('hostile autoscaling values are refused by the chart', (t) => {
  const bad = [
    { engine: 'cron' },
    { minReplicas: 5, maxReplicas: 2 },
    { targetLoadRatio: '2' },
    { targetLoadRatio: 'lots' },
    { maxReplicas: 100_000 },
    { target: { name: 'Bad Name' } },
    { keda: { serverAddress: 'file:///etc/passwd' } },
    { keda: { query: 'x'.repeat(5000) } },
  ];
  for (const v of bad) t.throws(() => render({ autoscaling: { enabled: true, ...v } }), undefined, JSON.stringify(v).slice(0, 80));
});

const NS = 'live';
const condition = (h: Harness, type: string) => ((h.server.get(KIND, NS, 'media')?.['status'] as any)?.conditions ?? []).find((c: any) => c.type === type);
const stsReplicas = (h: Harness) => (h.server.get('StatefulSet', NS, 'media')?.['spec'] as any)?.replicas;
async function scaleTo(h: Harness, replicas: number): Promise<any> {
  // What an HPA does: update the Scale of its target.
  const res = await fetch(`${h.server.url}/apis/${API_VERSION}/namespaces/${NS}/fishjamclusters/media/scale`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'media', namespace: NS }, spec: { replicas } }),
  });
  return res.json();
}

test('an autoscaler scaling in through the scale subresource: the node is drained first and removed once empty', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'media', namespace: NS }, spec: withPodNetwork({ replicas: 3 }) } as never);
  await waitFor('3 ready nodes', () => (h.server.get(KIND, NS, 'media')?.['status'] as any)?.readyNodes === 3);
  const scale = await (await fetch(`${h.server.url}/apis/${API_VERSION}/namespaces/${NS}/fishjamclusters/media/scale`)).json();
  t.deepEqual(scale.status, { replicas: 3, selector: 'app.kubernetes.io/name=fishjam,app.kubernetes.io/instance=media' });
  h.nodes.node(podIp(2)).rooms = 2;
  await scaleTo(h, 2);
  await waitFor('drain request to media-2', () => h.nodes.node(podIp(2)).drainCalls.length > 0);
  await sleep(1000);
  t.is(stsReplicas(h), 3, 'kept while media-2 holds rooms');
  h.nodes.node(podIp(2)).rooms = 0;
  await waitFor('StatefulSet at 2', () => stsReplicas(h) === 2, 10_000);
  t.deepEqual(h.nodes.node(podIp(1)).drainCalls, []);
});

test('scale-in has a drain deadline: a node whose rooms never end is removed after drainTimeoutSeconds + 10 s', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'media', namespace: NS }, spec: withPodNetwork({ replicas: 2, drainTimeoutSeconds: 0 }) } as never);
  await waitFor('2 ready nodes', () => (h.server.get(KIND, NS, 'media')?.['status'] as any)?.readyNodes === 2);
  h.nodes.node(podIp(1)).rooms = 1; // forever
  const startedAt = Date.now();
  await scaleTo(h, 1);
  await waitFor('ScalingDown', () => condition(h, 'ScalingDown')?.status === 'True');
  await waitFor('StatefulSet at 1 despite the room', () => stsReplicas(h) === 1, 25_000);
  const took = Date.now() - startedAt;
  t.true(took >= 9_500 && took < 20_000, `removed after ${took} ms (deadline 0 s + 10 s slack)`);
  const finished = await waitFor('DrainFinished event', () => h.server.list('Event', NS).find((e: any) => e.reason === 'DrainFinished') as any);
  t.is(finished?.type, 'Warning');
  t.regex(finished?.message, /still had rooms at its drain deadline/);
});
