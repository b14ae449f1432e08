// The stack as `cdk deploy` builds it from cdk.json, checked where production would fail quietly: alarm e-mail that
// CloudWatch may not publish, metrics a log level filters away, a first deploy that alarms, settings a redeploy loses.
// Assertion-only synths skip bundling (assertionStack): the template is the same without it.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CURRENT_VERSION_EXPIRED_FLAGS, CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, createStack } from '../../lib/bridge-stack.ts';
import { PROJECT_ROOT } from '../../lib/functions.ts';
import { SECRET_PLACEHOLDER_KEY } from '../../lib/secret.ts';
import {
  LOG_LEVELS,
  projectContext,
  readSettings,
  SETTING_KEYS,
  settingsWarnings,
} from '../../lib/settings.ts';
import { setLocalMode } from '../../shared/config-loader.ts';
import { metrics } from '../../shared/observability.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';
import { captureOutput } from '../helpers/webhooks.ts';
import { assertionStack } from './template-helpers.ts';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const synth = (context: Record<string, unknown> = {}) => Template.fromStack(assertionStack(context));

describe('alarm e-mail (CloudWatch may publish to the TLS-only topic)', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ alarmEmail: 'oncall@example.com' });
  });

  it("allows only this account's CloudWatch alarms to publish, beside the TLS-only deny", () => {
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(1);
    const policy = policies[0]!.Properties;
    expect(policy.Topics).toEqual([{ Ref: topicId }]);
    const statements = policy.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:*',
                ],
              ],
            },
          },
        },
      },
    ]);
    // The deny still refuses plain HTTP; CloudWatch's publish is not refused by it (the allow above is the only one).
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('every alarm notifies the topic that policy belongs to', () => {
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});

/**
 * Lambda's application log-level filter as AWS documents it (docs.aws.amazon.com/lambda/latest/dg/
 * monitoring-cloudwatchlogs-log-level.html): a JSON line whose `level` is missing or invalid counts as INFO; lines
 * below the function's level are dropped.
 */
const LAMBDA_ORDER = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
function lambdaKeeps(line: string, functionLevel: string): boolean {
  const parsed = JSON.parse(line) as { level?: unknown };
  const own = typeof parsed.level === 'string' ? parsed.level.toUpperCase() : '';
  const level = LAMBDA_ORDER.includes(own) ? own : 'INFO';
  return LAMBDA_ORDER.indexOf(level) >= LAMBDA_ORDER.indexOf(functionLevel);
}

function emfLine(m: Metrics, env: Record<string, string>): string {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    // Only this line's metric: the instance is the process's, and an earlier test file in this worker may have
    // left metrics on it (the dashboard app's, run in-process by the local bridge).
    m.clearMetrics();
    m.addMetric('DeadLettered', MetricUnit.Count, 1);
    return JSON.stringify(m.serializeMetrics());
  } finally {
    m.clearMetrics();
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe('custom metrics at every log level', () => {
  it.each(LOG_LEVELS)('logLevel %s: every function keeps its EMF lines through Lambda’s filter', (level) => {
    const template = synth({ logLevel: level });
    // Every function of the stack (stack.test.ts pins which ones there are).
    const fns = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fns.length).toBeGreaterThanOrEqual(4);
    for (const fn of fns) {
      const functionLevel = fn.Properties.LoggingConfig.ApplicationLogLevel as string;
      expect(functionLevel).toBe(level);
      // What the function's process sees: Lambda sets AWS_LAMBDA_LOG_LEVEL, the stack POWERTOOLS_LOG_LEVEL.
      const env = {
        AWS_LAMBDA_LOG_LEVEL: functionLevel,
        POWERTOOLS_LOG_LEVEL: fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL as string,
      };
      const line = emfLine(metrics, env);
      expect(JSON.parse(line)._aws.CloudWatchMetrics[0].Metrics).toEqual([
        { Name: 'DeadLettered', Unit: 'Count' },
      ]);
      expect(lambdaKeeps(line, functionLevel), `${level}: ${line}`).toBe(true);
    }
  });

  it('an unlabelled EMF line (plain Powertools Metrics) would be dropped at WARN: the case the label fixes', () => {
    const plain = new Metrics({ namespace: 'ZendeskChatwootBridge', serviceName: 'zendesk-chatwoot-bridge' });
    expect(lambdaKeeps(emfLine(plain, { AWS_LAMBDA_LOG_LEVEL: 'WARN' }), 'WARN')).toBe(false);
  });
});

describe('the first deploy: a placeholder secret raises nothing', () => {
  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:BridgeSecret-AbCdEf';
  const ENV = {
    SECRET_ARN,
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/sync.fifo',
    AWS_ACCESS_KEY_ID: 'AKIDFIRSTDEPLOY',
    AWS_SECRET_ACCESS_KEY: 'first-deploy-secret-access-key',
    AWS_REGION: 'eu-west-1',
  };
  const saved: Record<string, string | undefined> = {};
  let aws: FakeAws;
  let placeholder: Record<string, string>;

  beforeAll(async () => {
    // The secret exactly as the stack creates it: its template plus the value Secrets Manager generates.
    const secret = Object.values(synth().findResources('AWS::SecretsManager::Secret'))[0]!;
    const generate = secret.Properties.GenerateSecretString;
    placeholder = {
      ...(JSON.parse(generate.SecretStringTemplate as string) as Record<string, string>),
      [generate.GenerateStringKey as string]: 'GeneratedByS3cretsManager0123456789',
    };
    expect(generate.GenerateStringKey).toBe(SECRET_PLACEHOLDER_KEY);
    aws = await startFakeAws(ENV.AWS_ACCESS_KEY_ID);
    for (const [k, v] of Object.entries({ ...ENV, AWS_ENDPOINT_URL: aws.url })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    setLocalMode(undefined);
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await aws?.close();
  });

  /** What an unconfigured run returns: nothing read, called, found or failed on either side. */
  const side = { changesRead: 0, apiCalls: 0, missed: 0, deferred: false, failed: false };
  const NOTHING_READ = { changesRead: 0, apiCalls: 0, enqueued: 0, failed: 0, zendesk: side, chatwoot: side };

  it('reconcile says so once, succeeds, and counts nothing an alarm watches', async () => {
    const { handler } = await import('../../functions/reconcile.ts');
    aws.on('secretsmanager.GetSecretValue', () => ({ SecretString: JSON.stringify(placeholder) }));
    const added = vi.spyOn(metrics, 'addMetric');
    const logs = captureOutput({ echo: false });
    try {
      // Three scheduled runs (15 minutes): ReconcileErrors counts Lambda errors, the async failure queue failed runs.
      for (let run = 0; run < 3; run++) {
        await expect(handler()).resolves.toEqual(NOTHING_READ);
      }
    } finally {
      logs.stop();
      added.mockRestore();
    }
    const lines = logs.lines().filter((l) => l.startsWith('{') && !l.includes('"_aws"'));
    const parsed = lines.map(
      (l) => JSON.parse(l) as { level?: string; message?: string; secretArn?: string },
    );
    expect(parsed.filter((l) => l.message?.startsWith('not configured yet'))).toEqual([
      expect.objectContaining({ level: 'WARN', secretArn: SECRET_ARN }),
    ]);
    expect(parsed.filter((l) => l.level === 'ERROR')).toEqual([]);
    const counted = added.mock.calls.filter(([, , value]) => value > 0).map(([name]) => name);
    expect(counted).toEqual([]);
  });

  it('credentials stored but setup not run yet (no webhook secrets): reconcile still raises nothing', async () => {
    const { handler } = await import('../../functions/reconcile.ts');
    setLocalMode(undefined);
    const credentials = {
      ZENDESK_BASE_URL: 'https://acme.zendesk.com',
      ZENDESK_EMAIL: 'bridge@acme.example',
      ZENDESK_API_TOKEN: 'zd-api-token-first-deploy',
      CHATWOOT_BASE_URL: 'https://chat.acme.example',
      CHATWOOT_ACCOUNT_ID: '1',
      CHATWOOT_INBOX_ID: '7',
      CHATWOOT_API_TOKEN: 'cw-api-token-first-deploy',
    };
    aws.on('secretsmanager.GetSecretValue', () => ({ SecretString: JSON.stringify(credentials) }));
    const added = vi.spyOn(metrics, 'addMetric');
    const logs = captureOutput({ echo: false });
    try {
      await expect(handler()).resolves.toEqual(NOTHING_READ);
    } finally {
      logs.stop();
      added.mockRestore();
    }
    expect(logs.lines().filter((l) => l.includes('"level":"ERROR"'))).toEqual([]);
    expect(added.mock.calls.filter(([, , value]) => value > 0)).toEqual([]);
  });

  it('a secret that is filled in but wrong still fails the run (and alarms)', async () => {
    const { handler } = await import('../../functions/reconcile.ts');
    setLocalMode(undefined);
    aws.on('secretsmanager.GetSecretValue', () => ({
      SecretString: JSON.stringify({ ...placeholder, ZENDESK_BASE_URL: 'https://acme.zendesk.com' }),
    }));
    const logs = captureOutput({ echo: false });
    try {
      await expect(handler()).rejects.toThrow(/ZENDESK_EMAIL is not set/);
    } finally {
      logs.stop();
    }
  });
});

describe('deployment settings kept in the repository (cdk.json)', () => {
  const context = projectContext(PROJECT_ROOT);

  it('cdk.json holds every setting, so `cdk deploy` without -c deploys the same stack every time', () => {
    for (const key of SETTING_KEYS) expect(Object.keys(context), key).toContain(key);
  });

  it('an alarm address set in cdk.json survives a plain redeploy (the app reads only what the CLI hands it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-cdk-json-'));
    copyFileSync(join(PROJECT_ROOT, 'cdk.json'), join(dir, 'cdk.json'));
    const cdkJson = JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8'));
    cdkJson.context.alarmEmail = 'oncall@example.com';
    cdkJson.context.logLevel = 'WARN';
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify(cdkJson));
    // What the CDK CLI does on `cdk deploy`: hands the app cdk.json's context, nothing else.
    const app = new App({
      context: { ...projectContext(dir), ...NO_BUNDLING },
      builtinCloudFormationValidation: false,
    });
    const template = Template.fromStack(createStack(app));
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'WARN' }),
    });
  });

  it('the docs deploy without -c (a one-off -c would be forgotten by the next deploy)', () => {
    for (const doc of ['README.md', 'RUNBOOK.md', 'SECURITY.md', 'docs/internals.md']) {
      const text = readFileSync(join(PROJECT_ROOT, doc), 'utf8');
      expect(text, doc).not.toMatch(/cdk deploy[^\n`]*-c /);
    }
  });

  it('warns at every synth while alarmEmail or runbookUrl is empty, and not once both are set', () => {
    const warnings = (context: Record<string, unknown>) =>
      settingsWarnings(readSettings(new App({ context: { ...context } }).node));
    expect(warnings({})).toEqual([
      expect.stringMatching(/^alarmEmail is empty in cdk.json: alarms notify no one/),
      expect.stringMatching(/^runbookUrl is empty in cdk.json/),
    ]);
    expect(
      warnings({ alarmEmail: 'oncall@example.com', runbookUrl: 'https://example.com/RUNBOOK.md' }),
    ).toEqual([]);
  });

  it.each([
    [{ logLevel: 'LOUD' }, /logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR/],
    [{ alarmEmail: 'oncall' }, /alarmEmail must be an e-mail address/],
    [{ runbookUrl: 'http://wiki/runbook' }, /runbookUrl must be an https:\/\/ address/],
  ])('refuses %j at synth, naming the key', (bad, message) => {
    expect(() => buildApp({ ...NO_BUNDLING, ...bad })).toThrow(message);
  });

  it('sets every feature flag current aws-cdk-lib recommends, and none it has retired', () => {
    for (const [flag, value] of Object.entries(CURRENTLY_RECOMMENDED_FLAGS)) {
      expect(context[flag], flag).toEqual(value);
    }
    const flags = Object.keys(context).filter((k) => k.startsWith('@aws-cdk') || k.startsWith('aws-cdk:'));
    for (const flag of flags) {
      expect(CURRENT_VERSION_EXPIRED_FLAGS, flag).not.toContain(flag);
      // A flag v2 no longer recommends setting (e.g. the v1-only @aws-cdk/core:stackRelativeExports) is not set.
      expect(Object.keys(CURRENTLY_RECOMMENDED_FLAGS), flag).toContain(flag);
    }
  });
});

describe('alarm descriptions link the runbook', () => {
  it('with runbookUrl set, each ends with a clickable link to its RUNBOOK.md section', () => {
    const url = 'https://github.com/acme/zendesk-chatwoot-bridge/blob/main/RUNBOOK.md';
    const stack = assertionStack({ runbookUrl: url });
    const template = Template.fromStack(stack);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(stack.observability.alarms.length);
    for (const alarm of stack.observability.alarms) {
      const link = `${url}#${alarm.node.id.toLowerCase()}`;
      expect(
        alarms.some((a) => String(a.Properties.AlarmDescription).endsWith(`Runbook: ${link}`)),
        alarm.node.id,
      ).toBe(true);
    }
  });

  it('names the dashboard after the stack, as README and RUNBOOK do', () => {
    synth().hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'ZendeskChatwootBridge' });
    for (const doc of ['README.md', 'RUNBOOK.md']) {
      expect(readFileSync(join(PROJECT_ROOT, doc), 'utf8'), doc).toContain(
        'dashboard `ZendeskChatwootBridge`',
      );
    }
  });
});
