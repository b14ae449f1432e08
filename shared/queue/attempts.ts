// One record's attempts inside a worker invocation: the first try, in-process retries of a passing failure
// (decideRetry in ./backoff.ts), and the verdict when they do not get past it — hold the record (and the rest of
// its group) back on the queue, or dead-letter it — with what the worker knows about a held-back record
// published for the stuck-ticket alarm.
import type { SQSRecord } from 'aws-lambda';
import { errorReason, RetryableError } from '../errors.ts';
import { count, logger, MetricUnit, metrics } from '../observability.ts';
import { decideRetry } from './backoff.ts';

export type AttemptVerdict =
  | { kind: 'done' }
  | { kind: 'hold'; delayMs: number; error: unknown }
  | { kind: 'dead-letter'; reason: string; error: unknown };

export interface AttemptOptions {
  /** Time a fresh attempt may still take (the worker's remaining time minus its record budget); <0: none. */
  spareMs: () => number;
  baseMs?: number | undefined;
  /** Settle time override (tests compress it like the retry base; never longer than the platform's). */
  settleMs?: number | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Ids for the log lines (ticket, event key …). */
  ids?: Record<string, unknown>;
}

/**
 * Runs `attempt` until it succeeds, or until the retry policy says to hold the record or dead-letter it.
 * `attempt` receives `settleUntil` after a write whose outcome is unknown: its replay guard may look before then,
 * but must not write (it throws a RetryableError `outcome-settling` carrying the wait instead).
 */
export async function attemptRecord(
  record: SQSRecord,
  attempt: (settleUntil: number | undefined) => Promise<void>,
  o: AttemptOptions,
): Promise<AttemptVerdict> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  let settleUntil: number | undefined;
  for (let attempts = 1; ; attempts++) {
    try {
      await attempt(settleUntil);
      return { kind: 'done' };
    } catch (err) {
      const decision = decideRetry(err, {
        receiveCount,
        attempts,
        spareMs: o.spareMs(),
        baseMs: o.baseMs,
        now: now(),
      });
      const reason = errorReason(err);
      if (decision.kind === 'dead-letter')
        return { kind: 'dead-letter', reason: decision.reason, error: err };
      if (decision.kind === 'again') {
        count('RetriedInProcess');
        logger.info('retrying in-process', {
          ...o.ids,
          reason,
          attempt: attempts,
          afterMs: decision.afterMs,
        });
        if (decision.settleUntil !== undefined) {
          const settle =
            o.settleMs === undefined
              ? decision.settleUntil
              : Math.min(decision.settleUntil, now() + o.settleMs);
          settleUntil ??= settle;
        }
        await sleep(decision.afterMs);
        continue;
      }
      publishHeldBack(record, err, decision.delayMs, reason, receiveCount, now(), o.ids);
      return { kind: 'hold', delayMs: decision.delayMs, error: err };
    }
  }
}

/**
 * #14 item 3: ApproximateAgeOfOldestMessage leaves out a message received three or more times — exactly the one
 * held back — so the worker says what it knows: how old the held-back message is and how often it was received.
 * Waits a platform or the rate budget asked for are not failures and are left out (a backlog or Zendesk's
 * per-ticket window would otherwise look like a stuck ticket).
 */
function publishHeldBack(
  record: SQSRecord,
  err: unknown,
  delayMs: number,
  reason: string,
  receiveCount: number,
  now: number,
  ids: Record<string, unknown> | undefined,
): void {
  const sent = Number(record.attributes?.SentTimestamp ?? now);
  const ageSeconds = Math.max(0, Math.round((now - sent) / 1000));
  const asked = err instanceof RetryableError && /-budget$|^outcome-settling$/.test(err.reason);
  logger.warn('held back', {
    ...ids,
    reason,
    receiveCount,
    ageSeconds,
    delayMs,
    sqsMessageId: record.messageId,
  });
  if (asked) return;
  metrics.addMetric('HeldBackAgeSeconds', MetricUnit.Seconds, ageSeconds);
  metrics.addMetric('HeldBackReceiveCount', MetricUnit.Count, receiveCount);
}
