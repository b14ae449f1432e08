// When a sync event that failed for a passing reason (429, 5xx, a network error) comes back, and how many times:
// one schedule shared by the worker (which holds the record back) and the stack (maxReceiveCount, retention).

/** First wait: a blip or a short 429 burst has passed; one failure costs half a minute, not the 180 s timeout. */
export const RETRY_BASE_MS = 30_000;
/** The wait stops doubling at 30 × the base (15 min at 30 s): a long outage is still tried four times an hour. */
export const RETRY_CAP_FACTOR = 30;
/**
 * After a write that may have been applied (a 5xx, a timeout or a reset after a POST/PUT), a retry waits at least
 * 6 × the base (3 min, the queue's visibility timeout): longer than a platform can still be finishing the request
 * the client gave up on, so the retry's replay guard sees the write if it landed instead of posting it again.
 */
export const UNCERTAIN_FACTOR = 6;
/**
 * Receives before SQS moves a message to the dead-letter queue. With the schedule below, 99 failed receives wait
 * 30 s + 1 + 2 + 4 + 8 min, then 94 × 15 min = 85,530 s ≈ 23¾ hours (`retryWindowMs`): a vendor outage of up
 * to ~23 hours drains by itself, in order, while a message that can never succeed is still dead-lettered within
 * a day. (Permanent failures — 401, 403, 404, 422 — never get here: the worker dead-letters them at once.)
 */
export const MAX_RECEIVE_COUNT = 100;

export interface RetryDelayOptions {
  /** The schedule's first step (default RETRY_BASE_MS; tests shorten it). */
  baseMs?: number | undefined;
  /** What the platform asked for (Retry-After). */
  retryAfterMs?: number | undefined;
  /** The failed write may have been applied (see UNCERTAIN_FACTOR). */
  uncertain?: boolean;
}

/**
 * How long to hold a record back after its `receiveCount`-th receive failed: base × 2^(n−1), capped at
 * base × RETRY_CAP_FACTOR; at least base × UNCERTAIN_FACTOR after an uncertain write; the platform's Retry-After
 * when that is longer.
 */
export function retryDelayMs(receiveCount: number, o: RetryDelayOptions = {}): number {
  const base = o.baseMs ?? RETRY_BASE_MS;
  const n = Number.isFinite(receiveCount) && receiveCount >= 1 ? Math.floor(receiveCount) : 1;
  const backoff = base * Math.min(RETRY_CAP_FACTOR, 2 ** (n - 1));
  return Math.max(backoff, o.uncertain ? base * UNCERTAIN_FACTOR : 0, o.retryAfterMs ?? 0);
}

/**
 * How long a message that keeps failing is retried before it is dead-lettered: 85,530 s with the defaults, or
 * 85,860 s (≈ 23.85 h) when every failure is an uncertain write.
 */
export function retryWindowMs(o: { maxReceiveCount?: number } & RetryDelayOptions = {}): number {
  let total = 0;
  for (let n = 1; n < (o.maxReceiveCount ?? MAX_RECEIVE_COUNT); n++) total += retryDelayMs(n, o);
  return total;
}
