// FJ_S3_*: all four credentials or none (a partial set names what is missing), the optional prefix, and our
// endpoint variables (a URL with credentials in it is refused: it would end up in logs).
import test from 'ava';
import { parseConfig, type HostFacts } from '../../src/config/config.js';

const host: HostFacts = { hostname: 'box', cpuCount: 2, randomSecret: () => 'r'.repeat(64) };
const parse = (env: Record<string, string>) => parseConfig({ FJ_MODE: 'development', ...env }, host);
const FULL = { FJ_S3_ACCESS_KEY_ID: 'AKIA1', FJ_S3_SECRET_ACCESS_KEY: 'secret', FJ_S3_REGION: 'eu-central-1', FJ_S3_BUCKET: 'bucket' };

test('none set: no credentials, no endpoint, virtual-host style', (t) => {
  const r = parse({});
  if (!r.ok) return t.fail(r.errors.join());
  t.deepEqual(r.config.s3, { credentials: undefined, pathPrefix: undefined, endpoint: undefined, forcePathStyle: false });
});

test('all four set (and the prefix): credentials taken; JF_ twins read too', (t) => {
  const r = parse({ ...FULL, FJ_S3_PATH_PREFIX: 'recordings' });
  if (!r.ok) return t.fail(r.errors.join());
  t.deepEqual(r.config.s3.credentials, { accessKeyId: 'AKIA1', secretAccessKey: 'secret', region: 'eu-central-1', bucket: 'bucket' });
  t.is(r.config.s3.pathPrefix, 'recordings');
  const legacy = parse({ JF_S3_ACCESS_KEY_ID: 'a', JF_S3_SECRET_ACCESS_KEY: 'b', JF_S3_REGION: 'c', JF_S3_BUCKET: 'd' });
  t.true(legacy.ok && legacy.config.s3.credentials?.bucket === 'd');
});

test('a partial set stops start-up naming the missing variables', (t) => {
  const r = parse({ FJ_S3_BUCKET: 'b', FJ_S3_REGION: 'r' });
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.errors.length, 1);
  t.true(r.errors[0]!.endsWith('missing: FJ_S3_ACCESS_KEY_ID, FJ_S3_SECRET_ACCESS_KEY'), r.errors[0]);
});

test('FJ_S3_ENDPOINT: an http(s) URL turns path style on (unless said otherwise); garbage and user info refused', (t) => {
  const r = parse({ FJ_S3_ENDPOINT: 'http://127.0.0.1:9000' });
  t.true(r.ok && r.config.s3.endpoint === 'http://127.0.0.1:9000' && r.config.s3.forcePathStyle);
  const virtual = parse({ FJ_S3_ENDPOINT: 'https://s3.example.com', FJ_S3_FORCE_PATH_STYLE: 'false' });
  t.true(virtual.ok && !virtual.config.s3.forcePathStyle);
  for (const bad of ['minio:9000', 'ftp://host/', 'http://user:pass@host:9000', 'not a url']) {
    const b = parse({ FJ_S3_ENDPOINT: bad });
    t.false(b.ok, bad);
    if (!b.ok) t.true(b.errors[0]!.startsWith('FJ_S3_ENDPOINT must be an http:// or https:// URL'), b.errors[0]);
  }
  const flag = parse({ FJ_S3_FORCE_PATH_STYLE: 'maybe' });
  t.false(flag.ok);
});
