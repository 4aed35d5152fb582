// FJ_S3_* -> the node's S3 settings. The four credential variables are all set or none (as the original: a partial
// set stops start-up, naming what is missing); the Recording component takes them when its request has none.
// FJ_S3_ENDPOINT and FJ_S3_FORCE_PATH_STYLE are ours: they point every upload (HLS and Recording) at any server that
// speaks the S3 protocol (MinIO, Ceph, a test's s3rver) instead of AWS.
import type { EnvReader } from './env-reader.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly bucket: string;
}

export interface S3Config {
  /** FJ_S3_ACCESS_KEY_ID, FJ_S3_SECRET_ACCESS_KEY, FJ_S3_REGION, FJ_S3_BUCKET */
  readonly credentials: S3Credentials | undefined;
  /** FJ_S3_PATH_PREFIX: the Recording component's default key prefix */
  readonly pathPrefix: string | undefined;
  /** FJ_S3_ENDPOINT: e.g. http://minio:9000; undefined = AWS's endpoint of the region */
  readonly endpoint: string | undefined;
  /** FJ_S3_FORCE_PATH_STYLE: `<endpoint>/<bucket>/<key>` URLs (most non-AWS servers); default: on when an endpoint is set */
  readonly forcePathStyle: boolean;
}

const CREDENTIAL_VARIABLES = [
  ['FJ_S3_ACCESS_KEY_ID', 'accessKeyId'],
  ['FJ_S3_SECRET_ACCESS_KEY', 'secretAccessKey'],
  ['FJ_S3_REGION', 'region'],
  ['FJ_S3_BUCKET', 'bucket'],
] as const;

export function parseS3Env(r: EnvReader): S3Config {
  const values = CREDENTIAL_VARIABLES.map(([name]) => r.string(name));
  const missing = CREDENTIAL_VARIABLES.filter((_, i) => values[i] === undefined).map(([name]) => name);
  let credentials: S3Credentials | undefined;
  if (missing.length === 0) {
    credentials = Object.fromEntries(CREDENTIAL_VARIABLES.map(([, field], i) => [field, values[i]!])) as unknown as S3Credentials;
  } else if (missing.length < CREDENTIAL_VARIABLES.length) {
    r.fail(`S3 credentials are set only in part: either all of FJ_S3_ACCESS_KEY_ID, FJ_S3_SECRET_ACCESS_KEY, FJ_S3_REGION, FJ_S3_BUCKET or none; missing: ${missing.join(', ')}`);
  }
  const endpoint = r.string('FJ_S3_ENDPOINT');
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    r.fail(`FJ_S3_ENDPOINT must be an http:// or https:// URL without user info (e.g. http://127.0.0.1:9000), got: ${endpoint.slice(0, 200)}`);
  }
  return {
    credentials,
    pathPrefix: r.string('FJ_S3_PATH_PREFIX'),
    endpoint,
    forcePathStyle: r.bool('FJ_S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    // credentials in the URL would end up in logs; they belong in FJ_S3_ACCESS_KEY_ID/FJ_S3_SECRET_ACCESS_KEY
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
