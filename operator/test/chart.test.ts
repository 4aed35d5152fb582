// The Helm chart with the real helm binary: lint --strict, template with several value sets, every rendered
// object validated; RBAC grants exactly what the controller uses.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { helm } from '../tools/kube-binaries.js';
import { CHART_DIR } from '../tools/write-manifests.js';
import { validateKubeObject } from './kube-validation.js';

const valueSets: Record<string, object> = {
  defaults: {},
  everything: {
    replicaCount: 2,
    watchNamespace: 'media',
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'kps' } } },
    dashboards: { namespace: 'monitoring', annotations: { a: 'b' } },
    fishjamCluster: { enabled: true, namespace: 'media', spec: { replicas: 3, exposure: { mode: 'HostNetwork' }, metrics: { serviceMonitor: { enabled: true } } } },
    podAnnotations: { x: 'y' },
    nodeSelector: { pool: 'system' },
    tolerations: [{ key: 'k', operator: 'Exists' }],
    imagePullSecrets: [{ name: 'regcred' }],
  },
  minimal: { leaderElection: { enabled: false }, dashboards: { enabled: false }, serviceAccount: { create: false, name: 'existing' } },
};

function valuesFile(values: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'fishjam-chart-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

const render = (values: object, ...extra: string[]) =>
  parseAllDocuments(helm(['template', 'fj', CHART_DIR, '--namespace', 'ops', '-f', valuesFile(values), ...extra]))
    .map((d) => d.toJS())
    .filter(Boolean) as any[];

for (const [name, values] of Object.entries(valueSets)) {
  test(`helm lint --strict passes (${name} values)`, (t) => {
    const out = helm(['lint', '--strict', CHART_DIR, '-f', valuesFile(values)]);
    t.regex(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test(`helm template renders only valid objects (${name} values)`, async (t) => {
    const objects = render(values, '--include-crds');
    t.true(objects.length >= 5);
    for (const obj of objects) await t.notThrowsAsync(validateKubeObject(obj), `${obj.kind}/${obj.metadata?.name}`);
  });
}

test('helm lint --strict fails on a broken value (the lint is not a formality)', (t) => {
  t.throws(() => helm(['lint', '--strict', CHART_DIR, '--set', 'replicaCount=[']));
});

const find = (objs: any[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));

test('defaults: cluster-wide RBAC, leader election Role, dashboards for the Grafana sidecar, no ServiceMonitor', (t) => {
  const objs = render({});
  t.is(find(objs, 'ClusterRole').length, 1);
  t.is(find(objs, 'ClusterRoleBinding').length, 1);
  t.deepEqual(find(objs, 'Role').map((r) => r.metadata.name), ['fj-fishjam-operator-leader-election']);
  t.is(find(objs, 'ServiceMonitor').length, 0);
  t.is(find(objs, 'FishjamCluster').length, 0);
  const dashboards = find(objs, 'ConfigMap');
  t.deepEqual(dashboards.map((c) => Object.keys(c.data)[0]).sort(), ['fishjam-cluster-overview.json', 'fishjam-operator-health.json']);
  for (const cm of dashboards) {
    t.is(cm.metadata.labels.grafana_dashboard, '1');
    t.notThrows(() => JSON.parse(Object.values(cm.data)[0] as string));
  }
  const deploy = find(objs, 'Deployment')[0];
  const env = Object.fromEntries(deploy.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  t.is(env.LEADER_ELECTION, 'true');
  t.is(env.WATCH_NAMESPACE, '');
  t.is(env.FISHJAM_DEFAULT_IMAGE, 'ghcr.io/fishjam-ts/media-server:0.1.0');
  // The labels the media NetworkPolicies admit are the operator pod's labels.
  const podLabels = deploy.spec.template.metadata.labels;
  for (const pair of (env.OPERATOR_POD_LABELS as string).split(',')) {
    const [k, v] = pair.split('=');
    t.is(podLabels[k!], v);
  }
  t.deepEqual(deploy.spec.template.spec.containers[0].securityContext.capabilities, { drop: ['ALL'] });
});

test('watchNamespace: RBAC becomes a Role in that namespace; options render', (t) => {
  const objs = render(valueSets['everything']!);
  t.is(find(objs, 'ClusterRole').length, 0);
  const role = find(objs, 'Role').find((r) => r.metadata.namespace === 'media');
  t.truthy(role);
  t.is(find(objs, 'RoleBinding').find((r) => r.metadata.namespace === 'media')?.subjects[0].namespace, 'ops');
  t.is(find(objs, 'ServiceMonitor')[0].metadata.labels.release, 'kps');
  const cr = find(objs, 'FishjamCluster')[0];
  t.is(cr.metadata.namespace, 'media');
  t.is(cr.spec.replicas, 3);
  t.true(find(objs, 'ConfigMap').every((c) => c.metadata.namespace === 'monitoring'));
  t.is(find(objs, 'Deployment')[0].spec.replicas, 2);
});

test('RBAC grants exactly the verbs the controller uses (least privilege)', (t) => {
  const role = find(render({}), 'ClusterRole')[0];
  const granted = new Set<string>(
    role.rules.flatMap((r: any) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}:${v}`)))),
  );
  // Derived from src/controller: informers (list, watch), applies (get for discovery-free reads, create + patch
  // for server-side apply), pruning (list, delete), generated secrets (get, create), drain token (get).
  const needed = [
    'fishjam-ts.dev/fishjamclusters:get', 'fishjam-ts.dev/fishjamclusters:list', 'fishjam-ts.dev/fishjamclusters:watch',
    'fishjam-ts.dev/fishjamclusters/status:get', 'fishjam-ts.dev/fishjamclusters/status:patch', 'fishjam-ts.dev/fishjamclusters/status:update',
    'fishjam-ts.dev/fishjamclusters/finalizers:update',
    'apps/statefulsets:get', 'apps/statefulsets:list', 'apps/statefulsets:watch', 'apps/statefulsets:create', 'apps/statefulsets:patch',
    '/pods:get', '/pods:list', '/pods:watch',
    '/services:get', '/services:list', '/services:create', '/services:patch', '/services:delete',
    '/secrets:get', '/secrets:create',
    'networking.k8s.io/networkpolicies:get', 'networking.k8s.io/networkpolicies:list', 'networking.k8s.io/networkpolicies:create',
    'networking.k8s.io/networkpolicies:patch', 'networking.k8s.io/networkpolicies:delete',
    'policy/poddisruptionbudgets:get', 'policy/poddisruptionbudgets:list', 'policy/poddisruptionbudgets:create',
    'policy/poddisruptionbudgets:patch', 'policy/poddisruptionbudgets:delete',
    'monitoring.coreos.com/servicemonitors:get', 'monitoring.coreos.com/servicemonitors:list', 'monitoring.coreos.com/servicemonitors:create',
    'monitoring.coreos.com/servicemonitors:patch', 'monitoring.coreos.com/servicemonitors:delete',
  ];
  t.deepEqual([...granted].sort(), [...needed].sort());
  t.false([...granted].some((g) => g.includes('*')), 'no wildcards');
  const lease = find(render({}), 'Role')[0];
  t.deepEqual(lease.rules, [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['fishjam-operator-leader'], verbs: ['get', 'update'] },
  ]);
});
