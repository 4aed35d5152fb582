// Blocked LL-HLS requests (a playlist reload with _HLS_msn/_HLS_part, or the preload-hinted part) waiting for a part
// to be published. Bounded: at most `max` wait at once (the next one is refused at once: a hostile client cannot
// grow memory by opening requests), each is released by the part arriving, its timeout, its client hanging up
// (`signal`) or the stream ending; every timer is cleared on release.

export type WaitEnd = 'ready' | 'timeout' | 'aborted' | 'gone';

interface Waiter {
  readonly ready: () => boolean;
  readonly finish: (end: WaitEnd) => void;
}

export class PartWaiters {
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.waiters.size;
  }

  /** undefined when too many wait already (the caller answers 503); else how the wait ended. */
  wait(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<WaitEnd> | undefined {
    if (this.closed) return Promise.resolve('gone');
    if (ready()) return Promise.resolve('ready');
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.waiters.size >= this.max) return undefined;
    return new Promise<WaitEnd>((resolve) => {
      const onAbort = () => waiter.finish('aborted');
      const timer = setTimeout(() => waiter.finish('timeout'), timeoutMs);
      const waiter: Waiter = {
        ready,
        finish: (end) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(end);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Something was published: release whoever it satisfies. */
  published(): void {
    for (const w of [...this.waiters]) if (w.ready()) w.finish('ready');
  }

  /** The stream ended: release everyone, and refuse later waits. */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.finish('gone');
  }
}
