// The FIFO sync queue between the webhook ingress and the worker, its FIFO dead-letter queue, and a standard
// queue that catches failed asynchronous deliveries (scheduled reconcile invocations, alarm e-mails).
import { Duration, Validations } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, retryWindowMs } from '../shared/queue/backoff.ts';

/** SQS's largest message (1 MiB); the ingress keeps event bodies a little below it (MAX_QUEUE_MESSAGE_BYTES). */
const MAX_MESSAGE_BYTES = 1024 * 1024;

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

    // How long a message that keeps failing is retried before SQS dead-letters it: ≈ 23¾ hours (85,530 s, also when
    // every failure is a write with an unknown outcome, whose retries wait at least the 30 s a platform may still be
    // finishing it) with MAX_RECEIVE_COUNT = 100 and the worker's hold-back schedule (30 s doubling to 15 min,
    // shared/queue/backoff.ts). The longer one counts.
    const retryWindow = Duration.millis(retryWindowMs({ uncertain: true }));
    // The SQS maximum, measured from the move (a FIFO dead-letter queue resets the enqueue time): on-call gets
    // two weeks (a holiday, a long weekend) to inspect and redrive, far more than the retry window.
    const dlqRetention = Duration.days(14);
    // Sent time counts here: a message must outlive the retry window of those ahead of it in its group.
    const queueRetention = Duration.days(4);
    for (const [name, retention] of [
      ['dead-letter', dlqRetention],
      ['sync', queueRetention],
    ] as const) {
      if (retention.toSeconds() < retryWindow.toSeconds()) {
        throw new Error(
          `the ${name} queue's retention is shorter than the retry window (${retryWindow.toHumanString()})`,
        );
      }
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: dlqRetention,
      // Dead letters are the sync queue's messages plus a reason: the same size limit (below).
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
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
      // redelivered while a (retried, throttled) invocation may still be working on it. A failed record is held
      // back by the worker's own schedule instead (ChangeMessageVisibility); this applies when that call fails.
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6),
      // Four days: a group stuck behind a failing head for the whole retry window (≈ 1 day) still has three
      // days before its later messages, never received meanwhile, expire.
      retentionPeriod: queueRetention,
      // SQS's maximum since August 2025 (1 MiB; it was 256 KiB): a Chatwoot message of 150,000 characters fits
      // whole. Set explicitly so a queue made with an older default is raised too (docs/platforms.md, "Sizes").
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        // 100 receives ≈ 23¾ hours of retries (above): a vendor outage of up to ~23 hours drains by itself, in
        // order. The later records of a failing group are held back with it and spend receives at the same
        // pace, so none of them runs out before the head does.
        // Permanent failures (401/403/404/422, malformed) never wait for this: the worker dead-letters them.
        maxReceiveCount: MAX_RECEIVE_COUNT,
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
