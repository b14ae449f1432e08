// Assertions on the synthesized ZendeskChatwootBridge template: routing, queueing, tables, IAM, functions, API, secret.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_THROTTLE } from '../../lib/api.ts';
import { type BridgeStack, SIZING } from '../../lib/bridge-stack.ts';
import { SECRET_KEYS } from '../../lib/secret.ts';
import { MAX_RECEIVE_COUNT, retryWindowMs } from '../../shared/queue/backoff.ts';
import { LEDGER_TABLE, LINKS_TABLE } from '../../shared/store/tables.ts';
import {
  actionsOf,
  actionsOnResource,
  assertionStack,
  logicalId,
  statementsOfRole,
} from './template-helpers.ts';

let stack: BridgeStack;
let template: Template;
let ids: Record<
  'zendesk' | 'chatwoot' | 'worker' | 'reconcile' | 'app' | 'queue' | 'dlq' | 'links' | 'ledger' | 'secret',
  string
>;

beforeAll(() => {
  stack = assertionStack();
  template = Template.fromStack(stack);
  ids = {
    zendesk: logicalId(stack, stack.zendeskWebhook.fn),
    chatwoot: logicalId(stack, stack.chatwootWebhook.fn),
    worker: logicalId(stack, stack.worker.fn),
    reconcile: logicalId(stack, stack.reconcile.fn),
    app: logicalId(stack, stack.app.fn),
    queue: logicalId(stack, stack.queues.queue),
    dlq: logicalId(stack, stack.queues.deadLetterQueue),
    links: logicalId(stack, stack.tables.links),
    ledger: logicalId(stack, stack.tables.ledger),
    secret: logicalId(stack, stack.secret.secret),
  };
});

describe('environment', () => {
  it('is environment-agnostic (no account or region, so synth needs no credentials)', () => {
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(stack.stackName).toBe('ZendeskChatwootBridge');
  });
});

describe('webhook API', () => {
  it.each([
    ['POST /webhooks/zendesk', 'zendesk'],
    ['POST /webhooks/chatwoot', 'chatwoot'],
    ['GET /app', 'app'],
    ['GET /app/api/{proxy+}', 'app'],
    ['POST /app/api/{proxy+}', 'app'],
  ] as const)('routes %s to its own Lambda', (routeKey, fn) => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } });
    expect(Object.keys(routes)).toHaveLength(1);
    const target = JSON.stringify(Object.values(routes)[0]?.Properties.Target);
    const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1];
    expect(integrationId).toBeDefined();
    const integration = template.toJSON().Resources[integrationId as string];
    expect(integration.Type).toBe('AWS::ApiGatewayV2::Integration');
    expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
    expect(integration.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [ids[fn], 'Arn'] });
  });

  it('has exactly the two webhook routes and the dashboard app’s three, on three distinct functions', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 5);
    expect(new Set([ids.zendesk, ids.chatwoot, ids.app]).size).toBe(3);
  });

  it('throttles the $default stage and writes JSON access logs without bodies', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: API_THROTTLE.rateLimit,
        ThrottlingBurstLimit: API_THROTTLE.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        Format: Match.anyValue(),
      },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = JSON.parse(stage?.Properties.AccessLogSettings.Format as string) as Record<string, string>;
    expect(Object.keys(format)).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'routeKey', 'status', 'latency']),
    );
    expect(Object.values(format).join(' ')).not.toMatch(/body|header|authorizer/i);
    const logGroupId = stage?.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBeGreaterThan(0);
  });
});

describe('sync queue', () => {
  it('is a high-throughput FIFO queue without content-based dedup, redriving to a FIFO DLQ after 100 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
      VisibilityTimeout: SIZING.worker.timeout.toSeconds() * 6,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: 100 },
    });
    const dlq = template.toJSON().Resources[ids.dlq];
    expect(dlq.Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('keeps messages longer than the ~23¾ hours a failing one is retried (100 receives, 30 s doubling to 15 min)', () => {
    expect(MAX_RECEIVE_COUNT).toBe(100);
    expect(retryWindowMs()).toBe(85_530_000);
    // An unknown outcome waits at least 30 s (Zendesk's settle time), no longer than the schedule's first step.
    expect(retryWindowMs({ uncertain: true })).toBe(85_530_000);
    const resources = template.toJSON().Resources;
    for (const id of [ids.queue, ids.dlq]) {
      expect(resources[id].Properties.MessageRetentionPeriod * 1000, id).toBeGreaterThanOrEqual(
        retryWindowMs({ uncertain: true }),
      );
    }
  });

  it('denies non-TLS access to both FIFO queues', () => {
    for (const queue of [ids.queue, ids.dlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('feeds the worker with batches of 10 and partial batch responses', () => {
    // The worker's, and the history import's control queue feeding the import feeder.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.worker },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('reconcile schedule', () => {
  it('invokes reconcile every 5 minutes with a dead-letter queue for failed deliveries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [ids.reconcile, 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('takes its interval from the context, within 3 to 60 minutes', () => {
    const ten = assertionStack({ reconcileIntervalMinutes: '10' });
    Template.fromStack(ten).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumEventAgeInSeconds: 600 }) })],
    });
    expect(() => assertionStack({ reconcileIntervalMinutes: '2' })).toThrow(/from 3 to 60/);
  });

  it('sizes the ReconcileErrors alarm to three runs of the configured interval, and says so', () => {
    const ten = assertionStack({ reconcileIntervalMinutes: '10' });
    Template.fromStack(ten).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(ten, ten.reconcile.fn) } }],
      Period: 30 * 60,
      Threshold: 2,
      AlarmDescription: Match.stringLikeRegexp('last three runs \\(30 minutes at one run every 10\\)'),
    });
  });

  it('passes a look-back from the context to the reconcile function', () => {
    const s = assertionStack({ reconcileLookbackHours: '6' });
    const fn = Template.fromStack(s).toJSON().Resources[logicalId(s, s.reconcile.fn)];
    expect(fn.Properties.Environment.Variables.RECONCILE_LOOKBACK_MS).toBe(String(6 * 3600 * 1000));
    expect(() => assertionStack({ reconcileLookbackHours: '0' })).toThrow(/from 1 to 312/);
  });

  it('does not retry a failed run (the next run resumes from the cursors); the failure is parked and alarmed', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.reconcile },
      MaximumRetryAttempts: 0,
    });
    expect(template.toJSON().Resources[ids.reconcile].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [logicalId(stack, stack.queues.asyncFailureQueue), 'Arn'] },
    });
  });
});

describe('tables', () => {
  it.each([
    ['links', LINKS_TABLE],
    ['ledger', LEDGER_TABLE],
  ] as const)('%s table is on-demand, encrypted, PITR-protected and retained', (key, def) => {
    const table = template.toJSON().Resources[ids[key]];
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: def.partitionKey.name, KeyType: 'HASH' }],
    });
  });

  it("expires ledger items by the def's ttl attribute (expiresAt)", () => {
    expect(LEDGER_TABLE.ttlAttribute).toBe('expiresAt');
    expect(template.toJSON().Resources[ids.ledger].Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('gives the links table the byConversation index from the def', () => {
    expect(template.toJSON().Resources[ids.links].Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byConversation',
        KeySchema: [
          { AttributeName: 'conversationId', KeyType: 'HASH' },
          { AttributeName: 'linkedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(template.toJSON().Resources[ids.ledger].Properties.GlobalSecondaryIndexes).toBeUndefined();
  });
});

describe('IAM (least privilege)', () => {
  const roleOf = (fn: 'zendesk' | 'chatwoot' | 'worker' | 'reconcile' | 'app') =>
    template.toJSON().Resources[ids[fn]].Properties.Role['Fn::GetAtt'][0] as string;

  it('uses no AWS-managed policies', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it.each(['zendesk', 'chatwoot'] as const)(
    '%s ingress may enqueue and read the secret, nothing more',
    (fn) => {
      const statements = statementsOfRole(template, roleOf(fn));
      expect(actionsOnResource(statements, ids.queue)).toContain('sqs:SendMessage');
      expect(actionsOnResource(statements, ids.queue)).not.toContain('sqs:ReceiveMessage');
      expect(actionsOnResource(statements, ids.secret)).toContain('secretsmanager:GetSecretValue');
      expect(actionsOnResource(statements, ids.dlq)).toEqual([]);
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    },
  );

  it('worker reads and writes both tables, consumes the queue, sends to the DLQ and reads the secret', () => {
    const statements = statementsOfRole(template, roleOf('worker'));
    for (const table of [ids.links, ids.ledger]) {
      expect(actionsOnResource(statements, table)).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
        ]),
      );
    }
    expect(actionsOnResource(statements, ids.queue)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    expect(actionsOnResource(statements, ids.queue)).not.toContain('sqs:SendMessage');
    expect(actionsOnResource(statements, ids.dlq)).toContain('sqs:SendMessage');
    expect(actionsOnResource(statements, ids.secret)).toContain('secretsmanager:GetSecretValue');
  });

  it('reconcile reads and writes both tables, enqueues and reads the secret', () => {
    const statements = statementsOfRole(template, roleOf('reconcile'));
    for (const table of [ids.links, ids.ledger]) {
      expect(actionsOnResource(statements, table)).toEqual(
        expect.arrayContaining(['dynamodb:Query', 'dynamodb:PutItem']),
      );
    }
    expect(actionsOnResource(statements, ids.queue)).toContain('sqs:SendMessage');
    expect(actionsOnResource(statements, ids.secret)).toContain('secretsmanager:GetSecretValue');
  });

  it('dashboard app reads links, reads and writes the ledger, enqueues, releases held messages, reads the secret', () => {
    const statements = statementsOfRole(template, roleOf('app'));
    expect(actionsOnResource(statements, ids.links)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']),
    );
    expect(actionsOnResource(statements, ids.links)).not.toContain('dynamodb:PutItem');
    expect(actionsOnResource(statements, ids.ledger)).toEqual(
      expect.arrayContaining(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']),
    );
    expect(actionsOnResource(statements, ids.queue)).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'sqs:ChangeMessageVisibility']),
    );
    // It never consumes or deletes a message: the worker alone does.
    expect(actionsOnResource(statements, ids.queue)).not.toContain('sqs:ReceiveMessage');
    expect(actionsOnResource(statements, ids.queue)).not.toContain('sqs:DeleteMessage');
    expect(actionsOnResource(statements, ids.dlq)).toEqual([]);
    // Exactly these two, in any order (@aws-cdk/aws-iam:minimizePolicies sorts the actions it merges).
    expect(actionsOnResource(statements, ids.secret).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('grants wildcard resources only for X-Ray', () => {
    for (const fn of ['zendesk', 'chatwoot', 'worker', 'reconcile', 'app'] as const) {
      const wildcard = statementsOfRole(template, roleOf(fn)).filter((s) => s.Resource === '*');
      expect(wildcard.flatMap(actionsOf).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });
});

describe('functions', () => {
  const expected = {
    zendesk: { ...SIZING.ingress, queue: true, traced: false },
    chatwoot: { ...SIZING.ingress, queue: true, traced: false },
    worker: { ...SIZING.worker, queue: false, traced: true },
    reconcile: { ...SIZING.reconcile, queue: true, traced: true },
    app: { ...SIZING.app, queue: true, traced: true },
  } as const;

  it('deploys exactly the six bridge functions (no hidden helper Lambdas)', () => {
    // zendesk-webhook, chatwoot-webhook, sync-worker, reconcile, dashboard-app, import-feeder.
    template.resourceCountIs('AWS::Lambda::Function', 6);
  });

  it.each(Object.keys(expected) as (keyof typeof expected)[])(
    '%s: Node 24 on arm64, explicit size and timeout, tracing as chosen, JSON logs to a retained log group',
    (fn) => {
      const props = template.toJSON().Resources[ids[fn]].Properties;
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.MemorySize).toBe(expected[fn].memorySize);
      expect(props.Timeout).toBe(expected[fn].timeout.toSeconds());
      // The webhook functions are not traced and drop Lambda's START/REPORT lines (cost: INGRESS_TELEMETRY).
      if (expected[fn].traced) {
        expect(props.TracingConfig).toEqual({ Mode: 'Active' });
        expect(props.LoggingConfig.SystemLogLevel).toBeUndefined();
      } else {
        expect(props.TracingConfig?.Mode ?? 'PassThrough').toBe('PassThrough');
        expect(props.LoggingConfig.SystemLogLevel).toBe('WARN');
      }
      expect(props.LoggingConfig.LogFormat).toBe('JSON');
      const logGroupId = props.LoggingConfig.LogGroup.Ref as string;
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
    },
  );

  it.each(Object.keys(expected) as (keyof typeof expected)[])(
    '%s gets the environment the code reads',
    (fn) => {
      const env = template.toJSON().Resources[ids[fn]].Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      expect(env).toMatchObject({
        LINKS_TABLE_NAME: { Ref: ids.links },
        LEDGER_TABLE_NAME: { Ref: ids.ledger },
        SECRET_ARN: { Ref: ids.secret },
        POWERTOOLS_SERVICE_NAME: 'zendesk-chatwoot-bridge',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
      if (expected[fn].queue) expect(env.QUEUE_URL).toEqual({ Ref: ids.queue });
      else expect(env.QUEUE_URL).toBeUndefined();
      if (fn === 'worker') expect(env.DLQ_URL).toEqual({ Ref: ids.dlq });
      else expect(env.DLQ_URL).toBeUndefined();
    },
  );
});

describe('secret', () => {
  it('is created from a placeholder template with exactly the env variable names', () => {
    const secret = template.toJSON().Resources[ids.secret];
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.Properties.SecretString).toBeUndefined();
    const placeholder = JSON.parse(secret.Properties.GenerateSecretString.SecretStringTemplate as string);
    expect(Object.keys(placeholder).sort()).toEqual([...SECRET_KEYS].sort());
    expect(Object.values(placeholder).every((v) => v === '')).toBe(true);
  });

  it('never appears in an output except as its ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toContain('ApiUrl');
    const serialised = JSON.stringify(outputs);
    expect(serialised).not.toMatch(/resolve:secretsmanager|SecretString|ssm-secure/);
    for (const [name, output] of Object.entries(outputs)) {
      if (JSON.stringify(output.Value).includes(ids.secret)) {
        expect({ name, value: output.Value }).toEqual({ name: 'SecretArn', value: { Ref: ids.secret } });
      }
    }
  });
});

describe('observability', () => {
  it('alarms on the DLQ, worker errors, queue age, rejected webhooks, missed events, reconcile and ingress failures', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 14);
    // A ticket held back by a message failing for 5 minutes (SQS's own age leaves that message out).
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ZendeskChatwootBridge',
      MetricName: 'HeldBackAgeSeconds',
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.worker } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ZendeskChatwootBridge',
      MetricName: 'RejectedWebhooks',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 20,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ZendeskChatwootBridge',
      MetricName: 'ReconciledMissed',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.reconcile } }],
      Period: 900,
      Statistic: 'Sum',
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues.asyncFailureQueue), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const metric of ['ReconcileFailedLinks', 'ServerMisconfigured', 'EnqueueFailures']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ZendeskChatwootBridge',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'zendesk-chatwoot-bridge' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on unhandled webhook errors at once, and on a worker without configuration past one blip', () => {
    // Each is a real webhook answered 500 by a bug: any at all.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ZendeskChatwootBridge',
      MetricName: 'UnhandledErrors',
      Dimensions: [{ Name: 'service', Value: 'zendesk-chatwoot-bridge' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // One failed build is retried 30 s later; two in 10 minutes is a configuration that cannot be read.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ZendeskChatwootBridge',
      MetricName: 'WorkerDepsUnavailable',
      Dimensions: [{ Name: 'service', Value: 'zendesk-chatwoot-bridge' }],
      Statistic: 'Sum',
      Period: 600,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it("alarms when the history import's control message is parked in its dead-letter queue", () => {
    const importDlq = logicalId(stack, stack.historyImport.deadLetterQueue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [importDlq, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('import status.*#importcontroldeadletterqueuenotempty$'),
    });
    template.hasOutput('ImportDeadLetterQueueUrl', { Value: { Ref: importDlq } });
  });

  it('has a dashboard with the custom metrics and five saved Logs Insights queries', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const metric of [
      'SyncedMessages',
      'SkippedEvents',
      'RejectedWebhooks',
      'DeadLettered',
      'EndToEndLagMs',
    ]) {
      expect(body).toContain(metric);
    }
    template.resourceCountIs('AWS::Logs::QueryDefinition', 5);
    template.hasResourceProperties('AWS::Logs::QueryDefinition', {
      Name: 'bridge/trace one ticket end to end',
      QueryString: Match.stringLikeRegexp('ticketId'),
    });
    const trace = Object.values(
      template.findResources('AWS::Logs::QueryDefinition', {
        Properties: { Name: 'bridge/trace one ticket end to end' },
      }),
    )[0];
    expect(trace?.Properties.LogGroupNames).toHaveLength(4);
  });

  it('creates no SNS topic unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });
});

describe('with context alarmEmail', () => {
  let withEmail: Template;
  beforeAll(() => {
    withEmail = Template.fromStack(assertionStack({ alarmEmail: 'oncall@example.com', logLevel: 'debug' }));
  });

  it('e-mails every alarm through a TLS-only topic', () => {
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    const topicId = Object.keys(withEmail.findResources('AWS::SNS::Topic'))[0] as string;
    withEmail.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const alarm of Object.values(withEmail.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('passes the log level from context to Powertools and Lambda', () => {
    withEmail.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'DEBUG' }) },
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'DEBUG' }),
    });
  });
});

describe('history import', () => {
  it('runs on AWS: a control queue feeding the import feeder one message at a time, with a dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue', {
      Properties: { VisibilityTimeout: 1800, RedrivePolicy: { maxReceiveCount: 5 } },
    });
    const [control] = Object.keys(queues);
    expect(control).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [control, 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasOutput('ImportQueueUrl', { Value: { Ref: control } });
  });

  it('the feeder may enqueue on the sync queue and read its depth, never consume it; links are read-only', () => {
    const role = logicalId(stack, stack.historyImport.feeder.role);
    const statements = statementsOfRole(template, role);
    expect(new Set(actionsOnResource(statements, ids.queue))).toEqual(
      new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']),
    );
    expect(actionsOnResource(statements, ids.links).every((a) => !/Put|Update|Delete|Write/.test(a))).toBe(
      true,
    );
    expect(actionsOnResource(statements, ids.ledger)).toContain('dynamodb:PutItem');
  });
});
