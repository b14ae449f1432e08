// The SQS FIFO batch worker: each record is one SyncEvent. Records of one message group (one ticket) are
// processed in order; different groups in the same batch run concurrently, since FIFO only orders within a
// group (Powertools' FIFO processor would run them one after another, adding every group's API latency to the
// others'). A passing failure is retried within the invocation, in seconds (shared/queue/attempts.ts); one that
// does not pass fails the rest of its group in the batch, so nothing overtakes it on redelivery, and holds them
// back on an increasing schedule (shared/queue/backoff.ts) so an outage of hours does not exhaust
// maxReceiveCount; failures that can never succeed are dead-lettered at once with their reason.
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RECORD_BUDGET_MS } from '../budgets.ts';
import { classifyFailure, errorReason } from '../errors.ts';
import { eventIds, type SyncEvent, SyncEventSchema } from '../events/sync-event.ts';
import { count, countWithReason, logger, MetricUnit, metrics } from '../observability.ts';
import { attemptRecord } from '../queue/attempts.ts';
import { MAX_RECEIVE_COUNT, retryDelayMs } from '../queue/backoff.ts';
import type { RedeliveryControl } from '../queue/types.ts';
import type { AttentionEntry, AttentionStore } from '../store/attention.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import { processEvent } from './engine.ts';

/**
 * A record is started (or retried in-process) only while at least this much of the invocation is left: a rate
 * wait, its downloads, one platform call with its in-process retries, and the ledger around them
 * (RECORD_BUDGET_MS, shared/budgets.ts). A record cut off by the Lambda timeout would fail the whole batch (done
 * records included) and leave its claim leased; one not started costs nothing.
 */
export const START_MARGIN_MS = RECORD_BUDGET_MS;

export async function handleBatch(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  getWorkerDeps: () => Promise<WorkerDeps>,
  /** Holds records back when the dependencies themselves cannot be built (the control they would carry). */
  redeliveryWithoutDeps?: () => RedeliveryControl | undefined,
): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of event.Records) {
    const group = record.attributes?.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  let rt: WorkerDeps;
  try {
    rt = await getWorkerDeps();
  } catch (err) {
    // The configuration could not be read (Secrets Manager unreachable, a mis-edited secret with no earlier good
    // one): nothing was started, so nothing was claimed. The whole batch goes back, held on the retry schedule
    // like any retryable failure — otherwise every receive would come back after the 180 s visibility timeout and
    // 100 receives would dead-letter the backlog after 5 hours instead of the documented ~23¾.
    count('WorkerDepsUnavailable');
    logger.error('could not build the worker dependencies; the whole batch will be retried', {
      records: event.Records.length,
      error: err instanceof Error ? err.name : 'unknown',
    });
    const redelivery = redeliveryWithoutDeps?.();
    for (const records of groups.values()) {
      await holdBack(records, retryDelayMs(receiveCount(records[0]!)), redelivery);
    }
    return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
  const failed: string[] = [];
  await Promise.all(
    [...groups.values()].map(async (records) => {
      for (const [i, record] of records.entries()) {
        const rest = records.slice(i);
        const remainingMs = context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
        if (remainingMs < START_MARGIN_MS) {
          // Not started, so no claim taken: back on the queue as soon as the group is free (SQS delivers none of
          // a group while this batch's records are in flight), instead of after the 180 s visibility timeout.
          failed.push(...rest.map((r) => r.messageId));
          logger.warn('not started: invocation nearly out of time', {
            sqsMessageId: record.messageId,
            notStarted: rest.length,
            remainingMs,
          });
          await holdBack(rest, 0, rt.redelivery);
          return;
        }
        const parsed = parseRecord(record);
        const ids = {
          sqsMessageId: record.messageId,
          receiveCount: receiveCount(record),
          ...(parsed ? eventIds(parsed) : {}),
        };
        if (!parsed) {
          await deadLetter(record, rt, 'malformed-queue-message', ids);
          continue;
        }
        const verdict = await attemptRecord(
          record,
          (settleUntil) => processRecord(record, parsed, ids, rt, settleUntil),
          {
            spareMs: () =>
              (context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY) - START_MARGIN_MS,
            baseMs: rt.retryBaseMs,
            settleMs: rt.settleMs,
            ids,
          },
        );
        if (verdict.kind === 'dead-letter') {
          // It will never succeed: the group goes on without it.
          await deadLetter(record, rt, verdict.reason, ids);
          await attention(rt, 'note', (a) =>
            a.note(
              groupOf(record),
              [{ ...entryOf(record, parsed.eventKey, verdict.reason), state: 'dead-lettered' }],
              new Map([[parsed.eventKey, record.body]]),
            ),
          );
          continue;
        }
        if (verdict.kind === 'hold') {
          // Not past it in this invocation: hold the record and the rest of its group back, for as long as the
          // platform or the budget asked, or longer after every failed receive.
          failed.push(...rest.map((r) => r.messageId));
          await holdBack(rest, verdict.delayMs, rt.redelivery);
          await noteHeld(rest, errorReason(verdict.error), rt);
          return;
        }
      }
    }),
  );
  // Report in batch order, as Lambda expects item identifiers of this batch.
  const order = new Map(event.Records.map((r, i) => [r.messageId, i]));
  failed.sort((a, b) => order.get(a)! - order.get(b)!);
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

function receiveCount(record: SQSRecord): number {
  return Number(record.attributes?.ApproximateReceiveCount ?? '1');
}

async function holdBack(
  records: SQSRecord[],
  ms: number,
  redelivery: RedeliveryControl | undefined,
): Promise<void> {
  if (!redelivery) return;
  for (const record of records) {
    // Best effort: if this fails, the queue's 180 s visibility timeout applies instead.
    await redelivery.delay(record, ms).catch((err: unknown) => {
      logger.warn('could not delay redelivery', {
        sqsMessageId: record.messageId,
        error: err instanceof Error ? err.name : 'unknown',
      });
    });
  }
}

function parseRecord(record: SQSRecord): SyncEvent | undefined {
  try {
    const parsed = SyncEventSchema.safeParse(JSON.parse(record.body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One attempt at a record's event; `settleUntil`: its replay guard may look but not write before then. */
async function processRecord(
  record: SQSRecord,
  e: SyncEvent,
  ids: Record<string, unknown>,
  rt: WorkerDeps,
  settleUntil: number | undefined,
): Promise<void> {
  const started = rt.now();
  try {
    const outcome = await processEvent(e, {
      ...rt,
      // What the history import enqueued reads Zendesk only with what live sync leaves of the budget.
      ...(e.kind === 'zendesk.comment' && e.via === 'import' && rt.importZendesk
        ? { zendesk: rt.importZendesk }
        : {}),
      logger: rt.logger.createChild({ persistentKeys: ids }),
      ...(settleUntil !== undefined ? { settleUntil } : {}),
    });
    if (outcome.status === 'synced') {
      // Per direction and per kind (the action: message, public comment, internal note …).
      count(`Synced_${e.kind.startsWith('zendesk.') ? 'ZendeskToChatwoot' : 'ChatwootToZendesk'}`);
      countWithReason('SyncedMessages', 'Synced', outcome.action);
      if (e.occurredAt) metrics.addMetric('EndToEndLagMs', MetricUnit.Milliseconds, rt.now() - e.occurredAt);
    } else {
      countWithReason('SkippedEvents', 'Skipped', outcome.reason);
    }
    metrics.addMetric('SyncDurationMs', MetricUnit.Milliseconds, rt.now() - started);
    // Only a record that failed before can be on the attention list: steady state pays nothing for it.
    if (receiveCount(record) > 1) await attention(rt, 'clear', (a) => a.clear(groupOf(record), [e.eventKey]));
  } catch (err) {
    if (classifyFailure(err) !== 'permanent') {
      const reason = errorReason(err);
      countWithReason('Retries', 'Retry', reason);
      logger.warn('retrying', { ...ids, reason });
    }
    throw err;
  }
}

function groupOf(record: SQSRecord): string {
  return record.attributes?.MessageGroupId ?? record.messageId;
}

function entryOf(record: SQSRecord, eventKey: string, reason: string): AttentionEntry {
  return {
    eventKey,
    state: 'retrying',
    reason,
    at: Date.now(),
    receiveCount: receiveCount(record),
    sqsMessageId: record.messageId,
    receiptHandle: record.receiptHandle,
    queueArn: record.eventSourceARN,
  };
}

/**
 * Puts a held group on the attention list (the dashboard app shows it): the failed record with its reason, the
 * ones behind it as waiting for it. A record at its last receive goes to the DLQ next, so it is listed as
 * dead-lettered, with its body so it can be retried alone.
 */
async function noteHeld(records: SQSRecord[], reason: string, rt: WorkerDeps): Promise<void> {
  const [first] = records;
  if (!first) return;
  const firstKey = describeKey(first.body);
  const entries: AttentionEntry[] = [];
  const bodies = new Map<string, string>();
  for (const [i, r] of records.entries()) {
    const key = describeKey(r.body);
    if (!key) continue;
    const last = receiveCount(r) >= MAX_RECEIVE_COUNT;
    entries.push({
      ...entryOf(r, key, i === 0 ? reason : `waiting-behind:${firstKey ?? 'an-earlier-event'}`),
      state: last ? 'dead-lettered' : 'retrying',
    });
    if (last) bodies.set(key, r.body);
  }
  await attention(rt, 'note', (a) => a.note(groupOf(first), entries, bodies));
}

function describeKey(body: string): string | undefined {
  try {
    const key = (JSON.parse(body) as { eventKey?: unknown }).eventKey;
    return typeof key === 'string' && key.length > 0 && key.length <= 512 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Attention-list bookkeeping is best effort: it must never fail or delay the sync it describes. */
async function attention(rt: WorkerDeps, op: string, f: (a: AttentionStore) => Promise<void>): Promise<void> {
  if (!rt.attention) return;
  await f(rt.attention).catch((err: unknown) => {
    logger.warn('attention list update failed', { op, error: err instanceof Error ? err.name : 'unknown' });
  });
}

async function deadLetter(record: SQSRecord, rt: WorkerDeps, reason: string, ids: Record<string, unknown>) {
  await rt.deadLetters.deadLetter(
    {
      messageId: record.messageId,
      body: record.body,
      groupId: record.attributes?.MessageGroupId,
      receiveCount: receiveCount(record),
    },
    reason,
  );
  countWithReason('DeadLettered', 'DeadLettered', reason);
  logger.error('dead-lettered', { ...ids, reason });
}
