// Which Secrets a FishjamCluster may use (src/reconcile/secret-access.ts), as a table, and what the spec references.
import test from 'ava';
import { resolveSpec } from '../src/api/defaults.js';
import type { ObjectMeta } from '../src/api/types.js';
import { ALLOWED_CLUSTERS_ANNOTATION, allowedClusters, referencedSecrets, secretVerdict, type SecretReference } from '../src/reconcile/secret-access.js';
import { readOperatorConfig } from '../src/operator-config.js';
import { operatorDefaults } from './cluster-fixture.js';

const cluster = { name: 'media', uid: 'uid-media' };
const own = { apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', name: 'media', uid: 'uid-media', controller: true };
const userRef: SecretReference = { name: 'tok', field: 'spec.apiTokenSecretRef', generated: false };
const genRef: SecretReference = { name: 'media-api-token', field: 'spec.apiTokenSecretRef', generated: true };
const annotated = (v: string): ObjectMeta => ({ name: 'tok', annotations: { [ALLOWED_CLUSTERS_ANNOTATION]: v } });

const table: [string, SecretReference, ObjectMeta | undefined, string][] = [
  ['generated, not there yet: will be created', genRef, undefined, 'ok'],
  ['generated, owned by this cluster', genRef, { name: 'media-api-token', ownerReferences: [own] }, 'ok'],
  ['generated name squatted by a foreign Secret', genRef, { name: 'media-api-token' }, 'SecretConflict'],
  ['generated name owned by a same-named cluster that was deleted (other uid)', genRef, { name: 'media-api-token', ownerReferences: [{ ...own, uid: 'old' }] }, 'SecretConflict'],
  ['owner reference that is not the controller', genRef, { name: 'media-api-token', ownerReferences: [{ ...own, controller: false }] }, 'SecretConflict'],
  ['user Secret without consent', userRef, { name: 'tok' }, 'SecretNotAllowed'],
  ['user Secret missing', userRef, undefined, 'SecretMissing'],
  ['user Secret allowing this cluster', userRef, annotated('media'), 'ok'],
  ['user Secret allowing a list with this cluster', userRef, annotated(' other , media '), 'ok'],
  ['user Secret allowing every cluster', userRef, annotated('*'), 'ok'],
  ['user Secret allowing another cluster', userRef, annotated('other'), 'SecretNotAllowed'],
  ['user Secret allowing a prefix of the name', userRef, annotated('med'), 'SecretNotAllowed'],
  ['consent only in a label does not count', userRef, { name: 'tok', labels: { [ALLOWED_CLUSTERS_ANNOTATION]: 'media' } }, 'SecretNotAllowed'],
  ['empty annotation', userRef, annotated(''), 'SecretNotAllowed'],
  ['garbage annotation', userRef, annotated(',,,\u0000,💥'), 'SecretNotAllowed'],
  ['huge annotation naming the cluster past 4 KiB is cut', userRef, annotated(`${'x,'.repeat(5000)}media`), 'SecretNotAllowed'],
];
for (const [name, ref, secret, want] of table) {
  test(`secretVerdict: ${name}`, (t) => {
    const v = secretVerdict(ref, secret, cluster);
    t.is(v.ok ? 'ok' : v.reason, want);
    if (!v.ok) t.true(v.message.includes(ref.name));
  });
}

test('allowedClusters splits and trims', (t) => {
  t.deepEqual([...allowedClusters(' a,b ,, c')], ['a', 'b', 'c']);
  t.is(allowedClusters(undefined).size, 0);
});

test('referencedSecrets: generated ones by default, every user reference (tls, env) once', (t) => {
  t.deepEqual(referencedSecrets(resolveSpec('media', {}, operatorDefaults)).map((r) => [r.name, r.generated]), [
    ['media-api-token', true], ['media-secret-key-base', true], ['media-dist-cookie', true], ['media-turn-secret', true],
  ]);
  const spec = resolveSpec('media', {
    apiTokenSecretRef: { name: 'shared' },
    secretKeyBaseSecretRef: { name: 'shared', key: 'kb' },
    dist: { tls: { secretName: 'tls' } },
    exposure: { mode: 'HostNetwork' },
    env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'p' } } }, { name: 'B', value: 'x' }, { name: 'C', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }],
  }, operatorDefaults);
  t.deepEqual(referencedSecrets(spec).map((r) => `${r.name}:${r.field}:${r.generated}`), [
    'shared:spec.apiTokenSecretRef:false',
    'media-dist-cookie:spec.dist.cookieSecretRef:true',
    'tls:spec.dist.tls.secretName:false',
    'db:spec.env[0].valueFrom.secretKeyRef:false',
  ]);
});

test('WATCH_NAMESPACES: a list, deduplicated; the old single WATCH_NAMESPACE still works; garbage is refused', (t) => {
  t.is(readOperatorConfig({}).watchNamespaces, undefined);
  t.deepEqual(readOperatorConfig({ WATCH_NAMESPACES: 'a, b,a,' }).watchNamespaces, ['a', 'b']);
  t.deepEqual(readOperatorConfig({ WATCH_NAMESPACE: 'old' }).watchNamespaces, ['old']);
  t.throws(() => readOperatorConfig({ WATCH_NAMESPACES: 'a,B_c' }), { message: /WATCH_NAMESPACES/ });
  t.throws(() => readOperatorConfig({ WATCH_NAMESPACES: 'x'.repeat(64) }), { message: /WATCH_NAMESPACES/ });
});
