// Token buckets, one per key (a client address) plus one shared by all keys, for the demo peer endpoint: a client
// gets a short burst and then a steady trickle, and the shared bucket bounds what many clients together can create.
// Pure: the clock is passed in. The key map is bounded; when full, the buckets that are full again (idle clients,
// indistinguishable from new ones) are dropped first, and if none is, every key is forgotten (a flood of distinct
// addresses then still meets the shared bucket).

export interface BucketRate {
  /** tokens a new or idle key starts with (the burst) */
  readonly burst: number;
  /** tokens added per second */
  readonly perSecond: number;
}

export interface RateLimiterOptions {
  readonly perKey: BucketRate;
  readonly overall: BucketRate;
  readonly maxKeys: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly overall: Bucket;

  constructor(private readonly options: RateLimiterOptions, now: number) {
    this.overall = { tokens: options.overall.burst, at: now };
  }

  /** Takes one token for `key` (and one of the shared ones), or says how long until one is there. */
  take(key: string, now: number): RateDecision {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.options.maxKeys) this.evict(now);
      bucket = { tokens: this.options.perKey.burst, at: now };
      this.buckets.set(key, bucket);
    }
    refill(bucket, this.options.perKey, now);
    refill(this.overall, this.options.overall, now);
    if (bucket.tokens < 1) return { ok: false, retryAfterSeconds: waitFor(bucket, this.options.perKey) };
    if (this.overall.tokens < 1) return { ok: false, retryAfterSeconds: waitFor(this.overall, this.options.overall) };
    bucket.tokens -= 1;
    this.overall.tokens -= 1;
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      refill(bucket, this.options.perKey, now);
      if (bucket.tokens >= this.options.perKey.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.options.maxKeys) this.buckets.clear();
  }
}

function refill(bucket: Bucket, rate: BucketRate, now: number): void {
  const elapsed = Math.max(0, now - bucket.at) / 1000;
  bucket.tokens = Math.min(rate.burst, bucket.tokens + elapsed * rate.perSecond);
  bucket.at = now;
}

function waitFor(bucket: Bucket, rate: BucketRate): number {
  return Math.max(1, Math.ceil((1 - bucket.tokens) / rate.perSecond));
}
