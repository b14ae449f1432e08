// SQS FIFO implementation of the queue and of the dead-letter sink (deployed path), over the JSON protocol
// with the small SigV4 client (see shared/aws/sigv4.ts for why not the SDK).
import { callAws, SQS } from '../aws/json-api.ts';
import type { DeadLetter, DeadLetterSink, EventQueue, OutboundMessage, RedeliveryControl } from './types.ts';

/** The region a queue lives in, from its URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
function regionOfQueue(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1];
}

export class SqsQueue implements EventQueue, DeadLetterSink {
  private readonly region: string | undefined;

  constructor(private readonly queueUrl: string) {
    this.region = regionOfQueue(queueUrl);
  }

  async send(m: OutboundMessage): Promise<void> {
    await callAws(
      SQS,
      'SendMessage',
      {
        QueueUrl: this.queueUrl,
        MessageBody: m.body,
        MessageGroupId: m.groupId,
        MessageDeduplicationId: m.dedupId,
      },
      this.region ? { region: this.region } : {},
    );
  }

  async deadLetter(record: DeadLetter, reason: string): Promise<void> {
    await callAws(
      SQS,
      'SendMessage',
      {
        QueueUrl: this.queueUrl,
        MessageBody: record.body,
        MessageGroupId: record.groupId ?? 'dead-letters',
        // A redrive of the same record must be accepted again later, so the id is the delivery, not the event.
        MessageDeduplicationId: record.messageId,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 256) },
          originalMessageId: { DataType: 'String', StringValue: record.messageId },
        },
      },
      this.region ? { region: this.region } : {},
    );
  }
}

/**
 * ChangeMessageVisibility on the record's own queue (the event source mapping's role may do so), through the
 * small SigV4 client: the SDK's SQS client would add ~45 ms to every worker cold start for this one call.
 */
export function sqsRedelivery(env: Record<string, string | undefined> = process.env): RedeliveryControl {
  return {
    async delay(record, ms) {
      // arn:aws:sqs:<region>:<account>:<name> → https://sqs.<region>.amazonaws.com/<account>/<name>
      const [, , , region, account, name] = record.eventSourceARN.split(':');
      await callAws(
        SQS,
        'ChangeMessageVisibility',
        {
          QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
          ReceiptHandle: record.receiptHandle,
          // SQS's maximum is 12 hours; the schedule's longest wait is 15 minutes, Zendesk's the 10-minute window.
          VisibilityTimeout: Math.min(43_200, Math.max(0, Math.ceil(ms / 1000))),
        },
        { ...(region ? { region } : {}), env },
      );
    },
  };
}
