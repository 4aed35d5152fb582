// Least privilege against the stand-in API server: the operator uses only Secrets a cluster may use, reads them one
// by name (never lists or watches Secrets), and with watchNamespaces lists and watches only those namespaces.
import test from 'ava';
import { API_VERSION, KIND } from '../src/api/types.js';
import { ALLOWED_CLUSTERS_ANNOTATION } from '../src/reconcile/secret-access.js';
import { podIp, sleep, startHarness, waitFor, type Harness, withPodNetwork } from './controller-harness.js';

const NS = 'live';
const putCluster = (h: Harness, spec: Record<string, unknown>, name = 'media', namespace = NS) =>
  h.server.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec: withPodNetwork(spec) } as never);
const condition = (h: Harness, type: string, name = 'media', namespace = NS) =>
  ((h.server.get(KIND, namespace, name)?.['status'] as any)?.conditions as any[] | undefined)?.find((c) => c.type === type);
const putSecret = (h: Harness, name: string, data: Record<string, string>, annotations?: Record<string, string>) =>
  h.server.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  } as never);

/** No request may list or watch Secrets: reads are GETs of one named Secret. */
function assertNoSecretListing(t: { false: (v: boolean, m?: string) => void }, h: Harness): void {
  const listing = h.server.requests.filter((r) => r.method === 'GET' && /\/secrets\/?$/.test(r.path));
  t.false(listing.length > 0, `Secrets listed/watched: ${listing.map((r) => r.path).join(', ')}`);
}

test('a spec naming a Secret that does not allow it: nothing applied, SecretNotAllowed; annotating the Secret lets it through', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putSecret(h, 'db-password', { token: 'hunter2' });
  putCluster(h, { replicas: 1, apiTokenSecretRef: { name: 'db-password' } });
  await waitFor('SecretNotAllowed', () => condition(h, 'Reconciled')?.reason === 'SecretNotAllowed');
  t.regex(condition(h, 'Reconciled').message, /spec\.apiTokenSecretRef names Secret db-password.*fishjam-ts\.dev\/allowed-clusters=media/);
  await sleep(500);
  t.is(h.server.get('StatefulSet', NS, 'media'), undefined, 'no pod ever gets the Secret');
  t.deepEqual(h.server.list('Secret', NS).map((s) => s.metadata.name), ['db-password'], 'no generated Secret created either');

  putSecret(h, 'db-password', { token: 'hunter2' }, { [ALLOWED_CLUSTERS_ANNOTATION]: 'media' });
  // No Secret watch (the operator may not watch Secrets): the rate-limited retry picks the consent up.
  await waitFor('StatefulSet once the Secret consents', () => h.server.get('StatefulSet', NS, 'media'), 10_000);
  await waitFor('Reconciled=True', () => condition(h, 'Reconciled')?.status === 'True');
  assertNoSecretListing(t, h);
});

test('a foreign Secret squatting a generated name is neither used nor sent: SecretConflict', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putSecret(h, 'media-api-token', { token: 'someone-elses' });
  putCluster(h, { replicas: 1 });
  await waitFor('SecretConflict', () => condition(h, 'Reconciled')?.reason === 'SecretConflict');
  t.is(h.server.get('StatefulSet', NS, 'media'), undefined);
  t.regex(condition(h, 'Reconciled').message, /media-api-token exists but was not created by the operator/);
  assertNoSecretListing(t, h);
});

test('the drain token is read only from a Secret the cluster owns; a Secret swapped in later is not sent', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2 });
  await waitFor('2 pods', () => h.server.list('Pod', NS).length === 2);
  await waitFor('status of 2 ready nodes', () => (h.server.get(KIND, NS, 'media')?.['status'] as any)?.readyNodes === 2);
  // Someone replaces the generated token Secret with their own (no owner reference), then scales down.
  h.server.remove('Secret', NS, 'media-api-token');
  putSecret(h, 'media-api-token', { token: 'planted' });
  h.nodes.node(podIp(1)).rooms = 1;
  const cr = h.server.get(KIND, NS, 'media')!;
  h.server.put({ ...cr, spec: withPodNetwork({ replicas: 1 }) } as never);
  await waitFor('SecretConflict', () => condition(h, 'Reconciled')?.reason === 'SecretConflict');
  await sleep(500);
  t.deepEqual(h.nodes.node(podIp(1)).drainCalls, [], 'the planted token never left the operator');
});

test('the operator without Secret rights in a namespace says how to grant them (SecretsForbidden)', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  h.server.failNext({ method: 'GET', path: /\/secrets\//, status: 403, times: 1000 });
  putCluster(h, { replicas: 1 });
  await waitFor('SecretsForbidden', () => condition(h, 'Reconciled')?.reason === 'SecretsForbidden');
  t.regex(condition(h, 'Reconciled').message, /secretNamespaces/);
  t.is(h.server.get('StatefulSet', NS, 'media'), undefined);
});

test('watchNamespaces: clusters of listed namespaces are managed, others ignored; every list and watch is namespaced', async (t) => {
  const h = await startHarness({ simulateStatefulSets: true }, { namespaces: ['a', 'b'] });
  t.teardown(() => h.close());
  putCluster(h, { replicas: 1 }, 'one', 'a');
  putCluster(h, { replicas: 1 }, 'two', 'b');
  putCluster(h, { replicas: 1 }, 'three', 'c');
  await waitFor('StatefulSet in a', () => h.server.get('StatefulSet', 'a', 'one'));
  await waitFor('StatefulSet in b', () => h.server.get('StatefulSet', 'b', 'two'));
  await waitFor('status in b', () => condition(h, 'Ready', 'two', 'b')?.status === 'True');
  await sleep(500);
  t.is(h.server.get('StatefulSet', 'c', 'three'), undefined);
  t.is(h.server.get(KIND, 'c', 'three')?.['status'], undefined, 'not even a status write outside the list');
  const reads = h.server.requests.filter((r) => r.method === 'GET');
  const clusterWide = reads.filter((r) => /^\/apis?\/(v1|[^/]+\/[^/]+)\/(fishjamclusters|statefulsets|pods)$/.test(r.path));
  t.deepEqual(clusterWide.map((r) => r.path), [], 'no cluster-wide list or watch');
  for (const ns of ['a', 'b']) {
    for (const res of ['fishjamclusters', 'statefulsets', 'pods']) {
      t.true(reads.some((r) => r.path.endsWith(`/namespaces/${ns}/${res}`) && r.query.get('watch') === 'true'), `watch ${res} in ${ns}`);
    }
  }
  t.false(reads.some((r) => r.path.includes('/namespaces/c/')), 'namespace c never touched');
  assertNoSecretListing(t, h);
});

test('PodNetwork: the shared TURN secret is generated, owned and applied with the TURN Service; a named TURN Secret that is missing stops everything with SecretMissing', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  putCluster(h, { replicas: 2, exposure: { podCidrs: ['10.244.0.0/16'] } });
  await waitFor('the TURN Service', () => h.server.get('Service', NS, 'media-turn'));
  await waitFor('the egress policy', () => h.server.get('NetworkPolicy', NS, 'media-egress'));
  const secret = h.server.get('Secret', NS, 'media-turn-secret')!;
  t.truthy(secret, 'generated');
  const cr = h.server.get(KIND, NS, 'media')!;
  t.deepEqual(secret.metadata.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [[KIND, cr.metadata.uid, true]]);

  putCluster(h, { replicas: 1, exposure: { podCidrs: ['10.244.0.0/16'], turn: { secretRef: { name: 'turn-shared' } } } }, 'other');
  await waitFor('SecretMissing', () => condition(h, 'Reconciled', 'other')?.reason === 'SecretMissing');
  t.regex(condition(h, 'Reconciled', 'other').message, /spec\.exposure\.turn\.secretRef names Secret turn-shared, which does not exist/);
  t.is(h.server.get('StatefulSet', NS, 'other'), undefined, 'no pod starts without its TURN secret');
  t.is(h.server.get('Service', NS, 'other-turn'), undefined);
  assertNoSecretListing(t, h);
});
