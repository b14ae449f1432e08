// What on-call looks at: a dashboard, alarms (optionally e-mailed through SNS) and saved Logs Insights queries.
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WebhookApi } from './api.ts';
import { type BridgeFunction, METRICS_NAMESPACE, SERVICE_NAME } from './functions.ts';
import type { SyncQueues } from './queue.ts';
import type { BridgeTables } from './tables.ts';

/**
 * Custom EMF metrics the functions publish (Powertools Metrics, namespace POWERTOOLS_METRICS_NAMESPACE; names from
 * shared/observability.ts and its callers). Powertools adds the `service` dimension by default; the functions must
 * not add other dimensions to these metrics, or the alarms below (which match dimensions exactly) would not see
 * them. Per-reason and per-kind counts are separate metric names (`Skipped_<reason>`, `Synced_<action>` …) that
 * the dashboard finds with SEARCH expressions, so a new reason shows up without a stack change.
 */
export const CUSTOM_METRICS = [
  'SyncedMessages',
  'Synced_ZendeskToChatwoot',
  'Synced_ChatwootToZendesk',
  'SkippedEvents',
  'RejectedWebhooks',
  'Retries',
  'DeadLettered',
  'EndToEndLagMs',
  'SyncDurationMs',
  'DownstreamLatencyMs_zendesk',
  'DownstreamLatencyMs_chatwoot',
  'DownstreamFailed_zendesk',
  'DownstreamFailed_chatwoot',
  'ReconciledMissed',
  'ReconcileChangesRead',
  'ReconcileApiCalls',
  'ReconcileFailedLinks',
  'ServerMisconfigured',
  'EnqueueFailures',
  'HeldBackAgeSeconds',
  'HeldBackReceiveCount',
  'UnhandledErrors',
  'WorkerDepsUnavailable',
] as const;
type CustomMetricName = (typeof CUSTOM_METRICS)[number];

/**
 * Correlation ids on the bridge's decision lines: `eventIds()` in shared/events/sync-event.ts, `sqsMessageId` from the
 * worker, `apiRequestId` from the webhook handlers. Lambda adds `function_request_id` and `function_name` through
 * Powertools' context. The saved queries below use exactly these names (test/integration/logs.test.ts checks that
 * a real log stream has every one of them).
 */
export const CORRELATION_FIELDS = [
  'eventKey',
  'ticketId',
  'commentId',
  'conversationId',
  'messageId',
  'deliveryId',
  'sqsMessageId',
  'apiRequestId',
] as const;
/** Every bridge log field the saved queries show or filter on. */
export const QUERY_FIELDS = [
  ...CORRELATION_FIELDS,
  'level',
  'message',
  'reason',
  'platform',
  'action',
  'statusCode',
] as const;
const LAMBDA_FIELDS = ['function_name', 'function_request_id'];

function customMetric(metricName: CustomMetricName, statistic = 'Sum'): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: Duration.minutes(5),
  });
}

/**
 * A graph of every metric of a family (`Skipped_echo`, `Skipped_duplicate` …), found when the dashboard renders by
 * a SEARCH expression, so reasons added in code appear without a stack change.
 */
function family(title: string, prefix: string, width = 6): GraphWidget {
  const search = new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service} service="${SERVICE_NAME}" MetricName=~"^${prefix}"', 'Sum', 300)`,
    usingMetrics: {},
    label: '',
    period: Duration.minutes(5),
  });
  return new GraphWidget({ title, left: [search], width });
}

export interface ObservabilityProps {
  readonly api: WebhookApi;
  readonly ingress: BridgeFunction[];
  readonly worker: BridgeFunction;
  readonly reconcile: BridgeFunction;
  /** Minutes between scheduled reconcile runs (the stack's `reconcileIntervalMinutes`): sizes its alarm's window. */
  readonly reconcileIntervalMinutes: number;
  readonly queues: SyncQueues;
  readonly tables: BridgeTables;
  /** The history import's control dead-letter queue (lib/import.ts): a chain of the import that stopped. */
  readonly importDeadLetterQueue: IQueue;
  /** When set, an SNS topic with an e-mail subscription receives every alarm and its recovery. */
  readonly alarmEmail?: string;
  /** Web address of RUNBOOK.md: alarm descriptions end with `<runbookUrl>#<alarm id in lower case>`. */
  readonly runbookUrl?: string;
}

/**
 * Where an alarm's description sends the reader: the RUNBOOK.md section named after the alarm. GitHub and GitLab
 * anchor a `## DeadLetterQueueNotEmpty` heading as `#deadletterqueuenotempty`. Without a runbook address the text
 * still names the section (not clickable).
 */
function runbookLink(alarmId: string, runbookUrl?: string): string {
  return `${runbookUrl ?? 'RUNBOOK.md'}#${alarmId.toLowerCase()}`;
}

export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { queue, deadLetterQueue, asyncFailureQueue } = props.queues;
    const fiveMinutes = Duration.minutes(5);

    const alarm = (
      alarmId: string,
      description: string,
      metric: IMetric,
      threshold: number,
      op: ComparisonOperator,
    ) => {
      const created = new Alarm(this, alarmId, {
        // The notification e-mail carries the description: point straight at what to do.
        alarmDescription: `${description} Runbook: ${runbookLink(alarmId, props.runbookUrl)}`,
        metric,
        threshold,
        comparisonOperator: op,
        evaluationPeriods: 1,
        // No data means nothing happened (no messages, no rejections), which is the healthy state.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.alarms.push(created);
      return created;
    };

    alarm(
      'DeadLetterQueueNotEmpty',
      'A sync event was dead-lettered: it will not be retried until someone inspects and redrives it.',
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // Item failures are reported per message and retried; only a whole-batch failure (the handler threw)
    // counts as a Lambda error. Five in five minutes means something systematic, not one flaky call.
    alarm(
      'WorkerErrors',
      'The sync worker failed whole batches repeatedly (bug, missing permission or unreadable secret).',
      props.worker.fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      5,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // 15 minutes: longer than Zendesk's longest Retry-After (its 10-minute per-ticket window) and about the
    // first five steps of the worker's retry schedule (30 s + 1 + 2 + 4 + 8 min), so an old message means a
    // vendor outage or a stuck message group, not ordinary rate limiting.
    alarm(
      'SyncQueueBacklogOld',
      'The oldest queued sync event is older than 15 minutes: a platform is down or a message group is stuck.',
      queue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      15 * 60,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    // ApproximateAgeOfOldestMessage leaves out a message received three or more times — exactly the one a failing
    // ticket holds back — so the worker publishes the age of every message it holds back after a failure (waits a
    // platform or the rate budget asked for are left out). Five minutes: a passing failure is retried in seconds
    // in-process; one still failing after 30 s + 1 + 2 min of queue retries is a stuck ticket, minutes after it
    // began, not a day later in the dead-letter queue.
    alarm(
      'SyncTicketStuck',
      'A message has been failing for more than 5 minutes and holds its ticket’s later messages back.',
      customMetric('HeldBackAgeSeconds', 'Maximum'),
      5 * 60,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // A few rejections are normal (scanners, a misconfigured test webhook); >20 in 5 minutes is a rotated
    // secret that was not updated here, or someone probing the endpoint.
    alarm(
      'RejectedWebhooksSpike',
      'More than 20 webhooks were rejected in 5 minutes: check signing secrets and the access log source IPs.',
      customMetric('RejectedWebhooks'),
      20,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm(
      'ReconcileFoundMissedEvents',
      'Reconcile enqueued events that no webhook delivered: webhook delivery from a platform is failing.',
      customMetric('ReconciledMissed'),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );

    // One failed run is covered by the next one, which resumes from the cursors (reconcile is not retried); two of the last
    // three failing is systematic: a bug, a permission, an unreadable secret, or a platform down. Three runs are three
    // intervals, whatever the interval is set to.
    const interval = props.reconcileIntervalMinutes;
    alarm(
      'ReconcileErrors',
      `Reconcile failed in at least two of its last three runs (${3 * interval} minutes at one run every ${interval}): ` +
        'events no webhook delivered are not being recovered.',
      props.reconcile.fn.metricErrors({ period: Duration.minutes(3 * interval), statistic: 'Sum' }),
      2,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    alarm(
      'ReconcileFailedLinks',
      'Reconcile could not finish a platform side of a run (a platform call failed); the next run resumes from its cursor.',
      customMetric('ReconcileFailedLinks'),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm(
      'AsyncFailureQueueNotEmpty',
      'A reconcile run, a scheduled invocation or an alarm e-mail failed for good and was parked in the async failure queue.',
      asyncFailureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // Any at all: each one is a real webhook answered 500 or 503 (Chatwoot never retries; Zendesk may give up).
    alarm(
      'ServerMisconfigured',
      'Webhooks were answered 500 because the configuration (secret) is missing or invalid: nothing is being received.',
      customMetric('ServerMisconfigured'),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm(
      'EnqueueFailures',
      'Webhooks were answered 503 because the sync queue refused them: those events wait for reconcile or a platform retry.',
      customMetric('EnqueueFailures'),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    // Any at all: each is a webhook answered 500 by an error nothing handled (shared/http/lambda.ts), i.e. a bug
    // on a path that ran; Chatwoot never retries its webhooks, so the event waits for reconcile.
    alarm(
      'UnhandledErrors',
      'A webhook handler hit an unexpected error and answered 500 (a bug, not the configuration): Chatwoot does not retry, so those events wait for the next reconcile run. Find the error in the logs and report it.',
      customMetric('UnhandledErrors'),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    // One failed build can be a Secrets Manager blip, retried 30 s later; two in ten minutes means the worker
    // cannot read its configuration at all (a mis-edited secret with no earlier good one, a lost permission), and
    // every sync event is being held back until it can.
    alarm(
      'WorkerDepsUnavailable',
      'The sync worker cannot load its configuration (secret unreadable or invalid): no message is being synced, the queue is holding them. Check the secret with `npm run bridge -- doctor`.',
      customMetric('WorkerDepsUnavailable').with({ period: Duration.minutes(10) }),
      2,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // A control message failed five receives: that import's chain of feeder invocations has stopped (live sync
    // is not affected). `bridge import` hands the job on again.
    alarm(
      'ImportControlDeadLetterQueueNotEmpty',
      'The history import stopped advancing: its control message failed 5 times and was parked. Live sync is not affected. Run `npm run bridge -- import status`, fix the cause in the import-feeder logs, then `npm run bridge -- import` to resume.',
      props.importDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );

    if (props.alarmEmail) {
      // No KMS key: alarm notifications carry alarm names and states only, and CloudWatch cannot publish to a
      // topic encrypted with the AWS-managed SNS key. Publishing is restricted to TLS.
      this.topic = new Topic(this, 'AlarmTopic', {
        displayName: 'Zendesk-Chatwoot bridge alarms',
        enforceSSL: true,
      });
      // enforceSSL gives the topic a policy of its own (AWS::SNS::TopicPolicy), which replaces SNS's default policy,
      // so nothing may publish unless a statement allows it: CloudWatch's alarm actions would fail with "…alarm:X is
      // not authorized to perform: SNS:Publish" and no e-mail would ever arrive. AWS's fix for exactly that message
      // (repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger) allows the CloudWatch service
      // principal to publish; the conditions are SNS's confused-deputy guard (docs.aws.amazon.com/sns/latest/dg/
      // sns-access-policy-use-cases.html, "aws:SourceAccount" and the CloudWatch alarm case): only alarms of this
      // account and region may publish.
      const { account, region, partition } = Stack.of(this);
      this.topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': account },
            ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          },
        }),
      );
      this.topic.addSubscription(
        new EmailSubscription(props.alarmEmail, { deadLetterQueue: props.queues.asyncFailureQueue }),
      );
      const action = new SnsAction(this.topic);
      for (const created of this.alarms) {
        created.addAlarmAction(action);
        created.addOkAction(action);
      }
    }

    const allFns = [...props.ingress, props.worker, props.reconcile];
    const api = props.api.api;

    // Named after the stack (ZendeskChatwootBridge), so README and RUNBOOK can name it exactly.
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Zendesk ⇄ Chatwoot bridge\nAlarms: ${this.alarms.map((a) => a.node.id).join(', ')}. What each means and what to do: ${props.runbookUrl ? `[RUNBOOK.md](${props.runbookUrl})` : 'RUNBOOK.md'}. Logs Insights: saved queries "bridge/…".`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API 4xx / 5xx',
        left: [
          api.metricClientError({ period: fiveMinutes }),
          api.metricServerError({ period: fiveMinutes }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'API latency (p50, p99)',
        left: [
          api.metricLatency({ statistic: 'p50', period: fiveMinutes }),
          api.metricLatency({ statistic: 'p99', period: fiveMinutes }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Rejected webhooks',
        left: [customMetric('RejectedWebhooks')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: allFns.map((f) => f.fn.metricErrors({ period: fiveMinutes, label: f.node.id })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: allFns.map((f) =>
          f.fn.metricDuration({ statistic: 'p99', period: fiveMinutes, label: f.node.id }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sync queue',
        left: [
          queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
        ],
        right: [
          queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
          // What that age leaves out: messages received 3+ times, i.e. the ones a failing ticket holds back.
          customMetric('HeldBackAgeSeconds', 'Maximum'),
          customMetric('HeldBackReceiveCount', 'Maximum'),
        ],
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Dead-letter queue (visible)',
        metrics: [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'DynamoDB throttles',
        left: props.tables.all.flatMap((t) => [
          t.metric('ReadThrottleEvents', {
            statistic: 'Sum',
            period: fiveMinutes,
            label: `${t.node.id} read`,
          }),
          t.metric('WriteThrottleEvents', {
            statistic: 'Sum',
            period: fiveMinutes,
            label: `${t.node.id} write`,
          }),
        ]),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title:
          'Failures at the edges: webhooks misconfigured / unhandled / not enqueued, worker without config, reconcile',
        left: [
          customMetric('ServerMisconfigured'),
          customMetric('UnhandledErrors'),
          customMetric('EnqueueFailures'),
          customMetric('WorkerDepsUnavailable'),
          customMetric('ReconcileFailedLinks'),
        ],
        right: [
          asyncFailureQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: 'Async failure queue (visible)',
          }),
          props.importDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: 'Import control dead-letter queue (visible)',
          }),
        ],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Synced (total, per direction) / skipped / retried / dead-lettered / reconciled',
        left: [
          customMetric('SyncedMessages'),
          customMetric('Synced_ZendeskToChatwoot'),
          customMetric('Synced_ChatwootToZendesk'),
          customMetric('SkippedEvents'),
          customMetric('Retries'),
          customMetric('DeadLettered'),
          customMetric('ReconciledMissed'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Reconcile per run: changes read from the feeds, API calls, missed events found',
        left: [customMetric('ReconcileChangesRead'), customMetric('ReconcileApiCalls')],
        right: [customMetric('ReconciledMissed')],
        width: 12,
      }),
      new GraphWidget({
        title: 'End-to-end lag (ms, p50 / p99) and sync duration (p99)',
        left: [
          customMetric('EndToEndLagMs', 'p50'),
          customMetric('EndToEndLagMs', 'p99'),
          customMetric('SyncDurationMs', 'p99'),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Downstream latency per platform (ms, p50 / p99)',
        left: (['zendesk', 'chatwoot'] as const).flatMap((p) => [
          customMetric(`DownstreamLatencyMs_${p}`, 'p50'),
          customMetric(`DownstreamLatencyMs_${p}`, 'p99'),
        ]),
        right: [customMetric('DownstreamFailed_zendesk'), customMetric('DownstreamFailed_chatwoot')],
        width: 12,
      }),
      family('Synced per kind (action)', 'Synced_', 12),
    );
    this.dashboard.addWidgets(
      family('Skipped per reason', 'Skipped_'),
      family('Rejected webhooks per reason', 'Rejected_'),
      family('Retries per reason', 'Retry_'),
      family('Dead-lettered per reason', 'DeadLettered_'),
    );

    const allLogGroups = allFns.map((f) => f.logGroup);
    const fields = (...extra: string[]) => ['@timestamp', ...LAMBDA_FIELDS, 'level', 'message', ...extra];
    // Saved queries have no parameters: the ids are placeholders to replace in the console.
    new QueryDefinition(this, 'TraceTicketQuery', {
      queryDefinitionName: 'bridge/trace one ticket end to end',
      logGroups: allLogGroups,
      queryString: new QueryString({
        fields: fields('reason', 'action', ...CORRELATION_FIELDS),
        // Chatwoot-side lines know the conversation before they know the ticket.
        filterStatements: [
          "ticketId = 'REPLACE_WITH_TICKET_ID' or conversationId = 'REPLACE_WITH_CONVERSATION_ID'",
        ],
        sort: '@timestamp asc',
        limit: 1000,
      }),
    });
    new QueryDefinition(this, 'TraceMessageQuery', {
      queryDefinitionName: 'bridge/trace one message (comment, message or delivery id)',
      logGroups: allLogGroups,
      queryString: new QueryString({
        fields: fields('reason', 'action', ...CORRELATION_FIELDS),
        filterStatements: [
          "commentId = 'REPLACE_WITH_ID' or messageId = 'REPLACE_WITH_ID' or deliveryId = 'REPLACE_WITH_ID' or sqsMessageId = 'REPLACE_WITH_ID'",
        ],
        sort: '@timestamp asc',
        limit: 200,
      }),
    });
    // The time range is picked in the console (default: last hour); the query itself has none.
    new QueryDefinition(this, 'FailedSyncsQuery', {
      queryDefinitionName: 'bridge/failed syncs (last hour)',
      logGroups: [props.worker.logGroup, props.reconcile.logGroup],
      queryString: new QueryString({
        fields: fields('reason', 'receiveCount', 'error', ...CORRELATION_FIELDS),
        filterStatements: ["level = 'ERROR' or message = 'dead-lettered' or message = 'retrying'"],
        sort: '@timestamp desc',
        limit: 200,
      }),
    });
    new QueryDefinition(this, 'RejectedWebhooksQuery', {
      queryDefinitionName: 'bridge/rejected webhooks',
      logGroups: [...props.ingress.map((f) => f.logGroup), props.api.accessLogs],
      queryString: new QueryString({
        fields: [
          '@timestamp',
          '@log',
          'level',
          'message',
          'platform',
          'reason',
          'statusCode',
          'deliveryId',
          'apiRequestId',
          'status',
          'ip',
          'routeKey',
          'requestId',
        ],
        // Ingress lines say `rejected`; access-log lines (which carry the source IP) have a 4xx status.
        filterStatements: ["message = 'rejected' or status like /^4/"],
        sort: '@timestamp desc',
        limit: 200,
      }),
    });
    new QueryDefinition(this, 'SkippedByReasonQuery', {
      queryDefinitionName: 'bridge/skipped events by reason',
      logGroups: allLogGroups,
      queryString: new QueryString({
        filterStatements: ["message = 'skipped' or message = 'ignored'"],
        statsStatements: ['count(*) as events by reason, platform'],
        sort: 'events desc',
      }),
    });
  }
}
