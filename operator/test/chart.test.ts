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
    watchNamespaces: ['media', 'edge', 'media'],
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'kps' } } },
    dashboards: { namespace: 'monitoring', annotations: { a: 'b' } },
    fishjamCluster: { enabled: true, namespace: 'media', spec: { replicas: 3, exposure: { mode: 'HostNetwork', podCidrs: null }, metrics: { serviceMonitor: { enabled: true } } } },
    podAnnotations: { x: 'y' },
    nodeSelector: { pool: 'system' },
    tolerations: [{ key: 'k', operator: 'Exists' }],
    imagePullSecrets: [{ name: 'regcred' }],
    autoscaling: { enabled: true, maxReplicas: 6 },
  },
  keda: { autoscaling: { enabled: true, engine: 'keda' }, fishjamCluster: { enabled: true } },
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

/** Every grant of a rendered Role/ClusterRole as "group/resource:verb" (with resourceNames as "@name"). */
const grants = (role: any): string[] =>
  role.rules.flatMap((r: any) =>
    r.apiGroups.flatMap((g: string) =>
      r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}:${v}${r.resourceNames ? `@${r.resourceNames.join('|')}` : ''}`)),
    ),
  );

/** True when the rule set lets its subject create Secrets (directly or through wildcards). */
const createsSecrets = (role: any) =>
  role.rules.some(
    (r: any) =>
      (r.apiGroups.includes('') || r.apiGroups.includes('*')) &&
      (r.resources.includes('secrets') || r.resources.includes('*')) &&
      (r.verbs.includes('create') || r.verbs.includes('*')),
  );

// What the controller calls (src/controller/kube-api.ts): informers list + watch FishjamClusters, StatefulSets and
// Pods; server-side apply is PATCH (plus create when the object is new); pruning lists and deletes; the status is
// one apply PATCH on /status; Secrets are read one by name and created when generated.
const WORKLOAD = [
  'fishjam-ts.dev/fishjamclusters:list', 'fishjam-ts.dev/fishjamclusters:watch',
  'fishjam-ts.dev/fishjamclusters/status:patch', 'fishjam-ts.dev/fishjamclusters/finalizers:update',
  'apps/statefulsets:list', 'apps/statefulsets:watch', 'apps/statefulsets:create', 'apps/statefulsets:patch',
  '/pods:list', '/pods:watch',
  ...['/services', 'networking.k8s.io/networkpolicies', 'policy/poddisruptionbudgets', 'monitoring.coreos.com/servicemonitors'].flatMap((r) =>
    ['list', 'create', 'patch', 'delete'].map((v) => `${r}:${v}`),
  ),
  '/events:create',
];
const SECRETS = ['/secrets:get', '/secrets:create'];

test('defaults: cluster-wide RBAC without Secrets, leader election Role, dashboards for the Grafana sidecar, no ServiceMonitor', (t) => {
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
  t.is(env.WATCH_NAMESPACES, '');
  t.is(env.FISHJAM_DEFAULT_IMAGE, 'ghcr.io/fishjam-ts/media-server:0.1.0');
  // The labels the media NetworkPolicies admit are the operator pod's labels.
  const podLabels = deploy.spec.template.metadata.labels;
  for (const pair of (env.OPERATOR_POD_LABELS as string).split(',')) {
    const [k, v] = pair.split('=');
    t.is(podLabels[k!], v);
  }
  t.deepEqual(deploy.spec.template.spec.containers[0].securityContext.capabilities, { drop: ['ALL'] });
});

test('helm template of the default values grants no cluster-wide secrets: create (nor any Secret right at all)', (t) => {
  const objs = render({});
  for (const role of find(objs, 'ClusterRole')) {
    t.false(createsSecrets(role), role.metadata.name);
    t.false(grants(role).some((g) => g.startsWith('/secrets') || g.startsWith('/*') || g.startsWith('*/')), role.metadata.name);
  }
  // Nor anywhere else: a default install holds no Secret rights until a namespace is granted.
  t.false(find(objs, 'Role').some(createsSecrets));
});

test('watchNamespaces: a Role with every rule in each namespace (deduplicated), no ClusterRole; the operator is told the list', (t) => {
  const objs = render(valueSets['everything']!);
  t.is(find(objs, 'ClusterRole').length, 0);
  t.is(find(objs, 'ClusterRoleBinding').length, 0);
  const roles = find(objs, 'Role', 'fj-fishjam-operator');
  t.deepEqual(roles.map((r) => r.metadata.namespace), ['media', 'edge']);
  for (const role of roles) t.deepEqual(grants(role).sort(), [...WORKLOAD, ...SECRETS].sort());
  const bindings = find(objs, 'RoleBinding', 'fj-fishjam-operator');
  t.deepEqual(bindings.map((b) => [b.metadata.namespace, b.roleRef.name, b.subjects[0].namespace]), [
    ['media', 'fj-fishjam-operator', 'ops'],
    ['edge', 'fj-fishjam-operator', 'ops'],
  ]);
  const env = Object.fromEntries(find(objs, 'Deployment')[0].spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
  t.is(env.WATCH_NAMESPACES, 'media,edge');
  t.is(find(objs, 'ServiceMonitor')[0].metadata.labels.release, 'kps');
  const cr = find(objs, 'FishjamCluster')[0];
  t.is(cr.metadata.namespace, 'media');
  t.is(cr.spec.replicas, undefined, 'left to the autoscaler');
  t.deepEqual(cr.spec.exposure, { mode: 'HostNetwork' }, 'podCidrs: null removes the default pod network');
  t.is(find(objs, 'HorizontalPodAutoscaler')[0].metadata.namespace, 'media');
  t.true(find(objs, 'ConfigMap').every((c) => c.metadata.namespace === 'monitoring'));
  t.is(find(objs, 'Deployment')[0].spec.replicas, 2);
});

test('all namespaces: Secret rights come only from secretNamespaces (and the chart cluster namespace), each a Role with just get+create', (t) => {
  const objs = render({ secretNamespaces: ['media', 'media', 'b'], fishjamCluster: { enabled: true, namespace: 'chartns' } });
  t.false(createsSecrets(find(objs, 'ClusterRole')[0]));
  const roles = find(objs, 'Role', 'fj-fishjam-operator-secrets');
  t.deepEqual(roles.map((r) => r.metadata.namespace), ['media', 'b', 'chartns']);
  for (const role of roles) t.deepEqual(grants(role), SECRETS);
  t.deepEqual(find(objs, 'RoleBinding', 'fj-fishjam-operator-secrets').map((b) => b.metadata.namespace), ['media', 'b', 'chartns']);
});

test('RBAC grants exactly the verbs the controller uses (least privilege), no wildcards; the lease Role is limited by name', (t) => {
  const role = find(render({}), 'ClusterRole')[0];
  t.deepEqual(grants(role).sort(), [...WORKLOAD].sort());
  t.false(grants(role).some((g) => g.includes('*')), 'no wildcards');
  const lease = find(render({}), 'Role')[0];
  t.deepEqual(lease.rules, [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['fishjam-operator-leader'], verbs: ['get', 'update'] },
  ]);
});

test('hostile values: a namespace list given as a string, bad namespace names, a huge list are refused by the values schema', (t) => {
  t.throws(() => helm(['template', 'fj', CHART_DIR, '--set', 'watchNamespaces=media']), { message: /want array/ });
  t.throws(() => helm(['template', 'fj', CHART_DIR, '-f', valuesFile({ watchNamespaces: ['Media_1'] })]), { message: /does not match pattern/ });
  t.throws(() => helm(['template', 'fj', CHART_DIR, '-f', valuesFile({ secretNamespaces: ['x'.repeat(64)] })]));
  t.throws(() => helm(['template', 'fj', CHART_DIR, '-f', valuesFile({ watchNamespaces: Array.from({ length: 501 }, (_, i) => `n${i}`) })]));
  t.throws(() => helm(['template', 'fj', CHART_DIR, '-f', valuesFile({ watchNamespaces: ['a; rm -rf /'] })]));
});

test('the operator pod itself meets PodSecurity restricted (the same checker as the media pods)', async (t) => {
  const { checkPodSecurity } = await import('../src/reconcile/pod-security.js');
  for (const values of Object.values(valueSets)) {
    const deploy = find(render(values), 'Deployment')[0];
    t.deepEqual(checkPodSecurity(deploy.spec.template.spec, 'restricted', deploy.spec.template.metadata.annotations ?? {}), []);
  }
});
