// Per-container rate limits for the dashboard app: a token bucket per key (source IP, conversation). API Gateway's
// stage throttle caps the whole API; these keep one browser, or one guesser of the key, from using all of it.
export interface Bucket {
  /** Requests allowed at once. */
  capacity: number;
  /** Tokens added per second. */
  perSecond: number;
}

/** Keys kept per limiter: enough for every agent of a desk; the oldest is dropped first (it only forgets). */
const MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly state = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly bucket: Bucket,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `key`; false when there is none left (answer 429). */
  take(key: string, cost = 1): boolean {
    const now = this.now();
    const s = this.state.get(key) ?? { tokens: this.bucket.capacity, at: now };
    const tokens = Math.min(this.bucket.capacity, s.tokens + ((now - s.at) / 1000) * this.bucket.perSecond);
    const ok = tokens >= cost;
    this.state.delete(key);
    this.state.set(key, { tokens: ok ? tokens - cost : tokens, at: now });
    if (this.state.size > MAX_KEYS) this.state.delete(this.state.keys().next().value as string);
    return ok;
  }

  /** Whether `key` has a token left, without taking one. */
  has(key: string, cost = 1): boolean {
    const s = this.state.get(key);
    if (!s) return true;
    return (
      Math.min(this.bucket.capacity, s.tokens + ((this.now() - s.at) / 1000) * this.bucket.perSecond) >= cost
    );
  }
}
