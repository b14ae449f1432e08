// Where the queue commands act: the deployed SQS queues (QUEUE_URL and DLQ_URL set, e.g. from the stack's
// outputs) or the running local bridge (`npm run dev`) through its /_local routes. Shared by dlq, redrive,
// resync and reconcile; each says which one it acts on before it does anything.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { accountOfQueueUrl, explainAws, regionOfArn, regionOfQueueUrl, sqsFor } from './aws.ts';
import { CliError, type CommandContext, UsageError } from './types.ts';

export type Target =
  | { kind: 'deployed'; sqs: SQSClient; queueUrl: string; dlqUrl: string; region: string }
  | { kind: 'local'; url: string };

/** The options every queue command takes (node:util parseArgs). */
export const TARGET_OPTIONS = {
  local: { type: 'boolean' },
  'local-url': { type: 'string' },
} as const;

export const TARGET_HELP = [
  'Deployed: set QUEUE_URL and DLQ_URL (the stack outputs SyncQueueUrl, DeadLetterQueueUrl) and sign in to AWS;',
  '  the region is taken from the queue URL.',
  'Local: --local, the running `npm run dev` bridge on http://127.0.0.1:$PORT (PORT 3000), or --local-url <url>.',
].join('\n');

export function targetOf(ctx: CommandContext): Target {
  const { local, 'local-url': localUrl } = ctx.options;
  // `local` may also carry the URL when a command is called from code (the tests' `{ local: url }`).
  const explicitUrl = typeof localUrl === 'string' ? localUrl : typeof local === 'string' ? local : undefined;
  const wantsLocal = explicitUrl !== undefined || local === true;
  const { QUEUE_URL: queueUrl, DLQ_URL: dlqUrl } = ctx.env;
  if (!wantsLocal && queueUrl && dlqUrl) {
    const region = regionOfQueueUrl(queueUrl) ?? ctx.env.AWS_REGION ?? '';
    return { kind: 'deployed', sqs: sqsFor(queueUrl), queueUrl, dlqUrl, region };
  }
  if (!wantsLocal && (queueUrl || dlqUrl)) {
    throw new CliError(
      `${queueUrl ? 'DLQ_URL' : 'QUEUE_URL'} is not set (both are needed for the deployed queues; or pass --local)`,
    );
  }
  const url = explicitUrl ?? `http://127.0.0.1:${ctx.env.PORT ?? '3000'}`;
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new UsageError('--local-url must be a URL like http://127.0.0.1:3000');
  return { kind: 'local', url: url.replace(/\/+$/, '') };
}

/** The line every queue command prints first: which bridge it acts on. */
export function describeTarget(target: Target): string {
  if (target.kind === 'local') return `Local bridge at ${target.url}`;
  const name = (u: string) => u.replace(/\/+$/, '').split('/').pop();
  const account = accountOfQueueUrl(target.queueUrl);
  return `Deployed bridge: queues ${name(target.queueUrl)} and ${name(target.dlqUrl)} in ${target.region || 'the default region'}${account ? `, account ${account}` : ''}`;
}

/**
 * Before reconcile or resync run in this process against the deployed stack: the bridge's own AWS client (shared/aws)
 * signs with AWS_ACCESS_KEY_ID… from the environment and calls AWS_REGION, so resolve the operator's credentials the
 * way the AWS CLI does (profile, SSO, …) and take the region from the secret's ARN.
 */
export async function prepareDeployed(ctx: CommandContext, target: Extract<Target, { kind: 'deployed' }>) {
  const arn = ctx.env.SECRET_ARN;
  if (!arn) throw new CliError('SECRET_ARN is not set (the stack output SecretArn); or pass --local');
  for (const name of ['LINKS_TABLE_NAME', 'LEDGER_TABLE_NAME'] as const) {
    if (!ctx.env[name])
      throw new CliError(
        `${name} is not set (the stack output ${name.startsWith('LINKS') ? 'LinksTableName' : 'LedgerTableName'})`,
      );
  }
  ctx.env.AWS_REGION = regionOfArn(arn) ?? target.region;
  try {
    const c = await target.sqs.config.credentials();
    ctx.env.AWS_ACCESS_KEY_ID = c.accessKeyId;
    ctx.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
    if (c.sessionToken) ctx.env.AWS_SESSION_TOKEN = c.sessionToken;
    else delete ctx.env.AWS_SESSION_TOKEN;
  } catch (err) {
    throw explainAws(err, 'signing in to AWS', 'none (sign in first)');
  }
}

/** Calls a /_local route of the dev bridge; errors say how to start it instead of a stack trace. */
export async function callLocal<T>(url: string, method: 'GET' | 'POST', path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method, signal: AbortSignal.timeout(120_000) });
  } catch {
    throw new CliError(
      `no local bridge answers at ${url} (start it with \`npm run dev\`, or set QUEUE_URL and DLQ_URL for the deployed queues)`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as T & { message?: string };
  if (!res.ok) throw new CliError(`${path}: ${body.message ?? `HTTP ${res.status}`}`);
  return body;
}

/** The event key and group of a queued body, for listings: ids only, never message text. */
export function describeBody(body: string | undefined): string {
  try {
    const e = JSON.parse(body ?? '') as { eventKey?: unknown };
    return typeof e.eventKey === 'string' ? e.eventKey : 'unparsable body';
  } catch {
    return 'unparsable body';
  }
}
