/// <reference path="./s3rver.d.ts" />
// A real S3-protocol server for tests (s3rver, in this process) on a free loopback port, with its own folder
// (removed by close()), buckets made up front, a key pair of its own (distinctive, so a test can look for it in logs
// and command lines), and an AWS SDK client to list and read what was uploaded.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type _Object } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';

export interface S3TestServer {
  /** http://127.0.0.1:<port> (FJ_S3_ENDPOINT) */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly client: S3Client;
  /** every object under a prefix (all pages) */
  list(bucket: string, prefix: string): Promise<_Object[]>;
  get(bucket: string, key: string): Promise<Buffer>;
  contentType(bucket: string, key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startS3TestServer(buckets: readonly string[]): Promise<S3TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fj-s3rver-'));
  const accessKeyId = `AKIATEST${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
  const secretAccessKey = `test-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  let info: { port: number };
  try {
    info = await server.run();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${info.port}`;
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region,
    client,
    async list(bucket, prefix) {
      const all: _Object[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        all.push(...(page.Contents ?? []));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return all;
    },
    async get(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    async contentType(bucket, key) {
      return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentType;
    },
    async close() {
      client.destroy();
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
