// Per-room webhooks: each event of a room with a webhookUrl is POSTed as application/x-protobuf (the encoded
// ServerMessage). One ordered queue per room *instance* (RoomCreated .. RoomDeleted/RoomCrashed): a room deleted and
// created again with the same id gets a new queue and URL, while the old queue delivers what it still holds (its
// RoomDeleted included) to the old URL and is then gone. Queues are bounded in bytes and in items (the oldest
// notification is dropped past a bound, counted and logged); delivery is retried with exponential backoff a bounded
// number of times; sending never blocks the room or the event bus.
// Destinations: redirects are never followed (a 3xx is a failed attempt), and only public addresses are contacted
// unless allowPrivate (FJ_WEBHOOK_ALLOW_PRIVATE) is set; the host name is resolved at send time and the connection
// goes to the checked address (see webhook-destination.ts). Logs show URLs as origin + path only.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { encodeServerMessage } from '../proto/index.js';
import type { DomainEvent, EventBus } from '../rooms/event-bus.js';
import { serverMessageOf } from './server-message-of-event.js';
import { displayUrl, guardedLookup, isPublicAddress, literalAddressOf, RefusedDestinationError, type Resolver } from './webhook-destination.js';

export interface WebhookOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** per attempt: connecting, sending and receiving the response status */
  readonly timeoutMs: number;
  /** notifications waiting per room instance (the one being sent not counted) */
  readonly maxQueue: number;
  /** bytes of notifications waiting per room instance (the one being sent not counted) */
  readonly maxQueueBytes: number;
  /** FJ_WEBHOOK_ALLOW_PRIVATE: allow loopback, private, link-local and other non-public destinations */
  readonly allowPrivate: boolean;
  /** DNS resolution of webhook hosts (tests replace it); the system resolver by default */
  readonly resolve?: Resolver;
}

const DEFAULTS: WebhookOptions = {
  maxAttempts: 5,
  baseDelayMs: 200,
  timeoutMs: 5000,
  maxQueue: 1000,
  maxQueueBytes: 1024 * 1024,
  allowPrivate: false,
};

/** How much of a response body is read (and thrown away) before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** At most one "queue full" warning per queue in this interval (the drops in between are counted in it). */
const OVERFLOW_LOG_INTERVAL_MS = 10_000;

interface Queue {
  readonly roomId: string;
  readonly url: URL;
  /** origin + path, for logs */
  readonly shown: string;
  readonly items: Uint8Array[];
  bytes: number;
  running: boolean;
  refusalLogged: boolean;
  overflowDropped: number;
  overflowLoggedAt: number;
}

type Outcome = { kind: 'ok' } | { kind: 'refused'; address: string } | { kind: 'status'; status: number } | { kind: 'error'; message: string };

/**
 * An HLS component's S3 upload ends after its room (the original sends HlsUploaded / HlsUploadCrashed then, to the
 * room's webhook too): the queue of a room that just ended is kept this long, for those two notifications only.
 */
export const ENDED_ROOM_KEEP_MS = 15 * 60_000;
/** Ended rooms remembered at most (the oldest is forgotten first). */
export const MAX_ENDED_ROOMS = 1024;

export class WebhookSender {
  /** The queue of each room's current instance; null for a room without a webhook. */
  private readonly rooms = new Map<string, Queue | null>();
  /** Queues of rooms that ended recently, for their late upload notifications (insertion order = age). */
  private readonly ended = new Map<string, { queue: Queue; at: number }>();
  /** Queues with something to send (current or of a room that is gone). */
  private readonly active = new Set<Queue>();
  private readonly options: WebhookOptions;
  private readonly lookup: LookupFunction | undefined;
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };
  private readonly closing = new AbortController();
  private readonly unsubscribe: () => void;
  /** notifications delivered (2xx) */
  delivered = 0;
  /** notifications given up: retries exhausted, destination refused, or pushed out of a full queue */
  dropped = 0;
  /** of `dropped`: refused destinations (not public and not allowed) */
  refused = 0;
  /** of `dropped`: pushed out of a full queue */
  overflowed = 0;

  constructor(
    bus: EventBus,
    private readonly webhookOf: (roomId: string) => string | null | undefined,
    private readonly logger: Logger,
    options: Partial<WebhookOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.lookup = this.options.allowPrivate ? undefined : guardedLookup(this.options.resolve);
    this.agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
    this.unsubscribe = bus.subscribe((event) => this.onEvent(event));
  }

  /** Queues holding notifications (of current rooms and of rooms already gone). */
  get queueCount(): number {
    return this.active.size;
  }

  /** Bytes of notifications waiting in all queues (the ones being sent not counted). */
  get queuedBytes(): number {
    let total = 0;
    for (const q of this.active) total += q.bytes;
    return total;
  }

  /** Stops: no new notifications; pending ones are abandoned and requests in flight aborted. */
  close(): void {
    this.unsubscribe();
    this.closing.abort();
    for (const q of this.active) {
      q.items.length = 0;
      q.bytes = 0;
    }
    this.active.clear();
    this.rooms.clear();
    this.ended.clear();
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  private onEvent(event: DomainEvent): void {
    if ((event.type === 'hlsUploaded' || event.type === 'hlsUploadCrashed') && !this.rooms.has(event.roomId)) {
      this.afterEnd(event);
      return;
    }
    let queue = this.rooms.get(event.roomId);
    // a new instance begins with RoomCreated (or with the first event seen, for a room older than this sender)
    if (event.type === 'roomCreated' || queue === undefined) {
      const webhookUrl = this.webhookOf(event.roomId); // undefined: a room this node does not know (nothing to keep)
      queue = this.queueFor(event.roomId, webhookUrl ?? null);
      if (webhookUrl !== undefined) this.rooms.set(event.roomId, queue);
    }
    // the instance ends here: its queue still delivers this last event, then is dropped
    if (event.type === 'roomDeleted' || event.type === 'roomCrashed') {
      this.rooms.delete(event.roomId);
      if (queue) this.rememberEnded(event.roomId, queue);
    }
    const message = serverMessageOf(event);
    if (queue && message) this.enqueue(queue, encodeServerMessage(message));
  }

  /** A late upload notification of a room that has ended: to its last webhook, if it ended recently. */
  private afterEnd(event: DomainEvent): void {
    const ended = this.ended.get(event.roomId);
    const message = serverMessageOf(event);
    if (!ended || !message || Date.now() - ended.at > ENDED_ROOM_KEEP_MS) return;
    this.enqueue(ended.queue, encodeServerMessage(message));
  }

  private rememberEnded(roomId: string, queue: Queue): void {
    this.ended.delete(roomId);
    this.ended.set(roomId, { queue, at: Date.now() });
    const now = Date.now();
    for (const [id, entry] of this.ended) {
      if (this.ended.size <= MAX_ENDED_ROOMS && now - entry.at <= ENDED_ROOM_KEEP_MS) break;
      this.ended.delete(id);
    }
  }

  private queueFor(roomId: string, webhookUrl: string | null): Queue | null {
    if (webhookUrl === null) return null;
    let url: URL;
    try {
      url = new URL(webhookUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      this.logger.warn({ room: roomId }, 'webhook URL is not an http(s) URL: no notifications sent');
      return null;
    }
    const shown = displayUrl(url);
    return { roomId, url, shown, items: [], bytes: 0, running: false, refusalLogged: false, overflowDropped: 0, overflowLoggedAt: 0 };
  }

  private enqueue(queue: Queue, body: Uint8Array): void {
    if (this.closing.signal.aborted) return;
    const { maxQueue, maxQueueBytes } = this.options;
    let pushedOut = 0;
    if (body.byteLength > maxQueueBytes) {
      pushedOut++; // larger than a whole queue: this one goes
    } else {
      while (queue.items.length > 0 && (queue.items.length >= maxQueue || queue.bytes + body.byteLength > maxQueueBytes)) {
        queue.bytes -= queue.items.shift()!.byteLength;
        pushedOut++;
      }
      queue.items.push(body);
      queue.bytes += body.byteLength;
    }
    if (pushedOut > 0) this.overflow(queue, pushedOut);
    this.active.add(queue);
    if (!queue.running) void this.drain(queue);
  }

  private overflow(queue: Queue, count: number): void {
    this.dropped += count;
    this.overflowed += count;
    queue.overflowDropped += count;
    if (Date.now() - queue.overflowLoggedAt >= OVERFLOW_LOG_INTERVAL_MS) this.reportOverflow(queue);
  }

  /** One warning for the drops since the last one (at most one per interval, and one when the queue empties). */
  private reportOverflow(queue: Queue): void {
    if (queue.overflowDropped === 0) return;
    queue.overflowLoggedAt = Date.now();
    this.logger.warn(
      { room: queue.roomId, url: queue.shown, droppedSinceLastWarning: queue.overflowDropped, queued: queue.items.length, queuedBytes: queue.bytes },
      'webhook queue full: dropping the oldest notifications',
    );
    queue.overflowDropped = 0;
  }

  private async drain(queue: Queue): Promise<void> {
    queue.running = true;
    try {
      while (queue.items.length > 0 && !this.closing.signal.aborted) {
        const body = queue.items.shift()!;
        queue.bytes -= body.byteLength;
        await this.deliver(queue, body);
      }
    } finally {
      queue.running = false;
      if (queue.items.length === 0) {
        this.active.delete(queue);
        if (!this.closing.signal.aborted) this.reportOverflow(queue);
      }
    }
  }

  private async deliver(queue: Queue, body: Uint8Array): Promise<void> {
    const { maxAttempts, baseDelayMs } = this.options;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const outcome = await this.post(queue.url, body);
      if (this.closing.signal.aborted) return;
      switch (outcome.kind) {
        case 'ok':
          this.delivered++;
          return;
        case 'refused':
          // not retried: the destination is refused by configuration, not failing
          this.dropped++;
          this.refused++;
          this.logger[queue.refusalLogged ? 'debug' : 'warn'](
            { room: queue.roomId, url: queue.shown, address: outcome.address },
            'webhook destination refused: not a public address (FJ_WEBHOOK_ALLOW_PRIVATE=true allows it); notification dropped',
          );
          queue.refusalLogged = true;
          return;
        case 'status':
          this.logger.warn(
            { room: queue.roomId, url: queue.shown, status: outcome.status, attempt },
            outcome.status >= 300 && outcome.status < 400 ? 'webhook answered with a redirect (not followed)' : 'webhook answered with an error',
          );
          break;
        case 'error':
          this.logger.warn({ room: queue.roomId, url: queue.shown, attempt, err: outcome.message }, 'webhook delivery failed');
          break;
      }
      if (attempt < maxAttempts) {
        try {
          await sleep(baseDelayMs * 2 ** (attempt - 1), undefined, { signal: this.closing.signal });
        } catch {
          return; // closed
        }
      }
    }
    this.dropped++;
    this.logger.error({ room: queue.roomId, url: queue.shown, attempts: maxAttempts }, 'webhook notification dropped after retries');
  }

  /** One POST. Never follows redirects (http.request does not); the lookup refuses non-public addresses. */
  private post(url: URL, body: Uint8Array): Promise<Outcome> {
    const literal = literalAddressOf(url);
    if (literal !== undefined && !this.options.allowPrivate && !isPublicAddress(literal)) {
      return Promise.resolve({ kind: 'refused', address: literal });
    }
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
        resolve(outcome);
      };
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent: this.agents[url.protocol as 'http:' | 'https:'],
        headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.byteLength) },
        ...(this.lookup ? { lookup: this.lookup } : {}),
      });
      const timer = setTimeout(() => {
        request.destroy();
        settle({ kind: 'error', message: `no answer within ${this.options.timeoutMs} ms` });
      }, this.options.timeoutMs);
      const onClose = (): void => {
        request.destroy();
        settle({ kind: 'error', message: 'closed' });
      };
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      request.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => undefined);
        // the body is read and thrown away (so the connection can be reused), but not for longer than an attempt
        const bodyTimer = setTimeout(() => res.destroy(), this.options.timeoutMs).unref();
        res.on('close', () => clearTimeout(bodyTimer));
        settle(status >= 200 && status < 300 ? { kind: 'ok' } : { kind: 'status', status });
      });
      request.on('error', (error) => {
        if (error instanceof RefusedDestinationError) settle({ kind: 'refused', address: error.address });
        else settle({ kind: 'error', message: error.message });
      });
      request.end(body);
    });
  }
}
