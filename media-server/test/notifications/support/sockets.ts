// Raw websocket clients for the peer socket (fishjam.PeerMessage) and the server notification socket
// (fishjam.ServerMessage), built on `ws`, with every wait bounded. Shared by the signaling and notification tests.
import { WebSocket } from 'ws';
import { decodePeerMessage, decodeServerMessage, encodePeerMessage, encodeServerMessage, type PeerMessage, type ServerEventType, type ServerMessage } from '../../../src/proto/index.js';
import { waitFor } from '../../support/test-node.js';

export interface Closed {
  code: number;
  reason: string;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Every socket opened by the tests of one file, so after.always can terminate the leftovers. */
const opened = new Set<WebSocket>();

export function terminateAll(): void {
  for (const ws of opened) ws.terminate();
  opened.clear();
}

abstract class RawSocket<M> {
  /** decoded frames, in arrival order (undecodable frames are kept as errors) */
  readonly received: M[] = [];
  readonly undecodable: string[] = [];
  readonly closed: Promise<Closed>;

  protected constructor(readonly ws: WebSocket) {
    opened.add(ws);
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      opened.delete(ws);
      resolve({ code, reason: reason.toString() });
    }));
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (!isBinary) return void this.undecodable.push(`text frame: ${bytes.toString()}`);
      const decoded = this.decode(bytes);
      if (decoded.ok) this.received.push(decoded.value);
      else this.undecodable.push(decoded.error);
    });
  }

  protected abstract decode(bytes: Uint8Array): { ok: true; value: M } | { ok: false; error: string };

  protected static async connect(url: string, timeoutMs = 5000): Promise<WebSocket> {
    const ws = new WebSocket(url);
    opened.add(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      timeoutMs,
      `websocket ${url} to open`,
    );
    return ws;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendRaw(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** The close frame the server sends, within timeoutMs. */
  closeResult(timeoutMs = 5000): Promise<Closed> {
    return withTimeout(this.closed, timeoutMs, 'the server to close the socket');
  }

  /** The first received message matching `match` (messages are not consumed). */
  async waitFor<T extends M>(match: (m: M) => m is T, timeoutMs: number, what: string): Promise<T>;
  async waitFor(match: (m: M) => boolean, timeoutMs: number, what: string): Promise<M>;
  async waitFor(match: (m: M) => boolean, timeoutMs: number, what: string): Promise<M> {
    await waitFor(() => this.received.some(match), timeoutMs, what);
    return this.received.find(match)!;
  }

  /** Bounded wait for the socket to be fully closed locally (for clean-up). */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await withTimeout(this.closed, 2000, 'close').catch(() => this.ws.terminate());
  }
}

export type MediaEvent = { type: string; data?: any };

export class PeerSocket extends RawSocket<PeerMessage> {
  static async open(base: string): Promise<PeerSocket> {
    return new PeerSocket(await RawSocket.connect(`${base.replace(/^http/, 'ws')}/socket/peer/websocket`));
  }

  protected decode(bytes: Uint8Array) {
    return decodePeerMessage(bytes);
  }

  send(message: PeerMessage): void {
    this.sendRaw(encodePeerMessage(message));
  }

  sendMediaEvent(event: unknown): void {
    this.send({ mediaEvent: { data: typeof event === 'string' ? event : JSON.stringify(event) } });
  }

  /** Sends auth_request and resolves on `authenticated`; rejects with the close reason if the server closes. */
  async authenticate(token: string, timeoutMs = 5000): Promise<void> {
    this.send({ authRequest: { token } });
    const result = await withTimeout(
      Promise.race([
        waitFor(() => this.received.some((m) => 'authenticated' in m), timeoutMs, 'authenticated').then(() => 'ok' as const),
        this.closed,
      ]),
      timeoutMs + 100,
      'authentication',
    );
    if (result !== 'ok') throw new Error(`closed ${result.code} ${result.reason}`);
  }

  /** Media events from the server, parsed; custom events are unwrapped to their inner {type, data}. */
  mediaEvents(): MediaEvent[] {
    return this.received.flatMap((m) => {
      if (!('mediaEvent' in m)) return [];
      const event = JSON.parse(m.mediaEvent.data) as MediaEvent;
      return [event.type === 'custom' ? (event.data as MediaEvent) : event];
    });
  }

  async waitForMediaEvent(type: string, timeoutMs: number): Promise<MediaEvent> {
    await waitFor(() => this.mediaEvents().some((e) => e.type === type), timeoutMs, `media event ${type}`);
    return this.mediaEvents().find((e) => e.type === type)!;
  }
}

export class ServerSocket extends RawSocket<ServerMessage> {
  static async open(base: string): Promise<ServerSocket> {
    return new ServerSocket(await RawSocket.connect(`${base.replace(/^http/, 'ws')}/socket/server/websocket`));
  }

  protected decode(bytes: Uint8Array) {
    return decodeServerMessage(bytes);
  }

  send(message: ServerMessage): void {
    this.sendRaw(encodeServerMessage(message));
  }

  /** auth_request -> authenticated, then one subscribe_request per event type -> subscribe_response. */
  async subscribe(token: string, eventTypes: ServerEventType[], timeoutMs = 5000): Promise<void> {
    this.send({ authRequest: { token } });
    await this.waitFor((m) => 'authenticated' in m, timeoutMs, 'authenticated');
    for (const eventType of eventTypes) {
      this.send({ subscribeRequest: { eventType } });
      await this.waitFor((m) => 'subscribeResponse' in m && m.subscribeResponse.eventType === eventType, timeoutMs, `subscribe_response ${eventType}`);
    }
  }
}
