// `fishjam-operator render`: offline YAML of what the operator applies — equal to what the controller applies to the
// stand-in API server — and refusals of hostile input.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { API_VERSION, KIND } from '../src/api/types.js';
import { run } from '../src/cli/main.js';
import { MAX_INPUT_BYTES, render } from '../src/cli/render.js';
import { operatorDefaults } from './cluster-fixture.js';
import { startHarness, waitFor } from './controller-harness.js';
import { validateKubeObject } from './kube-validation.js';

const operatorDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  FISHJAM_DEFAULT_IMAGE: operatorDefaults.image,
  CLUSTER_DOMAIN: operatorDefaults.clusterDomain,
  OPERATOR_NAMESPACE: operatorDefaults.operatorNamespace,
  OPERATOR_POD_LABELS: Object.entries(operatorDefaults.operatorPodLabels).map(([k, v]) => `${k}=${v}`).join(','),
};
const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean) as any[];
const tempFile = (content: string | Buffer) => {
  const file = join(mkdtempSync(join(tmpdir(), 'fishjam-render-')), 'cluster.yaml');
  writeFileSync(file, content);
  return file;
};
function runCli(argv: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = run(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw new Error('ENOENT: no such file');
    },
    env,
  });
  return { code, stdout, stderr };
}

/** What the API server adds to an applied object; the rest must be exactly what was applied. */
function asApplied(obj: any): any {
  const { uid: _u, resourceVersion: _r, generation: _g, creationTimestamp: _c, managedFields: _m, ...metadata } = obj.metadata;
  const { status: _s, ...rest } = obj;
  return { ...rest, metadata };
}

test('render prints exactly what the controller applies to the API server (the bin, run as npx would)', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const spec = {
    replicas: 2,
    exposure: { mode: 'ServicePerPod', hostTemplate: '$(POD_NAME).media.example.com:443', announcedAddressTemplate: '$(POD_IP)' },
    workers: 2,
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'kps' } } },
    networkPolicy: { apiFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }] },
    podLabels: { team: 'rtc' },
    env: [{ name: 'FJ_WEBRTC_USED', value: 'true' }],
  };
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'media', namespace: 'live' }, spec } as never);
  await waitFor('every object applied', () => h.server.get('PodDisruptionBudget', 'live', 'media') && h.server.get('ServiceMonitor', 'live', 'media'));
  await waitFor('Reconciled', () => ((h.server.get(KIND, 'live', 'media')?.['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Reconciled' && c.status === 'True'));
  const stored = h.server.get(KIND, 'live', 'media')!;
  const file = tempFile(stringify({ apiVersion: stored['apiVersion'], kind: stored['kind'], metadata: { name: 'media', namespace: 'live', uid: stored.metadata.uid }, spec }));

  const { stdout } = await promisify(execFile)(process.execPath, [join(operatorDir, 'bin', 'fishjam-operator.js'), 'render', '-f', file], {
    cwd: operatorDir,
    env: { ...process.env, ...env },
  });
  const rendered = docs(stdout);
  const applied = ['Service', 'StatefulSet', 'NetworkPolicy', 'PodDisruptionBudget', 'ServiceMonitor'].flatMap((k) => h.server.list(k, 'live'));
  t.deepEqual(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort(), applied.map((o) => `${o['kind']}/${o.metadata.name}`).sort());
  for (const obj of rendered) {
    const live = h.server.get(obj.kind, 'live', obj.metadata.name);
    t.deepEqual(asApplied(live), obj, `${obj.kind}/${obj.metadata.name}`);
    await t.notThrowsAsync(validateKubeObject(obj));
  }
  t.regex(stdout, /# created once if missing, with random content: Secret media-api-token \(key token\)/);
  t.notRegex(stdout, /kind: Secret/, 'no Secret content is printed');
});

test('render: several clusters in one file, namespace from -n, stdin with -f -', async (t) => {
  const two = [
    { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'a' }, spec: { replicas: 1, exposure: { podCidrs: ['10.244.0.0/16'] } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated' } },
    { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'b', namespace: 'other' }, spec: { exposure: { mode: 'HostNetwork' } } },
  ].map((d) => stringify(d)).join('---\n');
  const r = runCli(['render', '-f', 'in.yaml', '-n', 'prod'], { 'in.yaml': two });
  t.is(r.code, 1, 'the skipped document is reported');
  t.regex(r.stderr, /document 2: not a fishjam-ts.dev\/v1alpha1 FishjamCluster/);
  const objs = docs(r.stdout);
  t.deepEqual([...new Set(objs.map((o) => `${o.metadata.namespace}/${o.metadata.labels['fishjam-ts.dev/cluster']}`))], ['prod/a', 'other/b']);
  const { stdout } = await promisify(execFile)('sh', ['-c', `printf '%s' "$0" | ${process.execPath} bin/fishjam-operator.js render -f -`, stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'c' }, spec: { exposure: { podCidrs: ['10.42.0.0/16'] } } })], { cwd: operatorDir });
  const c = docs(stdout);
  t.true(c.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'c'));
  t.true(c.some((o) => o.kind === 'Service' && o.metadata.name === 'c-turn'), 'PodNetwork, the default: the TURN Service');
  t.regex(stdout, /Secret c-turn-secret \(key secret\)/, 'the generated TURN secret is listed, never printed');
});

const hostile: [string, string | (() => string), RegExp][] = [
  ['garbage YAML', '{{{ : : :', /document 1:/],
  ['a scalar', '42', /not a fishjam-ts.dev\/v1alpha1 FishjamCluster/],
  ['no name', stringify({ apiVersion: API_VERSION, kind: KIND, metadata: {} }), /metadata.name is required/],
  ['a name too long for pod names', stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'x'.repeat(41) } }), /at most 40 characters/],
  ['an invalid spec', stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'm' }, spec: { replicas: -3, httpPort: 'http' } }), /spec\.replicas/],
  ['a PodNetwork spec without its pod network', stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'm' }, spec: { replicas: 2 } }), /spec\.exposure\.podCidrs is required with PodNetwork/],
  ['a spec of the wrong type', stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'm' }, spec: [1, 2] }), /spec/],
  ['an alias bomb', () => ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n'), /document 1:|not a/],
  ['too many documents', () => Array.from({ length: 101 }, () => 'a: 1').join('\n---\n'), /more than 100 documents/],
  ['input over the size limit', () => `# ${'x'.repeat(MAX_INPUT_BYTES)}`, /larger than/],
];
for (const [name, input, message] of hostile) {
  test(`render refuses ${name} with a message and exit 1, printing nothing for it`, (t) => {
    const text = typeof input === 'function' ? input() : input;
    const started = Date.now();
    const r = runCli(['render', '-f', 'x.yaml'], { 'x.yaml': text });
    t.is(r.code, 1);
    t.regex(r.stderr, message);
    t.is(r.stdout, '');
    t.true(Date.now() - started < 5000, 'answers quickly');
  });
}

test('render: usage errors exit 2', (t) => {
  t.is(runCli([]).code, 2);
  t.is(runCli(['apply', '-f', 'x']).code, 2);
  t.is(runCli(['render']).code, 2);
  t.is(runCli(['render', '-f']).code, 2);
  t.is(runCli(['render', '-f', 'x', '--bogus', '1']).code, 2);
  t.is(runCli(['render', '-f', 'missing.yaml']).code, 2);
  t.regex(runCli(['render', '-f', 'missing.yaml']).stderr, /cannot read missing.yaml/);
  t.is(runCli(['render', '-f', 'x', '--operator-pod-labels', 'nonsense']).code, 2);
  t.is(runCli(['--help']).code, 0);
  // Flags override the environment: the image flag reaches the StatefulSet.
  const r = runCli(['render', '-f', 'x', '--image=registry.example/media:9'], { x: stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'm' }, spec: { exposure: { podCidrs: ['10.244.0.0/16'] } } }) });
  t.is(r.code, 0);
  t.is(docs(r.stdout).find((o) => o.kind === 'StatefulSet').spec.template.spec.containers[0].image, 'registry.example/media:9');
});

test('render is deterministic and needs no clock or randomness', (t) => {
  const text = stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'm', namespace: 'n' }, spec: { replicas: 3, exposure: { podCidrs: ['10.244.0.0/16'] } } });
  const a = render(text, { operator: operatorDefaults, namespace: 'default' });
  const b = render(text, { operator: operatorDefaults, namespace: 'default', now: new Date() });
  t.is(a.yaml, b.yaml);
  t.deepEqual(a.errors, []);
});

test('regression: a NetworkPolicy rule reaches the API server with its `from` (the typed serializer dropped it)', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'media', namespace: 'live' }, spec: { exposure: { mode: 'ServicePerPod', hostTemplate: 'h', announcedAddressTemplate: 'a' } } } as never);
  const dist = await waitFor('dist policy', () => h.server.get('NetworkPolicy', 'live', 'media-dist'));
  t.deepEqual((dist['spec'] as any).ingress[0].from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': 'media' } } }]);
});
