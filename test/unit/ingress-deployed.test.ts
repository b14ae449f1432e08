// The deployed webhook Lambdas against a fake Secrets Manager and SQS (real signed HTTP on 127.0.0.1): a secret that lets unsigned Chatwoot calls in
// makes both functions refuse (500, the variable named in the log); a rotated secret reaches warm containers
// within the cache TTL; an unexpected exception (our bug) is answered with a JSON 500 that says nothing about it.
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as chatwootHandler } from '../../functions/chatwoot-webhook.ts';
import { handler as zendeskHandler } from '../../functions/zendesk-webhook.ts';
import { SECRET_TTL_MS, setLocalMode } from '../../shared/config-loader.ts';
import type { handleWebhook, Platform } from '../../shared/http/ingress.ts';
import { RELOAD_AFTER_MISMATCH_MS } from '../../shared/http/lambda.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';
import { fixture } from '../helpers/fixtures.ts';
import { apiEvent, captureOutput, type LogCapture, signedHeaders } from '../helpers/webhooks.ts';

/** When set, the ingress throws it: a bug the handler's safety net must catch (the only mock in this file). */
const bug = vi.hoisted(() => ({ error: undefined as Error | undefined }));
vi.mock('../../shared/http/ingress.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/http/ingress.ts')>();
  return {
    ...real,
    handleWebhook: (...args: Parameters<typeof handleWebhook>) => {
      if (bug.error) throw bug.error;
      return real.handleWebhook(...args);
    },
  };
});

const GET_SECRET = 'secretsmanager.GetSecretValue';
const SEND = 'AmazonSQS.SendMessage';
let aws: FakeAws;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bridge-AbCdEf';

const complete = {
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
const { CHATWOOT_WEBHOOK_SECRET: _omitted, ...unsignedChatwoot } = complete;

const handlers = { zendesk: zendeskHandler, chatwoot: chatwootHandler } as const;
const bodies = {
  zendesk: JSON.stringify(fixture('zendesk', 'ticket.comment_added-end-user-public.json')),
  chatwoot: JSON.stringify(fixture('chatwoot', 'message_created-outgoing-agent-reply.json')),
};

function useSecret(value: Record<string, string>): void {
  aws.on(GET_SECRET, () => ({ SecretString: JSON.stringify(value) }));
}
const sent = () => aws.calls(SEND).length;

async function call(platform: Platform, headers: Record<string, string> = {}) {
  const res = await handlers[platform](apiEvent(platform, { body: bodies[platform], headers }));
  return { status: res.statusCode, body: JSON.parse(res.body ?? '') as Record<string, unknown> };
}

const signedBy = (platform: Platform, secret: string) =>
  signedHeaders(platform, secret, bodies[platform], Date.now());

let logs: LogCapture;
let clock = Date.now();
const AWS_ENV = [
  'SECRET_ARN',
  'QUEUE_URL',
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
];
const saved = Object.fromEntries(AWS_ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  aws = await startFakeAws('AKIDFAKEINGRESS');
  setLocalMode(undefined);
  process.env.SECRET_ARN = SECRET_ARN;
  process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge.fifo';
  process.env.AWS_ENDPOINT_URL = aws.url;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEINGRESS';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-access-key-for-tests';
  process.env.AWS_REGION = 'eu-west-1';
  logs = captureOutput({ echo: false });
});
afterAll(async () => {
  logs.stop();
  await aws.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  // Each test starts as a cold container would: no cached configuration, past any earlier cache lifetime.
  setLocalMode(undefined);
  clock += SECRET_TTL_MS * 10;
  vi.setSystemTime(clock);
  aws.reset();
  aws.on(SEND, () => ({ MessageId: 'm-1' }));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('deployed configuration strictness', () => {
  it('with neither Chatwoot secret nor URL token, both functions refuse with 500 and name the variable in the log', async () => {
    useSecret(unsignedChatwoot);
    const start = logs.lines().length;
    for (const platform of ['chatwoot', 'zendesk'] as const) {
      // Unsigned, and signed with the secret the operator forgot to store: neither gets through.
      for (const headers of [{}, signedBy(platform, complete.CHATWOOT_WEBHOOK_SECRET)]) {
        expect(await call(platform, headers)).toEqual({
          status: 500,
          body: { error: 'server_misconfigured', message: expect.any(String) },
        });
      }
    }
    expect(sent()).toBe(0);
    const lines = logs.lines().slice(start).join('\n');
    const errors = logs
      .lines()
      .slice(start)
      .map((l) => JSON.parse(l) as { message?: string; problems?: string[] })
      .filter((l) => l.message === 'configuration invalid');
    expect(errors).toHaveLength(4);
    expect(errors[0]!.problems!.join(' ')).toMatch(/CHATWOOT_WEBHOOK_SECRET is required/);
    for (const value of Object.values(complete)) {
      if (value.length > 8) expect(lines).not.toContain(value);
    }
  });

  it('a secret that is not JSON, or cannot be read, is refused the same way without echoing it', async () => {
    aws.on(GET_SECRET, () => ({ SecretString: 'not-json-secret-3e9a' }));
    const start = logs.lines().length;
    expect((await call('zendesk')).status).toBe(500);
    aws.on(GET_SECRET, () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'denied' } }));
    expect((await call('chatwoot')).status).toBe(500);
    const lines = logs.lines().slice(start);
    expect(lines.join('\n')).toMatch(/SECRET_ARN: the secret is not a JSON object/);
    expect(lines.join('\n')).toMatch(/AccessDeniedException/);
    expect(lines.join('\n')).not.toContain('not-json-secret-3e9a');
    expect(sent()).toBe(0);
  });

  it('with only the URL token, accepts a Chatwoot call carrying it and refuses one without', async () => {
    const token = 'Zx9'.repeat(14);
    useSecret({ ...unsignedChatwoot, CHATWOOT_WEBHOOK_URL_TOKEN: token });
    const withToken = await chatwootHandler({
      ...apiEvent('chatwoot', { body: bodies.chatwoot, query: { token } }),
    });
    expect(withToken.statusCode).toBe(202);
    expect((await call('chatwoot')).status).toBe(401);
    expect(sent()).toBe(1);
  });

  it('a complete secret: signed calls are queued to SQS, unsigned ones get 401', async () => {
    useSecret(complete);
    expect((await call('zendesk', signedBy('zendesk', complete.ZENDESK_WEBHOOK_SECRET))).status).toBe(202);
    expect((await call('chatwoot', signedBy('chatwoot', complete.CHATWOOT_WEBHOOK_SECRET))).status).toBe(202);
    expect((await call('chatwoot')).status).toBe(401);
    expect((await call('zendesk')).status).toBe(401);
    expect(sent()).toBe(2);
    // FIFO: the group is the ticket, the deduplication id a digest of the source event's key.
    expect(aws.calls(SEND)[0]).toEqual({
      QueueUrl: process.env.QUEUE_URL,
      MessageBody: expect.stringContaining('"kind":"zendesk.comment"'),
      MessageGroupId: 'ticket-48213',
      MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe('secret rotation', () => {
  it('the platform resets its secret, setup stores it: the next delivery verifies after one re-read (throttled to 30 s)', async () => {
    const old = complete.ZENDESK_WEBHOOK_SECRET;
    const next = 'zd-webhook-secret-NEXT-1b7d';
    useSecret(complete);
    expect((await call('zendesk', signedBy('zendesk', old))).status).toBe(202);
    const reads = () => aws.calls(GET_SECRET).length;
    const before = reads();

    // The platform now signs with the new secret, and the operator has stored it.
    useSecret({ ...complete, ZENDESK_WEBHOOK_SECRET: next });
    // Within 30 s of the last read a mismatch does not re-read: a flood of forged calls cannot hammer the API.
    vi.setSystemTime(Date.now() + 10_000);
    expect((await call('zendesk', signedBy('zendesk', next))).status).toBe(401);
    expect(reads()).toBe(before);
    // Later, one mismatch re-reads the secret and the same delivery verifies.
    vi.setSystemTime(Date.now() + RELOAD_AFTER_MISMATCH_MS);
    expect((await call('zendesk', signedBy('zendesk', next))).status).toBe(202);
    expect(reads()).toBe(before + 1);
    expect((await call('zendesk', signedBy('zendesk', old))).status).toBe(401);
  });

  it('current,previous in the secret: both verify during the switch', async () => {
    const old = complete.ZENDESK_WEBHOOK_SECRET;
    const next = 'zd-webhook-secret-NEXT-1b7d';
    useSecret({ ...complete, ZENDESK_WEBHOOK_SECRET: `${next},${old}` });
    expect((await call('zendesk', signedBy('zendesk', old))).status).toBe(202);
    expect((await call('zendesk', signedBy('zendesk', next))).status).toBe(202);
  });
});

describe('a failed refresh', () => {
  it('keeps serving with the last good configuration when Secrets Manager fails after the cache lifetime', async () => {
    useSecret(complete);
    expect((await call('zendesk', signedBy('zendesk', complete.ZENDESK_WEBHOOK_SECRET))).status).toBe(202);
    aws.on(GET_SECRET, () => ({ status: 400, body: { __type: 'AccessDeniedException' } }));
    vi.setSystemTime(Date.now() + SECRET_TTL_MS + 1000);
    const start = logs.lines().length;
    expect((await call('zendesk', signedBy('zendesk', complete.ZENDESK_WEBHOOK_SECRET))).status).toBe(202);
    expect(logs.lines().slice(start).join('\n')).toMatch(/configuration refresh failed/);
  });
});

describe('the safety net', () => {
  afterEach(() => {
    bug.error = undefined;
  });

  it.each(['zendesk', 'chatwoot'] as const)(
    '%s: an unexpected exception is a JSON 500 that leaks nothing, logged with its name and where it was thrown',
    async (platform) => {
      useSecret(complete);
      // A message that quotes what it should not: the body and a secret.
      bug.error = new TypeError(
        `cannot read 'x' of ${bodies[platform].slice(0, 40)} ${complete.ZENDESK_API_TOKEN}`,
      );
      const start = logs.lines().length;
      const res = await handlers[platform](
        apiEvent(platform, { body: bodies[platform], headers: signedBy(platform, 'irrelevant') }),
        lambdaContext('req-safety-net'),
      );
      expect(res).toEqual({
        statusCode: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'internal_error', message: 'unexpected error; it has been logged' }),
      });
      expect(sent()).toBe(0);
      const lines = logs.lines().slice(start);
      const logged = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.message === 'unhandled error');
      expect(logged).toMatchObject({
        level: 'ERROR',
        error: 'TypeError',
        platform,
        function_request_id: 'req-safety-net',
        at: expect.arrayContaining([expect.stringMatching(/^at /)]),
      });
      expect(lines.join('\n')).not.toContain(complete.ZENDESK_API_TOKEN);
      expect(lines.join('\n')).not.toContain(bodies[platform].slice(0, 40));

      // The next request is served normally, without the failed one's log keys.
      bug.error = undefined;
      const next = logs.lines().length;
      const ok = await handlers[platform](
        apiEvent(platform, {
          body: bodies[platform],
          headers: signedBy(
            platform,
            platform === 'zendesk' ? complete.ZENDESK_WEBHOOK_SECRET : complete.CHATWOOT_WEBHOOK_SECRET,
          ),
        }),
      );
      expect(ok.statusCode).toBe(202);
      expect(logs.lines().slice(next).join('\n')).not.toContain('req-safety-net');
    },
  );
});

/** The part of Lambda's context that Powertools' logger reads. */
function lambdaContext(awsRequestId: string): Context {
  return {
    awsRequestId,
    functionName: 'bridge-webhook',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bridge-webhook',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/bridge-webhook',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 5_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
