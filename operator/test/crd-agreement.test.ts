// The operator's own schema check and ajv (a reference JSON Schema validator) judge the same specs the same way,
// against the schema that the CRD carries; and the committed CRD is the one generated from that schema.
import test from 'ava';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildCrd } from '../src/api/crd.js';
import { checkSchema } from '../src/api/schema-check.js';
import { specSchema } from '../src/api/schema.js';
import { strictJsonSchema } from './strict-json-schema.js';
import { CRD_FILE, crdYaml } from '../tools/write-manifests.js';

const ajv = new Ajv({ strict: false, allErrors: true });
const validateWithAjv = ajv.compile(strictJsonSchema(specSchema));

const samples: unknown[] = [
  {},
  { replicas: 3, image: 'x', resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2 } } },
  { replicas: 101 },
  { replicas: 2.5 },
  { replicas: '2' },
  { workers: 0 },
  { image: '' },
  { imagePullPolicy: 'Sometimes' },
  { resources: { limits: { cpu: '1.5' } } },
  { resources: { limits: { cpu: '1,5' } } },
  { resources: { limit: {} } },
  { apiTokenSecretRef: {} },
  { apiTokenSecretRef: { name: 'tok', key: 'k' } },
  { apiTokenSecretRef: { name: 'UPPER' } },
  { dist: { port: 0 } },
  { dist: { port: 70000 } },
  { dist: { tls: {} } },
  { dist: { tls: { secretName: 'dist-tls' }, pollingIntervalMs: 50 } },
  { exposure: { mode: 'ServicePerPod', hostTemplate: 'a', announcedAddressTemplate: 'b', servicePerPod: { type: 'NodePort' } } },
  { exposure: { mode: 'HostNetwork', servicePerPod: { annotations: { a: 'b' } } } },
  { exposure: { servicePerPod: { annotations: { a: 1 } } } },
  { networkPolicy: { enabled: 'yes' } },
  { networkPolicy: { apiFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }] } },
  { networkPolicy: { apiFrom: [{ ipBlock: { cidr: 'everyone' } }] } },
  { networkPolicy: { mediaFrom: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }] } },
  { metrics: { serviceMonitor: { enabled: true, interval: '30s', labels: { release: 'kps' } } } },
  { metrics: { serviceMonitor: { interval: '30 seconds' } } },
  { podDisruptionBudget: { maxUnavailable: 0 } },
  { drainTimeoutSeconds: -5 },
  { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }] },
  { tolerations: [{ key: 'a', effect: 'Sometimes' }] },
  { affinity: { anything: { goes: [1, 2] } } },
  { env: [{ name: 'A', value: 'b' }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'd' } } }] },
  { env: [{ value: 'b' }] },
  { env: [{ name: '1=bad' }] },
  { logLevel: 'verbose' },
  { nodeSelector: { pool: 'media' }, podLabels: { a: 'b' }, podAnnotations: { c: 'd' } },
  { somethingElse: true },
];

for (const [i, sample] of samples.entries()) {
  test(`schema verdicts agree (sample ${i}: ${JSON.stringify(sample).slice(0, 80)})`, (t) => {
    const ours = checkSchema(sample, specSchema);
    const theirs = validateWithAjv(sample);
    t.is(ours.length === 0, theirs, `ours: ${JSON.stringify(ours)} ajv: ${JSON.stringify(validateWithAjv.errors)}`);
  });
}

test('the samples cover both verdicts', (t) => {
  const verdicts = samples.map((s) => checkSchema(s, specSchema).length === 0);
  t.true(verdicts.includes(true));
  t.true(verdicts.includes(false));
});

test('crds/fishjamcluster.yaml is generated from the schema and current', (t) => {
  const committed = readFileSync(CRD_FILE, 'utf8');
  t.is(committed, crdYaml(), 'run: npm run generate -w operator');
  t.deepEqual(parse(committed), buildCrd());
});
