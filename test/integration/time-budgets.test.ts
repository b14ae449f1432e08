// Every time budget fits inside what encloses it (#14 item 5), shown end to end: the deployed webhook functions
// answer a delivery within Chatwoot's 5 s even when SQS or Secrets Manager hangs (real signed HTTP to hanging
// endpoints on 127.0.0.1), instead of spending longer retrying than the platform waits.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as chatwootHandler } from '../../functions/chatwoot-webhook.ts';
import {
  AWS_CALL_BUDGET_MS,
  CHATWOOT_WEBHOOK_WAIT_MS,
  INGRESS_ANSWER_BUDGET_MS,
} from '../../shared/budgets.ts';
import { setLocalMode } from '../../shared/config-loader.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';
import { fixture } from '../helpers/fixtures.ts';
import { apiEvent, captureOutput, type LogCapture, signedHeaders } from '../helpers/webhooks.ts';

const secret = {
  ZENDESK_BASE_URL: 'https://acme.zendesk.com',
  ZENDESK_EMAIL: 'bridge@acme.example',
  ZENDESK_API_TOKEN: 'zd-api-token-4f1c9e',
  ZENDESK_WEBHOOK_SECRET: 'zd-webhook-secret-7a2b',
  CHATWOOT_BASE_URL: 'https://chat.acme.example',
  CHATWOOT_ACCOUNT_ID: '1',
  CHATWOOT_INBOX_ID: '7',
  CHATWOOT_API_TOKEN: 'cw-api-token-9d3e',
  CHATWOOT_WEBHOOK_SECRET: 'cw-webhook-secret-5c8f',
};
const body = JSON.stringify(fixture('chatwoot', 'message_created-outgoing-agent-reply.json'));
const ENV = [
  'SECRET_ARN',
  'QUEUE_URL',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

let aws: FakeAws;
let hanging: Server;
let hangingUrl: string;
let logs: LogCapture;

beforeAll(async () => {
  aws = await startFakeAws('AKIDFAKEBUDGET');
  // Accepts the connection and never answers: what a stuck regional endpoint looks like to the client.
  hanging = createServer(() => undefined);
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  process.env.SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bridge-AbCdEf';
  process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge.fifo';
  process.env.AWS_ENDPOINT_URL = aws.url;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEBUDGET';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-access-key-for-tests';
  process.env.AWS_REGION = 'eu-west-1';
  logs = captureOutput({ echo: false });
  // The webhook function imports its request path with the first delivery (shared/http/lambda.ts `ingress()`).
  // Deployed that is a prebuilt chunk (its cost is in README "Cold start as deployed"); here vitest would compile
  // its TypeScript inside the first timed delivery, which is no part of the AWS budgets these tests hold.
  await import('../../shared/http/request-path.ts');
});
afterAll(async () => {
  logs.stop();
  hanging.closeAllConnections();
  await new Promise<void>((r) => hanging.close(() => r()));
  await aws.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
beforeEach(() => {
  setLocalMode(undefined);
  delete process.env.AWS_ENDPOINT_URL_SQS;
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  aws.reset();
  aws.on('secretsmanager.GetSecretValue', () => ({ SecretString: JSON.stringify(secret) }));
  aws.on('AmazonSQS.SendMessage', () => ({ MessageId: 'm-1' }));
});

async function deliver() {
  const started = performance.now();
  const res = await chatwootHandler(
    apiEvent('chatwoot', {
      body,
      headers: signedHeaders('chatwoot', secret.CHATWOOT_WEBHOOK_SECRET, body, Date.now()),
    }),
  );
  return { status: res.statusCode, ms: performance.now() - started };
}

describe('ingress answers inside the webhook wait', () => {
  it('the budgets nest: two AWS calls and the handler fit inside Chatwoot’s 5 s', () => {
    expect(INGRESS_ANSWER_BUDGET_MS).toBeLessThan(CHATWOOT_WEBHOOK_WAIT_MS);
  });

  it('a hanging SQS: 503 within the budget (the sender may retry; nothing was queued)', async () => {
    process.env.AWS_ENDPOINT_URL_SQS = hangingUrl;
    const { status, ms } = await deliver();
    expect(status).toBe(503);
    expect(ms).toBeLessThan(AWS_CALL_BUDGET_MS + 500);
  });

  it('a hanging Secrets Manager on a cold start, then a hanging SQS: still answered before Chatwoot gives up', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hangingUrl;
    process.env.AWS_ENDPOINT_URL_SQS = hangingUrl;
    const { status, ms } = await deliver();
    expect(status).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(CHATWOOT_WEBHOOK_WAIT_MS);
  });
});
