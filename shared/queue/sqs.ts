// SQS FIFO implementation of the queue and of the dead-letter sink (deployed path).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterSink, EventQueue, OutboundMessage } from './types.ts';

export class SqsQueue implements EventQueue, DeadLetterSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  static fromUrl(queueUrl: string): SqsQueue {
    return new SqsQueue(new SQSClient({}), queueUrl);
  }

  async send(m: OutboundMessage): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: m.body,
        MessageGroupId: m.groupId,
        MessageDeduplicationId: m.dedupId,
      }),
    );
  }

  async deadLetter(record: DeadLetter, reason: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: record.body,
        MessageGroupId: record.groupId ?? 'dead-letters',
        // A redrive of the same record must be accepted again later, so the id is the delivery, not the event.
        MessageDeduplicationId: record.messageId,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 256) },
          originalMessageId: { DataType: 'String', StringValue: record.messageId },
        },
      }),
    );
  }
}
