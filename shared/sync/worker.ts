// The SQS FIFO batch worker: each record is one SyncEvent. Partial batch responses keep per-group order (a failed
// record fails the rest of its group in the batch, other groups go on); permanent failures are dead-lettered at
// once with their reason instead of being retried until maxReceiveCount.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorReason, isRetryable, PermanentError } from '../errors.ts';
import { count, countWithReason, logger, MetricUnit, metrics } from '../observability.ts';
import type { Runtime } from '../worker-runtime.ts';
import { processEvent } from './engine.ts';
import { eventIds, SyncEventSchema } from './events.ts';

export async function handleBatch(
  event: SQSEvent,
  context: Context | undefined,
  getRuntime: () => Promise<Runtime>,
): Promise<SQSBatchResponse> {
  const rt = await getRuntime();
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    await processRecord(record, rt);
  };
  return processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
    ...(context ? { context } : {}),
    skipGroupOnError: true,
    throwOnFullBatchFailure: false,
  });
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

export { PermanentError };
