// When a sync event that failed for a passing reason (429, 5xx, a network error) comes back, and how many times:
// one schedule shared by the worker (which holds the record back) and the stack (maxReceiveCount, retention).

import { UNKNOWN_OUTCOME_SETTLE_MS } from '../budgets.ts';
import {
  classifyFailure,
  errorReason,
  RetryableError,
  UNKNOWN_FAILURE_ATTEMPTS,
  UpstreamError,
  uncertainOutcome,
} from '../errors.ts';

/**
 * First wait on the queue, once the in-process retries (`decideRetry`) did not get past a failure: a blip has
 * been retried within seconds already, so what comes here is an outage or a burst of throttling.
 */
export const RETRY_BASE_MS = 30_000;
/** The wait stops doubling at 30 × the base (15 min at 30 s): a long outage is still tried four times an hour. */
const RETRY_CAP_FACTOR = 30;
/**
 * After a write whose outcome is unknown (a timeout or a reset after a POST/PUT), a retry from the queue waits at
 * least the longest time a platform may still be finishing it (UNKNOWN_OUTCOME_SETTLE_MS, 30 s for Zendesk = 1 ×
 * the base), so its replay guard sees the write if it landed instead of posting it again.
 */
const UNCERTAIN_FACTOR = Math.max(...Object.values(UNKNOWN_OUTCOME_SETTLE_MS)) / RETRY_BASE_MS;
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

/** In-process attempts of one record before it goes back to the queue: a blip passes within them. */
export const IN_PROCESS_ATTEMPTS = 3;
/** First in-process pause (doubling, full jitter): long enough for a platform's blip, short for a Lambda. */
const IN_PROCESS_BASE_MS = 300;
/** A server-requested wait up to this long is spent in-process; longer ones go back to the queue. */
const IN_PROCESS_MAX_WAIT_MS = 2_000;
/** A record refused a rate-budget slot comes back within this spread after its slot, so returns do not bunch. */
const BUDGET_SPREAD_MS = 5_000;

/** What to do with a record whose attempt failed. */
export type RetryDecision =
  /** Try again in this invocation after `afterMs`; `settleUntil`: the replay guard may not write before then. */
  | { kind: 'again'; afterMs: number; settleUntil?: number }
  /** Back to the queue for `delayMs` (ChangeMessageVisibility), with the rest of its group. */
  | { kind: 'hold'; delayMs: number }
  /** It will never succeed: to the dead-letter queue with the reason. */
  | { kind: 'dead-letter'; reason: string };

export interface RetryContext {
  /** SQS's ApproximateReceiveCount of the record. */
  receiveCount: number;
  /** In-process attempts made so far in this invocation (1 after the first failure). */
  attempts: number;
  /** What is left of the invocation beyond the time a fresh attempt needs (RECORD_BUDGET_MS). */
  spareMs: number;
  baseMs?: number | undefined;
  now: number;
  random?: () => number;
}

/**
 * The retry policy of a failed record (#15 item 1): a passing failure costs seconds, never minutes.
 * - permanent (401/403/404/422, AWS client faults, bugs) → dead-letter at once; unclassified ones after
 *   UNKNOWN_FAILURE_ATTEMPTS receives;
 * - an answered failure (a 5xx the platform finished, 503, 429, a refused connection, a claim held elsewhere) →
 *   again in-process after 300 ms doubling with full jitter (the replay guard looks at once after a write that
 *   may have landed: the platform finished the request);
 * - an unknown outcome (timeout, reset after a write) → again in-process after a short pause, but the replay guard
 *   may only look, not write, until the platform cannot still be finishing it (`settleUntil`);
 * - a rate-budget refusal or a Retry-After → back to the queue until then (spread a little), no backoff on top;
 * - anything the in-process attempts did not get past → the queue's schedule (30 s doubling to 15 min).
 */
export function decideRetry(err: unknown, c: RetryContext): RetryDecision {
  const random = c.random ?? Math.random;
  const cls = classifyFailure(err);
  if (cls === 'permanent') return { kind: 'dead-letter', reason: errorReason(err) };
  if (cls === 'unknown' && c.receiveCount >= UNKNOWN_FAILURE_ATTEMPTS)
    return { kind: 'dead-letter', reason: `unclassified-${errorReason(err)}` };
  const retryAfter =
    err instanceof RetryableError || err instanceof UpstreamError ? err.retryAfterMs : undefined;
  const reason = err instanceof RetryableError ? err.reason : '';
  if (reason.endsWith('-budget') && retryAfter !== undefined)
    return { kind: 'hold', delayMs: Math.ceil(retryAfter + random() * BUDGET_SPREAD_MS) };
  if (reason === 'outcome-settling' && retryAfter !== undefined)
    return { kind: 'hold', delayMs: Math.ceil(retryAfter) };
  const uncertain = uncertainOutcome(err);
  const settleUntil =
    uncertain?.settling === true
      ? c.now + UNKNOWN_OUTCOME_SETTLE_MS[uncertain.platform ?? 'zendesk']
      : undefined;
  const pause = retryAfter ?? IN_PROCESS_BASE_MS * 2 ** (c.attempts - 1) * (0.5 + random());
  if (c.attempts < IN_PROCESS_ATTEMPTS && pause <= IN_PROCESS_MAX_WAIT_MS && pause < c.spareMs)
    return { kind: 'again', afterMs: Math.ceil(pause), ...(settleUntil ? { settleUntil } : {}) };
  const delay = retryDelayMs(c.receiveCount, { baseMs: c.baseMs, retryAfterMs: retryAfter });
  return { kind: 'hold', delayMs: settleUntil ? Math.max(delay, settleUntil - c.now) : delay };
}
