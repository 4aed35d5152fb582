// Fans server messages out to server-socket subscribers by event type (SERVER_NOTIFICATION or METRICS).
// Domain events become notifications here; the cluster layer may also inject other nodes' messages.
import { ServerEventType, type ServerMessage } from '../proto/index.js';
import type { EventBus } from '../rooms/event-bus.js';
import { serverMessageOf } from './server-message-of-event.js';

type Listener = (message: ServerMessage) => void;

export class NotificationHub {
  private readonly listeners = new Map<number, Set<Listener>>();

  constructor(bus: EventBus) {
    bus.subscribe((event) => {
      const message = serverMessageOf(event);
      if (message) this.publish(ServerEventType.SERVER_NOTIFICATION, message);
    });
  }

  subscribe(eventType: number, listener: Listener): () => void {
    let set = this.listeners.get(eventType);
    if (!set) this.listeners.set(eventType, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  publish(eventType: number, message: ServerMessage): void {
    for (const listener of this.listeners.get(eventType) ?? []) listener(message);
  }

  hasSubscribers(eventType: number): boolean {
    return (this.listeners.get(eventType)?.size ?? 0) > 0;
  }
}
