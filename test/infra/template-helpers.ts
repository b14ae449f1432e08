// Small readers over a synthesized CloudFormation template, shared by the infra tests.
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { type BridgeStack, buildApp } from '../../lib/bridge-stack.ts';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

interface PolicyResource {
  Properties: { PolicyDocument: { Statement: Statement[] }; Roles: { Ref: string }[] };
}

/** Logical id of a construct's CloudFormation resource (the construct itself or its default child). */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.getLogicalId(element);
}

/** Every Allow statement of every inline policy attached to the role. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
  return Object.values(policies)
    .filter((p) => p.Properties.Roles.some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s) => s.Effect === 'Allow');
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Actions the role may perform on resources whose (JSON-serialised) reference mentions the logical id. */
export function actionsOnResource(statements: Statement[], resourceLogicalId: string): string[] {
  return statements
    .filter((s) => JSON.stringify(s.Resource).includes(`"${resourceLogicalId}"`))
    .flatMap(actionsOf);
}

/**
 * The stack synthesized for assertions only: CDK's `aws:cdk:bundling-stacks` context set to no stack skips the
 * esbuild bundling of every function (assets get a placeholder hash), which is most of a synth's time, and CDK's
 * built-in CloudFormation validation is off: it compiles a WebAssembly validator in every process (~2.5 s of CPU)
 * and adds 0.3–0.6 s to every synth, and it only warns. One test (nag.test.ts) bundles and validates for real,
 * strictly; `npm run synth` in CI does both too.
 */
export function assertionStack(context: Record<string, unknown> = {}): BridgeStack {
  return buildApp({ ...context, 'aws:cdk:bundling-stacks': [] }, { validate: false }).stack;
}
