// The ZendeskChatwootBridge stack: webhook API → FIFO queue → worker, scheduled reconcile, tables, secret, observability.
import { App, type CfnElement, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ApplicationLogLevel, SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { RECONCILE_DEFAULTS, RECONCILE_INTERVAL_MINUTES } from '../shared/config.ts';
import { MAX_RECEIVE_COUNT } from '../shared/queue/backoff.ts';
import { CHATWOOT_WEBHOOK_PATH, WebhookApi, ZENDESK_WEBHOOK_PATH } from './api.ts';
import { BridgeFunction, PROJECT_ROOT } from './functions.ts';
import { HistoryImport } from './import.ts';
import { Observability } from './observability.ts';
import { SyncQueues } from './queue.ts';
import { BridgeSecret } from './secret.ts';
import { type DeploySettings, type LogLevel, projectContext, readSettings } from './settings.ts';
import { BridgeTables } from './tables.ts';

const STACK_NAME = 'ZendeskChatwootBridge';

/** Per-function sizing; each number is a deliberate choice, explained beside it. */
export const SIZING = {
  // Zendesk waits ~10 s and Chatwoot 5 s for a webhook answer (and Chatwoot never retries): the ingress only
  // verifies, validates and enqueues, so 10 s is a hard ceiling it should never approach.
  ingress: { memorySize: 256, timeout: Duration.seconds(10) },
  // One vendor API call per message (at most 20 s with its in-process retries), up to ten per batch; a group's
  // records run one after another, and the worker starts none with less than 22 s left (START_MARGIN_MS in
  // shared/sync/worker.ts), so a slow batch hands its rest back instead of timing out. The queue's visibility
  // timeout is derived from it.
  // 256 MB: the worker mostly waits on the platforms (a batch's message groups run concurrently), so its billed
  // time hardly grows with less CPU; the cost run (`npm run bench`, bench/cost.ts) prices it.
  worker: { memorySize: 256, timeout: Duration.seconds(30) },
  // Reads the change feeds since their cursors (a few export pages, the changed conversations): more calls, so a
  // longer budget, under the shortest schedule allowed (3 minutes) so two runs do not overlap; a run that reaches
  // its deadline leaves the rest to the next from its cursors.
  reconcile: { memorySize: 512, timeout: Duration.seconds(120) },
  // The dashboard app: one Chatwoot read, one Zendesk read and two DynamoDB reads per panel load, or a resync
  // (lists one ticket's history and enqueues). A person is waiting, so a short ceiling.
  app: { memorySize: 256, timeout: Duration.seconds(15) },
} as const;

/**
 * The webhook functions' telemetry, chosen for cost (they run for every delivery, ~2 per synced message: the event
 * and the other platform's echo): no X-Ray tracing — at 10 messages/s each traced function pays for a trace a second
 * from Lambda's fixed sampling reservoir, and their traces would show only Lambda's own invocation segment (they
 * carry no X-Ray SDK, see shared/tracing.ts) — and no START/REPORT lines from Lambda (system logs at WARN; their
 * duration, errors and throttles stay in Lambda's metrics, their own log lines are unchanged).
 */
const INGRESS_TELEMETRY = { tracing: false, systemLogLevel: SystemLogLevel.WARN } as const;

export interface BridgeStackProps extends StackProps {
  /** Powertools and Lambda application log level. */
  readonly logLevel?: LogLevel;
  /** When set, alarms notify this address through an SNS topic. */
  readonly alarmEmail?: string;
  /** Web address of RUNBOOK.md; alarm descriptions link its sections (lib/settings.ts). */
  readonly runbookUrl?: string;
  /** Minutes between reconciliation runs (RECONCILE_DEFAULTS.intervalMinutes; 3 to 60). */
  readonly reconcileIntervalMinutes?: number;
  /** Hours a first reconciliation run (no cursor yet) reads back (RECONCILE_DEFAULTS.lookbackMs; 1 to 312). */
  readonly reconcileLookbackHours?: number;
}

export class BridgeStack extends Stack {
  readonly tables: BridgeTables;
  readonly queues: SyncQueues;
  readonly secret: BridgeSecret;
  readonly zendeskWebhook: BridgeFunction;
  readonly chatwootWebhook: BridgeFunction;
  readonly worker: BridgeFunction;
  readonly reconcile: BridgeFunction;
  readonly app: BridgeFunction;
  readonly webhookApi: WebhookApi;
  readonly observability: Observability;
  readonly historyImport: HistoryImport;

  constructor(scope: Construct, id: string, props: BridgeStackProps = {}) {
    super(scope, id, {
      description: 'Zendesk ⇄ Chatwoot webhook bridge (API Gateway, Lambda, SQS FIFO, DynamoDB)',
      ...props,
    });
    const logLevel = props.logLevel ?? ApplicationLogLevel.INFO;
    const interval = props.reconcileIntervalMinutes ?? RECONCILE_DEFAULTS.intervalMinutes;
    const bounds = RECONCILE_INTERVAL_MINUTES;
    if (!Number.isInteger(interval) || interval < bounds.min || interval > bounds.max) {
      throw new Error(`reconcileIntervalMinutes must be a whole number from ${bounds.min} to ${bounds.max}`);
    }
    const lookback = props.reconcileLookbackHours;
    // At most 13 days: below the ledger's default retention of 14 (reconcile also checks the configured one).
    if (lookback !== undefined && (!Number.isInteger(lookback) || lookback < 1 || lookback > 312)) {
      throw new Error('reconcileLookbackHours must be a whole number from 1 to 312');
    }

    this.tables = new BridgeTables(this, 'Tables');
    this.queues = new SyncQueues(this, 'Queues', { workerTimeout: SIZING.worker.timeout });
    this.secret = new BridgeSecret(this, 'BridgeSecret');
    const { queue, deadLetterQueue, asyncFailureQueue } = this.queues;
    const secret = this.secret.secret;

    const baseEnv = {
      LINKS_TABLE_NAME: this.tables.links.tableName,
      LEDGER_TABLE_NAME: this.tables.ledger.tableName,
      SECRET_ARN: secret.secretArn,
    };

    this.zendeskWebhook = new BridgeFunction(this, 'ZendeskWebhook', {
      name: 'zendesk-webhook',
      ...INGRESS_TELEMETRY,
      description: 'Verifies Zendesk webhooks and enqueues sync events',
      ...SIZING.ingress,
      logLevel,
      environment: { ...baseEnv, QUEUE_URL: queue.queueUrl },
    });
    this.chatwootWebhook = new BridgeFunction(this, 'ChatwootWebhook', {
      name: 'chatwoot-webhook',
      ...INGRESS_TELEMETRY,
      description: 'Verifies Chatwoot webhooks and enqueues sync events',
      ...SIZING.ingress,
      logLevel,
      environment: { ...baseEnv, QUEUE_URL: queue.queueUrl },
    });
    this.worker = new BridgeFunction(this, 'SyncWorker', {
      name: 'sync-worker',
      description: 'Applies queued sync events to the other platform',
      ...SIZING.worker,
      logLevel,
      environment: { ...baseEnv, DLQ_URL: deadLetterQueue.queueUrl },
    });
    this.reconcile = new BridgeFunction(this, 'Reconcile', {
      name: 'reconcile',
      description: 'Enqueues comments and messages that no webhook delivered',
      ...SIZING.reconcile,
      logLevel,
      environment: {
        ...baseEnv,
        QUEUE_URL: queue.queueUrl,
        ...(lookback !== undefined ? { RECONCILE_LOOKBACK_MS: String(lookback * 3600 * 1000) } : {}),
      },
      asyncDeadLetterQueue: asyncFailureQueue,
      // No retries of a failed run: the next scheduled run resumes from the stored cursors, and a
      // retry (Lambda waits 1 then 2 minutes) would only overlap it. A failed run lands in the async failure
      // queue instead, which is alarmed.
      asyncRetryAttempts: 0,
    });

    // Least privilege. Ingress: enqueue and read the secret, nothing else (it never touches the tables).
    for (const ingress of [this.zendeskWebhook, this.chatwootWebhook]) {
      queue.grantSendMessages(ingress.fn);
      secret.grantRead(ingress.fn);
    }
    // Worker: both tables, consume the queue (granted by the event source), dead-letter poison messages itself.
    for (const table of this.tables.all) table.grantReadWriteData(this.worker.fn);
    deadLetterQueue.grantSendMessages(this.worker.fn);
    secret.grantRead(this.worker.fn);
    const eventSource = new SqsEventSource(queue, {
      // The FIFO maximum. Messages of one group arrive in order within a batch, so on a failure the worker
      // must report that message and every later one of the same group (AWS rule for FIFO partial batch
      // responses), or a later message would overtake the one being retried.
      batchSize: 10,
      reportBatchItemFailures: true,
      // At most 5 concurrent worker invocations: Zendesk and Chatwoot rate-limit per account, and more
      // parallelism would only buy 429s. FIFO groups already serialise each conversation.
      maxConcurrency: 5,
    });
    this.worker.fn.addEventSource(eventSource);
    const mapping = this.worker.fn.node.children.find((child) => child.node.id.startsWith('SqsEventSource:'));
    if (mapping) {
      Validations.of(mapping.node.defaultChild ?? mapping).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason: `SQS event source mappings do not support OnFailure destinations; failures stay on the queue and its redrive policy moves them to the FIFO dead-letter queue after ${MAX_RECEIVE_COUNT} receives (the worker dead-letters permanent failures itself).`,
      });
    }
    // Reconcile: read cursors/links, record progress, enqueue what the webhooks missed.
    for (const table of this.tables.all) table.grantReadWriteData(this.reconcile.fn);
    queue.grantSendMessages(this.reconcile.fn);
    secret.grantRead(this.reconcile.fn);

    for (const fn of [this.worker, this.reconcile]) {
      const policy = fn.role.node.tryFindChild('DefaultPolicy');
      if (!policy) continue;
      for (const table of this.tables.indexed) {
        const logicalId = this.getLogicalId(table.node.defaultChild as CfnElement);
        Validations.of(policy.node.defaultChild ?? policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
          reason:
            'grantReadWriteData adds the table\'s own "/index/*" so queries can use its global secondary indexes (links: byConversation); it is scoped to this one table.',
        });
      }
    }

    this.app = new BridgeFunction(this, 'DashboardApp', {
      name: 'dashboard-app',
      description: 'Chatwoot dashboard app: the linked Zendesk ticket, held events, retry and resync',
      ...SIZING.app,
      logLevel,
      environment: { ...baseEnv, QUEUE_URL: queue.queueUrl },
    });
    // The app reads links and the ledger, clears an attention entry it re-sent, enqueues (resync, a dead letter
    // sent again) and releases held messages early (ChangeMessageVisibility on their receipt handles).
    this.tables.links.grantReadData(this.app.fn);
    this.tables.ledger.grantReadWriteData(this.app.fn);
    queue.grantSendMessages(this.app.fn);
    queue.grant(this.app.fn, 'sqs:ChangeMessageVisibility');
    secret.grantRead(this.app.fn);
    const appPolicy = this.app.role.node.tryFindChild('DefaultPolicy');
    if (appPolicy) {
      const logicalId = this.getLogicalId(this.tables.links.node.defaultChild as CfnElement);
      Validations.of(appPolicy.node.defaultChild ?? appPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
        reason:
          'grantReadData adds the links table\'s own "/index/*" so the app can find a conversation\'s ticket through its byConversation index; it is scoped to this one table.',
      });
    }

    new Rule(this, 'ReconcileSchedule', {
      description: 'Runs reconcile to enqueue events that no webhook delivered',
      // Every 5 minutes by default: Chatwoot never retries a webhook, so this bounds how long a missed message
      // waits (README, "Nothing lost"). At least 3 minutes, so a run (timeout 2 minutes) ends before the next.
      schedule: Schedule.rate(Duration.minutes(interval)),
      targets: [
        new LambdaFunction(this.reconcile.fn, {
          deadLetterQueue: asyncFailureQueue,
          // A run older than the interval is superseded by the next run, so do not keep retrying it. These
          // retries only cover EventBridge failing to hand the event to Lambda (throttling), so no run overlaps.
          maxEventAge: Duration.minutes(interval),
          retryAttempts: 2,
        }),
      ],
    });

    this.historyImport = new HistoryImport(this, 'HistoryImport', {
      syncQueue: queue,
      links: this.tables.links,
      ledger: this.tables.ledger,
      secret,
      logLevel,
      environment: baseEnv,
    });

    this.webhookApi = new WebhookApi(this, 'WebhookApi', {
      zendeskHandler: this.zendeskWebhook.fn,
      chatwootHandler: this.chatwootWebhook.fn,
      appHandler: this.app.fn,
    });

    this.observability = new Observability(this, 'Observability', {
      api: this.webhookApi,
      ingress: [this.zendeskWebhook, this.chatwootWebhook],
      worker: this.worker,
      reconcile: this.reconcile,
      reconcileIntervalMinutes: interval,
      queues: this.queues,
      tables: this.tables,
      importDeadLetterQueue: this.historyImport.deadLetterQueue,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
      ...(props.runbookUrl ? { runbookUrl: props.runbookUrl } : {}),
    });

    // Identifiers only: the secret's ARN tells ops where to put the credentials, never what they are.
    new CfnOutput(this, 'ApiUrl', { value: this.webhookApi.url, description: 'Base URL of the webhook API' });
    new CfnOutput(this, 'ZendeskWebhookUrl', {
      value: `${this.webhookApi.api.apiEndpoint}${ZENDESK_WEBHOOK_PATH}`,
      description: 'Endpoint URL to register in Zendesk (Admin Center → Webhooks)',
    });
    new CfnOutput(this, 'ChatwootWebhookUrl', {
      value: `${this.webhookApi.api.apiEndpoint}${CHATWOOT_WEBHOOK_PATH}`,
      description: 'URL to register in Chatwoot (Settings → Integrations → Webhooks)',
    });
    new CfnOutput(this, 'DashboardAppPage', {
      value: `${this.webhookApi.api.apiEndpoint}/app`,
      description:
        'The Chatwoot dashboard app (without its key): `npm run bridge -- app-url` prints the URL to paste into Chatwoot',
    });
    new CfnOutput(this, 'SecretArn', {
      value: secret.secretArn,
      description: 'ARN of the secret to fill in with the credentials',
    });
    new CfnOutput(this, 'SyncQueueUrl', { value: queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetterQueue.queueUrl });
    new CfnOutput(this, 'LinksTableName', { value: this.tables.links.tableName });
    new CfnOutput(this, 'LedgerTableName', { value: this.tables.ledger.tableName });
    new CfnOutput(this, 'ImportQueueUrl', {
      value: this.historyImport.queue.queueUrl,
      description: 'IMPORT_QUEUE_URL for `npm run bridge -- import` (the history import runs on AWS)',
    });
    new CfnOutput(this, 'ImportDeadLetterQueueUrl', {
      value: this.historyImport.deadLetterQueue.queueUrl,
      description:
        'Where a failing import control message is parked (RUNBOOK.md, ImportControlDeadLetterQueueNotEmpty)',
    });
  }
}

/** Creates the stack in an app, with the deployment settings from its context (cdk.json; lib/settings.ts). */
export function createStack(app: App, props: BridgeStackProps = {}): BridgeStack {
  const settings: DeploySettings = readSettings(app.node);
  return new BridgeStack(app, STACK_NAME, { ...settings, ...props });
}

/**
 * A new App holding the bridge stack, built from the repository's cdk.json context (as `cdk synth` builds it, feature
 * flags included) with `context` on top, like `-c` on the command line. Environment-agnostic: no lookups.
 * `validate: false` skips CDK's built-in CloudFormation validation of the template (as `cdk synth --no-validation`
 * does), for synths made only to read the template.
 */
export function buildApp(
  context: Record<string, unknown> = {},
  { validate = true }: { validate?: boolean } = {},
): { app: App; stack: BridgeStack } {
  const app = new App({
    context: { ...projectContext(PROJECT_ROOT), ...context },
    builtinCloudFormationValidation: validate,
  });
  return { app, stack: createStack(app) };
}
