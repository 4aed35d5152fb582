// Uploads a folder's files to an S3 bucket (AWS or any server speaking the S3 protocol: FJ_S3_ENDPOINT), for the HLS
// component when its room ends and for the Recording component. What it promises:
// - every file is tried up to `attempts` times, with a doubling pause between tries (the SDK's own retries are off, so
//   the bound is this one); the first file that fails every try ends the upload, which reports it (the caller sends
//   HlsUploadCrashed or logs the recording as not uploaded): nothing is lost without a word;
// - everything is asynchronous (file streams, a few requests at once): an upload never holds the node up, and a
//   connection or request that hangs is cut after a timeout;
// - the credentials go only into the request signatures: never into a log line, an error text (scrubbed) or a
//   command line;
// - media files go before playlists, so a reader of the bucket never finds a playlist naming a segment not there yet.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Logger } from 'pino';
import type { S3Credentials } from '../config/s3-env.js';

export type { S3Credentials } from '../config/s3-env.js';

/** Where the bucket lives: AWS (endpoint undefined) or any S3-protocol server. */
export interface S3Endpoint {
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
}

export interface RetryPolicy {
  /** tries per file */
  readonly attempts: number;
  /** pause after the first failed try; doubled after each further one, up to maxDelayMs */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** a TCP connection not made by then is a failed try */
  readonly connectTimeoutMs: number;
  /** a request whose connection stays silent this long is a failed try (the SDK's socket inactivity timeout) */
  readonly requestTimeoutMs: number;
  /** files sent at once */
  readonly concurrency: number;
  /** larger files go as multipart uploads (one PUT is limited to 5 GB; a long recording run can be larger) */
  readonly multipartThresholdBytes: number;
  /** part size of a multipart upload (at least 5 MiB, S3's minimum); two parts are in memory at once per file */
  readonly partSizeBytes: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  firstDelayMs: 500,
  maxDelayMs: 8000,
  connectTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
  concurrency: 4,
  multipartThresholdBytes: 64 * 1024 * 1024,
  partSizeBytes: 16 * 1024 * 1024,
};

/** One file to send: its path on disk and the object key it gets. */
export interface UploadItem {
  readonly file: string;
  readonly key: string;
}

export type UploadResult =
  | { readonly ok: true; readonly uploaded: number; readonly bytes: number }
  | { readonly ok: false; readonly uploaded: number; readonly failedKey: string; readonly attempts: number; readonly reason: string };

/** Files of a folder and its subfolders (regular files only; temporary `.tmp` files are left out), relative paths. */
export async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > 8) return; // our folders are one or two levels deep; a deeper one is not ours to send
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child, depth + 1);
      else if (entry.isFile() && !entry.name.endsWith('.tmp')) found.push(child);
    }
  };
  await walk('', 0);
  return found.sort();
}

/** An object key from parts: empty parts and stray slashes dropped (`"rec/"`, `"/rec"` and `"rec"` give the same key). */
export function objectKey(...parts: readonly string[]): string {
  return parts.flatMap((p) => p.split('/')).filter((p) => p.length > 0).join('/');
}

export function contentTypeOf(key: string): string | undefined {
  if (key.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (key.endsWith('.m4s')) return 'video/iso.segment';
  if (key.endsWith('.mp4')) return 'video/mp4';
  if (key.endsWith('.ts')) return 'video/mp2t';
  if (key.endsWith('.json')) return 'application/json';
  return undefined;
}

/** The pause before try `attempt + 1` (attempt counts from 1). */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
}

/** An error's text with the credentials taken out (some servers echo the access key id in their messages). */
export function scrubbed(text: string, credentials: S3Credentials): string {
  let out = text;
  for (const secret of [credentials.secretAccessKey, credentials.accessKeyId]) {
    if (secret.length > 0) out = out.split(secret).join('<redacted>');
  }
  return out.slice(0, 500);
}

export class S3Uploader {
  private readonly client: S3Client;

  constructor(
    private readonly credentials: S3Credentials,
    private readonly endpoint: S3Endpoint,
    private readonly logger: Logger,
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  ) {
    this.client = new S3Client({
      region: credentials.region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      ...(endpoint.endpoint !== undefined ? { endpoint: endpoint.endpoint } : {}),
      forcePathStyle: endpoint.forcePathStyle,
      // the retries are ours (bounded, reported); the SDK's would multiply them
      maxAttempts: 1,
      // checksums only where the protocol requires them: servers other than AWS often refuse the newer trailers
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: policy.connectTimeoutMs, requestTimeout: policy.requestTimeoutMs },
      // without a logger the SDK writes some warnings to the console; its info records (command inputs) are dropped
      logger: sdkLogger(logger),
    });
  }

  /** Where uploads go, for logs (no credentials). */
  get target(): { bucket: string; region: string; endpoint: string } {
    return { bucket: this.credentials.bucket, region: this.credentials.region, endpoint: this.endpoint.endpoint ?? 'aws' };
  }

  /**
   * Sends the items (media before playlists, `concurrency` at a time). Resolves (never rejects) when all are sent or
   * once one has failed every try; the files still in flight then finish, no new ones start. `signal` (the node
   * shutting down) cuts requests and pauses short: the upload then fails as cancelled.
   */
  async uploadAll(items: readonly UploadItem[], signal?: AbortSignal): Promise<UploadResult> {
    const isPlaylist = (i: UploadItem) => i.key.endsWith('.m3u8');
    const sent = { uploaded: 0, bytes: 0 };
    // playlists only once every media file is up
    const failure = (await this.sendAll(items.filter((i) => !isPlaylist(i)), sent, signal)) ?? (await this.sendAll(items.filter(isPlaylist), sent, signal));
    if (failure) return { ok: false, uploaded: sent.uploaded, ...failure };
    return { ok: true, ...sent };
  }

  close(): void {
    this.client.destroy();
  }

  /** `concurrency` at a time; after the first file that fails every try no new one starts. */
  private async sendAll(
    items: readonly UploadItem[],
    sent: { uploaded: number; bytes: number },
    signal?: AbortSignal,
  ): Promise<{ failedKey: string; attempts: number; reason: string } | undefined> {
    let next = 0;
    let failure: { failedKey: string; attempts: number; reason: string } | undefined;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < items.length) {
        const item = items[next++]!;
        const result = await this.uploadOne(item, signal);
        if (result.ok) {
          sent.uploaded++;
          sent.bytes += result.bytes;
        } else {
          failure ??= { failedKey: item.key, attempts: result.attempts, reason: result.reason };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.policy.concurrency, items.length)) }, worker));
    return failure;
  }

  /** A large file in parts (a failed part fails this try; the parts sent are removed: `leavePartsOnError` off). */
  private async multipart(file: string, object: { Bucket: string; Key: string; ContentType?: string }, signal?: AbortSignal): Promise<void> {
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const upload = new Upload({
        client: this.client,
        params: { ...object, Body: createReadStream(file) },
        partSize: this.policy.partSizeBytes,
        queueSize: 2,
        leavePartsOnError: false,
        abortController,
      });
      await upload.done();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async uploadOne(item: UploadItem, signal?: AbortSignal): Promise<{ ok: true; bytes: number } | { ok: false; attempts: number; reason: string }> {
    let reason = '';
    for (let attempt = 1; attempt <= this.policy.attempts; attempt++) {
      if (signal?.aborted) return { ok: false, attempts: attempt - 1, reason: 'upload cancelled' };
      try {
        // a fresh stream per try: a stream half read by a failed try cannot be sent again
        const size = (await stat(item.file)).size;
        const contentType = contentTypeOf(item.key);
        const object = { Bucket: this.credentials.bucket, Key: item.key, ...(contentType ? { ContentType: contentType } : {}) };
        if (size > this.policy.multipartThresholdBytes) {
          await this.multipart(item.file, object, signal);
        } else {
          await this.client.send(new PutObjectCommand({ ...object, Body: createReadStream(item.file), ContentLength: size }), signal ? { abortSignal: signal } : {});
        }
        return { ok: true, bytes: size };
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
        const status = e.$metadata?.httpStatusCode;
        reason = scrubbed(`${e.name}${status ? ` (HTTP ${status})` : ''}${e.code ? ` ${e.code}` : ''}: ${e.message}`, this.credentials);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, attempts: attempt, reason: `the file is gone: ${path.basename(item.file)}` };
        if (signal?.aborted) return { ok: false, attempts: attempt, reason: `upload cancelled (${reason})` };
        if (attempt < this.policy.attempts) {
          const delay = retryDelay(this.policy, attempt);
          this.logger.warn({ key: item.key, attempt, of: this.policy.attempts, retryInMs: delay, reason, ...this.target }, 'S3 upload failed: trying again');
          await sleep(delay, undefined, signal ? { signal } : undefined).catch(() => undefined);
        }
      }
    }
    return { ok: false, attempts: this.policy.attempts, reason };
  }
}

/** The SDK's own remarks, at debug level and as text only (what it logs at info, command inputs and outputs, is dropped). */
function sdkLogger(logger: Logger) {
  const note = (...args: unknown[]) => logger.debug({ sdk: args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : '')).join(' ').slice(0, 300) }, 'S3 SDK');
  return { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: note, error: note };
}
