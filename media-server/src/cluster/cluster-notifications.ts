// Server notifications are cluster-wide: a subscriber on any node sees every node's events. Each node sends its own
// events only to the members that have subscribers (load reports carry that flag, and a node tells the others at
// once when its first subscriber comes or its last one goes), so a cluster nobody listens to exchanges no events.
import { NotificationHub } from '../notifications/notification-hub.js';
import { serverMessageOf } from '../notifications/server-message-of-event.js';
import { decodeServerMessage, encodeServerMessage, ServerEventType, type ServerMessage } from '../proto/index.js';
import type { EventBus } from '../rooms/event-bus.js';
import type { ClusterNode } from './cluster-node.js';

/** A NotificationHub that says when its server-notification subscribers come and go. */
export class ObservedNotificationHub extends NotificationHub {
  private onChange: () => void = () => undefined;
  private had = false;

  override subscribe(eventType: number, listener: (message: ServerMessage) => void): () => void {
    const off = super.subscribe(eventType, listener);
    this.changed();
    return () => {
      off();
      this.changed();
    };
  }

  onSubscribersChanged(fn: () => void): void {
    this.onChange = fn;
  }

  wantsNotifications(): boolean {
    return this.hasSubscribers(ServerEventType.SERVER_NOTIFICATION);
  }

  private changed(): void {
    const has = this.wantsNotifications();
    if (has === this.had) return;
    this.had = has;
    this.onChange();
  }
}

export function shareNotifications(cluster: ClusterNode, bus: EventBus, hub: ObservedNotificationHub): void {
  hub.onSubscribersChanged(() => cluster.broadcastLoad());
  bus.subscribe((event) => {
    const message = serverMessageOf(event); // undefined: an event with no notification (component added/removed)
    if (message) cluster.sendToSubscribers({ t: 'notify', d: Buffer.from(encodeServerMessage(message)).toString('base64') });
  });
  cluster.on('message', (message) => {
    if (message.t !== 'notify') return;
    const decoded = decodeServerMessage(Buffer.from(String(message.d), 'base64'));
    if (decoded.ok) hub.publish(ServerEventType.SERVER_NOTIFICATION, decoded.value);
  });
}
