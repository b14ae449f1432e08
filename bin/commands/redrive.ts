// `bridge redrive`: moves every dead letter back onto the sync queue, keeping message groups, so the worker
// tries them again (after the cause is fixed). What was already synced is dropped by its ledger claim.
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { aws, OPERATOR_PERMISSIONS } from './aws.ts';
import { callLocal, describeTarget, TARGET_HELP, TARGET_OPTIONS, targetOf } from './queue-target.ts';
import { CliError, type Command } from './types.ts';

export const redrive: Command = {
  name: 'redrive',
  summary: 'Move the dead letters back onto the sync queue (after fixing their cause)',
  usage: `redrive [--wait] [--local | --local-url <url>]\n\n${TARGET_HELP}\n--wait: deployed, follow the move task until it ends.`,
  options: { ...TARGET_OPTIONS, wait: { type: 'boolean' } },
  async run(ctx) {
    const target = targetOf(ctx);
    ctx.print(describeTarget(target));
    if (target.kind === 'local') {
      const { redriven } = await callLocal<{ redriven: number }>(target.url, 'POST', '/_local/redrive');
      ctx.print(`redriven: ${redriven}`);
      return;
    }
    const { sqs } = target;
    const what = `redriving ${target.dlqUrl} to ${target.queueUrl}`;
    const [source, destination] = await aws(what, OPERATOR_PERMISSIONS.redrive, () =>
      Promise.all([arnOf(sqs, target.dlqUrl), arnOf(sqs, target.queueUrl)]),
    );
    // SQS's own DLQ redrive (FIFO supported): it keeps each message's group, and needs no process to stay up.
    const task = await aws(what, OPERATOR_PERMISSIONS.redrive, () =>
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination })),
    );
    ctx.print(`move task started: ${task.TaskHandle ?? '(no handle)'}`);
    if (ctx.options.wait !== true) return;
    for (let i = 0; i < 900; i++) {
      const { Results } = await aws(
        `following the move task on ${target.dlqUrl}`,
        OPERATOR_PERMISSIONS.redrive,
        () => sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 1 })),
      );
      const t = Results?.[0];
      ctx.print(
        `  ${t?.Status ?? 'UNKNOWN'}: moved ${t?.ApproximateNumberOfMessagesMoved ?? 0} of ${t?.ApproximateNumberOfMessagesToMove ?? '?'}`,
      );
      if (t?.Status !== 'RUNNING') {
        if (t?.Status === 'FAILED')
          throw new CliError(`move task failed: ${t.FailureReason ?? 'no reason given'}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  },
};

async function arnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = res.Attributes?.QueueArn;
  if (!arn) throw new CliError(`no ARN for queue ${queueUrl}`);
  return arn;
}
