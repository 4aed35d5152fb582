// For the socket supervision tests: an extra HTTP listener that mounts socket handlers built by the test (with short
// deadlines) through the node's own websocket routing, raw `ws` clients that may refuse to answer pings, and a logger
// whose records the test can read. Every wait is bounded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { mountWebSockets, type SocketHandler } from '../../src/api/websocket-routes.js';
import { createLogger } from '../../src/logging/logger.js';

export interface Endpoint {
  url(path: string): string;
  close(): Promise<void>;
}

export async function serveSockets(routes: Record<string, SocketHandler>): Promise<Endpoint> {
  const server = http.createServer((_, res) => res.writeHead(404).end());
  const wss = mountWebSockets(server, routes);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Closed {
  code: number;
  reason: string;
  /** ms from the socket opening to its close */
  afterMs: number;
}

export interface Client {
  readonly ws: WebSocket;
  readonly frames: Buffer[];
  /** the close as this client saw it (1006 when the server terminated without a close frame) */
  closed(timeoutMs?: number): Promise<Closed>;
  readonly isOpen: boolean;
}

/** A raw client; `autoPong: false` makes it a client that froze (it never answers the server's pings). */
export async function connect(url: string, options: { autoPong?: boolean } = {}): Promise<Client> {
  const ws = new WebSocket(url, { autoPong: options.autoPong ?? true });
  const frames: Buffer[] = [];
  ws.on('error', () => undefined);
  ws.on('message', (data) => frames.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)));
  let openedAt = Date.now();
  const closed = new Promise<Closed>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), afterMs: Date.now() - openedAt })),
  );
  await bounded(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    5000,
    `websocket ${url} to open`,
  );
  openedAt = Date.now();
  return {
    ws,
    frames,
    closed: (timeoutMs = 5000) => bounded(closed, timeoutMs, 'the server to close the socket'),
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
}

export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger whose JSON records are kept (and printed with FJ_TEST_LOGS=1). */
export function recordingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'info',
    structured: true,
    destination: {
      write: (line: string) => {
        records.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.FJ_TEST_LOGS) process.stderr.write(line);
      },
    },
  });
  return { logger, records };
}
