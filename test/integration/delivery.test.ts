// Delivery guarantees under faults injected into the simulators (loopback only, bounded counts and times):
// 429s with and without Retry-After, 5xx, timeouts after which the write still lands, connection resets,
// Zendesk's per-ticket update limit, closed tickets, a compressed outage, and permanent failures that must land
// in the dead-letter list with their reason. Every message must arrive exactly once, in order per conversation
// and direction (an agent's reply shows in Chatwoot at once, so only each direction has an order to keep).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

const TIMEOUT_MS = 300;

function contractsKept(h: Harness) {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
}

describe('with fast redelivery (visibility 50 ms)', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({
      queue: { visibilityTimeoutMs: 50 },
      env: { HTTP_TIMEOUT_MS: String(TIMEOUT_MS), ZENDESK_AUTHORSHIP: 'bridge' },
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    contractsKept(h);
    h.zendesk.clearFaults();
    h.chatwoot.clearFaults();
    h.zendesk.rateLimitPerTicket = undefined;
    h.zendesk.apiTicketCommentAuthor = 'submitter';
  });

  it('rides out 429s (Zendesk with Retry-After, Chatwoot without), 500s and resets: each message once', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const messages = `/conversations/${conversation.id}/messages$`;
    h.chatwoot.injectFaults({ method: 'POST', path: new RegExp(messages), times: 2, status: 429 });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status: 429, retryAfter: 1 });
    h.zendesk.customerComment(ticket.id, 'after two chatwoot 429s');
    h.chatwoot.agentReply(conversation.id, { content: 'after a zendesk 429' });
    // Each Chatwoot 429 (no Retry-After) holds Chatwoot calls back 5 s: about 11 s of waiting on a quiet machine,
    // close to settle's default 20 s once four test files share two cores.
    await h.settle(45_000);

    h.chatwoot.injectFaults({ method: 'POST', path: new RegExp(messages), times: 1, status: 500 });
    h.chatwoot.injectFaults({ method: 'POST', path: new RegExp(messages), times: 1, reset: true });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status: 502 });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, reset: true });
    h.zendesk.customerComment(ticket.id, 'after a 500 and a reset');
    h.chatwoot.agentReply(conversation.id, { content: 'after a 502 and a reset' });
    await h.settle(45_000);

    expect(s.fromZendesk(conversation.id)).toEqual([
      'first',
      'after two chatwoot 429s',
      'after a 500 and a reset',
    ]);
    expect(s.fromChatwoot(ticket.id)).toEqual(['after a zendesk 429', 'after a 502 and a reset']);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  }, 120_000);

  it('delays a burst of agent replies beyond Zendesk’s per-ticket limit instead of failing or hammering', async () => {
    const { ticket, conversation } = await s.openTicket('burst ahead');
    // Two updates per ticket per 6 s: the third waits for the window (Retry-After ≈ 6 s, beyond the in-process
    // budget, so the message is held back in the queue rather than retried every 50 ms).
    h.zendesk.rateLimitPerTicket = 2;
    h.zendesk.rateWindowMs = 6_000;
    const replies = ['reply 1', 'reply 2', 'reply 3', 'reply 4'];
    for (const content of replies) h.chatwoot.agentReply(conversation.id, { content });
    await h.settle(30_000);
    expect(s.ticketTexts(ticket.id)).toEqual(['burst ahead', ...replies]);
    const throttled = h.zendesk.requests.filter((r) => r.method === 'PUT' && r.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    expect(throttled.length).toBeLessThanOrEqual(2);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  }, 40_000);

  it('a reply to a closed ticket goes to one follow-up ticket, which the conversation keeps using', async () => {
    const { ticket, conversation, customer } = await s.openTicket('before closing');
    h.zendesk.setStatus(ticket.id, 'closed');
    await h.settle();
    h.chatwoot.agentReply(conversation.id, { content: 'reply after close' });
    await h.settle();

    const followUps = h.zendesk.allTickets().filter((t) => t.via_followup_source_id === ticket.id);
    expect(followUps).toHaveLength(1);
    const followUp = followUps[0]!;
    expect(followUp.requester_id).toBe(customer.id);
    expect(s.ticketTexts(followUp.id)).toEqual(['reply after close']);
    expect(s.ticketTexts(ticket.id)).toEqual(['before closing']);

    h.chatwoot.agentReply(conversation.id, { content: 'second reply' });
    h.zendesk.customerComment(followUp.id, 'customer answers on the follow-up');
    await h.settle();
    expect(s.fromChatwoot(followUp.id)).toEqual(['reply after close', 'second reply']);
    expect(s.conversationOf(followUp.id)).toHaveLength(0);
    expect(s.fromZendesk(conversation.id)).toEqual(['before closing', 'customer answers on the follow-up']);
    expect(h.zendesk.allTickets().filter((t) => t.via_followup_source_id === ticket.id)).toHaveLength(1);
  });

  it('a follow-up’s first comment (the agent’s reply) does not come back as a customer message', async () => {
    const { ticket, conversation } = await s.openTicket('before closing');
    h.zendesk.setStatus(ticket.id, 'closed');
    await h.settle();
    // The worst case: Zendesk reports the first comment as the requester's (is_staff false); only the update's
    // actor (the bridge's user) tells it is the bridge's own write.
    h.zendesk.apiTicketCommentAuthor = 'requester';
    h.chatwoot.agentReply(conversation.id, { content: 'reply after close' });
    await h.settle();

    const [followUp] = h.zendesk.allTickets().filter((t) => t.via_followup_source_id === ticket.id);
    expect(s.ticketTexts(followUp!.id)).toEqual(['reply after close']);
    expect(h.zendesk.comments(followUp!.id)[0]?.author_id).toBe(followUp!.requester_id);
    expect(s.fromZendesk(conversation.id)).toEqual(['before closing']);
    // The bridge asks to be the submitter, so Zendesk does not make the requester the comment's author.
    const created = h.zendesk.requests.find((r) => r.method === 'POST' && r.path === '/api/v2/tickets');
    expect(created?.body).toMatchObject({ ticket: { submitter_id: h.zendesk.bridgeUser.id } });
  });

  it('a Chatwoot status change after another container relinked to a follow-up reaches the follow-up', async () => {
    const { ticket, conversation, customer } = await s.openTicket('first');
    h.zendesk.setStatus(ticket.id, 'closed');
    await h.settle();
    expect(h.chatwoot.conversations().find((c) => c.id === conversation.id)?.status).toBe('resolved');

    // Another container made follow-up T2, linked it, and later synced "T2 solved"; this container's link cache
    // still says the conversation is ticket T1.
    h.zendesk.setWebhookUrl(undefined);
    const t2 = h.zendesk.createTicket({ requester: customer, subject: 'Order', body: 'follow-up' });
    h.zendesk.setStatus(t2.id, 'solved');
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: h.bridge.dynamoEndpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const put = (table: string | undefined, item: Record<string, unknown>) =>
      db.send(new PutCommand({ TableName: table, Item: item }));
    await put(h.bridge.env.LINKS_TABLE_NAME, {
      ticketId: String(t2.id),
      conversationId: String(conversation.id),
      linkedAt: Date.now(),
    });
    await put(h.bridge.env.LEDGER_TABLE_NAME, {
      pk: `state#${t2.id}`,
      state: 'resolved',
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
    db.destroy();

    h.chatwoot.reopen(conversation.id);
    await h.settle();
    expect(h.zendesk.ticket(t2.id)?.status).toBe('open');
    h.chatwoot.resolve(conversation.id);
    await h.settle();
    expect(h.zendesk.ticket(t2.id)?.status).toBe('solved');
    expect(h.zendesk.ticket(ticket.id)?.status).toBe('closed');
  });

  it('dead-letters permanent failures at once with their reason (401, 404 deleted ticket, 422 validation)', async () => {
    const { conversation } = await s.openTicket('permanent failures ahead');
    const letters = h.bridge.queue.deadLetters.length;
    for (const status of [401, 404, 422]) {
      h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status });
      h.chatwoot.agentReply(conversation.id, { content: `meets a ${status}` });
      await h.settle();
    }
    const added = h.bridge.queue.deadLetters.slice(letters);
    expect(added.map((l) => l.reason)).toEqual([
      'zendesk-put tickets/:id-http-401',
      'zendesk-put tickets/:id-http-404',
      'zendesk-update-rejected',
    ]);
    // At once: one delivery each, not maxReceiveCount of them.
    expect(added.map((l) => l.receiveCount)).toEqual([1, 1, 1]);
  });
});

describe('with slow redelivery (visibility 500 ms, a compressed 180 s)', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({
      queue: { visibilityTimeoutMs: 500 },
      env: { HTTP_TIMEOUT_MS: String(TIMEOUT_MS), ZENDESK_AUTHORSHIP: 'bridge' },
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    contractsKept(h);
    h.zendesk.clearFaults();
    h.chatwoot.clearFaults();
  });

  it('a timeout after which the write still lands is not posted twice (either direction)', async () => {
    const { ticket, conversation } = await s.openTicket('slow platforms ahead');
    // The platform answers after the client gave up, but applies the write: the retry must find it.
    const slow = { times: 1, delayMs: TIMEOUT_MS + 150 };
    h.chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, ...slow });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, ...slow });
    h.zendesk.customerComment(ticket.id, 'answered too late');
    h.chatwoot.agentReply(conversation.id, { content: 'also answered too late' });
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['slow platforms ahead', 'answered too late']);
    expect(s.fromChatwoot(ticket.id)).toEqual(['also answered too late']);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  });

  it('a downstream outage: every message arrives exactly once, in order, in each of three conversations', async () => {
    const links = [
      await s.openTicket('t0 open'),
      await s.openTicket('t1 open'),
      await s.openTicket('t2 open'),
    ];
    // Both platforms down for ~1.2 s (≈ a minute against the deployed 180 s visibility timeout): Chatwoot
    // answers 503, Zendesk 500 (after which the bridge cannot know whether the write landed).
    h.chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, times: 10_000, status: 503 });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 10_000, status: 500 });
    const outage = setTimeout(() => {
      h.chatwoot.clearFaults();
      h.zendesk.clearFaults();
    }, 1_200);
    const expected = links.map((_, i) => ({ toChat: [`t${i} open`], toTicket: [] as string[] }));
    for (let round = 0; round < 3; round++) {
      for (const [i, { ticket, conversation }] of links.entries()) {
        const customer = `t${i} customer ${round}`;
        const agent = `t${i} agent ${round}`;
        h.zendesk.customerComment(ticket.id, customer);
        h.chatwoot.agentReply(conversation.id, { content: agent });
        expected[i]!.toChat.push(customer);
        expected[i]!.toTicket.push(agent);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    try {
      await h.settle(40_000);
    } finally {
      clearTimeout(outage);
    }
    for (const [i, { ticket, conversation }] of links.entries()) {
      expect(s.fromZendesk(conversation.id)).toEqual(expected[i]!.toChat);
      expect(s.fromChatwoot(ticket.id)).toEqual(expected[i]!.toTicket);
    }
    expect(h.bridge.queue.deadLetters).toEqual([]);
    const failed = [...h.chatwoot.requests, ...h.zendesk.requests].filter((r) => r.status >= 500).length;
    console.log(`outage: ${failed} failed downstream requests, 0 lost, 0 doubled`);
  }, 60_000);
});
