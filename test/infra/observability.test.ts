// What on-call gets from the synthesized template: a dashboard of every metric the code publishes, alarms that
// point at a runbook section that exists, saved queries over fields the code really logs, tracing, log level.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BridgeStack } from '../../lib/bridge-stack.ts';
import { PROJECT_ROOT } from '../../lib/functions.ts';
import { CORRELATION_FIELDS, CUSTOM_METRICS, QUERY_FIELDS } from '../../lib/observability.ts';
import { assertionStack } from './template-helpers.ts';

type MetricRow = Array<string | Record<string, string>>;

let stack: BridgeStack;
let template: Template;
let widgets: Array<{ properties: { title?: string; metrics?: MetricRow[] } }>;
let queries: Record<string, { Properties: { Name: string; QueryString: string; LogGroupNames: unknown[] } }>;

beforeAll(() => {
  stack = assertionStack();
  template = Template.fromStack(stack);
  // The body is an Fn::Join of literal JSON and tokens (region, ids); tokens become placeholders to parse it.
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
  const parts = dashboard?.Properties.DashboardBody['Fn::Join'][1] as unknown[];
  widgets = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')).widgets;
  queries = template.findResources('AWS::Logs::QueryDefinition') as typeof queries;
});

/** Custom metric rows as [name, statistic] (rows of other namespaces and SEARCH expressions excluded). */
function customRows(): Array<[string, string]> {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? [])
      .filter((row) => row[0] === 'ZendeskChatwootBridge')
      .map((row) => {
        const options = row.find((x) => typeof x === 'object') as Record<string, string> | undefined;
        return [String(row[1]), options?.stat ?? ''] as [string, string];
      }),
  );
}

function searches(): string[] {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? []).flatMap((row) =>
      row.flatMap((x) => (typeof x === 'object' && x.expression ? [x.expression] : [])),
    ),
  );
}

function query(name: string) {
  const found = Object.values(queries).find((q) => q.Properties.Name === name);
  if (!found) throw new Error(`no saved query named ${name}`);
  return found.Properties;
}

describe('dashboard', () => {
  it('graphs every custom metric the functions publish', () => {
    const graphed = new Set(customRows().map(([name]) => name));
    for (const metric of CUSTOM_METRICS) expect(graphed, metric).toContain(metric);
  });

  it('graphs the per-reason and per-kind families with SEARCH, so new reasons appear without a deploy', () => {
    const expressions = searches();
    for (const prefix of ['Synced_', 'Skipped_', 'Rejected_', 'Retry_', 'DeadLettered_']) {
      expect(
        expressions.some((e) => e.startsWith('SEARCH(') && e.includes(`MetricName=~"^${prefix}"`)),
        prefix,
      ).toBe(true);
    }
  });

  it('shows end-to-end lag and downstream latency per platform as p50 and p99', () => {
    const rows = customRows().map(([name, stat]) => `${name} ${stat}`);
    for (const name of ['EndToEndLagMs', 'DownstreamLatencyMs_zendesk', 'DownstreamLatencyMs_chatwoot']) {
      expect(rows).toContain(`${name} p50`);
      expect(rows).toContain(`${name} p99`);
    }
  });
});

describe('alarms', () => {
  it('each alarm description links a RUNBOOK.md section that exists and says what to do', () => {
    const runbook = readFileSync(join(PROJECT_ROOT, 'RUNBOOK.md'), 'utf8');
    const sections = new Map(
      runbook
        .split(/^## /m)
        .slice(1)
        .map((s) => [s.split('\n')[0]!.trim().toLowerCase(), s] as const),
    );
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(stack.observability.alarms.length);
    for (const alarm of stack.observability.alarms) {
      const id = alarm.node.id.toLowerCase();
      const rendered = alarms.find((a) => String(a.Properties.AlarmDescription).endsWith(`#${id}`));
      expect(rendered, `alarm ${alarm.node.id} links RUNBOOK.md#${id}`).toBeDefined();
      const section = sections.get(id);
      expect(section, `RUNBOOK.md has a section "## ${alarm.node.id}"`).toBeDefined();
      for (const part of ['What it means', 'Look at', 'Do'])
        expect(section, `${id}: ${part}`).toContain(part);
    }
  });
});

describe('saved Logs Insights queries', () => {
  it('trace a ticket across all four functions by ticket or conversation id', () => {
    const trace = query('bridge/trace one ticket end to end');
    expect(trace.LogGroupNames).toHaveLength(4);
    expect(trace.QueryString).toMatch(/filter ticketId = '.+' or conversationId = '.+'/);
    for (const field of CORRELATION_FIELDS) expect(trace.QueryString).toContain(field);
    expect(trace.QueryString).toContain('function_request_id');
  });

  it('trace one message by comment, message, delivery or SQS message id', () => {
    const trace = query('bridge/trace one message (comment, message or delivery id)');
    for (const field of ['commentId', 'messageId', 'deliveryId', 'sqsMessageId']) {
      expect(trace.QueryString).toMatch(new RegExp(`${field} = '`));
    }
  });

  it('list failed syncs, rejected webhooks (with access-log source IPs) and skips by reason', () => {
    expect(query('bridge/failed syncs (last hour)').QueryString).toMatch(/message = 'dead-lettered'/);
    const rejected = query('bridge/rejected webhooks');
    expect(rejected.QueryString).toMatch(/message = 'rejected'/);
    expect(rejected.LogGroupNames).toHaveLength(3);
    expect(query('bridge/skipped events by reason').QueryString).toMatch(
      /stats count\(\*\) as events by reason/,
    );
  });

  it('filter only on fields the bridge logs (no stale names such as eventId)', () => {
    const accessLogFields = ['status', 'ip', 'routeKey', 'requestId'];
    const known = new Set<string>([...QUERY_FIELDS, ...accessLogFields]);
    for (const q of Object.values(queries)) {
      const filters = q.Properties.QueryString.split('\n')
        .map((l) => l.replace(/^\| /, ''))
        .filter((l) => l.startsWith('filter '));
      const used = filters.flatMap((l) => [...l.matchAll(/(\w+) (?:=|like)/g)].map((m) => m[1]!));
      expect(used.length, q.Properties.Name).toBeGreaterThan(0);
      for (const field of used) expect(known, `${q.Properties.Name}: ${field}`).toContain(field);
      expect(q.Properties.QueryString).not.toContain('eventId');
    }
  });
});

describe('functions', () => {
  it('take the log level from configuration (INFO by default)', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'INFO' }) },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
    });
  });

  it('trace actively with X-Ray everywhere but the webhook functions, whose traces would show only Lambda', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Description: string; TracingConfig?: { Mode: string } };
    }>;
    const traced = fns.filter((f) => f.Properties.TracingConfig?.Mode === 'Active');
    const untraced = fns.filter((f) => f.Properties.TracingConfig?.Mode !== 'Active');
    expect(traced).toHaveLength(4);
    expect(untraced.map((f) => f.Properties.Description).sort()).toEqual([
      'Verifies Chatwoot webhooks and enqueues sync events',
      'Verifies Zendesk webhooks and enqueues sync events',
    ]);
  });
});
