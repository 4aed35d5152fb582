// One authenticated connection between two nodes: a WebSocket (wss when FJ_DIST_TLS_* is set) on the dist port.
// Both sides prove they know FJ_DIST_COOKIE with HMAC challenge/response over fresh nonces; the cookie itself never
// crosses the wire. After the handshake, JSON messages flow both ways.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

export type DistMessage = Record<string, unknown> & { t: string };

const HANDSHAKE_TIMEOUT_MS = 5000;

export class DistLink extends EventEmitter<{ message: [DistMessage]; close: [] }> {
  private closed = false;

  constructor(
    readonly peer: string,
    private readonly socket: WebSocket,
    readonly initiatedHere: boolean,
  ) {
    super();
    socket.on('message', (data) => {
      try {
        const message = JSON.parse(String(data)) as DistMessage;
        if (typeof message.t === 'string') this.emit('message', message);
      } catch {
        // a peer that passed the handshake sends JSON; anything else is dropped
      }
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => socket.terminate());
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  send(message: DistMessage): void {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.socket.close(1000, 'closing');
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

function proof(cookie: string, role: 'client' | 'server', ...parts: string[]): string {
  return createHmac('sha256', cookie).update(`${role}|${parts.join('|')}`).digest('hex');
}

function sameProof(a: string, b: unknown): boolean {
  if (typeof b !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Handshake messages, queued from the moment the socket exists: the other side's first message can arrive in the
 * same TCP segment as the HTTP upgrade answer and be emitted before any later listener is attached.
 */
export class HandshakeInbox {
  private readonly queue: DistMessage[] = [];
  private waiter: ((m: DistMessage | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
  }

  private readonly onMessage = (data: WebSocket.RawData): void => {
    let message: DistMessage | Error;
    try {
      message = JSON.parse(String(data)) as DistMessage;
    } catch {
      message = new Error('handshake message is not JSON');
    }
    if (this.waiter) this.waiter(message);
    else if (message instanceof Error) this.failure = message;
    else this.queue.push(message);
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    const error = new Error(`closed during handshake: ${code} ${reason.toString()}`);
    if (this.waiter) this.waiter(error);
    else this.failure = error;
  };

  next(timeoutMs: number): Promise<DistMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error('handshake timed out')), timeoutMs);
      const settle = (m: DistMessage | Error) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
      this.waiter = settle;
    });
  }

  /** Stop listening: after the handshake the DistLink reads the socket. */
  detach(): void {
    this.socket.off('message', this.onMessage);
    this.socket.off('close', this.onClose);
  }
}

/** Accepting side: challenge the connecting node; resolves with its name once it proved the cookie. */
export async function acceptHandshake(socket: WebSocket, self: string, cookie: string): Promise<string> {
  const inbox = new HandshakeInbox(socket);
  try {
    return await accept(socket, inbox, self, cookie);
  } finally {
    inbox.detach();
  }
}

async function accept(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string): Promise<string> {
  const serverNonce = randomBytes(16).toString('hex');
  socket.send(JSON.stringify({ t: 'challenge', name: self, nonce: serverNonce }));
  const auth = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (auth.t !== 'auth' || typeof auth.name !== 'string' || typeof auth.nonce !== 'string') throw new Error('malformed auth message');
  if (!sameProof(proof(cookie, 'client', serverNonce, auth.name, auth.nonce), auth.proof)) {
    socket.close(4001, 'authentication failed');
    throw new Error(`node ${auth.name} failed authentication (wrong FJ_DIST_COOKIE?)`);
  }
  socket.send(JSON.stringify({ t: 'welcome', proof: proof(cookie, 'server', auth.nonce, self, serverNonce) }));
  return auth.name;
}

/** Connecting side: answer the challenge and check the other node's proof; resolves with its name. The inbox must
 *  have been created together with the socket. */
export async function initiateHandshake(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string): Promise<string> {
  try {
    return await initiate(socket, inbox, self, cookie);
  } finally {
    inbox.detach();
  }
}

async function initiate(socket: WebSocket, inbox: HandshakeInbox, self: string, cookie: string): Promise<string> {
  const challenge = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (challenge.t !== 'challenge' || typeof challenge.nonce !== 'string' || typeof challenge.name !== 'string') {
    throw new Error('malformed challenge');
  }
  const clientNonce = randomBytes(16).toString('hex');
  socket.send(JSON.stringify({ t: 'auth', name: self, nonce: clientNonce, proof: proof(cookie, 'client', challenge.nonce, self, clientNonce) }));
  const welcome = await inbox.next(HANDSHAKE_TIMEOUT_MS);
  if (welcome.t !== 'welcome' || !sameProof(proof(cookie, 'server', clientNonce, challenge.name, challenge.nonce), welcome.proof)) {
    socket.close(4001, 'authentication failed');
    throw new Error(`node ${challenge.name} failed authentication (wrong FJ_DIST_COOKIE?)`);
  }
  return challenge.name;
}
