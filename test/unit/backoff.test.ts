// The retry schedule behind maxReceiveCount: doubling from the base, capped, a longer Retry-After wins, and the
// window a message that keeps failing is retried before SQS dead-letters it.
import { describe, expect, it } from 'vitest';
import { NetworkError, PermanentError, RetryableError, UpstreamError } from '../../shared/errors.ts';
import {
  decideRetry,
  MAX_RECEIVE_COUNT,
  type RetryContext,
  retryDelayMs,
  retryWindowMs,
} from '../../shared/queue/backoff.ts';

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

  it('after a write with an unknown outcome waits at least as long as a platform may still finish it (30 s)', () => {
    expect([1, 3, 4, 6].map((n) => retryDelayMs(n, { uncertain: true }))).toEqual([
      30 * s,
      2 * min,
      4 * min,
      15 * min,
    ]);
    expect(retryDelayMs(1, { uncertain: true, baseMs: 10 })).toBe(10);
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

describe('decideRetry: a passing failure costs seconds', () => {
  const ctx = (over: Partial<RetryContext> = {}): RetryContext => ({
    receiveCount: 1,
    attempts: 1,
    spareMs: 10 * s,
    now: 1_000_000,
    random: () => 0.5,
    ...over,
  });

  it('retries an answered 500 after a write in-process within a second; the guard may look at once', () => {
    const err = new UpstreamError('zendesk', 'put tickets/:id', 500);
    expect(decideRetry(err, ctx())).toEqual({ kind: 'again', afterMs: 300 });
    expect(decideRetry(err, ctx({ attempts: 2 }))).toEqual({ kind: 'again', afterMs: 600 });
    // In-process attempts used up: the queue's schedule.
    expect(decideRetry(err, ctx({ attempts: 3 }))).toEqual({ kind: 'hold', delayMs: 30 * s });
  });

  it('after a timeout or a reset, retries in-process but lets the guard write only once the platform is done', () => {
    const timeout = new UpstreamError(
      'chatwoot',
      'post conversations/:id/messages',
      504,
      undefined,
      undefined,
      false,
      false,
    );
    expect(decideRetry(timeout, ctx())).toEqual({ kind: 'again', afterMs: 300, settleUntil: 1_015_000 });
    const reset = new NetworkError('zendesk', 'put tickets/:id', 'ECONNRESET');
    expect(decideRetry(reset, ctx())).toEqual({ kind: 'again', afterMs: 300, settleUntil: 1_030_000 });
    // Out of in-process attempts: held at least until the settle time is over.
    expect(decideRetry(reset, ctx({ attempts: 3, baseMs: 10 }))).toEqual({ kind: 'hold', delayMs: 30 * s });
  });

  it('waits out a short Retry-After in-process and hands a long one to the queue, with no backoff on top', () => {
    expect(decideRetry(new UpstreamError('zendesk', 'put tickets/:id', 429, 1_000), ctx())).toEqual({
      kind: 'again',
      afterMs: 1_000,
    });
    expect(decideRetry(new UpstreamError('zendesk', 'put tickets/:id', 429, 540 * s), ctx())).toEqual({
      kind: 'hold',
      delayMs: 540 * s,
    });
  });

  it('holds a record refused a rate-budget slot until its slot, spread a little so returns do not bunch', () => {
    const refused = new RetryableError('no slot', 'zendesk-rate-budget', 4_000);
    expect(decideRetry(refused, ctx({ random: () => 0 }))).toEqual({ kind: 'hold', delayMs: 4_000 });
    expect(decideRetry(refused, ctx({ random: () => 0.5 }))).toEqual({ kind: 'hold', delayMs: 6_500 });
  });

  it('does not retry in-process what would not fit in the invocation', () => {
    const err = new UpstreamError('zendesk', 'put tickets/:id', 503);
    expect(decideRetry(err, ctx({ spareMs: 100 }))).toEqual({ kind: 'hold', delayMs: 30 * s });
  });

  it('dead-letters what can never succeed at once, and an unclassified failure after three receives', () => {
    const validation = Object.assign(new Error('duplicate keys'), {
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(decideRetry(validation, ctx())).toEqual({ kind: 'dead-letter', reason: 'ValidationException' });
    const denied = Object.assign(new Error('no'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
    });
    expect(decideRetry(denied, ctx())).toEqual({ kind: 'dead-letter', reason: 'AccessDeniedException' });
    expect(decideRetry(new TypeError('x is undefined'), ctx())).toEqual({
      kind: 'dead-letter',
      reason: 'TypeError',
    });
    expect(decideRetry(new PermanentError('gone', 'zendesk-ticket-deleted'), ctx())).toEqual({
      kind: 'dead-letter',
      reason: 'zendesk-ticket-deleted',
    });
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
      $fault: 'client',
      $retryable: { throttling: true },
      $metadata: {},
    });
    expect(decideRetry(throttled, ctx()).kind).toBe('again');
    class Odd extends Error {
      override name = 'Odd';
    }
    expect(decideRetry(new Odd('?'), ctx()).kind).toBe('again');
    expect(decideRetry(new Odd('?'), ctx({ receiveCount: 3 }))).toEqual({
      kind: 'dead-letter',
      reason: 'unclassified-Odd',
    });
  });
});
