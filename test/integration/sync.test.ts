// The two-way sync over real HTTP: Zendesk and Chatwoot simulators, the local bridge's handlers, the
// in-process FIFO queue, and a real DynamoDB API. Each test asserts what a support team would see.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as worker } from '../../functions/sync-worker.ts';
import type { SyncEvent } from '../../shared/events/sync-event.ts';
import { forgetCachedLinks } from '../../shared/worker-deps.ts';
import { type Harness, postSigned, startHarness } from '../helpers/bridge.ts';
import { fixture } from '../helpers/fixtures.ts';
import { sqsEventFor } from '../helpers/sqs.ts';

let h: Harness;

/**
 * The local queue's clock. While `outrunQueueDedup` is set, every reading is six minutes past the last, so the
 * queue's five-minute deduplication lets each repeat through and only the ledger's claim stands between a
 * repeated webhook and a second write. It only ever moves forward, so visibility timeouts keep working.
 */
let queueClockAhead = 0;
let outrunQueueDedup = false;
const queueNow = () => {
  if (outrunQueueDedup) queueClockAhead += 6 * 60 * 1000;
  return Date.now() + queueClockAhead;
};

beforeAll(async () => {
  // Comments authored plainly by the bridge's user, so these tests compare bodies as written; authorship
  // (matching agents, the header line that is the default) is tested in fidelity.test.ts.
  h = await startHarness({ env: { ZENDESK_AUTHORSHIP: 'bridge' }, queue: { now: queueNow } });
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  outrunQueueDedup = false;
  // Every request the bridge sent must match the published API contracts.
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
});

let customerCount = 0;
function newCustomer() {
  customerCount++;
  return h.zendesk.createUser({
    name: `Customer ${customerCount}`,
    email: `customer${customerCount}@example.com`,
    role: 'end-user',
  });
}

function conversationOf(ticketId: number) {
  return h.chatwoot
    .conversations()
    .filter((c) => Number(c.custom_attributes?.zendesk_ticket_id) === ticketId);
}

async function openTicket(body = 'My order arrived damaged.', tags?: string[]) {
  const customer = newCustomer();
  const ticket = h.zendesk.createTicket({
    requester: customer,
    subject: 'Damaged order',
    body,
    ...(tags ? { tags } : {}),
  });
  await h.settle();
  const [conversation] = conversationOf(ticket.id);
  if (!conversation) throw new Error('no conversation was created');
  return { customer, ticket, conversation };
}

/** The event a customer's comment becomes, built directly to hand it to workers past the queue. */
function customerCommentEvent(
  ticketId: number,
  customerId: number,
  comment: { id: number; body: string },
): SyncEvent {
  return {
    kind: 'zendesk.comment',
    via: 'reconcile',
    eventKey: `zd:comment:${comment.id}`,
    ticketId: String(ticketId),
    commentId: String(comment.id),
    body: comment.body,
    public: true,
    author: { id: String(customerId), isStaff: false },
    requester: { id: String(customerId) },
    receivedAt: Date.now(),
  };
}

/** How many records with this event key the queue handed to the worker. */
function deliveredRecords(eventKey: string): number {
  return h.batches
    .flatMap((b) => b.Records)
    .filter((r) => (JSON.parse(r.body) as { eventKey?: string }).eventKey === eventKey).length;
}

describe('the pipeline', () => {
  it('a signed webhook posted to the bridge reaches the worker as one SQS-shaped record with the normalised event', async () => {
    const { ticket } = await openTicket('opening');
    const body = fixture('zendesk', 'ticket.comment_added-end-user-public.json');
    (body.detail as { id: string }).id = String(ticket.id);
    const seen = h.batches.length;
    expect(await postSigned(h, 'zendesk', body)).toBe(202);
    await h.settle();
    const records = h.batches.slice(seen).flatMap((b) => b.Records);
    const record = records.find((r) => JSON.parse(r.body).eventKey === 'zd:comment:39876543210001');
    expect(record?.attributes.MessageGroupId).toBe(`ticket-${ticket.id}`);
    expect(record?.eventSource).toBe('aws:sqs');
    expect(JSON.parse(record!.body)).toMatchObject({
      kind: 'zendesk.comment',
      via: 'event',
      ticketId: String(ticket.id),
      commentId: '39876543210001',
      public: true,
      author: { id: '31415926535897', isStaff: false },
      body: 'Thanks! Here is the photo of the box. The lid was crushed.',
    });
  });
});

describe('Zendesk → Chatwoot', () => {
  it('a first customer comment creates the contact, the conversation and the message', async () => {
    const { customer, ticket, conversation } = await openTicket(
      // Real line breaks: an event webhook's backslashes are the customer's own (a literal \\n stays as written).
      'Hi!\n\n-------------------\nMy order arrived damaged.',
    );
    const contacts = h.chatwoot.contacts().filter((c) => c.identifier === `zendesk:user:${customer.id}`);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ email: customer.email, name: customer.name });
    expect(conversationOf(ticket.id)).toHaveLength(1);
    const created = h.chatwoot.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/conversations'),
    );
    expect(created.map((r) => (r.body as { source_id?: string }).source_id)).toContain(
      `zendesk:ticket:${ticket.id}`,
    );
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      content: 'Hi!\n\nMy order arrived damaged.',
      message_type: 0,
      private: false,
      source_id: `zendesk:comment:${h.zendesk.comments(ticket.id)[0]!.id}`,
    });
  });

  it('a second ticket of the same customer reuses the contact', async () => {
    const customer = newCustomer();
    const t1 = h.zendesk.createTicket({ requester: customer, subject: 'One', body: 'first ticket' });
    await h.settle();
    const t2 = h.zendesk.createTicket({ requester: customer, subject: 'Two', body: 'second ticket' });
    await h.settle();
    expect(h.chatwoot.contacts().filter((c) => c.identifier === `zendesk:user:${customer.id}`)).toHaveLength(
      1,
    );
    expect(conversationOf(t1.id)).toHaveLength(1);
    expect(conversationOf(t2.id)).toHaveLength(1);
    expect(conversationOf(t1.id)[0]!.id).not.toBe(conversationOf(t2.id)[0]!.id);
  });

  it('reuses an existing Chatwoot contact with the same email instead of failing on 422', async () => {
    const customer = newCustomer();
    const existing = await fetch(`${h.chatwoot.baseUrl}/api/v1/accounts/1/contacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', api_access_token: h.secrets.chatwootToken },
      body: JSON.stringify({
        inbox_id: 7,
        name: 'Made by hand',
        email: customer.email,
        identifier: `zendesk:user:${customer.id}`,
      }),
    }).then((r) => r.json() as Promise<{ payload: { contact: { id: number } } }>);
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Hello', body: 'hello there' });
    await h.settle();
    const [conversation] = conversationOf(ticket.id);
    expect(conversation).toBeDefined();
    expect(h.chatwoot.contacts().filter((c) => c.email === customer.email)).toHaveLength(1);
    expect(h.chatwoot.messages(conversation!.id).map((m) => m.content)).toEqual(['hello there']);
    expect(existing.payload.contact.id).toBeGreaterThan(0);
  });

  it('does not sync agent comments or internal notes written in Zendesk', async () => {
    const { ticket, conversation } = await openTicket();
    h.zendesk.agentComment(ticket.id, h.zendesk.defaultAgent.id, 'Agent reply from Zendesk');
    h.zendesk.customerComment(ticket.id, 'private remark', { public: false });
    await h.settle();
    expect(h.chatwoot.messages(conversation.id)).toHaveLength(1);
  });
});

describe('Chatwoot → Zendesk', () => {
  it('an agent reply becomes one public comment and the ticket keeps its tags', async () => {
    const { ticket, conversation } = await openTicket('Where is my parcel?', ['vip', 'order_issue']);
    const before = h.zendesk.comments(ticket.id).length;
    h.chatwoot.agentReply(conversation.id, { content: 'It ships today — tracking follows.' });
    await h.settle();
    const comments = h.zendesk.comments(ticket.id);
    expect(comments).toHaveLength(before + 1);
    expect(comments.at(-1)).toMatchObject({
      body: 'It ships today — tracking follows.',
      public: true,
      author_id: h.zendesk.bridgeUser.id,
    });
    expect(h.zendesk.ticket(ticket.id)?.tags).toEqual(['vip', 'order_issue']);
    const puts = h.zendesk.requests.filter((r) => r.method === 'PUT');
    expect(puts.length).toBeGreaterThan(0);
    for (const put of puts) expect(JSON.stringify(put.body)).not.toContain('"tags"');
  });

  it('a private note becomes an internal Zendesk note', async () => {
    const { ticket, conversation } = await openTicket();
    h.chatwoot.privateNote(conversation.id, 'Carrier pickup failed; escalating.');
    await h.settle();
    expect(h.zendesk.comments(ticket.id).at(-1)).toMatchObject({
      body: 'Carrier pickup failed; escalating.',
      public: false,
    });
  });
});

describe('never echoed', () => {
  it('ignores both echoes, and a later customer comment on the same ticket still syncs', async () => {
    const { ticket, conversation } = await openTicket('first', ['keep-me']);
    h.chatwoot.agentReply(conversation.id, { content: 'agent answer' });
    await h.settle();
    // The simulators delivered both echoes: Chatwoot's message_created for the bridge's incoming message and
    // Zendesk's comment_added for the bridge's comment. Neither may come back as a new write.
    expect(h.zendesk.deliveries.some((d) => d.type === 'zen:event-type:ticket.comment_added')).toBe(true);
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual(['first', 'agent answer']);
    expect(h.zendesk.comments(ticket.id).map((c) => c.body)).toEqual(['first', 'agent answer']);

    h.zendesk.customerComment(ticket.id, 'thanks, and one more question');
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual([
      'first',
      'agent answer',
      'thanks, and one more question',
    ]);
    expect(h.zendesk.comments(ticket.id)).toHaveLength(3);
    expect(h.zendesk.ticket(ticket.id)?.tags).toEqual(['keep-me']);
  });
});

describe('exactly once', () => {
  it('the same Zendesk webhook delivered 3 times, sequentially and concurrently, gives one message', async () => {
    const { ticket, conversation } = await openTicket();
    h.zendesk.setWebhookUrl(undefined);
    const comment = h.zendesk.customerComment(ticket.id, 'delivered many times');
    // Deliveries are asynchronous: the held one is recorded once the simulator is idle.
    await h.zendesk.idle();
    const delivery = h.zendesk.deliveries.at(-1)!;
    expect(delivery.status).toBe(0);
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    // Past the queue's deduplication window, so every repeat reaches the worker and its ledger claim.
    outrunQueueDedup = true;
    for (let i = 0; i < 3; i++) expect(await postSigned(h, 'zendesk', delivery.body)).toBe(202);
    await Promise.all([1, 2, 3].map(() => postSigned(h, 'zendesk', delivery.body)));
    await h.settle();
    expect(
      h.chatwoot.messages(conversation.id).filter((m) => m.content === 'delivered many times'),
    ).toHaveLength(1);
    expect(deliveredRecords(`zd:comment:${comment.id}`)).toBe(6);
  });

  it('the same Chatwoot webhook delivered 3 more times, concurrently, gives one comment', async () => {
    const { ticket, conversation } = await openTicket();
    const reply = h.chatwoot.agentReply(conversation.id, { content: 'only once please' });
    await h.settle();
    const delivery = h.chatwoot.deliveries.find((d) => (d.body as { id?: number }).id === reply.id);
    expect(delivery?.status).toBe(202);
    // Past the queue's deduplication window, so every repeat reaches the worker and its ledger claim.
    outrunQueueDedup = true;
    const statuses = await Promise.all([1, 2, 3].map(() => postSigned(h, 'chatwoot', delivery!.body)));
    expect(statuses).toEqual([202, 202, 202]);
    await h.settle();
    expect(h.zendesk.comments(ticket.id).filter((c) => c.body === 'only once please')).toHaveLength(1);
    expect(deliveredRecords(`cw:message:${reply.id}`)).toBe(4);
  });

  it('three concurrent worker invocations with the same event (past the queue’s dedup) give one effect', async () => {
    const { ticket, conversation } = await openTicket();
    h.zendesk.setWebhookUrl(undefined);
    const comment = h.zendesk.customerComment(ticket.id, 'raced three ways');
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const event = customerCommentEvent(ticket.id, ticket.requester_id, comment);
    const results = await Promise.all(
      [1, 2, 3].map((n) => worker(sqsEventFor(event, `direct-${n}-${crypto.randomUUID()}`))),
    );
    // A loser either saw the finished claim (success) or asked for a redelivery; redeliver those.
    // (The first may still be in flight on a loaded machine: redeliver until it has finished, bounded.)
    for (const [n, r] of results.entries()) {
      let failures = r.batchItemFailures.length;
      for (let attempt = 0; failures > 0 && attempt < 50; attempt++) {
        await new Promise((res) => setTimeout(res, 100));
        failures = (await worker(sqsEventFor(event, `direct-${n}-${attempt}-${crypto.randomUUID()}`)))
          .batchItemFailures.length;
      }
      expect(failures).toBe(0);
    }
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).filter((m) => m.content === 'raced three ways')).toHaveLength(
      1,
    );
  });

  it('two concurrent first comments on a new ticket give one conversation', async () => {
    const customer = newCustomer();
    h.zendesk.setWebhookUrl(undefined);
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Race', body: 'first of two' });
    const second = h.zendesk.customerComment(ticket.id, 'second of two');
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const [first] = h.zendesk.comments(ticket.id);
    const events = [first!, second].map((c) => customerCommentEvent(ticket.id, customer.id, c));
    // Two workers at once, as two containers would (the FIFO queue alone would have serialised them).
    const results = await Promise.all(
      events.map((e, n) => worker(sqsEventFor(e, `direct-${n}-${crypto.randomUUID()}`))),
    );
    expect(results.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    await h.settle();
    const conversations = conversationOf(ticket.id);
    expect(conversations).toHaveLength(1);
    expect(
      h.chatwoot
        .messages(conversations[0]!.id)
        .map((m) => m.content)
        .sort(),
    ).toEqual(['first of two', 'second of two']);
  });
});

describe('recovery', () => {
  async function emptyTable(name: string) {
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: h.bridge.dynamoEndpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const items = (await db.send(new ScanCommand({ TableName: name }))).Items ?? [];
    const key = name.startsWith('links') ? 'ticketId' : 'pk';
    for (const item of items)
      await db.send(new DeleteCommand({ TableName: name, Key: { [key]: item[key] } }));
    db.destroy();
  }

  it('finds the existing conversation when the links table has lost the link (both directions)', async () => {
    const { ticket, conversation } = await openTicket('before the loss');
    await emptyTable(h.bridge.env.LINKS_TABLE_NAME!);
    forgetCachedLinks();
    h.zendesk.customerComment(ticket.id, 'after the loss');
    await h.settle();
    expect(conversationOf(ticket.id)).toHaveLength(1);
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual([
      'before the loss',
      'after the loss',
    ]);

    await emptyTable(h.bridge.env.LINKS_TABLE_NAME!);
    forgetCachedLinks();
    h.chatwoot.agentReply(conversation.id, { content: 'reply after the loss' });
    await h.settle();
    expect(h.zendesk.comments(ticket.id).at(-1)?.body).toBe('reply after the loss');
  });

  it('recovers with both tables emptied: the contact is found again by its identifier', async () => {
    const { ticket, conversation } = await openTicket('before everything was lost');
    await emptyTable(h.bridge.env.LINKS_TABLE_NAME!);
    await emptyTable(h.bridge.env.LEDGER_TABLE_NAME!);
    forgetCachedLinks();
    h.zendesk.customerComment(ticket.id, 'after everything was lost');
    await h.settle();
    expect(conversationOf(ticket.id)).toHaveLength(1);
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual([
      'before everything was lost',
      'after everything was lost',
    ]);
  });

  it('drops a Chatwoot message whose conversation has no ticket, with one lookup only', async () => {
    const contact = h.chatwoot.contacts()[0]!;
    const res = await fetch(`${h.chatwoot.baseUrl}/api/v1/accounts/1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', api_access_token: h.secrets.chatwootToken },
      body: JSON.stringify({ source_id: 'manual-1', inbox_id: 7, contact_id: contact.id }),
    });
    const stray = (await res.json()) as { id: number };
    const zendeskWrites = h.zendesk.requests.filter((r) => r.method !== 'GET').length;
    h.chatwoot.agentReply(stray.id, { content: 'no ticket here' });
    h.chatwoot.agentReply(stray.id, { content: 'still no ticket' });
    await h.settle();
    expect(h.zendesk.requests.filter((r) => r.method !== 'GET').length).toBe(zendeskWrites);
    const lookups = h.calls.filter(
      (c) => c.platform === 'chatwoot' && c.path.endsWith(`/conversations/${stray.id}`),
    );
    expect(lookups).toHaveLength(1);
  });
});

describe('trigger webhooks (migration from the old service)', () => {
  it('a signed trigger body with a customer comment reaches the ticket’s conversation', async () => {
    const { ticket, customer, conversation } = await openTicket('event-based first comment');
    const body = {
      source: 'zendesk-trigger',
      ticket_id: String(ticket.id),
      requester_id: String(customer.id),
      requester_email: customer.email,
      current_user_id: String(customer.id),
      latest_comment: 'Sent through a trigger\\n------------------\\nquoted',
      updated_at: new Date().toISOString(),
    };
    expect(await postSigned(h, 'zendesk', body)).toBe(202);
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).at(-1)?.content).toBe('Sent through a trigger\nquoted');
  });

  it('a trigger body for the bridge’s own update is an echo', async () => {
    const { ticket, conversation } = await openTicket('x');
    const body = {
      ticket_id: String(ticket.id),
      current_user_id: String(h.zendesk.bridgeUser.id),
      requester_id: String(h.zendesk.bridgeUser.id),
      latest_comment: 'written by the bridge',
    };
    expect(await postSigned(h, 'zendesk', body)).toBe(202);
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual(['x']);
  });
});

describe('steady state cost', () => {
  it('one API call per synced message in each direction, and the DynamoDB requests it takes', async () => {
    const { ticket, conversation } = await openTicket('warm-up');
    h.chatwoot.agentReply(conversation.id, { content: 'warm-up reply' });
    await h.settle();

    const calls0 = h.calls.length;
    const dynamo0 = h.dynamo.length;
    h.zendesk.customerComment(ticket.id, 'steady customer comment');
    await h.settle();
    const zToC = h.calls.slice(calls0);
    const zToCDynamo = h.dynamo.slice(dynamo0);
    expect(zToC).toEqual([
      {
        platform: 'chatwoot',
        method: 'POST',
        path: `/api/v1/accounts/1/conversations/${conversation.id}/messages`,
      },
    ]);

    const calls1 = h.calls.length;
    const dynamo1 = h.dynamo.length;
    h.chatwoot.agentReply(conversation.id, { content: 'steady agent reply' });
    await h.settle();
    const cToZ = h.calls.slice(calls1);
    const cToZDynamo = h.dynamo.slice(dynamo1);
    expect(cToZ).toEqual([{ platform: 'zendesk', method: 'PUT', path: `/api/v2/tickets/${ticket.id}` }]);

    // Echoes cost nothing: both were screened without a DynamoDB request. A Zendesk update also reserves its slot
    // in the account's shared Update Ticket budget (one conditional UpdateItem, shared/store/rate-budget.ts).
    expect(zToCDynamo).toEqual(['PutItemCommand', 'BatchWriteItemCommand']);
    expect(cToZDynamo).toEqual(['PutItemCommand', 'UpdateItemCommand', 'BatchWriteItemCommand']);
    console.log(
      `steady state: Z→C ${zToC.length} API call, ${zToCDynamo.length} DynamoDB requests; ` +
        `C→Z ${cToZ.length} API call, ${cToZDynamo.length} DynamoDB requests`,
    );
  });

  it('an agent’s internal note mirrored from Zendesk: one API call and two DynamoDB requests', async () => {
    const { ticket, conversation } = await openTicket('note warm-up');
    const calls0 = h.calls.length;
    const dynamo0 = h.dynamo.length;
    h.zendesk.agentComment(ticket.id, h.zendesk.defaultAgent.id, 'refund approved', { public: false });
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).at(-1)).toMatchObject({ private: true });
    expect(h.calls.slice(calls0)).toEqual([
      {
        platform: 'chatwoot',
        method: 'POST',
        path: `/api/v1/accounts/1/conversations/${conversation.id}/messages`,
      },
    ]);
    // The update's actor (the agent) proves it is not the bridge's write: no ledger read for an echo check.
    expect(h.dynamo.slice(dynamo0)).toEqual(['PutItemCommand', 'BatchWriteItemCommand']);
  });
});
