// `bridge dlq`: how many messages are dead-lettered and why (the reason the worker attached, or SQS's
// maxReceiveCount), listed by event key. Reads only: deployed, a peek receives with a short visibility timeout
// and deletes nothing (a FIFO queue cannot be peeked with visibility 0; its groups stay locked that long).
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { LocalDeadLetter } from '../../shared/queue/local.ts';
import { aws, OPERATOR_PERMISSIONS } from './aws.ts';
import {
  callLocal,
  describeBody,
  describeTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOf,
} from './queue-target.ts';
import { type Command, UsageError } from './types.ts';

/** Seconds a peeked dead letter stays invisible (and its group locked): short, so a redrive is not held up. */
export const PEEK_VISIBILITY_SECONDS = 5;

interface Letter {
  eventKey: string;
  reason: string;
  group?: string | undefined;
  receives?: string | undefined;
}

export const dlq: Command = {
  name: 'dlq',
  summary: 'Show the dead-letter queue: depth, and each message’s event key and reason',
  usage: `dlq [--limit N] [--local | --local-url <url>]\n\n${TARGET_HELP}\n--limit: how many to list (default 10, deployed at most 10 per call).`,
  options: { ...TARGET_OPTIONS, limit: { type: 'string' } },
  async run(ctx) {
    const limit = ctx.options.limit === undefined ? 10 : Number(ctx.options.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError('--limit must be a whole number');
    const target = targetOf(ctx);
    ctx.print(describeTarget(target));
    let depth: number;
    let letters: Letter[];
    if (target.kind === 'local') {
      const q = await callLocal<{ depth: number; deadLetters: LocalDeadLetter[] }>(
        target.url,
        'GET',
        '/_local/queue',
      );
      depth = q.deadLetters.length;
      letters = q.deadLetters.slice(0, limit).map((l) => ({
        eventKey: describeBody(l.body),
        reason: l.reason,
        group: l.groupId,
        receives: String(l.receiveCount ?? ''),
      }));
    } else {
      const { sqs, dlqUrl } = target;
      ({ depth, letters } = await aws(
        `reading the dead-letter queue ${dlqUrl}`,
        OPERATOR_PERMISSIONS.dlq,
        () => peek(sqs, dlqUrl, limit),
      ));
    }
    ctx.print(`dead letters: ${depth}`);
    for (const l of letters) {
      ctx.print(
        `  ${l.eventKey}  reason=${l.reason}  group=${l.group ?? '-'}  receives=${l.receives ?? '-'}`,
      );
    }
    const byReason = new Map<string, number>();
    for (const l of letters) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
    if (byReason.size > 0) {
      ctx.print(`by reason (listed): ${[...byReason].map(([r, n]) => `${r} ×${n}`).join(', ')}`);
    }
    if (depth > letters.length) ctx.print(`(${depth - letters.length} more not listed)`);
  },
};

async function peek(
  sqs: SQSClient,
  queueUrl: string,
  limit: number,
): Promise<{ depth: number; letters: Letter[] }> {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const depth =
    Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  if (limit === 0 || depth === 0) return { depth, letters: [] };
  const res = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(10, limit),
      VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'],
    }),
  );
  return { depth, letters: (res.Messages ?? []).map(letterOf) };
}

function letterOf(m: Message): Letter {
  return {
    eventKey: describeBody(m.Body),
    // The worker attaches a reason when it dead-letters; SQS's redrive policy attaches none.
    reason: m.MessageAttributes?.reason?.StringValue ?? 'max-receive-count',
    group: m.Attributes?.MessageGroupId,
    receives: m.Attributes?.ApproximateReceiveCount,
  };
}
