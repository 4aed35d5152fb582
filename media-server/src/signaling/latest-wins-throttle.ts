// Coalesces state updates that fan out to a whole room (endpoint and track metadata). One peer sending 16 KiB metadata
// updates in a loop would otherwise make the node write each one to every other peer: N-fold amplification that fills
// the receivers' socket buffers until the node closes them, innocent as they are. Metadata is state, so only the
// latest value matters: the first update of a key runs at once, later ones within the interval replace each other and
// the last runs when the interval ends. Nothing is lost that a receiver needs, and each key holds at most one pending
// update and one timer.

export class LatestWinsThrottle {
  private readonly lastRunAt = new Map<string, number>();
  private readonly pending = new Map<string, { run: () => void; timer: NodeJS.Timeout }>();

  constructor(
    /** the minimum time between two runs of a key, asked at each update (it may grow with the room) */
    private readonly intervalMs: (key: string) => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `run` now, or as the latest pending update of `key` when the interval since its last run has passed. */
  schedule(key: string, run: () => void): void {
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.run = run;
      return;
    }
    const due = (this.lastRunAt.get(key) ?? -Infinity) + this.intervalMs(key);
    const now = this.now();
    if (now >= due) {
      this.lastRunAt.set(key, now);
      run();
      return;
    }
    const entry = {
      run,
      timer: setTimeout(() => {
        this.pending.delete(key);
        this.lastRunAt.set(key, this.now());
        entry.run();
      }, due - now),
    };
    entry.timer.unref?.();
    this.pending.set(key, entry);
  }

  /** Forgets the keys starting with `prefix` (a peer that left): their pending updates are dropped, never run. */
  forget(prefix: string): void {
    for (const [key, entry] of this.pending) {
      if (!key.startsWith(prefix)) continue;
      clearTimeout(entry.timer);
      this.pending.delete(key);
    }
    for (const key of this.lastRunAt.keys()) if (key.startsWith(prefix)) this.lastRunAt.delete(key);
  }

  /** keys with an update waiting (for tests and bounds) */
  get pendingCount(): number {
    return this.pending.size;
  }
}
