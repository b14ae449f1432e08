// The SQS FIFO batch worker: each record is one SyncEvent. Records of one message group (one ticket) are
// processed in order; different groups in the same batch run concurrently, since FIFO only orders within a
// group (Powertools' FIFO processor would run them one after another, adding every group's API latency to the
// others'). A failed record fails the rest of its group in the batch, so nothing overtakes it on redelivery;
// permanent failures are dead-lettered at once with their reason instead of being retried to maxReceiveCount.
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorReason, isRetryable, RetryableError } from '../errors.ts';
import { count, countWithReason, logger, MetricUnit, metrics } from '../observability.ts';
import type { Runtime } from '../worker-runtime.ts';
import { processEvent } from './engine.ts';
import { eventIds, SyncEventSchema } from './events.ts';

export async function handleBatch(
  event: SQSEvent,
  _context: Context | undefined,
  getRuntime: () => Promise<Runtime>,
): Promise<SQSBatchResponse> {
  const rt = await getRuntime();
  const groups = new Map<string, SQSRecord[]>();
  for (const record of event.Records) {
    const group = record.attributes?.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  const failed: string[] = [];
  await Promise.all(
    [...groups.values()].map(async (records) => {
      for (const [i, record] of records.entries()) {
        try {
          await processRecord(record, rt);
        } catch (err) {
          const rest = records.slice(i);
          failed.push(...rest.map((r) => r.messageId));
          if (err instanceof RetryableError && err.retryAfterMs !== undefined) {
            await holdBack(rest, err.retryAfterMs, rt);
          }
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

/**
 * Holds a group's failed records back for as long as the platform asked (Retry-After), instead of the queue's
 * visibility timeout: the whole rest of the group, since FIFO delivers none of a group while one is in flight.
 */
export interface RedeliveryControl {
  delay(record: SQSRecord, ms: number): Promise<void>;
}

/** ChangeMessageVisibility on the record's own queue (the event source mapping's role may do so). */
export function sqsRedelivery(client: SQSClient = new SQSClient({})): RedeliveryControl {
  return {
    async delay(record, ms) {
      // arn:aws:sqs:<region>:<account>:<name> → https://sqs.<region>.amazonaws.com/<account>/<name>
      const [, , , region, account, name] = record.eventSourceARN.split(':');
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
          ReceiptHandle: record.receiptHandle,
          // SQS's maximum is 12 hours; Zendesk's longest wait is the 10-minute per-ticket window.
          VisibilityTimeout: Math.min(43_200, Math.max(0, Math.ceil(ms / 1000))),
        }),
      );
    },
  };
}

async function holdBack(records: SQSRecord[], ms: number, rt: Runtime): Promise<void> {
  if (!rt.redelivery) return;
  for (const record of records) {
    // Best effort: if this fails, the queue's visibility timeout applies, which only retries sooner.
    await rt.redelivery.delay(record, ms).catch((err: unknown) => {
      logger.warn('could not delay redelivery', {
        sqsMessageId: record.messageId,
        error: err instanceof Error ? err.name : 'unknown',
      });
    });
  }
}

async function processRecord(record: SQSRecord, rt: Runtime): Promise<void> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const base = { sqsMessageId: record.messageId, receiveCount };
  let parsed: ReturnType<typeof SyncEventSchema.safeParse>;
  try {
    parsed = SyncEventSchema.safeParse(JSON.parse(record.body));
  } catch {
    parsed = SyncEventSchema.safeParse(undefined);
  }
  if (!parsed.success) {
    await deadLetter(record, rt, 'malformed-queue-message', base);
    return;
  }
  const e = parsed.data;
  const ids = { ...base, ...eventIds(e) };
  const started = rt.now();
  try {
    const outcome = await processEvent(e, { ...rt, logger: rt.logger.createChild({ persistentKeys: ids }) });
    if (outcome.status === 'synced') {
      // Per direction and per kind (the action: message, public comment, internal note …).
      count(`Synced_${e.kind.startsWith('zendesk.') ? 'ZendeskToChatwoot' : 'ChatwootToZendesk'}`);
      countWithReason('SyncedMessages', 'Synced', outcome.action);
      if (e.occurredAt) metrics.addMetric('EndToEndLagMs', MetricUnit.Milliseconds, rt.now() - e.occurredAt);
    } else {
      countWithReason('SkippedEvents', 'Skipped', outcome.reason);
    }
    metrics.addMetric('SyncDurationMs', MetricUnit.Milliseconds, rt.now() - started);
  } catch (err) {
    const reason = errorReason(err);
    if (!isRetryable(err)) {
      await deadLetter(record, rt, reason, ids);
      return;
    }
    countWithReason('Retries', 'Retry', reason);
    logger.warn('retrying', { ...ids, reason });
    throw err;
  }
}

async function deadLetter(record: SQSRecord, rt: Runtime, reason: string, ids: Record<string, unknown>) {
  await rt.deadLetters.deadLetter(
    {
      messageId: record.messageId,
      body: record.body,
      groupId: record.attributes?.MessageGroupId,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
    },
    reason,
  );
  countWithReason('DeadLettered', 'DeadLettered', reason);
  logger.error('dead-lettered', { ...ids, reason });
}
