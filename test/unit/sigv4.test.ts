// The ingress's SigV4 signer reproduces the AWS SDK's own signatures, byte for byte, for the same requests.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { type AwsCredentials, signRequest } from '../../shared/aws/sigv4.ts';

interface Captured {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** A request handler that records what the SDK would send, already signed, and sends nothing. */
function capture(into: Captured[]) {
  return {
    handle: async (req: Captured) => {
      into.push(req);
      throw Object.assign(new Error('captured'), { name: 'Captured' });
    },
  };
}

const creds = (sessionToken?: string): AwsCredentials => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  ...(sessionToken ? { sessionToken } : {}),
});

async function sdkRequest(kind: 'sqs' | 'secrets', c: AwsCredentials, input: Record<string, string>) {
  const captured: Captured[] = [];
  const config = { region: 'eu-west-1', credentials: c, requestHandler: capture(captured), maxAttempts: 1 };
  const send =
    kind === 'sqs'
      ? new SQSClient(config).send(new SendMessageCommand(input as never))
      : new SecretsManagerClient(config).send(new GetSecretValueCommand(input as never));
  await send.catch((e: Error) => {
    if (e.name !== 'Captured') throw e;
  });
  const req = captured[0]!;
  // The SDK hands over a string or bytes; sign and compare the same UTF-8 text.
  const body: unknown = req.body;
  return { ...req, body: typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array) };
}

function resign(req: Captured, service: string, c: AwsCredentials): string {
  const auth = req.headers.authorization!;
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
  const amzDate = req.headers['x-amz-date']!;
  const now = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  // Give the signer exactly the headers the SDK signed, minus those it adds itself.
  const headers = Object.fromEntries(
    signedNames
      .filter((n) => !['host', 'x-amz-date', 'x-amz-security-token'].includes(n))
      .map((n) => [n, req.headers[n]!]),
  );
  const url = new URL(`${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ''}${req.path}`);
  return signRequest({
    method: req.method,
    url,
    headers,
    body: req.body,
    region: 'eu-west-1',
    service,
    credentials: c,
    now,
  }).authorization!;
}

describe('signRequest', () => {
  it('matches the SDK for SQS SendMessage (JSON 1.0), with and without a session token', async () => {
    for (const c of [creds(), creds('FwoGZXIvYXdzEXAMPLE//token+with/slashes==')]) {
      const req = await sdkRequest('sqs', c, {
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-events.fifo',
        MessageBody: '{"kind":"zendesk.comment","body":"ünïcødé 🙏 \\"quoted\\""}',
        MessageGroupId: 'ticket-42',
        MessageDeduplicationId: 'a'.repeat(64),
      });
      expect(req.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
      expect(resign(req, 'sqs', c)).toBe(req.headers.authorization);
    }
  });

  it('matches the SDK for Secrets Manager GetSecretValue (JSON 1.1)', async () => {
    const c = creds('session-token-value');
    const req = await sdkRequest('secrets', c, {
      SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bridge-AbCdEf',
    });
    expect(req.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(resign(req, 'secretsmanager', c)).toBe(req.headers.authorization);
  });

  it('changes the signature when the body changes by one byte', async () => {
    const c = creds();
    const req = await sdkRequest('secrets', c, { SecretId: 'bridge' });
    expect(resign({ ...req, body: req.body.replace('bridge', 'bridgf') }, 'secretsmanager', c)).not.toBe(
      req.headers.authorization,
    );
  });
});
