// The node's serving state. STARTING until the HTTP server listens, SERVING, then DRAINING (no new rooms are placed
// here; rooms go on and take peers) and STOPPING (closing everything).
import { EventEmitter } from 'node:events';

export type NodeStatus = 'STARTING' | 'SERVING' | 'DRAINING' | 'STOPPING';

export class NodeState extends EventEmitter<{ change: [NodeStatus] }> {
  private current: NodeStatus = 'STARTING';
  readonly startedAt = Date.now();

  get status(): NodeStatus {
    return this.current;
  }

  get acceptsRooms(): boolean {
    return this.current === 'SERVING';
  }

  set(next: NodeStatus): void {
    if (next === this.current) return;
    this.current = next;
    this.emit('change', next);
  }
}
