// The SQS FIFO batch worker: each record is one SyncEvent. Records of one message group (one ticket) are
// processed in order; different groups in the same batch run concurrently, since FIFO only orders within a
// group (Powertools' FIFO processor would run them one after another, adding every group's API latency to the
// others'). A failed record fails the rest of its group in the batch, so nothing overtakes it on redelivery;
// permanent failures are dead-lettered at once with their reason instead of being retried to maxReceiveCount.
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorReason, isRetryable } from '../errors.ts';
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
        } catch {
          failed.push(...records.slice(i).map((r) => r.messageId));
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
      count(`Synced_${e.kind === 'zendesk.comment' ? 'ZendeskToChatwoot' : 'ChatwootToZendesk'}`);
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
