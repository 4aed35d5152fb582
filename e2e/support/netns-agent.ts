// The test client of the namespace cluster test. It runs INSIDE a network namespace (`ip netns exec <ns> node --import
// tsx netns-agent.ts`), so every HTTP and WebSocket request to the nodes originates there, never in the host namespace.
// Protocol: one JSON request per stdin line {id, op, ...}; one JSON answer per stdout line {id, ok, result | error}.
// Requests run concurrently. Times are Date.now() epoch milliseconds (the same clock as the test process).
import readline from 'node:readline';
import WebSocket from 'ws';
import { decodePeerMessage, encodePeerMessage } from '../../media-server/src/proto/index.js';
import { relayMedia, turnProbe, type RelayMediaOp, type TurnProbeOp } from './relay-client.js';

interface HttpOp {
  op: 'http';
  method?: string;
  url: string;
  token?: string;
  body?: unknown;
  timeoutMs?: number;
}
interface PeerJoinOp {
  op: 'peerJoin';
  url: string;
  token: string;
  timeoutMs: number;
}
interface BurstOp {
  op: 'createBurst';
  url: string;
  token: string;
  durationMs: number;
}
interface WatchOp {
  op: 'watchHealth';
  urls: string[];
  token: string;
  expect: number;
  intervalMs: number;
  timeoutMs: number;
}
interface ManyOp {
  op: 'requests';
  items: Array<{ method: string; url: string; body?: unknown }>;
  token: string;
  concurrency: number;
  timeoutMs: number;
}
type Request = { id: number } & (HttpOp | PeerJoinOp | BurstOp | WatchOp | ManyOp | RelayMediaOp | TurnProbeOp);

export interface HttpResult {
  status: number;
  body: any;
  start: number;
  end: number;
}

async function http(op: Omit<HttpOp, 'op'>): Promise<HttpResult> {
  const start = Date.now();
  const headers: Record<string, string> = {};
  if (op.token) headers.authorization = `Bearer ${op.token}`;
  if (op.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(op.url, {
      method: op.method ?? 'GET',
      headers,
      body: op.body === undefined ? undefined : JSON.stringify(op.body),
      signal: AbortSignal.timeout(op.timeoutMs ?? 5000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, body, start, end: Date.now() };
  } catch (error) {
    return { status: 0, body: String((error as Error).cause ?? (error as Error).message), start, end: Date.now() };
  }
}

export interface PeerJoinResult {
  authenticated: boolean;
  connected: unknown;
  close: { code: number; reason: string } | undefined;
  ms: number;
}

/** A raw peer socket: auth_request, then the `connect` media event; resolves at `connected` (or close / timeout). */
function peerJoin(op: PeerJoinOp): Promise<PeerJoinResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const result: PeerJoinResult = { authenticated: false, connected: undefined, close: undefined, ms: 0 };
    const ws = new WebSocket(op.url, { handshakeTimeout: op.timeoutMs });
    const done = () => {
      clearTimeout(timer);
      result.ms = Date.now() - start;
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(result);
    };
    const timer = setTimeout(done, op.timeoutMs);
    ws.on('error', () => undefined);
    ws.on('open', () => ws.send(encodePeerMessage({ authRequest: { token: op.token } })));
    ws.on('message', (data) => {
      const decoded = decodePeerMessage(data as Buffer);
      if (!decoded.ok) return;
      const m = decoded.value as Record<string, any>;
      if ('authenticated' in m) {
        result.authenticated = true;
        ws.send(encodePeerMessage({ mediaEvent: { data: JSON.stringify({ type: 'connect', data: { metadata: { via: 'netns-agent' } } }) } }));
      } else if ('mediaEvent' in m) {
        const event = JSON.parse(String(m.mediaEvent.data)) as { type: string; data: unknown };
        if (event.type === 'connected') {
          result.connected = event.data;
          done();
        }
      }
    });
    ws.on('close', (code, reason) => {
      result.close = { code, reason: reason.toString() };
      done();
    });
  });
}

export interface BurstItem {
  start: number;
  end: number;
  status: number;
  address: string | undefined;
  roomId: string | undefined;
  error: string | undefined;
}

/** POST /room back to back (one at a time) for durationMs. */
async function createBurst(op: BurstOp): Promise<BurstItem[]> {
  const out: BurstItem[] = [];
  const until = Date.now() + op.durationMs;
  while (Date.now() < until) {
    const r = await http({ method: 'POST', url: op.url, token: op.token, body: {}, timeoutMs: 5000 });
    const data = r.status === 201 ? (r.body as { data: { fishjam_address: string; room: { id: string } } }).data : undefined;
    out.push({ start: r.start, end: r.end, status: r.status, address: data?.fishjam_address, roomId: data?.room.id, error: data ? undefined : JSON.stringify(r.body) });
  }
  return out;
}

/** Polls /health on every url until all report nodesInCluster === expect; returns when (epoch ms) and the samples. */
async function watchHealth(op: WatchOp): Promise<{ reachedAt: number | undefined; last: number[] }> {
  const deadline = Date.now() + op.timeoutMs;
  let last: number[] = [];
  while (Date.now() < deadline) {
    const answers = await Promise.all(op.urls.map((url) => http({ url: `${url}/health`, token: op.token, timeoutMs: 1000 })));
    last = answers.map((a) => (a.status === 200 ? (a.body as any).data.distribution.nodesInCluster : -a.status));
    if (last.every((n) => n === op.expect)) return { reachedAt: Date.now(), last };
    await new Promise((r) => setTimeout(r, op.intervalMs));
  }
  return { reachedAt: undefined, last };
}

/** Many requests, `concurrency` at a time, answered in the order given. */
async function requests(op: ManyOp): Promise<HttpResult[]> {
  const out: HttpResult[] = new Array(op.items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < op.items.length; i = next++) {
      out[i] = await http({ ...op.items[i]!, token: op.token, timeoutMs: op.timeoutMs });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, op.concurrency) }, worker));
  return out;
}

async function run(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'http':
      return http(request);
    case 'peerJoin':
      return peerJoin(request);
    case 'createBurst':
      return createBurst(request);
    case 'watchHealth':
      return watchHealth(request);
    case 'requests':
      return requests(request);
    case 'relayMedia':
      return relayMedia(request);
    case 'turnProbe':
      return turnProbe(request);
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let request: Request;
  try {
    request = JSON.parse(line) as Request;
  } catch {
    return;
  }
  run(request).then(
    (result) => process.stdout.write(JSON.stringify({ id: request.id, ok: true, result }) + '\n'),
    (error: Error) => process.stdout.write(JSON.stringify({ id: request.id, ok: false, error: error.message }) + '\n'),
  );
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
