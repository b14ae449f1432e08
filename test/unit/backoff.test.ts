// The retry schedule behind maxReceiveCount: doubling from the base, capped, a longer Retry-After wins, and the
// window a message that keeps failing is retried before SQS dead-letters it.
import { describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT, retryDelayMs, retryWindowMs } from '../../shared/queue/backoff.ts';

const s = 1_000;
const min = 60 * s;

describe('retryDelayMs', () => {
  it('doubles from 30 s after each failed receive and stops at 15 minutes', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 7, 50, 99].map((n) => retryDelayMs(n));
    expect(schedule).toEqual([
      30 * s,
      1 * min,
      2 * min,
      4 * min,
      8 * min,
      15 * min,
      15 * min,
      15 * min,
      15 * min,
    ]);
  });

  it("waits for the platform's Retry-After when it is longer, never less than the schedule", () => {
    expect(retryDelayMs(1, { retryAfterMs: 10 * min })).toBe(10 * min);
    expect(retryDelayMs(7, { retryAfterMs: 10 * min })).toBe(15 * min);
    expect(retryDelayMs(3, { retryAfterMs: 5 * s })).toBe(2 * min);
  });

  it('waits at least 3 minutes after a write that may have landed, so the retry can see it', () => {
    expect([1, 3, 4, 6].map((n) => retryDelayMs(n, { uncertain: true }))).toEqual([
      3 * min,
      3 * min,
      4 * min,
      15 * min,
    ]);
    expect(retryWindowMs({ uncertain: true })).toBe(3 * 3 * min + 4 * min + 8 * min + 94 * 15 * min);
  });

  it('scales with a shortened base (tests) and treats a missing or odd receive count as the first', () => {
    expect([1, 2, 6, 9].map((n) => retryDelayMs(n, { baseMs: 10 }))).toEqual([10, 20, 300, 300]);
    expect(retryDelayMs(Number.NaN)).toBe(30 * s);
    expect(retryDelayMs(0)).toBe(30 * s);
  });
});

describe('retryWindowMs', () => {
  it('is ≈ 23¾ hours for 100 receives: 30 s + 1 + 2 + 4 + 8 min, then 94 × 15 min', () => {
    expect(MAX_RECEIVE_COUNT).toBe(100);
    expect(retryWindowMs()).toBe(30 * s + 15 * min + 94 * 15 * min);
    expect(retryWindowMs() / 3_600_000).toBeCloseTo(23.76, 2);
  });
});
