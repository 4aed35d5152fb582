// Per-room webhooks: each event of a room with a webhookUrl is POSTed as application/x-protobuf (the encoded
// ServerMessage). One ordered queue per room, bounded (oldest dropped past the bound), retried with exponential
// backoff a bounded number of times; sending never blocks the room or the event bus.
import type { Logger } from 'pino';
import { encodeServerMessage } from '../proto/index.js';
import type { DomainEvent, EventBus } from '../rooms/event-bus.js';
import { serverMessageOf } from './server-message-of-event.js';

export interface WebhookOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
}

const DEFAULTS: WebhookOptions = { maxAttempts: 5, baseDelayMs: 200, timeoutMs: 5000, maxQueue: 1000 };

interface Queue {
  url: string;
  items: Uint8Array[];
  running: boolean;
}

export class WebhookSender {
  private readonly queues = new Map<string, Queue>();
  /** Each room's URL, remembered from its first event until its last (the room is gone by roomDeleted). */
  private readonly urls = new Map<string, string | null>();
  private readonly options: WebhookOptions;
  delivered = 0;
  dropped = 0;

  constructor(
    bus: EventBus,
    private readonly webhookOf: (roomId: string) => string | null | undefined,
    private readonly logger: Logger,
    options: Partial<WebhookOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    bus.subscribe((event) => this.onEvent(event));
  }

  private onEvent(event: DomainEvent): void {
    if (!this.urls.has(event.roomId)) this.urls.set(event.roomId, this.webhookOf(event.roomId) ?? null);
    const url = this.urls.get(event.roomId);
    if (event.type === 'roomDeleted' || event.type === 'roomCrashed') this.urls.delete(event.roomId);
    if (!url) return;
    let queue = this.queues.get(event.roomId);
    if (!queue) this.queues.set(event.roomId, (queue = { url, items: [], running: false }));
    if (queue.items.length >= this.options.maxQueue) {
      queue.items.shift();
      this.dropped++;
      this.logger.warn({ room: event.roomId }, 'webhook queue full: dropping the oldest notification');
    }
    queue.items.push(encodeServerMessage(serverMessageOf(event)));
    if (!queue.running) void this.drain(event.roomId, queue);
  }

  private async drain(roomId: string, queue: Queue): Promise<void> {
    queue.running = true;
    while (queue.items.length > 0) {
      const body = queue.items[0]!;
      await this.deliver(roomId, queue.url, body);
      queue.items.shift();
    }
    queue.running = false;
    if (this.queues.get(roomId) === queue && queue.items.length === 0) this.queues.delete(roomId);
  }

  private async deliver(roomId: string, url: string, body: Uint8Array): Promise<void> {
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body: new Blob([new Uint8Array(body)]),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.delivered++;
          return;
        }
        this.logger.warn({ room: roomId, status: res.status, attempt }, 'webhook answered with an error');
      } catch (error) {
        this.logger.warn({ room: roomId, attempt, err: (error as Error).message }, 'webhook delivery failed');
      }
      if (attempt < this.options.maxAttempts) await new Promise((r) => setTimeout(r, this.options.baseDelayMs * 2 ** (attempt - 1)));
    }
    this.dropped++;
    this.logger.error({ room: roomId, url }, 'webhook notification dropped after retries');
  }
}
