// The FIFO sync queue between the webhook ingress and the worker, its FIFO dead-letter queue, and a standard
// queue that catches failed asynchronous deliveries (scheduled reconcile invocations, alarm e-mails).
import { Duration, Validations } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface SyncQueuesProps {
  /** Timeout of the Lambda that consumes the queue; the visibility timeout is derived from it. */
  readonly workerTimeout: Duration;
}

export class SyncQueues extends Construct {
  /** FIFO queue: group = one ticket/conversation, dedup id = the source event id (set by the producer). */
  readonly queue: Queue;
  /** FIFO dead-letter queue for poison messages (by redrive or sent by the worker itself). */
  readonly deadLetterQueue: Queue;
  /** Standard queue for failed asynchronous deliveries (Lambda async DLQ, EventBridge target DLQ, SNS). */
  readonly asyncFailureQueue: Queue;

  constructor(scope: Construct, id: string, props: SyncQueuesProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The SQS maximum: on-call gets two weeks (a holiday, a long weekend) to inspect and redrive.
      retentionPeriod: Duration.days(14),
    });

    this.queue = new Queue(this, 'SyncQueue', {
      fifo: true,
      // Off: the producer sets MessageDeduplicationId to the source event id, so a webhook retried by the
      // vendor with a different body (e.g. a new timestamp) is still dropped as a duplicate.
      contentBasedDeduplication: false,
      // High-throughput FIFO: deduplication and the throughput limit are per message group (one ticket or
      // conversation), so busy tickets do not share the 300 msg/s per-queue FIFO limit.
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least 6 × the function timeout, so a message is not
      // redelivered while a (retried, throttled) invocation may still be working on it.
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6),
      // Four days covers a weekend-long vendor outage; after that the DLQ (14 days) takes over.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        // 5 receives: with a 3-minute visibility timeout that is ~15 minutes of retries, enough to ride out a
        // 429 burst or a short outage, short enough that a poison message blocks its group only briefly.
        maxReceiveCount: 5,
      },
    });

    this.asyncFailureQueue = new Queue(this, 'AsyncFailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    for (const dlq of [this.deadLetterQueue, this.asyncFailureQueue]) {
      Validations.of(dlq.node.defaultChild ?? dlq).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is itself the dead-letter queue at the end of the retry chain; a redrive policy on it would only move failures to yet another queue.',
      });
    }
  }
}
