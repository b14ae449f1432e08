// The ops CLI's queue commands. Locally against a running bridge (real HTTP, simulators): a permanent failure
// shows in `dlq` with its reason, `redrive` puts it back once the cause is fixed, `resync` posts only what is
// missing. Deployed: the SQS requests they build, checked with aws-sdk-client-mock (nothing leaves the machine).
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlq, PEEK_VISIBILITY_SECONDS } from '../../bin/commands/dlq.ts';
import { redrive } from '../../bin/commands/redrive.ts';
import { resync } from '../../bin/commands/resync.ts';
import { CliError, type Command } from '../../bin/commands/types.ts';
import { sqsRedelivery } from '../../shared/queue/sqs.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { startFakeAws } from '../helpers/fake-aws.ts';
import { scenario } from '../helpers/scenario.ts';

async function run(
  command: Command,
  options: Record<string, string | boolean>,
  env: Record<string, string> = {},
) {
  const lines: string[] = [];
  await command.run({ options, args: [], env, print: (l) => lines.push(l) });
  return lines;
}

describe('against the local bridge', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({
      queue: { visibilityTimeoutMs: 50 },
      env: { RECONCILE_SETTLE_MS: '0', ZENDESK_AUTHORSHIP: 'bridge' },
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('dlq lists a permanent failure with its reason; redrive delivers it once the cause is gone', async () => {
    const { ticket, conversation } = await s.openTicket('cli');
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status: 401 });
    const reply = h.chatwoot.agentReply(conversation.id, { content: 'rejected at first' });
    await h.settle();
    expect(s.fromChatwoot(ticket.id)).toEqual([]);

    const listed = await run(dlq, { local: h.bridge.url });
    expect(listed[0]).toBe(`Local bridge at ${h.bridge.url}`);
    expect(listed[1]).toBe('dead letters: 1');
    expect(listed[2]).toContain(`cw:message:${reply.id}`);
    expect(listed[2]).toContain('reason=zendesk-put tickets/:id-http-401');
    expect(listed.join('\n')).not.toContain('rejected at first');

    expect(await run(redrive, { local: h.bridge.url })).toEqual([
      `Local bridge at ${h.bridge.url}`,
      'redriven: 1',
    ]);
    await h.settle();
    expect(s.fromChatwoot(ticket.id)).toEqual(['rejected at first']);
    expect(await run(dlq, { local: h.bridge.url })).toEqual([
      `Local bridge at ${h.bridge.url}`,
      'dead letters: 0',
    ]);
  });

  it('resync posts only the missing comment', async () => {
    const { ticket, conversation } = await s.openTicket('resync via cli');
    h.zendesk.setWebhookUrl(undefined);
    h.zendesk.customerComment(ticket.id, 'never delivered');
    await h.settle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    expect(await run(resync, { local: h.bridge.url, ticket: String(ticket.id) })).toEqual([
      `Local bridge at ${h.bridge.url}`,
      `ticket ${ticket.id}: 1 missing comment(s)/message(s) enqueued`,
    ]);
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['resync via cli', 'never delivered']);
  });

  it('says clearly what is wrong', async () => {
    await expect(run(resync, { local: h.bridge.url })).rejects.toThrow(/--ticket <id> is required/);
    await expect(run(dlq, { local: 'http://127.0.0.1:9' })).rejects.toThrow(/no local bridge answers/);
    await expect(run(dlq, {}, { QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo' })).rejects.toThrow(
      CliError,
    );
  });
});

describe('against the deployed queues (mocked SQS)', () => {
  const env = {
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/sync.fifo',
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq.fifo',
  };

  it('dlq reads the depth and peeks with a short visibility timeout, deleting nothing', async () => {
    const sqs = mockClient(SQSClient);
    try {
      sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
      sqs.on(ReceiveMessageCommand).resolves({
        Messages: [
          {
            Body: JSON.stringify({ eventKey: 'cw:message:5001', content: 'secret text' }),
            MessageAttributes: { reason: { DataType: 'String', StringValue: 'zendesk-update-rejected' } },
            Attributes: { MessageGroupId: 'ticket-48001', ApproximateReceiveCount: '1' },
          },
          {
            Body: JSON.stringify({ eventKey: 'zd:comment:7' }),
            Attributes: { MessageGroupId: 'ticket-48002' },
          },
        ],
      });
      const lines = await run(dlq, {}, env);
      expect(lines[0]).toBe(
        'Deployed bridge: queues sync.fifo and dlq.fifo in eu-west-1, account 123456789012',
      );
      expect(lines[1]).toBe('dead letters: 2');
      expect(lines[2]).toContain('cw:message:5001  reason=zendesk-update-rejected  group=ticket-48001');
      expect(lines[3]).toContain('zd:comment:7  reason=max-receive-count');
      expect(lines.join('\n')).not.toContain('secret text');
      const receive = sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input;
      expect(receive).toMatchObject({
        QueueUrl: env.DLQ_URL,
        VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        MessageAttributeNames: ['All'],
      });
      expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    } finally {
      sqs.restore();
    }
  });

  it('redrive starts an SQS message move task from the DLQ to the sync queue', async () => {
    const sqs = mockClient(SQSClient);
    try {
      sqs
        .on(GetQueueAttributesCommand, { QueueUrl: env.DLQ_URL })
        .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq.fifo' } })
        .on(GetQueueAttributesCommand, { QueueUrl: env.QUEUE_URL })
        .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:sync.fifo' } });
      sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      expect(await run(redrive, {}, env)).toEqual([
        'Deployed bridge: queues sync.fifo and dlq.fifo in eu-west-1, account 123456789012',
        'move task started: task-1',
      ]);
      expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({
        SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq.fifo',
        DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:sync.fifo',
      });
    } finally {
      sqs.restore();
    }
  });

  it('the worker holds a rate-limited record back with ChangeMessageVisibility on its own queue', async () => {
    const aws = await startFakeAws('AKIDWORKER');
    try {
      aws.on('AmazonSQS.ChangeMessageVisibility', () => ({}));
      const record = {
        receiptHandle: 'handle-1',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:sync.fifo',
      } as SQSRecord;
      await sqsRedelivery({
        AWS_ENDPOINT_URL: aws.url,
        AWS_ACCESS_KEY_ID: 'AKIDWORKER',
        AWS_SECRET_ACCESS_KEY: 'worker-secret-key-for-tests',
      }).delay(record, 61_500);
      expect(aws.calls('AmazonSQS.ChangeMessageVisibility')).toEqual([
        { QueueUrl: env.QUEUE_URL, ReceiptHandle: 'handle-1', VisibilityTimeout: 62 },
      ]);
    } finally {
      await aws.close();
    }
  });
});
