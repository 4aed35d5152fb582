// Drain: stop taking new rooms, wait for this node's rooms to end (deleted, purged or emptied by their owners), or
// for the drain timeout, then hand over to the shutdown. Idempotent: a second request while draining is a no-op.
import type { Logger } from 'pino';
import type { NodeState } from './node-state.js';

export interface DrainDeps {
  readonly state: NodeState;
  readonly roomCount: () => number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly pollMs?: number;
}

export class Drain {
  private running: Promise<'empty' | 'timeout'> | undefined;

  constructor(private readonly deps: DrainDeps) {}

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the node is empty ('empty') or the timeout ran out ('timeout'). */
  start(): Promise<'empty' | 'timeout'> {
    if (this.running) return this.running;
    const { state, roomCount, timeoutMs, logger } = this.deps;
    state.set('DRAINING');
    logger.info({ rooms: roomCount(), timeoutMs }, 'draining: no new rooms; waiting for rooms to end');
    this.running = new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs;
      const check = (): void => {
        if (roomCount() === 0) return resolve('empty');
        if (Date.now() >= deadline) return resolve('timeout');
        setTimeout(check, this.deps.pollMs ?? 200);
      };
      check();
    });
    return this.running;
  }
}
