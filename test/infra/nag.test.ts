// The one synth of the suite that bundles every function and validates for real: cdk-nag's AwsSolutions and
// Serverless packs report nothing unacknowledged (and every acknowledgment says why), CloudFormation's own template
// rules (CDK's built-in validation, made strict) report nothing, and every function deploys its own bundle.
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BridgeStack, buildApp } from '../../lib/bridge-stack.ts';
import { addNagPacks } from '../../lib/nag.ts';

interface Acknowledgment {
  id: string;
  reason: string;
}

let stack: BridgeStack;
let packs: [AwsSolutionsChecks, ServerlessChecks];
let template: Template | undefined;
let synthError: unknown;

beforeAll(() => {
  // alarmEmail on, so the optional SNS topic and its subscription are checked too. CDK's CloudFormation validation
  // only warns by default; these two flags make any finding of it, error or warning, fail the synth.
  const built = buildApp({
    alarmEmail: 'oncall@example.com',
    '@aws-cdk/core:validateAgainstDefaultRules': true,
    '@aws-cdk/core:strictCfnValidateErrors': true,
  });
  stack = built.stack;
  packs = addNagPacks(built.app);
  // Synthesis runs the packs as validation plugins and throws if one reports an unacknowledged error; keep
  // the error so the per-pack tests below still show the individual findings.
  try {
    template = Template.fromStack(stack);
  } catch (error) {
    synthError = error;
  }
});

describe('cdk-nag', () => {
  it("synthesizes with both packs registered as validation plugins, and CloudFormation's rules find nothing", () => {
    expect(synthError).toBeUndefined();
  });

  it.each(['AwsSolutions', 'Serverless'])('%s pack reports no unacknowledged errors or warnings', (name) => {
    const pack = packs.find((p) => p.name === name);
    if (!pack) throw new Error(`pack ${name} is not registered`);
    const report = pack.validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('leaves no cdk-nag annotations on the stack', () => {
    const pattern = Match.stringLikeRegexp('AwsSolutions-.*|Serverless-.*');
    expect(Annotations.fromStack(stack).findError('*', pattern)).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', pattern)).toEqual([]);
  });

  describe('acknowledgments', () => {
    let acknowledgments: Acknowledgment[];
    beforeAll(() => {
      acknowledgments = Object.values(
        (template?.toJSON().Resources ?? {}) as Record<string, { Metadata?: unknown }>,
      ).flatMap((resource) => {
        const metadata = resource.Metadata as
          | { cdk_nag?: { rules_to_suppress: Acknowledgment[] } }
          | undefined;
        return metadata?.cdk_nag?.rules_to_suppress ?? [];
      });
    });

    it('each states a real reason', () => {
      expect(acknowledgments.length).toBeGreaterThan(0);
      for (const ack of acknowledgments) {
        expect(ack.reason.trim().length, ack.id).toBeGreaterThanOrEqual(40);
        expect(ack.reason, ack.id).not.toMatch(/^(not needed|n\/a|todo|ignore)/i);
      }
    });

    it('are exactly the reviewed set (a new one must be added here deliberately)', () => {
      const ids = [
        ...new Set(acknowledgments.map((a) => a.id.replace(/<Tables\w+\.Arn>/, '<table>'))),
      ].sort();
      expect(ids).toEqual(
        [
          'AwsSolutions-APIG4',
          'AwsSolutions-IAM5[Resource::*]',
          'AwsSolutions-IAM5[Resource::<table>/index/*]',
          'AwsSolutions-SMG4',
          'Serverless-LambdaAsyncFailureDestination',
          'Serverless-LambdaDLQ',
          'Serverless-LambdaEventSourceMappingDestination',
          'Serverless-LambdaTracing',
          'Serverless-SQSRedrivePolicy',
        ].sort(),
      );
    });

    it('never acknowledge a whole rule family on the stack', () => {
      const stackLevel = stack.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules');
      expect(stackLevel).toEqual([]);
    });
  });
});

describe('the stack deploys each function its own bundle', () => {
  it('every function has a code asset of its own (bundled for real)', () => {
    const fns = Object.values(template?.findResources('AWS::Lambda::Function') ?? {}) as Array<{
      Properties: { Code?: { S3Key?: unknown }; Handler?: string; Runtime?: string };
    }>;
    const ours = fns.filter((f) => f.Properties.Runtime === 'nodejs24.x');
    expect(ours.length).toBeGreaterThanOrEqual(6);
    for (const f of ours) expect(f.Properties.Handler).toBe('index.handler');
    // CDK stages one asset per cache key: a key without the entry would give every function the first bundle.
    const keys = ours.map((f) => JSON.stringify(f.Properties.Code?.S3Key));
    expect(new Set(keys).size).toBe(ours.length);
  });
});
