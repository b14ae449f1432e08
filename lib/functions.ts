// One Lambda function of the bridge: bundled from functions/<name>.ts with the local esbuild, its own log group
// and its own role, so every grant in the stack is visible per function. Bundled by esbuild's API rather than
// NodejsFunction, which writes one file (`--outfile`): the functions are split into chunks (lib/bundling.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AssetHashType,
  DockerImage,
  type Duration,
  type ILocalBundling,
  RemovalPolicy,
  Validations,
} from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  type ApplicationLogLevel,
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  type SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { esbuildOptions, FUNCTION_NODE_OPTIONS } from './bundling.ts';

/** Repository root (lib/..), where functions/ and package-lock.json live. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Service name shared by Powertools logs, traces and metrics. */
export const SERVICE_NAME = 'zendesk-chatwoot-bridge';
/** CloudWatch namespace of the custom EMF metrics (the dashboard and alarms read it). */
export const METRICS_NAMESPACE = 'ZendeskChatwootBridge';

export interface BridgeFunctionProps {
  /** File name under functions/ without extension; also the function's role in logs and the dashboard. */
  readonly name:
    | 'zendesk-webhook'
    | 'chatwoot-webhook'
    | 'sync-worker'
    | 'reconcile'
    | 'dashboard-app'
    | 'import-feeder';
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logLevel: ApplicationLogLevel;
  /**
   * X-Ray active tracing (default on). Lambda samples the first invocation each second and 5 % of the rest per
   * function, whatever sampling rules the account has, so every traced function costs up to a trace a second.
   */
  readonly tracing?: boolean;
  /** Lambda's own log lines (platform.start and platform.report at INFO, Lambda's default). */
  readonly systemLogLevel?: SystemLogLevel;
  /**
   * Standard SQS queue for failed asynchronous invocations. Only for functions that are invoked
   * asynchronously (the scheduled reconcile); API Gateway and SQS invoke the others synchronously.
   */
  readonly asyncDeadLetterQueue?: IQueue;
  /** Lambda's own retries of a failed asynchronous invocation (0–2; Lambda's default is 2). */
  readonly asyncRetryAttempts?: number;
}

/**
 * Bundles one function in-process with the local esbuild (lib/bundling.ts). CDK stages an asset once per cache key,
 * the source path and the bundling options serialised as JSON: `entry` is an own property so that it is in the key
 * (a `local` with only a method serialises to `{}`, and every function would get the first one's bundle).
 */
class LocalEsbuild implements ILocalBundling {
  constructor(readonly entry: string) {}
  tryBundle(outputDir: string): boolean {
    buildSync(esbuildOptions(this.entry, outputDir));
    return true;
  }
}

export class BridgeFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      // A month covers the incident-review window; older history lives in the ledger and the two platforms.
      retention: RetentionDays.ONE_MONTH,
      // Logs expire after a month anyway; deleting the stack should not leave orphaned log groups behind.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An explicit role instead of the default one: the default attaches the AWS-managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group); this one may only write its own log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    const entry = join(PROJECT_ROOT, 'functions', `${props.name}.ts`);
    this.fn = new LambdaFunction(this, 'Function', {
      // As NodejsFunction does: the project as the asset's source, hashed by the bundle's output, and always
      // the local esbuild devDependency (builds work offline and without a Docker engine, whose image is only
      // named because CDK requires one). The benchmark bundles with the same options (lib/bundling.ts).
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
          local: new LocalEsbuild(entry),
        },
      }),
      // ENTRY_FILE (index.mjs) exports `handler`.
      handler: 'index.handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      // Graviton: cheaper per GB-second and the bundle is pure JavaScript.
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: props.tracing === false ? Tracing.DISABLED : Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      // Lambda drops JSON log lines below this level, so it must follow POWERTOOLS_LOG_LEVEL.
      applicationLogLevelV2: props.logLevel,
      ...(props.systemLogLevel ? { systemLogLevelV2: props.systemLogLevel } : {}),
      ...(props.asyncDeadLetterQueue ? { deadLetterQueue: props.asyncDeadLetterQueue } : {}),
      ...(props.asyncRetryAttempts !== undefined ? { retryAttempts: props.asyncRetryAttempts } : {}),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
      },
    });

    const invokeConfig = this.fn.node.tryFindChild('EventInvokeConfig');
    if (invokeConfig && props.asyncDeadLetterQueue) {
      Validations.of(invokeConfig.node.defaultChild ?? invokeConfig).acknowledge({
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason:
          "Failed asynchronous invocations already go to the function's dead-letter queue (the alarmed async failure queue); an on-failure destination as well would park every failure twice.",
      });
    }

    if (!props.asyncDeadLetterQueue) {
      Validations.of(this.fn.node.defaultChild ?? this.fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only synchronously (API Gateway or the SQS event source mapping): a Lambda async DLQ would never receive anything. Failed sync work lands in the FIFO dead-letter queue.',
      });
    }

    if (props.tracing === false) {
      Validations.of(this.fn.node.defaultChild ?? this.fn).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          "Untraced on purpose (INGRESS_TELEMETRY in lib/bridge-stack.ts): Lambda's fixed sampling would bill a trace a second for traces that show only Lambda's own invocation; the worker behind it is traced.",
      });
    }

    // The X-Ray grant (tracing ACTIVE) is Resource "*" by AWS design: PutTraceSegments and
    // PutTelemetryRecords have no resource-level permissions.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy.node.defaultChild ?? policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions, so tracing requires Resource "*".',
      });
    }
  }
}
