// The ops CLI as an operator runs it (a child process, only 127.0.0.1): every AWS failure is one line naming the fix
// with no stack trace, the region comes from the ARN or queue URL, options are parsed strictly, and every queue
// command says which bridge it acts on.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionOfArn, regionOfQueueUrl, sqsFor } from '../../bin/commands/aws.ts';
import { dlq } from '../../bin/commands/dlq.ts';
import { reconcile } from '../../bin/commands/reconcile.ts';
import { resync } from '../../bin/commands/resync.ts';
import { tsxArgs } from '../helpers/tsx.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:BridgeSecret-AbCdEf';

interface Seen {
  target: string;
  authorization: string;
}

/** A stand-in AWS endpoint answering every call with one JSON-protocol error, recording what was asked. */
async function failingAws(status: number, type: string) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({
        target: String(req.headers['x-amz-target'] ?? ''),
        authorization: String(req.headers.authorization ?? ''),
      });
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          __type: type,
          message: 'User: arn:aws:iam::123456789012:user/op is not authorized',
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A loopback port with nothing listening: what an unreachable endpoint looks like. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** The CLI in a child process with only the environment given (no profile, no instance metadata). */
function cli(args: string[], env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, tsxArgs('bin/bridge.ts', ...args), {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: '/nonexistent',
        AWS_CONFIG_FILE: '/nonexistent/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIDOPERATOR', AWS_SECRET_ACCESS_KEY: 'operator-secret-access-key' };
const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');
const noStack = (s: string) => expect(s).not.toMatch(/^\s+at |Error: .*\n\s+at /m);

describe('doctor against an AWS that refuses or cannot be reached', () => {
  it.each([
    [
      'access denied',
      400,
      'AccessDeniedException',
      /^access denied while reading the secret .*: your AWS identity needs secretsmanager:GetSecretValue/,
    ],
    [
      'expired credentials',
      400,
      'ExpiredTokenException',
      /^your AWS credentials have expired .*: sign in again/,
    ],
    [
      'unknown access key',
      403,
      'UnrecognizedClientException',
      /^AWS does not accept these credentials .*: check AWS_PROFILE/,
    ],
    [
      'a deleted secret',
      400,
      'ResourceNotFoundException',
      /^not found while reading the secret .*: check the URL or ARN against the stack outputs/,
    ],
  ])('%s: one line with the fix, exit 1, no stack trace', async (_case, status, type, message) => {
    const aws = await failingAws(status, type);
    try {
      // The shell's region differs from the secret's: the ARN's region is the one asked.
      const run = await cli(['doctor', '--secret-arn', ARN], {
        ...KEYS,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: aws.url,
      });
      expect(run.status).toBe(1);
      expect(lines(run.stdout)).toEqual([]);
      expect(lines(run.stderr)).toEqual([expect.stringMatching(message)]);
      noStack(run.stderr);
      expect(aws.seen[0]!.target).toBe('secretsmanager.GetSecretValue');
      expect(aws.seen[0]!.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
    } finally {
      await aws.close();
    }
  });

  it('unreachable endpoint: one line naming the network, exit 1', async () => {
    const run = await cli(['doctor', '--secret-arn', ARN], { ...KEYS, AWS_ENDPOINT_URL: await closedPort() });
    expect(run.status).toBe(1);
    expect(lines(run.stdout)).toEqual([]);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(/^cannot reach AWS while reading the secret .*ECONNREFUSED.*check the network/),
    ]);
    noStack(run.stderr);
  });

  it('no credentials at all: one line saying how to sign in, exit 1', async () => {
    const run = await cli(['doctor', '--secret-arn', ARN], { AWS_ENDPOINT_URL: await closedPort() });
    expect(run.status).toBe(1);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(/^no AWS credentials for reading the secret .*aws sso login/),
    ]);
    noStack(run.stderr);
  });
});

describe('strict options (node:util parseArgs)', () => {
  it.each([
    [['dlq', '--limt', '3'], /^dlq: Unknown option '--limt'$/],
    [['doctor', '--secret-arn'], /^doctor: Option '--secret-arn <value>' argument missing$/],
    [['redrive', 'now'], /^redrive: Unexpected argument 'now'$/],
    [['dlq', '--local', 'http://127.0.0.1:3000'], /^dlq: Unexpected argument 'http:\/\/127.0.0.1:3000'$/],
    [['resync', '--local'], /^--ticket <id> is required/],
  ])('%j: one line saying what is wrong, the usage, exit 2', async (args, message) => {
    const run = await cli(args, {});
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const [first, usage, ...more] = lines(run.stderr);
    expect(first).toMatch(message);
    expect(usage).toMatch(new RegExp(`^usage: npm run bridge -- ${args[0]} .*\\(--help for details\\)$`));
    expect(more).toEqual([]);
  });

  it('--help still shows a command’s options, exit 0', async () => {
    const run = await cli(['redrive', '--help'], {});
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /usage: npm run bridge -- redrive \[--wait\] \[--local \| --local-url <url>\]/,
    );
  });
});

describe('where a queue command acts', () => {
  const deployed = {
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZendeskChatwootBridge-SyncQueue.fifo',
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZendeskChatwootBridge-DeadLetterQueue.fifo',
  };
  let sqs: ReturnType<typeof mockClient>;
  beforeAll(() => {
    sqs = mockClient(SQSClient);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
  });
  afterAll(() => sqs.restore());

  it('takes the region from the ARN or the queue URL (modern, legacy and us-east-1 forms)', async () => {
    expect(regionOfArn(ARN)).toBe('eu-west-1');
    expect(regionOfQueueUrl(deployed.QUEUE_URL)).toBe('eu-west-1');
    expect(regionOfQueueUrl('https://ap-southeast-2.queue.amazonaws.com/123456789012/q.fifo')).toBe(
      'ap-southeast-2',
    );
    expect(regionOfQueueUrl('https://queue.amazonaws.com/123456789012/q.fifo')).toBe('us-east-1');
    expect(regionOfQueueUrl('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q.fifo')).toBe(
      'cn-north-1',
    );
    expect(await sqsFor(deployed.QUEUE_URL).config.region()).toBe('eu-west-1');
  });

  it('says "Deployed bridge" with the queues, region and account before it reads anything', async () => {
    const out: string[] = [];
    await dlq.run({
      options: {},
      args: [],
      env: { ...deployed, AWS_REGION: 'us-east-1' },
      print: (l) => out.push(l),
    });
    expect(out).toEqual([
      'Deployed bridge: queues ZendeskChatwootBridge-SyncQueue.fifo and ZendeskChatwootBridge-DeadLetterQueue.fifo in eu-west-1, account 123456789012',
      'dead letters: 0',
    ]);
  });

  it('says "Local bridge" with its URL, even when it then cannot reach it', async () => {
    const url = await closedPort();
    for (const command of [dlq, reconcile]) {
      const out: string[] = [];
      await expect(
        command.run({ options: { 'local-url': url }, args: [], env: deployed, print: (l) => out.push(l) }),
      ).rejects.toThrow(/no local bridge answers/);
      expect(out).toEqual([`Local bridge at ${url}`]);
    }
  });

  it('deployed resync names what it is missing instead of failing inside', async () => {
    const out: string[] = [];
    await expect(
      resync.run({ options: { ticket: '42' }, args: [], env: { ...deployed }, print: (l) => out.push(l) }),
    ).rejects.toThrow(/^SECRET_ARN is not set \(the stack output SecretArn\)/);
    expect(out[0]).toMatch(/^Deployed bridge: /);
  });
});
