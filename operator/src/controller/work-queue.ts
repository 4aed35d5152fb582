// A rate-limited work queue like client-go's: a key is queued at most once, never processed by two workers at
// once (a key added while processing runs again afterwards), failures retry with per-key exponential backoff.

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Pure: the delay before retry number `failures` (1-based). */
export function backoffDelay(failures: number, opts: BackoffOptions): number {
  return Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, failures - 1));
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly backoff: BackoffOptions) {}

  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Adds after a delay; an earlier pending delayed add for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const pending = this.timers.get(key);
    if (pending) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, timer);
  }

  /** Retry after a failure; returns the delay used. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = backoffDelay(n, this.backoff);
    const pending = this.timers.get(key);
    if (pending) {
      clearTimeout(pending);
      this.timers.delete(key);
    }
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process, or undefined once stopped. Call done(key) afterwards. */
  async get(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (key !== undefined) {
        this.queued.delete(key);
        this.processing.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }
}
