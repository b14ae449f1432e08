// Where the queue commands act: the deployed SQS queues (QUEUE_URL and DLQ_URL set, e.g. from the stack's
// outputs) or the running local bridge (`npm run dev`) through its /_local routes. Shared by dlq, redrive,
// resync and reconcile.
import { SQSClient } from '@aws-sdk/client-sqs';
import { CliError, type CommandContext } from './types.ts';

export type Target =
  | { kind: 'deployed'; sqs: SQSClient; queueUrl: string; dlqUrl: string }
  | { kind: 'local'; url: string };

export const TARGET_HELP = [
  'Deployed: set QUEUE_URL and DLQ_URL (the stack outputs) and AWS credentials.',
  'Local: the running `npm run dev` bridge; --local <url> (default http://127.0.0.1:$PORT, PORT 3000).',
].join('\n');

export function targetOf(ctx: CommandContext): Target {
  const local = ctx.options.local;
  const { QUEUE_URL: queueUrl, DLQ_URL: dlqUrl } = ctx.env;
  if (local === undefined && queueUrl && dlqUrl) {
    return { kind: 'deployed', sqs: new SQSClient({}), queueUrl, dlqUrl };
  }
  if (local === undefined && (queueUrl || dlqUrl)) {
    throw new CliError(
      `${queueUrl ? 'DLQ_URL' : 'QUEUE_URL'} is not set (both are needed for the deployed queues)`,
    );
  }
  const url = typeof local === 'string' ? local : `http://127.0.0.1:${ctx.env.PORT ?? '3000'}`;
  if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError('--local must be a URL like http://127.0.0.1:3000');
  return { kind: 'local', url: url.replace(/\/+$/, '') };
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
