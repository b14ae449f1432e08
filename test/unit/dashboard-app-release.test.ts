// Retry on a held message, deployed: ChangeMessageVisibility to 0 on its latest receipt handle, on the queue named
// by the record's event source ARN, signed like every other SQS call (against a fake SQS endpoint on 127.0.0.1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { releaseOnSqs } from '../../shared/app/deps.ts';
import type { AttentionEntry } from '../../shared/store/attention.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';

let sqs: FakeAws;
let env: Record<string, string>;

beforeAll(async () => {
  sqs = await startFakeAws('AKIAAPPTEST');
  env = {
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ACCESS_KEY_ID: 'AKIAAPPTEST',
    AWS_SECRET_ACCESS_KEY: 'secret-for-the-fake',
    AWS_REGION: 'eu-west-1',
  };
});
afterAll(() => sqs?.close());

const entry = (eventKey: string, handle?: string): AttentionEntry => ({
  eventKey,
  state: 'retrying',
  reason: 'zendesk-put tickets/:id-http-500',
  at: 1,
  receiveCount: 2,
  sqsMessageId: `m-${eventKey}`,
  ...(handle ? { receiptHandle: handle } : {}),
  queueArn: 'arn:aws:sqs:eu-west-1:123456789012:bridge-events.fifo',
});

it('makes each held message visible now, skipping stale handles and entries without one', async () => {
  sqs.on('AmazonSQS.ChangeMessageVisibility', (input) =>
    input.ReceiptHandle === 'stale'
      ? { status: 400, body: { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid' } }
      : {},
  );
  const released = await releaseOnSqs(
    [
      entry('cw:message:1', 'h1'),
      entry('cw:message:2', 'stale'),
      entry('cw:message:3'),
      entry('cw:message:4', 'h4'),
    ],
    env,
  );
  expect(released).toBe(2);
  expect(sqs.calls('AmazonSQS.ChangeMessageVisibility')).toEqual([
    {
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-events.fifo',
      ReceiptHandle: 'h1',
      VisibilityTimeout: 0,
    },
    {
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-events.fifo',
      ReceiptHandle: 'stale',
      VisibilityTimeout: 0,
    },
    {
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-events.fifo',
      ReceiptHandle: 'h4',
      VisibilityTimeout: 0,
    },
  ]);
});
