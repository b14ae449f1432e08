// Builds webhook deliveries as API Gateway hands them to the ingress (payload 2.0), signed like each platform
// signs them, plus a recording fake queue and a capture of everything the process writes to stdout/stderr.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type BridgeConfig, parseConfig } from '../../shared/config.ts';
import type { IngressDeps, Platform } from '../../shared/http/ingress.ts';
import type { EventQueue, OutboundMessage } from '../../shared/queue/types.ts';

export { signedHeaders } from '../../simulators/webhook-signing.ts';

export interface Delivery {
  body?: string | Buffer | undefined;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** Send the body base64-encoded, as API Gateway does for binary or when the local server forwards it. */
  base64?: boolean | undefined;
}

export function apiEvent(platform: Platform, d: Delivery): APIGatewayProxyEventV2 {
  const raw = d.body === undefined ? undefined : Buffer.isBuffer(d.body) ? d.body : Buffer.from(d.body);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `POST /webhooks/${platform}`,
    rawPath: `/webhooks/${platform}`,
    rawQueryString: new URLSearchParams(d.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...d.headers },
    ...(d.query ? { queryStringParameters: d.query } : {}),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: {
        method: 'POST',
        path: `/webhooks/${platform}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: `req-${now}`,
      routeKey: `POST /webhooks/${platform}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(raw === undefined ? {} : { body: d.base64 ? raw.toString('base64') : raw.toString('utf8') }),
    isBase64Encoded: d.base64 ?? false,
  };
}

/** A queue that records what was sent; `fail` makes the next sends throw (an SQS outage). */
export class RecordingQueue implements EventQueue {
  readonly sent: OutboundMessage[] = [];
  fail = false;
  async send(m: OutboundMessage): Promise<void> {
    if (this.fail) throw new Error('queue unavailable');
    this.sent.push(m);
  }
}

/** A complete configuration for ingress tests, defaults from the schema; secrets are random per call. */
export function testConfig(overrides: Partial<BridgeConfig> = {}): BridgeConfig {
  const random = () => crypto.randomUUID().replaceAll('-', '');
  const config = parseConfig({
    ZENDESK_BASE_URL: 'https://acme.zendesk.test',
    ZENDESK_EMAIL: 'bridge@acme.example',
    ZENDESK_API_TOKEN: random(),
    ZENDESK_WEBHOOK_SECRET: random(),
    CHATWOOT_BASE_URL: 'https://chat.acme.test',
    CHATWOOT_ACCOUNT_ID: '1',
    CHATWOOT_INBOX_ID: '7',
    CHATWOOT_API_TOKEN: random(),
    CHATWOOT_WEBHOOK_SECRET: random(),
  });
  return { ...config, ...overrides };
}

export function depsOf(config: BridgeConfig, queue: EventQueue, now: number): () => Promise<IngressDeps> {
  return async () => ({ config, queue, now: () => now });
}

export interface LogCapture {
  /** Every line written to stdout or stderr since `captureOutput()`. */
  lines(): string[];
  /** Restores the streams; `lines()` keeps working. */
  stop(): void;
}

/**
 * Captures what the process writes to stdout and stderr (Powertools Logger and Metrics write JSON lines there
 * through their own Console). `echo: false` swallows the output so a fuzz run does not flood the terminal.
 */
export function captureOutput(o: { echo?: boolean } = {}): LogCapture {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  streams.forEach((s, i) => {
    const original = originals[i]!;
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (o.echo === false) {
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }
      return (original as (...a: unknown[]) => boolean).call(s, chunk, ...rest);
    }) as typeof s.write;
  });
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    stop: () => {
      streams.forEach((s, i) => {
        s.write = originals[i]!;
      });
    },
  };
}
