// The log stream of a full local round trip (customer comment → Chatwoot → agent reply → Zendesk, with the
// echoes and a forged webhook) as on-call would read it in CloudWatch: every line JSON, every decision line
// carrying the ids that connect it to the platforms and the queue, no message bodies, the EMF metrics the
// dashboard graphs, and the fields the saved Logs Insights queries filter on.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as worker } from '../../functions/sync-worker.ts';
import { handler as zendeskWebhook } from '../../functions/zendesk-webhook.ts';
import { QUERY_FIELDS } from '../../lib/observability.ts';
import type { ChatwootMessageEvent } from '../../shared/events/sync-event.ts';
import { type Harness, INBOX_ID, startHarness } from '../helpers/bridge.ts';
import { sqsEventFor } from '../helpers/sqs.ts';

type Line = Record<string, unknown>;

/** Lines written to stdout/stderr while `fn` runs (Powertools writes through its own Console on both). */
async function capture(fn: () => Promise<void>): Promise<string[]> {
  const chunks: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const grab = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const DECISIONS = ['received', 'rejected', 'ignored', 'skipped', 'synced', 'retrying', 'dead-lettered'];

let h: Harness;
let lines: string[] = [];
let parsed: Line[] = [];
const customerText = `LOGTEST-customer-${randomUUID()}`;
const agentText = `LOGTEST-agent-${randomUUID()}`;
let ticketId = '';
let customerCommentId = '';
let conversationId = '';
let bridgeMessageId = '';
let agentMessageId = '';
let bridgeCommentId = '';

beforeAll(async () => {
  h = await startHarness();
  lines = await capture(async () => {
    const customer = h.zendesk.createUser({
      name: 'Log Customer',
      email: 'logs@example.com',
      role: 'end-user',
    });
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Logs', body: customerText });
    await h.settle();
    const conversation = h.chatwoot
      .conversations()
      .find((c) => Number(c.custom_attributes?.zendesk_ticket_id) === ticket.id);
    if (!conversation) throw new Error('no conversation was created');
    h.chatwoot.agentReply(conversation.id, { content: agentText });
    await h.settle();
    // A forged delivery: rejected before anything is parsed.
    await fetch(`${h.bridge.url}/webhooks/zendesk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-zendesk-webhook-invocation-id': '777000111',
        'x-zendesk-webhook-signature': 'AAAA',
        'x-zendesk-webhook-signature-timestamp': new Date().toISOString(),
      },
      body: JSON.stringify({ forged: customerText }),
    });

    ticketId = String(ticket.id);
    customerCommentId = String(h.zendesk.comments(ticket.id)[0]?.id);
    conversationId = String(conversation.id);
    const messages = h.chatwoot.messages(conversation.id);
    bridgeMessageId = String(messages.find((m) => m.content?.includes('LOGTEST-customer'))?.id);
    agentMessageId = String(messages.find((m) => m.content === agentText)?.id);
    bridgeCommentId = String(h.zendesk.comments(ticket.id).find((c) => c.body.includes('LOGTEST-agent'))?.id);
  });
  parsed = lines.map((l) => JSON.parse(l) as Line);
});
afterAll(async () => {
  await h?.close();
});

const decisions = (message: string, where: Partial<Line> = {}) =>
  parsed.filter(
    (l) => l.message === message && Object.entries(where).every(([k, v]) => String(l[k]) === String(v)),
  );

describe('log stream of a local round trip', () => {
  it('is JSON, one object per line', () => {
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
  });

  it('the round trip really happened (both directions synced)', () => {
    expect(ticketId).toMatch(/^\d+$/);
    for (const id of [customerCommentId, conversationId, bridgeMessageId, agentMessageId, bridgeCommentId]) {
      expect(id).toMatch(/^\d+$/);
    }
  });

  it('every decision line says who decided: the webhook request (API request and delivery id) or the SQS message', () => {
    const decisionLines = parsed.filter((l) => DECISIONS.includes(String(l.message)));
    expect(decisionLines.length).toBeGreaterThanOrEqual(6);
    for (const l of decisionLines) {
      const fromIngress = typeof l.apiRequestId === 'string' && typeof l.platform === 'string';
      const fromWorker = typeof l.sqsMessageId === 'string';
      expect(fromIngress || fromWorker, JSON.stringify(l)).toBe(true);
      if (fromIngress && l.message !== 'rejected') expect(l.deliveryId, JSON.stringify(l)).toBeTruthy();
      expect(l.level).toMatch(/^(INFO|WARN|ERROR)$/);
      expect(l.service).toBe('zendesk-chatwoot-bridge');
      expect(l.timestamp).toBeTruthy();
    }
  });

  it('a customer comment is received and synced with the ticket, comment, conversation and message ids', () => {
    const received = decisions('received', { platform: 'zendesk', ticketId, commentId: customerCommentId });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ deliveryId: expect.any(String), eventKey: expect.any(String) });

    const synced = decisions('synced', { ticketId, commentId: customerCommentId });
    expect(synced).toHaveLength(1);
    expect(synced[0]).toMatchObject({
      conversationId,
      messageId: bridgeMessageId,
      sqsMessageId: expect.any(String),
      deliveryId: received[0]?.deliveryId,
      eventKey: received[0]?.eventKey,
      action: 'chatwoot-message-created',
    });
  });

  it('the echo of the bridge’s Chatwoot message is skipped with its conversation and message id', () => {
    const echo = decisions('skipped', { conversationId, messageId: bridgeMessageId, reason: 'echo' });
    expect(echo.length).toBeGreaterThanOrEqual(1);
    expect(echo[0]).toMatchObject({ deliveryId: expect.any(String) });
  });

  it('an agent reply is received and synced with the conversation, message, ticket and comment ids', () => {
    const received = decisions('received', {
      platform: 'chatwoot',
      conversationId,
      messageId: agentMessageId,
    });
    expect(received).toHaveLength(1);
    const synced = decisions('synced', { conversationId, messageId: agentMessageId });
    expect(synced).toHaveLength(1);
    expect(synced[0]).toMatchObject({
      ticketId,
      commentId: bridgeCommentId,
      sqsMessageId: expect.any(String),
      deliveryId: received[0]?.deliveryId,
    });
  });

  it('the Zendesk echo of the bridge’s comment is skipped with the ticket and comment id', () => {
    const echo = [...decisions('skipped', { ticketId, commentId: bridgeCommentId })];
    expect(echo.length).toBeGreaterThanOrEqual(1);
    expect(String(echo[0]?.reason)).toMatch(/^(echo|not-end-user)$/);
  });

  it('a forged webhook is rejected with its reason and delivery id', () => {
    expect(decisions('rejected', { platform: 'zendesk', deliveryId: '777000111' })).toEqual([
      expect.objectContaining({ reason: 'unauthorized', statusCode: 401, level: 'WARN' }),
    ]);
  });

  it('carries no message body anywhere', () => {
    for (const line of lines) {
      expect(line).not.toContain('LOGTEST-customer');
      expect(line).not.toContain('LOGTEST-agent');
    }
  });

  it('publishes the EMF metrics the dashboard reads, in the bridge namespace', () => {
    const emf = parsed.filter((l) => typeof l._aws === 'object');
    expect(emf.length).toBeGreaterThan(0);
    const names = new Set(
      emf.flatMap((l) =>
        (
          l._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> }
        ).CloudWatchMetrics.flatMap((m) => {
          expect(m.Namespace).toBe('ZendeskChatwootBridge');
          return m.Metrics.map((x) => x.Name);
        }),
      ),
    );
    for (const name of [
      'SyncedMessages',
      'Synced_ZendeskToChatwoot',
      'Synced_ChatwootToZendesk',
      'Synced_chatwoot-message-created',
      'Synced_zendesk-comment-created',
      'SkippedEvents',
      'Skipped_echo',
      'RejectedWebhooks',
      'Rejected_unauthorized',
      'EndToEndLagMs',
      'SyncDurationMs',
      'DownstreamLatencyMs_zendesk',
      'DownstreamLatencyMs_chatwoot',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('has every field the saved Logs Insights queries show or filter on', () => {
    const seen = new Set(parsed.flatMap((l) => Object.keys(l)));
    for (const field of QUERY_FIELDS) expect(seen, field).toContain(field);
  });
});

describe('deployed handlers', () => {
  const context = (awsRequestId: string) =>
    ({
      awsRequestId,
      functionName: 'bridge-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bridge-fn',
      memoryLimitInMB: '256',
      // A whole invocation left: the worker checks it before starting each record.
      getRemainingTimeInMillis: () => 30_000,
    }) as unknown as Context;

  it('put the Lambda request id on every line of an invocation', async () => {
    const echo: ChatwootMessageEvent = {
      kind: 'chatwoot.message',
      via: 'webhook',
      eventKey: `cw:message:${Date.now()}`,
      receivedAt: Date.now(),
      conversationId: '424242',
      messageId: '434343',
      inboxId: INBOX_ID,
      content: customerText,
      messageType: 'incoming',
      private: false,
      sender: {},
      sourceId: 'zendesk:comment:1',
    };
    const sqs = sqsEventFor(echo, 'sqs-msg-1');
    const workerLines = await capture(async () => {
      await worker(sqs, context('worker-request-1'));
    });
    const request = {
      version: '2.0',
      rawPath: '/webhooks/zendesk',
      headers: { 'content-type': 'application/json' },
      requestContext: { requestId: 'api-request-1' },
      body: '{}',
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const ingressLines = await capture(async () => {
      await zendeskWebhook(request, context('ingress-request-1'));
    });

    const logs = (ls: string[]) => ls.map((l) => JSON.parse(l) as Line).filter((l) => !l._aws);
    const fromWorker = logs(workerLines);
    expect(fromWorker.map((l) => l.message)).toContain('skipped');
    for (const l of fromWorker) {
      expect(l).toMatchObject({ function_request_id: 'worker-request-1', sqsMessageId: 'sqs-msg-1' });
    }
    const fromIngress = logs(ingressLines);
    expect(fromIngress.map((l) => l.message)).toEqual(['rejected']);
    expect(fromIngress[0]).toMatchObject({
      function_request_id: 'ingress-request-1',
      apiRequestId: 'api-request-1',
    });
  });
});
