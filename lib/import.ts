// The deployed history import: a control queue and the import-feeder Lambda that works the job a stretch of
// pages per message (shared/import/lambda.ts), enqueueing each ticket's comments on the sync queue behind live
// traffic. It runs on AWS, so closing the operator's laptop does not stop it; `bridge import` starts, follows and
// stops it through the job item in the ledger table.
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BridgeFunction } from './functions.ts';

// The stack's own Table and Secret, not CDK's ITable/ISecret: CDK's classes implement those interfaces with
// `prop: T | undefined` getters where the interfaces say `prop?: T`, which exactOptionalPropertyTypes rejects.
export interface HistoryImportProps {
  readonly syncQueue: IQueue;
  readonly links: Table;
  readonly ledger: Table;
  readonly secret: Secret;
  readonly logLevel: ApplicationLogLevel;
  readonly environment: Record<string, string>;
}

/** A page of up to 1,000 tickets takes well under a minute; five minutes leave room for a slow Zendesk. */
const FEEDER_TIMEOUT = Duration.minutes(5);

export class HistoryImport extends Construct {
  /** Control messages `{jobId, version}`: one chain of feeder invocations per running import. */
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly feeder: BridgeFunction;

  constructor(scope: Construct, id: string, props: HistoryImportProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'ControlDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue.node.defaultChild ?? this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'The end of the import control chain: a control message that failed five times lands here; `bridge import` hands the job on again.',
    });
    // Standard, not FIFO: order between control messages does not matter (each names the job version it
    // continues, and conditional writes let only one chain advance), and a standard queue allows DelaySeconds.
    this.queue = new Queue(this, 'ControlQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least 6 × the function timeout.
      visibilityTimeout: Duration.seconds(FEEDER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    this.feeder = new BridgeFunction(this, 'Feeder', {
      name: 'import-feeder',
      description: 'Feeds existing Zendesk tickets and their comments to the sync queue (history import)',
      memorySize: 512,
      timeout: FEEDER_TIMEOUT,
      logLevel: props.logLevel,
      environment: {
        ...props.environment,
        QUEUE_URL: props.syncQueue.queueUrl,
        IMPORT_QUEUE_URL: this.queue.queueUrl,
      },
    });
    const fn = this.feeder.fn;
    // Job state in the ledger; links read to leave tickets live sync already has; enqueue comments on the sync
    // queue and read its depth (live first); hand the job on through its own queue.
    props.ledger.grantReadWriteData(fn);
    props.links.grantReadData(fn);
    props.syncQueue.grantSendMessages(fn);
    props.syncQueue.grant(fn, 'sqs:GetQueueAttributes');
    this.queue.grantSendMessages(fn);
    props.secret.grantRead(fn);
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        // The event source's minimum: one chain works at a time anyway (the job's version), and the import must
        // not take worker-like concurrency from the account.
        maxConcurrency: 2,
      }),
    );
    const mapping = fn.node.children.find((child) => child.node.id.startsWith('SqsEventSource:'));
    if (mapping) {
      Validations.of(mapping.node.defaultChild ?? mapping).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event source mappings do not support OnFailure destinations; a failing control message goes to the control dead-letter queue by the redrive policy.',
      });
    }
    const policy = this.feeder.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      const logicalId = Stack.of(this).getLogicalId(props.links.node.defaultChild as CfnElement);
      Validations.of(policy.node.defaultChild ?? policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
        reason:
          'grantReadData adds the links table\'s own "/index/*" (byConversation); it is scoped to this one table.',
      });
    }
  }
}
