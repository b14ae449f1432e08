// AWS for the ops CLI: clients in the region of the resource they act on (taken from its ARN or queue URL, not from
// the shell's profile), bounded timeouts, and every AWS failure turned into one line that names the fix.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../../shared/config.ts';
import { CliError } from './types.ts';

/**
 * The operator's AWS permissions per command, from AWS's "Amazon SQS API permissions: Actions and resource reference"
 * (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html): a DLQ
 * redrive (StartMessageMoveTask) needs sqs:StartMessageMoveTask, sqs:ReceiveMessage, sqs:DeleteMessage and
 * sqs:GetQueueAttributes on the dead-letter queue — SQS itself receives and deletes each moved message — and
 * sqs:SendMessage on the destination; following it (ListMessageMoveTasks) needs sqs:ListMessageMoveTasks. Secrets
 * Manager and DynamoDB actions are named after their API calls. README → Operate lists the same.
 */
export const OPERATOR_PERMISSIONS = {
  dlq: 'sqs:GetQueueAttributes and sqs:ReceiveMessage on the dead-letter queue',
  redrive:
    'sqs:StartMessageMoveTask, sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes (and sqs:ListMessageMoveTasks for --wait) on the dead-letter queue, sqs:GetQueueAttributes and sqs:SendMessage on the sync queue',
  setup: 'secretsmanager:GetSecretValue and secretsmanager:PutSecretValue on the secret',
  doctor: 'secretsmanager:GetSecretValue on the secret',
  reconcile:
    'secretsmanager:GetSecretValue on the secret; dynamodb:GetItem, PutItem, UpdateItem, DeleteItem, Query, BatchGetItem, BatchWriteItem on both tables; sqs:SendMessage on the sync queue',
} as const;

/** The region in an ARN (`arn:aws:secretsmanager:eu-west-1:…`), or undefined. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return arn.startsWith('arn:') && region ? region : undefined;
}

/**
 * The region in a queue URL: `https://sqs.<region>.amazonaws.com/<account>/<name>` (also .amazonaws.com.cn), the
 * legacy `https://<region>.queue.amazonaws.com/…`, and `https://queue.amazonaws.com/…` (us-east-1).
 */
export function regionOfQueueUrl(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  const modern = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host);
  if (modern) return modern[1];
  const legacy = /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host);
  if (legacy) return legacy[1];
  return host === 'queue.amazonaws.com' ? 'us-east-1' : undefined;
}

/** The account id in a queue URL's path (`/123456789012/name`), for printing where a command acts. */
export function accountOfQueueUrl(url: string): string | undefined {
  try {
    return /^\/(\d{12})\//.exec(new URL(url).pathname)?.[1];
  } catch {
    return undefined;
  }
}

// A connection that never opens (a firewall dropping packets) would otherwise wait forever: the SDK sets no timeout.
const requestHandler = { connectionTimeout: 5_000, requestTimeout: 30_000 };

function regionOr(region: string | undefined, what: string): string {
  if (region) return region;
  const fallback = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (fallback) return fallback;
  throw new CliError(`${what} names no AWS region: pass the stack output as it is, or set AWS_REGION`);
}

export function sqsFor(queueUrl: string): SQSClient {
  return new SQSClient({ region: regionOr(regionOfQueueUrl(queueUrl), queueUrl), requestHandler });
}

export function secretsFor(arn: string): SecretsManagerClient {
  return new SecretsManagerClient({ region: regionOr(regionOfArn(arn), arn), requestHandler });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  status?: number;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0]!.trim();

/**
 * One line for an AWS failure while doing `what` (e.g. `reading the secret arn:…`), naming the fix; `permission` is
 * what to grant when access is denied. Never includes a response body (it may quote input).
 */
export function explainAws(err: unknown, what: string, permission: string): CliError | ConfigError {
  // Already said in operator terms (a ConfigError names the variables to fix).
  if (err instanceof CliError || err instanceof ConfigError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsLikeError;
  const name = e.name ?? '';
  const code = e.code ?? (e.cause as AwsLikeError | undefined)?.code ?? '';
  const status = e.$metadata?.httpStatusCode ?? e.status;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new CliError(
      `no AWS credentials for ${what}: sign in (aws sso login --profile <profile>, or aws configure) and set AWS_PROFILE`,
    );
  }
  if (/ExpiredToken|TokenRefreshRequired|RequestExpired/.test(name)) {
    return new CliError(
      `your AWS credentials have expired (${name}) while ${what}: sign in again (aws sso login)`,
    );
  }
  if (
    /InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidSignature|IncompleteSignature/.test(
      name,
    )
  ) {
    return new CliError(
      `AWS does not accept these credentials (${name}) while ${what}: check AWS_PROFILE or the access key in use`,
    );
  }
  if (/AccessDenied|NotAuthorized|Forbidden/i.test(name) || status === 403) {
    return new CliError(
      `access denied while ${what}: your AWS identity needs ${permission} (README → Operate)`,
    );
  }
  if (/QueueDoesNotExist|NonExistentQueue|ResourceNotFound/.test(name)) {
    return new CliError(
      `not found while ${what} (${name}): check the URL or ARN against the stack outputs (account and region included)`,
    );
  }
  if (
    NETWORK_CODES.has(code) ||
    name === 'TimeoutError' ||
    /timed? ?out|socket hang up/i.test(e.message ?? '')
  ) {
    return new CliError(
      `cannot reach AWS while ${what} (${code || name || 'timeout'}): check the network or proxy (HTTPS_PROXY), and AWS_ENDPOINT_URL if set`,
    );
  }
  return new CliError(`${what} failed: ${name || 'Error'}${e.message ? `: ${firstLine(e.message)}` : ''}`);
}

/** Runs an AWS call; any failure becomes explainAws's one line. */
export async function aws<T>(what: string, permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw explainAws(err, what, permission);
  }
}
