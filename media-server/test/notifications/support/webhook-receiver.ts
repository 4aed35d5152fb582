// A local HTTP server standing in for webhook receivers: each path is one receiver, answering with a status chosen
// per attempt; every request is recorded (decoded ServerMessage, content type, arrival time, status answered).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeServerMessage, type ServerMessage } from '../../../src/proto/index.js';

export interface Delivery {
  path: string;
  contentType: string | undefined;
  message: ServerMessage | undefined;
  raw: Buffer;
  /** when the request arrived */
  at: number;
  status: number;
}

export interface Behaviour {
  status: number;
  delayMs?: number;
  until?: Promise<unknown>;
}

export interface WebhookReceiver {
  url(path: string): string;
  deliveries(path: string): Delivery[];
  /**
   * Status for the nth request (0-based) to a path, and a delay before answering, or a promise to answer after
   * (`until`: ordering without timing); default 200 at once.
   */
  behave(path: string, answer: (n: number) => Behaviour): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const all: Delivery[] = [];
  const behaviours = new Map<string, (n: number) => Behaviour>();
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const path = req.url ?? '/';
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      const { status, delayMs = 0, until } = behaviours.get(path)?.(n) ?? { status: 200 };
      const raw = Buffer.concat(chunks);
      const decoded = decodeServerMessage(raw);
      const answer = (): void => {
        all.push({ path, contentType: req.headers['content-type'], message: decoded.ok ? decoded.value : undefined, raw, at, status });
        res.writeHead(status).end();
      };
      if (until) void until.then(answer, answer);
      else if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    deliveries: (path) => all.filter((d) => d.path === path),
    behave: (path, answer) => void behaviours.set(path, answer),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
