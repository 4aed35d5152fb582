// Everything in crds/, manifests/, dashboards/ and the chart's copies is generated and current, and every object
// shipped in manifests/ (and everything reconcile generates for the sample clusters) validates.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveSpec } from '../src/api/defaults.js';
import type { FishjamCluster } from '../src/api/types.js';
import { desired } from '../src/reconcile/desired.js';
import { generatedFiles, MANIFESTS_DIR, operatorYaml } from '../tools/write-manifests.js';
import { observedNothing, operatorDefaults } from './cluster-fixture.js';
import { validateKubeObject } from './kube-validation.js';

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean) as any[];

test('generated files (CRD, dashboards, chart copies, manifests) are current', (t) => {
  for (const [path, content] of generatedFiles()) t.is(readFileSync(path, 'utf8'), content, `${path} is stale: npm run generate -w operator`);
  t.is(readFileSync(join(MANIFESTS_DIR, '02-operator.yaml'), 'utf8'), operatorYaml(), 'manifests/02-operator.yaml differs from helm template');
});

const manifestFiles = [
  ...readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml')),
  ...readdirSync(join(MANIFESTS_DIR, 'examples')).map((f) => join('examples', f)),
];

for (const file of manifestFiles) {
  test(`manifests/${file}: every object validates`, async (t) => {
    const objects = docs(readFileSync(join(MANIFESTS_DIR, file), 'utf8'));
    t.true(objects.length > 0);
    for (const obj of objects) await t.notThrowsAsync(validateKubeObject(obj), `${obj.kind}/${obj.metadata?.name}`);
  });
}

test('manifests/ installs the operator: namespace, CRD, RBAC, Deployment in order', (t) => {
  const kinds = manifestFiles.filter((f) => !f.startsWith('examples')).sort().flatMap((f) => docs(readFileSync(join(MANIFESTS_DIR, f), 'utf8')).map((o) => o.kind));
  t.is(kinds[0], 'Namespace');
  t.is(kinds[1], 'CustomResourceDefinition');
  for (const k of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service', 'ConfigMap']) t.true(kinds.includes(k), k);
});

for (const file of readdirSync(join(MANIFESTS_DIR, 'examples'))) {
  test(`every object the operator generates for examples/${file} validates with kubernetes-models`, async (t) => {
    const [cr] = docs(readFileSync(join(MANIFESTS_DIR, 'examples', file), 'utf8')) as FishjamCluster[];
    const cluster: FishjamCluster = { ...cr!, metadata: { ...cr!.metadata, namespace: cr!.metadata.namespace ?? 'default', uid: 'u1', generation: 1 } };
    const d = desired(cluster, observedNothing(), operatorDefaults);
    t.true(d.valid, JSON.stringify(d.conditions));
    const replicas = resolveSpec(cluster.metadata.name!, cluster.spec ?? {}, operatorDefaults).replicas;
    t.is((d.apply.find((o) => o.kind === 'StatefulSet') as any).spec.replicas, replicas);
    for (const obj of [...d.apply, ...d.createIfMissing]) await t.notThrowsAsync(validateKubeObject(obj), `${obj.kind}/${obj.metadata.name}`);
  });
}

test('a wide range of specs renders objects that kubernetes-models accepts', async (t) => {
  const pod = { podCidrs: ['10.244.0.0/16'] };
  const specs = [
    { exposure: pod },
    { replicas: 0, exposure: pod },
    { exposure: { mode: 'HostNetwork' } },
    { exposure: { ...pod, podCidrs: ['10.244.0.0/16', '10.245.0.0/16'], turn: { address: 'turn.example.com', serviceType: 'ClusterIP', secretRef: { name: 't', key: 'k' } } }, networkPolicy: { mediaFrom: [{ ipBlock: { cidr: '0.0.0.0/0' } }] } },
    { exposure: { ...pod, turn: { annotations: { 'lb.example/type': 'nlb' }, externalTrafficPolicy: 'Cluster', loadBalancerClass: 'lbc' } }, networkPolicy: { enabled: false } },
    { replicas: 5, workers: 8, webrtc: { minPort: 40000, maxPort: 40100 }, dist: { tls: { secretName: 't' } }, podAnnotations: { a: 'b' }, exposure: pod },
    { exposure: { mode: 'ServicePerPod', hostTemplate: 'h', announcedAddressTemplate: 'a', servicePerPod: { type: 'ClusterIP' } }, networkPolicy: { metricsFrom: [] } },
    { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] } } }, exposure: pod },
    { env: [{ name: 'FJ_WEBRTC_USED', value: 'true' }, { name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], imagePullSecrets: [{ name: 'r' }], exposure: pod },
  ];
  for (const spec of specs) {
    const d = desired({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'm', namespace: 'ns', uid: 'u' }, spec } as FishjamCluster, observedNothing(), operatorDefaults);
    t.true(d.valid, JSON.stringify(d.conditions));
    for (const obj of [...d.apply, ...d.createIfMissing]) await t.notThrowsAsync(validateKubeObject(obj), `${JSON.stringify(spec)}: ${obj.kind}/${obj.metadata.name}`);
  }
});

test('the validator is not a rubber stamp: broken objects are rejected', async (t) => {
  await t.throwsAsync(validateKubeObject({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' }, spec: { replicas: 'two' } }));
  await t.throwsAsync(validateKubeObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 'http' }] } }));
  await t.throwsAsync(validateKubeObject({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'x' }, spec: { replicas: -1 } }));
  await t.throwsAsync(validateKubeObject({ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', metadata: { name: 'x' }, spec: { exposure: { mode: 'ServicePerPod' } } }));
  await t.throwsAsync(validateKubeObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: {} }));
});
