// Runs INSIDE a network namespace (`ip netns exec <ns> node --import tsx agent.ts`): the kubelet's probes and the
// clients' requests of pod-spec-netns.test.ts, so every request to a pod address starts inside a namespace.
// One JSON request per stdin line {id, op, ...}; one JSON answer per stdout line {id, ok, result | error}.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import readline from 'node:readline';

interface HttpOp {
  op: 'http';
  method?: string;
  url: string;
  token?: string;
  body?: unknown;
  timeoutMs?: number;
}
interface StunOp {
  op: 'stun';
  host: string;
  port: number;
  timeoutMs: number;
}
type Request = { id: number } & (HttpOp | StunOp);

export interface HttpResult {
  status: number;
  body: any;
}

async function http(op: HttpOp): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (op.token) headers['authorization'] = `Bearer ${op.token}`;
  if (op.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(op.url, {
      method: op.method ?? 'GET',
      headers,
      ...(op.body === undefined ? {} : { body: JSON.stringify(op.body) }),
      signal: AbortSignal.timeout(op.timeoutMs ?? 3000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  } catch (error) {
    const e = error as Error;
    return { status: 0, body: String(e.cause instanceof Error ? e.cause.message : e.message) };
  }
}

/** A STUN Binding Request to host:port over UDP; true when a Binding Success Response with our transaction id comes back. */
function stun(op: StunOp): Promise<{ answered: boolean }> {
  const socket = dgram.createSocket('udp4');
  const txid = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0);
  request.writeUInt32BE(0x2112a442, 4);
  txid.copy(request, 8);
  return new Promise((resolve) => {
    const done = (answered: boolean) => {
      clearInterval(ticker);
      clearTimeout(timer);
      socket.close();
      resolve({ answered });
    };
    socket.on('message', (msg) => {
      if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txid)) done(true);
    });
    socket.on('error', () => undefined);
    const ticker = setInterval(() => socket.send(request, op.port, op.host), 200);
    socket.send(request, op.port, op.host);
    const timer = setTimeout(() => done(false), op.timeoutMs);
  });
}

const reply = (m: object) => process.stdout.write(JSON.stringify(m) + '\n');

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line) as Request;
  const work: Promise<unknown> = req.op === 'http' ? http(req) : req.op === 'stun' ? stun(req) : Promise.reject(new Error('unknown op'));
  work.then(
    (result) => reply({ id: req.id, ok: true, result }),
    (error: Error) => reply({ id: req.id, ok: false, error: error.message }),
  );
});
process.stdin.on('end', () => process.exit(0));
reply({ ready: true });
