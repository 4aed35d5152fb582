// GET /hls/... and /recording/... through any node: a room's HLS files (and a recording's) live on the node that held
// the room, so the node a client asked fetches them from that node over the dist link (authenticated, TLS when
// configured, and already allowed between the pods: no new port, no new policy, and the client sees one origin).
// Not a redirect: behind one load balancer a redirect to a node's own address leads nowhere a client can reach, and
// the original's redirect needed its routing flag and per-node public names.
// Bounds:
// - a body travels in chunks of CHUNK_BYTES, each one call, asked for only when the client has read the one before
//   (so a large segment never holds the link for long: heartbeats and signalling go between chunks, and memory per
//   request is one chunk); playlists travel whole (they change; at most WHOLE_BYTES); a file over MAX_FILE_BYTES is 502.
// - a blocked LL-HLS reload waits up to BLOCK_TIMEOUT_MS at the owner: its call's deadline is longer than that, so the
//   owner's own 200 or 503 comes back; a client that hangs up cancels the wait at the owner.
// - an owner that freezes: its link goes silent and is closed within ~2 s (dist-link.ts), which fails the call: 503;
//   a call that outlives its deadline: 504. A chunk that fails after the headers went out cuts the response (the
//   client sees a short body against the content-length, as from any server that dies mid-answer).
// - identical requests in flight at once share one call (the many viewers of a stream ask for the same blocked
//   reload, part or segment at about the same moment): the owner holds one wait, not one per viewer, and sends each
//   answer once to this node. The shared call is cancelled only when every client sharing it has hung up.
// - at most MAX_FORWARDS calls and chunked bodies in flight from this node and MAX_SHARERS clients sharing calls
//   (then 503), and a node serves at most MAX_SERVED calls for the others at once.
// GET /recording lists the recordings of every node (the original lists its own folder): behind one load balancer a
// per-node list would change with each request, and every id listed can be fetched and deleted through any node.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { HttpError } from '../api/http-error.js';
import { answerHls, BLOCK_TIMEOUT_MS, mayBlock, type HlsContentSource, type HlsDirectives } from '../api/routes/hls-answer.js';
import type { ForwardedFile } from '../api/routes/forwarded-file.js';
import { openHlsFile } from '../components/hls-content.js';
import type { Recordings } from '../components/recordings.js';
import { RpcError, RpcTimeoutError, type ClusterNode } from './cluster-node.js';
import { ownerOfRoomId } from './room-owner.js';

/** Bytes of a file one call carries (base64 in a dist message). */
export const CHUNK_BYTES = 512 * 1024;
/** A playlist travels in one call, up to this size. */
export const WHOLE_BYTES = 4 * 1024 * 1024;
/** The largest file forwarded. */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** Calls (and chunked bodies) this node has in flight to others at once, at most. */
export const MAX_FORWARDS = 256;
/** Clients waiting on shared calls at once, at most. */
export const MAX_SHARERS = 8192;
/** Calls this node serves for other nodes at once, at most. */
export const MAX_SERVED = 512;
/** Deadline of a call that cannot block (a chunk, a list). */
const CALL_MS = 10_000;
/** A blocked reload's call waits this much longer than the owner's own limit, so the owner's answer is what comes back. */
const BLOCK_MARGIN_MS = 5_000;
/** How long a request for a room waits for the link to a node that other members already reach. */
const JOINING_LINK_WAIT_MS = 3000;

interface SharedCall {
  readonly reply: Promise<FileReply>;
  readonly cancel: AbortController;
  /** clients waiting on it now */
  waiting: number;
}

type FileReply =
  | { kind: 'text'; text: string; contentType: string; cacheControl: string }
  | { kind: 'file'; contentType: string; cacheControl?: string; size: number; version: string; data: string };

interface ChunkRequest {
  offset: number;
  version: string;
}

export interface ClusterFilesDeps {
  readonly cluster: ClusterNode;
  /** the node holding a room (this node when nobody does) */
  readonly locate: (roomId: string) => Promise<string>;
  readonly hls: HlsContentSource;
  readonly recordings: Recordings;
  readonly logger: Logger;
}

export class ClusterFiles {
  private forwards = 0;
  private served = 0;
  private sharers = 0;
  /** first calls in flight, by node, method and parameters: identical requests share them */
  private readonly shared = new Map<string, SharedCall>();

  constructor(private readonly deps: ClusterFilesDeps) {
    const { cluster } = deps;
    const serve = (method: string, run: (params: any, cancelled: AbortSignal) => Promise<unknown>) =>
      cluster.onRequest(method, async (params, _from, _replyable, cancelled) => {
        if (this.served >= MAX_SERVED) throw new RpcError(503, 'Too many forwarded requests on the Fishjam instance holding the room');
        this.served++;
        try {
          return await run(params, cancelled);
        } catch (error) {
          if (error instanceof HttpError) throw new RpcError(error.status, error.message);
          throw error;
        } finally {
          this.served--;
        }
      });
    serve('files.hls', (p: { roomId: string; filename: string; query: HlsDirectives; chunk?: ChunkRequest }, cancelled) =>
      p.chunk ? this.hlsChunk(p.roomId, p.filename, p.chunk) : this.hlsFirst(p.roomId, p.filename, p.query, cancelled),
    );
    serve('files.recording', (p: { id: string; filename: string; chunk?: ChunkRequest }) => this.recordingFile(p.id, p.filename, p.chunk));
    serve('files.recordingList', async () => ({ ids: (await deps.recordings.list()) ?? [] }));
    serve('files.recordingHas', async (p: { id: string }) => ({ has: (await deps.recordings.find(String(p.id))).ok }));
    serve('files.recordingDelete', async (p: { id: string }) => ({ removed: (await deps.recordings.remove(String(p.id))).ok }));
  }

  // --- entry side ---------------------------------------------------------------------------------------------

  /** GET /hls for a room this node has no HLS for: the holder's answer, or undefined when this node holds it (or nobody). */
  async forwardHls(roomId: string, filename: string, query: HlsDirectives, hangUp: AbortSignal): Promise<ForwardedFile | 'aborted' | undefined> {
    const owner = await this.reachableOwner(await this.deps.locate(roomId), `room ${roomId}`);
    if (owner === undefined) return undefined;
    const params = { roomId, filename, query: pickDirectives(query) };
    const deadline = mayBlock(filename, query) ? BLOCK_TIMEOUT_MS + BLOCK_MARGIN_MS : CALL_MS;
    return this.fetch(owner, 'files.hls', params, deadline, hangUp, `room ${roomId}`);
  }

  /** GET /recording/:id/:filename for a recording this node does not have. */
  async forwardRecording(id: string, filename: string, hangUp: AbortSignal): Promise<ForwardedFile | 'aborted' | undefined> {
    const holder = await this.recordingHolder(id);
    if (holder === undefined) return undefined;
    return this.fetch(holder, 'files.recording', { id, filename }, CALL_MS, hangUp, `recording ${id}`);
  }

  /** The recordings of the other nodes (a node that does not answer is left out, as in GET /room). */
  async otherRecordings(): Promise<string[]> {
    const lists = await Promise.all(
      this.deps.cluster.linkedNodes().map((node) =>
        (this.deps.cluster.request(node, 'files.recordingList', {}, CALL_MS) as Promise<{ ids: unknown }>).then(
          (r) => (Array.isArray(r.ids) ? r.ids.filter((id): id is string => typeof id === 'string') : []),
          (error: Error) => {
            this.deps.logger.warn({ node, err: error.message }, 'listing recordings: node did not answer');
            return [];
          },
        ),
      ),
    );
    return lists.flat();
  }

  /** DELETE /recording/:id on the other nodes: whether one of them had it. */
  async removeElsewhere(id: string): Promise<boolean> {
    const owner = ownerOfRoomId(id);
    const nodes = owner !== undefined ? [await this.reachableOwner(owner, `recording ${id}`)].filter((n): n is string => n !== undefined) : this.deps.cluster.linkedNodes();
    const answers = await Promise.all(
      nodes.map((node) =>
        (this.deps.cluster.request(node, 'files.recordingDelete', { id }, CALL_MS) as Promise<{ removed?: unknown }>).then(
          (r) => r.removed === true,
          (error: Error) => {
            if (owner !== undefined) throw unreachable(`recording ${id}`, error);
            this.deps.logger.warn({ node, err: error.message }, 'deleting a recording: node did not answer');
            return false;
          },
        ),
      ),
    );
    return answers.some(Boolean);
  }

  /** Another node holding a recording: the one its id names, else the first (by name) of those that have it. */
  private async recordingHolder(id: string): Promise<string | undefined> {
    const owner = ownerOfRoomId(id);
    if (owner !== undefined) return this.reachableOwner(owner, `recording ${id}`);
    const nodes = this.deps.cluster.linkedNodes().sort();
    const has = await Promise.all(
      nodes.map((node) =>
        (this.deps.cluster.request(node, 'files.recordingHas', { id }, CALL_MS) as Promise<{ has?: unknown }>).then(
          (r) => r.has === true,
          () => false,
        ),
      ),
    );
    return nodes.find((_, i) => has[i]);
  }

  /** `node` if it is another node this one can call; undefined for this node or a node that left; 503 if unreachable. */
  private async reachableOwner(node: string, what: string): Promise<string | undefined> {
    const { cluster } = this.deps;
    if (node === cluster.self.full) return undefined;
    if (!cluster.isLinked(node) && cluster.linkedElsewhere(node)) await cluster.waitForLink(node, JOINING_LINK_WAIT_MS);
    if (cluster.isLinked(node)) return node;
    if (cluster.isKnown(node)) throw new HttpError(503, `Unable to reach Fishjam instance holding ${what}`);
    return undefined;
  }

  /**
   * The first reply for a request, from a call shared with the identical requests in flight (a new call when there is
   * none). Rejects with the call's failure, or 'aborted' when this client hung up (the call goes on for the others).
   */
  private firstReply(node: string, method: string, params: Record<string, unknown>, deadlineMs: number, hangUp: AbortSignal): Promise<FileReply> {
    const key = `${node}\n${method}\n${JSON.stringify(params)}`;
    let call = this.shared.get(key);
    if (!call) {
      if (this.forwards >= MAX_FORWARDS) throw new HttpError(503, 'Too many forwarded requests on this Fishjam instance');
      const cancel = new AbortController();
      this.forwards++;
      const reply = (this.deps.cluster.request(node, method, params, deadlineMs, cancel.signal) as Promise<FileReply>).finally(() => {
        this.forwards--;
        if (this.shared.get(key) === made) this.shared.delete(key);
      });
      const made: SharedCall = { reply, cancel, waiting: 0 };
      reply.catch(() => undefined); // every sharer handles it; none may be left when it fails
      this.shared.set(key, (call = made));
    } else if (this.sharers >= MAX_SHARERS) {
      throw new HttpError(503, 'Too many forwarded requests on this Fishjam instance');
    }
    const joined = call;
    joined.waiting++;
    this.sharers++;
    return new Promise<FileReply>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        joined.waiting--;
        this.sharers--;
        hangUp.removeEventListener('abort', onHangUp);
      };
      const onHangUp = () => {
        leave();
        // the last one out cancels the call at the owner; later requests start a new one
        if (joined.waiting === 0) {
          if (this.shared.get(key) === joined) this.shared.delete(key);
          joined.cancel.abort();
        }
        reject(new Error('aborted'));
      };
      if (hangUp.aborted) return onHangUp();
      hangUp.addEventListener('abort', onHangUp, { once: true });
      joined.reply.then(
        (value) => (leave(), resolve(value)),
        (error: unknown) => (leave(), reject(error)),
      );
    });
  }

  private async fetch(node: string, method: string, params: Record<string, unknown>, deadlineMs: number, hangUp: AbortSignal, what: string): Promise<ForwardedFile | 'aborted'> {
    let first: FileReply;
    try {
      first = await this.firstReply(node, method, params, deadlineMs, hangUp);
    } catch (error) {
      if (hangUp.aborted) return 'aborted';
      if (error instanceof HttpError) throw error;
      throw callFailure(error, what);
    }
    if (first.kind === 'text') {
      const bytes = Buffer.from(String(first.text));
      return { contentType: first.contentType, cacheControl: first.cacheControl, size: bytes.length, body: bytes };
    }
    const head = Buffer.from(String(first.data), 'base64');
    const size = first.size;
    if (!Number.isSafeInteger(size) || size < head.length || size > MAX_FILE_BYTES) throw new HttpError(502, `Bad answer from the Fishjam instance holding ${what}`);
    const answer = { contentType: first.contentType, cacheControl: first.cacheControl, size };
    if (head.length === size) return { ...answer, body: head };
    // a body of more than one chunk holds a slot until it is read (or given up)
    if (this.forwards >= MAX_FORWARDS) throw new HttpError(503, 'Too many forwarded requests on this Fishjam instance');
    this.forwards++;
    let released = false;
    let handedOver = false;
    const release = () => {
      if (!released) (released = true), this.forwards--;
    };
    try {
      // The rest is asked for chunk by chunk as the client reads (Readable.from pulls only when the client drains).
      const { cluster } = this.deps;
      const version = first.version;
      async function* rest(): AsyncGenerator<Buffer> {
        yield head;
        for (let offset = head.length; offset < size; ) {
          const reply = (await cluster.request(node, method, { ...params, chunk: { offset, version } }, CALL_MS, hangUp)) as { data: string };
          const chunk = Buffer.from(String(reply.data), 'base64');
          if (chunk.length === 0 || offset + chunk.length > size) throw new Error(`bad chunk at ${offset} from ${node}`);
          offset += chunk.length;
          yield chunk;
        }
      }
      const body = Readable.from(rest(), { objectMode: false, highWaterMark: CHUNK_BYTES });
      body.once('close', release);
      body.on('error', (error) => this.deps.logger.warn({ node, what, err: error.message }, 'a forwarded file was cut'));
      handedOver = true; // from here the body's close releases the slot
      return { ...answer, body };
    } finally {
      if (!handedOver) release();
    }
  }

  // --- owner side ---------------------------------------------------------------------------------------------

  private async hlsFirst(roomId: string, filename: string, query: HlsDirectives, cancelled: AbortSignal): Promise<FileReply | undefined> {
    const answer = await answerHls(this.deps.hls, String(roomId), String(filename), pickDirectives(query), cancelled);
    if (answer.kind === 'aborted') return undefined;
    if (answer.kind === 'text') {
      if (Buffer.byteLength(answer.text) > WHOLE_BYTES) throw new HttpError(502, 'The playlist is too large to forward');
      return answer;
    }
    return firstChunk(answer.file, filename, answer.cacheControl);
  }

  private async hlsChunk(roomId: string, filename: string, chunk: ChunkRequest): Promise<{ data: string }> {
    const dir = this.deps.hls.folderOf(String(roomId));
    if (dir === undefined) throw new HttpError(404, 'File not found');
    return readChunk(dir, String(filename), chunk);
  }

  private async recordingFile(id: string, filename: string, chunk: ChunkRequest | undefined): Promise<FileReply | { data: string }> {
    const found = await this.deps.recordings.find(String(id));
    if (!found.ok && found.reason === 'invalid') throw new HttpError(400, `Invalid recording, got: ${String(id).slice(0, 300)}`);
    if (!found.ok) throw new HttpError(404, 'File not found');
    if (chunk) return readChunk(found.dir, String(filename), chunk);
    const file = await openHlsFile(found.dir, String(filename));
    if (!file.ok && file.reason === 'invalid') throw new HttpError(400, `Invalid filename, got: ${String(filename).slice(0, 300)}`);
    if (!file.ok) throw new HttpError(404, 'File not found');
    return firstChunk(file, String(filename), undefined);
  }
}

/** Only the three directives travel (as strings or arrays of strings: the owner validates them as for its own clients). */
function pickDirectives(query: HlsDirectives): HlsDirectives {
  const pick = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.slice(0, 4).map(String) : undefined);
  const out: Record<string, string | string[]> = {};
  for (const key of ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const) {
    const v = pick(query?.[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

type OpenFile = Extract<Awaited<ReturnType<typeof openHlsFile>>, { ok: true }>;

/** The first reply for a file: playlists whole, anything else its first chunk; the version names this very file. */
async function firstChunk(file: OpenFile, filename: string, cacheControl: string | undefined): Promise<FileReply> {
  try {
    const whole = filename.endsWith('.m3u8');
    if (file.size > (whole ? WHOLE_BYTES : MAX_FILE_BYTES)) throw new HttpError(502, 'The file is too large to forward');
    const stats = await file.handle.stat();
    const length = whole ? file.size : Math.min(CHUNK_BYTES, file.size);
    const data = await readAt(file, 0, length);
    return {
      kind: 'file',
      contentType: file.contentType,
      ...(cacheControl !== undefined ? { cacheControl } : {}),
      // the bytes answered are those there when it was opened (as for a local client)
      size: whole ? data.length : file.size,
      version: `${stats.dev}:${stats.ino}:${stats.birthtimeMs}`,
      data: data.toString('base64'),
    };
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/** A later chunk: the same file (not one written in its place since) and within the size first answered. */
async function readChunk(dir: string, filename: string, chunk: ChunkRequest): Promise<{ data: string }> {
  const offset = Number(chunk?.offset);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_FILE_BYTES) throw new HttpError(400, 'Invalid chunk');
  const file = await openHlsFile(dir, filename);
  if (!file.ok) throw new HttpError(404, 'File not found');
  try {
    const stats = await file.handle.stat();
    if (`${stats.dev}:${stats.ino}:${stats.birthtimeMs}` !== chunk.version || offset >= file.size) throw new HttpError(409, 'The file changed while it was forwarded');
    return { data: (await readAt(file, offset, Math.min(CHUNK_BYTES, file.size - offset))).toString('base64') };
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

async function readAt(file: OpenFile, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await file.handle.read(buffer, read, length - read, offset + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer.subarray(0, read);
}

function unreachable(what: string, error: unknown): HttpError {
  return error instanceof RpcTimeoutError
    ? new HttpError(504, `Fishjam instance holding ${what} did not answer in time`)
    : new HttpError(503, `Unable to reach Fishjam instance holding ${what}`);
}

/** A failed call: the owner's own error as it is; no answer: 504 (deadline) or 503 (link lost). */
function callFailure(error: unknown, what: string): HttpError {
  if (error instanceof RpcError) return new HttpError(error.status, error.message);
  return unreachable(what, error);
}
