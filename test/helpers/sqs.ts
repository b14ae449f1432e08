// SQS-shaped records for handing a SyncEvent straight to the worker (past the queue), as Lambda would.
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { SyncEvent } from '../../shared/events/sync-event.ts';
import { toOutbound } from '../../shared/queue/types.ts';

export function sqsRecordFor(e: SyncEvent, messageId: string, receiveCount = 1): SQSRecord {
  const m = toOutbound(e);
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `${messageId}:${receiveCount}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: now,
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.dedupId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:test.fifo',
    awsRegion: 'local',
  };
}

/** A one-record batch. */
export function sqsEventFor(e: SyncEvent, messageId: string): SQSEvent {
  return { Records: [sqsRecordFor(e, messageId)] };
}
