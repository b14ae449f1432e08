// Reconciliation over real HTTP: webhooks that never arrive (the simulator's webhook URL unset while the
// customer comments or the agent replies) are recovered by a run, exactly once, in both directions; repeated
// runs and the bridge's own writes post nothing; a crash between an API call and the ledger write is finished
// without a duplicate; `resync` of one ticket posts only what is missing.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileResult } from '../../shared/sync/reconcile.ts';
import { type Harness, postSigned, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness({
    queue: { visibilityTimeoutMs: 50 },
    env: { RECONCILE_SETTLE_MS: '0', ZENDESK_AUTHORSHIP: 'bridge' },
  });
  s = scenario(h);
  // Many runs a minute here; the export's own limit of 10 is exercised by its own test below.
  h.zendesk.exports.requestsPerMinute = 1000;
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
});

async function reconcileNow(query = ''): Promise<ReconcileResult & { enqueued: number }> {
  await h.beforeReconcile();
  const res = await fetch(`${h.bridge.url}/_local/reconcile${query}`, { method: 'POST' });
  expect(res.status).toBe(200);
  const body = (await res.json()) as ReconcileResult;
  await h.settle();
  return body;
}

/** Posts a body to the bridge's Zendesk webhook, signed as Zendesk signs it. */
async function postZendesk(body: unknown): Promise<void> {
  expect(await postSigned(h, 'zendesk', body)).toBe(202);
}

/**
 * The body a legacy trigger ("Notify active webhook") sends for the ticket's latest comment: `updated_at` is the
 * ticket's update time on Zendesk's clock (the comment's creation; the simulator's clock runs ahead of the test's
 * after each reconcile run), as its placeholder renders it.
 */
function triggerBody(
  ticketId: number,
  customer: { id: number; email?: string | null },
  comment: { body: string; created_at?: string },
) {
  return {
    ticket_id: String(ticketId),
    requester_id: String(customer.id),
    requester_email: customer.email,
    current_user_id: String(customer.id),
    latest_comment: comment.body,
    updated_at: comment.created_at ?? new Date().toISOString(),
  };
}

/** A customer comment whose event webhook is held back; returns it with the delivery Zendesk would have made. */
async function commentWithHeldWebhook(ticketId: number, body: string) {
  h.zendesk.setWebhookUrl(undefined);
  const comment = h.zendesk.customerComment(ticketId, body);
  await h.zendesk.idle();
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  const delivery = h.zendesk.deliveries.at(-1);
  expect(delivery?.type).toBe('zen:event-type:ticket.comment_added');
  return { comment, eventBody: delivery!.body };
}

describe('trigger webhooks (migration from the old service)', () => {
  it('a comment that arrived by trigger webhook is not posted again by reconciliation', async () => {
    const { ticket, customer, conversation } = await s.openTicket('first');
    await reconcileNow();
    // A trigger-only account: the comment's event webhook never comes, the trigger's body does.
    const { comment } = await commentWithHeldWebhook(ticket.id, 'sent through a trigger');
    await postZendesk(triggerBody(ticket.id, customer, comment));
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['first', 'sent through a trigger']);
    expect(h.chatwoot.messages(conversation.id).at(-1)?.source_id).toBe(`zendesk:comment:${comment.id}`);

    expect((await reconcileNow()).enqueued).toBe(0);
    expect(s.fromZendesk(conversation.id)).toEqual(['first', 'sent through a trigger']);
  });

  it('the same comment as an event webhook and as a trigger body gives one message, in either order', async () => {
    const { ticket, customer, conversation } = await s.openTicket('first');
    // During a migration both the event webhook and the old trigger are active.
    const a = await commentWithHeldWebhook(ticket.id, 'event webhook first');
    await postZendesk(a.eventBody);
    await h.settle();
    await postZendesk(triggerBody(ticket.id, customer, a.comment));
    await h.settle();

    const b = await commentWithHeldWebhook(ticket.id, 'trigger first');
    await postZendesk(triggerBody(ticket.id, customer, b.comment));
    await h.settle();
    await postZendesk(b.eventBody);
    await h.settle();

    expect(s.fromZendesk(conversation.id)).toEqual(['first', 'event webhook first', 'trigger first']);
    expect((await reconcileNow()).enqueued).toBe(0);
  });
});

describe('reconciliation', () => {
  it('recovers a customer comment and an agent reply whose webhooks never arrived, once each', async () => {
    const { ticket, conversation } = await s.openTicket('webhooks work');
    await reconcileNow(); // settles any earlier test's links, so the counts below are this test's

    h.zendesk.setWebhookUrl(undefined);
    h.chatwoot.setWebhookUrl(undefined);
    h.zendesk.customerComment(ticket.id, 'lost customer comment');
    h.chatwoot.agentReply(conversation.id, { content: 'lost agent reply' });
    h.zendesk.customerComment(ticket.id, 'second lost comment');
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['webhooks work']);
    expect(s.fromChatwoot(ticket.id)).toEqual([]);

    const first = await reconcileNow();
    expect(first.enqueued).toBe(3);
    expect(s.fromZendesk(conversation.id)).toEqual([
      'webhooks work',
      'lost customer comment',
      'second lost comment',
    ]);
    expect(s.fromChatwoot(ticket.id)).toEqual(['lost agent reply']);

    // Twice more: nothing missed any more, nothing posted again; the bridge's own writes (incoming messages
    // with its source_id, comments by its API user) are never taken for missed events.
    // (Chatwoot's conversation filter is a read sent as POST.)
    const writes = () =>
      h.calls.filter((c) => c.method !== 'GET' && !c.path.endsWith('/conversations/filter')).length;
    const before = writes();
    expect((await reconcileNow()).enqueued).toBe(0);
    expect((await reconcileNow()).enqueued).toBe(0);
    expect(writes()).toBe(before);
    expect(s.fromZendesk(conversation.id)).toHaveLength(3);
    expect(s.fromChatwoot(ticket.id)).toHaveLength(1);
  });

  it('leaves alone what the webhooks delivered, and the agent’s Zendesk-side comments it does not sync', async () => {
    const { ticket, conversation } = await s.openTicket('all delivered');
    h.chatwoot.agentReply(conversation.id, { content: 'delivered reply' });
    h.zendesk.agentComment(ticket.id, h.zendesk.defaultAgent.id, 'written in Zendesk by an agent');
    await h.settle();
    const messages = h.chatwoot.messages(conversation.id).length;
    const result = await reconcileNow();
    expect(result.enqueued).toBe(0);
    expect(h.chatwoot.messages(conversation.id)).toHaveLength(messages);
    expect(s.fromChatwoot(ticket.id)).toEqual(['delivered reply']);
  });

  it('finishes a sync that crashed between the API call and the ledger write, without posting twice', async () => {
    const { ticket, conversation } = await s.openTicket('before the crash');
    await reconcileNow();
    // The comment reached Chatwoot but the worker died before recording it: its claim is left pending with a
    // lease that has run out, exactly what a crashed attempt leaves behind.
    h.zendesk.setWebhookUrl(undefined);
    const comment = h.zendesk.customerComment(ticket.id, 'posted, then the worker crashed');
    await h.settle();
    const posted = await fetch(
      `${h.chatwoot.baseUrl}/api/v1/accounts/1/conversations/${conversation.id}/messages`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', api_access_token: h.secrets.chatwootToken },
        body: JSON.stringify({
          content: comment.body,
          message_type: 'incoming',
          private: false,
          source_id: `zendesk:comment:${comment.id}`,
          content_attributes: {
            zendesk_bridge: { ticket_id: String(ticket.id), comment_id: String(comment.id) },
          },
        }),
      },
    );
    expect(posted.status).toBe(200);
    await h.settle();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: h.bridge.dynamoEndpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: h.bridge.env.LEDGER_TABLE_NAME,
        Item: {
          pk: `evt#zd:comment:${comment.id}`,
          status: 'pending',
          token: 'crashed-worker',
          leaseUntil: Date.now() - 1,
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    db.destroy();

    expect((await reconcileNow()).enqueued).toBe(1);
    expect(s.fromZendesk(conversation.id)).toEqual(['before the crash', 'posted, then the worker crashed']);
    expect((await reconcileNow()).enqueued).toBe(0);
  });

  it('resync of one ticket posts only what is missing; an unknown ticket is a clear error', async () => {
    const { ticket, conversation } = await s.openTicket('resync me');
    h.chatwoot.agentReply(conversation.id, { content: 'already synced' });
    await h.settle();
    h.zendesk.setWebhookUrl(undefined);
    h.zendesk.customerComment(ticket.id, 'missing before the resync');
    await h.settle();

    const res = await fetch(`${h.bridge.url}/_local/reconcile?ticket=${ticket.id}`, { method: 'POST' });
    expect(await res.json()).toEqual({ ticket: String(ticket.id), enqueued: 1 });
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['resync me', 'missing before the resync']);
    expect(s.fromChatwoot(ticket.id)).toEqual(['already synced']);

    const unknown = await fetch(`${h.bridge.url}/_local/reconcile?ticket=999999999`, { method: 'POST' });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({
      error: 'reconcile_failed',
      message: 'ticket 999999999 is not linked',
    });
  });
});
