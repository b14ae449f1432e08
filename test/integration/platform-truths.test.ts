// Issue #13 over real HTTP: what the platforms really send and answer (docs/platforms.md), through the local bridge,
// with the simulators switched to each vendor behaviour. No message may be lost, held or dead-lettered by any of them.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, postSigned, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

/** Replies are authored as the matching Zendesk agent, else the bridge's user without a header line. */
const AGENT = { ZENDESK_AUTHORSHIP: 'agent' };

const png = {
  filename: 'photo.png',
  contentType: 'image/png',
  data: Buffer.from('89504e470d0a1a0a0001', 'hex'),
};

function expectClean(h: Harness) {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
  expect(h.bridge.queue.deadLetters.map((d) => d.reason)).toEqual([]);
  // Every authentic delivery was acknowledged (Chatwoot never retries; Zendesk's circuit breaker counts failures).
  const refused = [...h.zendesk.deliveries, ...h.chatwoot.deliveries].filter((d) => d.status >= 300);
  expect(refused.map((d) => `${d.type} ${d.status}`)).toEqual([]);
}

describe('with the default platforms', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({ env: AGENT });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => expectClean(h));

  it('1. an agent reply of 150,000 characters (a 0.9 MB webhook, text three times) reaches the ticket whole', async () => {
    const { ticket, conversation } = await s.openTicket('hello');
    const text = 'é'.repeat(150_000);
    h.chatwoot.agentReply(conversation.id, { content: text });
    await h.settle();
    const delivery = h.chatwoot.deliveries.at(-1)!;
    expect(JSON.stringify(delivery.body).length).toBeGreaterThan(3 * 150_000);
    expect(s.fromChatwoot(ticket.id)).toEqual([text]);
  });

  it('1. an event too large for a queue message is read back from the platform, not lost', async () => {
    const { ticket, conversation } = await s.openTicket('hello');
    h.chatwoot.setWebhookUrl(undefined);
    h.chatwoot.agentReply(conversation.id, { content: 'the answer is in the attachment list' });
    await h.chatwoot.idle();
    h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
    const body = h.chatwoot.deliveries.at(-1)!.body as Record<string, unknown>;
    // content_attributes travel with the event (an e-mail inbox keeps whole HTML bodies there): 1.1 MB of them.
    body.content_attributes = { email: { html_content: { full: `<p>${'x'.repeat(1_100_000)}</p>` } } };
    expect(await postSigned(h, 'chatwoot', JSON.stringify(body))).toBe(202);
    await h.settle();
    expect(s.fromChatwoot(ticket.id)).toEqual(['the answer is in the attachment list']);
  });

  it('3. archiving, deleting or scrubbing a closed ticket never reopens its conversation', async () => {
    const { ticket, conversation } = await s.openTicket('please close');
    h.zendesk.setStatus(ticket.id, 'solved');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)!.status).toBe('resolved');
    h.zendesk.setStatus(ticket.id, 'closed');
    h.zendesk.lifecycle(ticket.id, 'archived');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)!.status).toBe('resolved');
    h.zendesk.lifecycle(ticket.id, 'deleted');
    h.zendesk.lifecycle(ticket.id, 'scrubbed');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)!.status).toBe('resolved');
  });

  it('4. a status change by the system (actor -1) syncs', async () => {
    const { ticket, conversation } = await s.openTicket('done soon');
    h.zendesk.systemSetStatus(ticket.id, 'solved');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)!.status).toBe('resolved');
  });

  it('4. a reply with a location, a contact card, a null entry and a photo syncs its text and photo', async () => {
    const { ticket, conversation } = await s.openTicket('where are you?');
    h.chatwoot.agentReplyWithOddAttachments(conversation.id, {
      content: 'Here is our office and a photo of the entrance.',
      attachments: [png],
      odd: ['location', 'contact', 'null'],
    });
    await h.settle();
    const mine = h.zendesk.comments(ticket.id).filter((c) => c.author_id === h.zendesk.bridgeUser.id);
    expect(mine.map((c) => c.body)).toEqual(['Here is our office and a photo of the entrance.']);
    expect(mine[0]!.attachments.map((a) => a.file_name)).toEqual(['photo.png']);
  });

  it('7. a message on a messaging ticket syncs exactly once: message_added alone, both, either order', async () => {
    const customer = s.newCustomer();
    const ticket = h.zendesk.createTicket({
      requester: customer,
      subject: 'Chat',
      body: 'hi from chat',
      channel: 'native_messaging',
    });
    await h.settle();
    const [conversation] = s.conversationOf(ticket.id);
    h.zendesk.messagingMessage(ticket.id, 'only the messaging event', { deliver: 'messaging' });
    await h.settle();
    h.zendesk.messagingMessage(ticket.id, 'both, comment first', { deliver: 'both' });
    await h.settle();
    h.zendesk.messagingMessage(ticket.id, 'both, messaging first', { deliver: 'both', messagingFirst: true });
    await h.settle();
    expect(s.fromZendesk(conversation!.id)).toEqual([
      'hi from chat',
      'only the messaging event',
      'both, comment first',
      'both, messaging first',
    ]);
  });

  it('9. reopening a conversation from Zendesk leaves it with its assignee', async () => {
    const { ticket, conversation } = await s.openTicket('help');
    h.chatwoot.assignTo(conversation.id, h.chatwoot.defaultAgent.id);
    h.chatwoot.resolve(conversation.id);
    await h.settle();
    expect(h.zendesk.ticket(ticket.id)!.status).toBe('solved');
    h.zendesk.setStatus(ticket.id, 'open');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)).toMatchObject({
      status: 'open',
      assignee_id: h.chatwoot.defaultAgent.id,
    });
  });

  it('10. another inbox’s events are dropped at the edge: no API call, no queue message', async () => {
    await h.settle();
    const calls = h.calls.length;
    const sent = h.bridge.queue.sent;
    h.chatwoot.otherInboxMessage('for the sales team');
    await h.settle();
    expect(h.chatwoot.deliveries.at(-1)!.status).toBe(200);
    expect(h.calls.length).toBe(calls);
    expect(h.bridge.queue.sent).toBe(sent);
  });

  it('11. a conversation the links table does not know is recovered from what agents cannot edit', async () => {
    // Two tickets; the bridge never linked the second one's conversation (made by an earlier deployment).
    const { ticket: other } = await s.openTicket('another ticket');
    const customer = s.newCustomer();
    h.zendesk.setWebhookUrl(undefined);
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Old', body: 'from before' });
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const cw = async (path: string, body: unknown) => {
      const res = await fetch(`${h.chatwoot.baseUrl}/api/v1/accounts/1${path}`, {
        method: 'POST',
        headers: { api_access_token: h.secrets.chatwootToken, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const contact = await cw('/contacts', {
      inbox_id: 7,
      name: 'Old customer',
      identifier: `zendesk:user:${customer.id}`,
    });
    const contactId = (contact.payload as { contact: { id: number } }).contact.id;
    const created = await cw('/conversations', {
      source_id: `zendesk:ticket:${ticket.id}`,
      inbox_id: 7,
      contact_id: contactId,
      custom_attributes: { zendesk_ticket_id: ticket.id },
    });
    const conversationId = created.id as number;
    await cw(`/conversations/${conversationId}/messages`, {
      content: 'from before',
      message_type: 'incoming',
      source_id: 'zendesk:comment:1',
      content_attributes: { zendesk_bridge: { ticket_id: String(ticket.id) } },
    });
    // An agent edits the custom attribute (the sidebar lets them) to another ticket's id.
    await cw(`/conversations/${conversationId}/custom_attributes`, {
      custom_attributes: { zendesk_ticket_id: other.id },
    });
    await h.settle();
    h.chatwoot.agentReply(conversationId, { content: 'answer for the old ticket' });
    await h.settle();
    expect(s.fromChatwoot(ticket.id)).toEqual(['answer for the old ticket']);
    expect(s.fromChatwoot(other.id)).toEqual([]);
  });

  it('13. backslashes in a customer’s comment reach Chatwoot as written', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const text = 'My files are in C:\\new\\reports and the regex is ^\\d+\\n$';
    h.zendesk.customerComment(ticket.id, text);
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toEqual(['first', text]);
  });

  it('14. the same short answer twice by trigger bodies: both arrive, in order, each its own comment', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const template =
      '{\n  "ticket_id": "{{ticket.id}}",\n  "requester_id": "{{ticket.requester.id}}",\n  "current_user_id": "{{current_user.id}}",\n  "latest_comment": "{{ticket.latest_comment}}",\n  "updated_at": "{{ticket.updated_at_with_timestamp}}"\n}';
    // A trigger-only account: event webhooks never arrive; each comment's trigger body is sent after both exist.
    h.zendesk.setWebhookUrl(undefined);
    const before = h.zendesk.deliveries.length;
    const one = h.zendesk.customerComment(ticket.id, 'ok');
    h.zendesk.triggerWebhook(ticket.id, template);
    await sleep(5);
    const two = h.zendesk.customerComment(ticket.id, 'ok');
    h.zendesk.triggerWebhook(ticket.id, template);
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const triggers = h.zendesk.deliveries.slice(before).filter((d) => d.type === 'trigger');
    expect(triggers).toHaveLength(2);
    for (const t of triggers) expect(await postSigned(h, 'zendesk', t.body as string)).toBe(202);
    await h.settle();
    const incoming = h.chatwoot.messages(conversation.id).filter((m) => m.message_type === 0);
    expect(incoming.map((m) => [m.content, m.source_id])).toEqual([
      ['first', expect.any(String)],
      ['ok', `zendesk:comment:${one.id}`],
      ['ok', `zendesk:comment:${two.id}`],
    ]);
  });
});

describe('2. Chatwoot’s catch-all 422', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    // Four messages a conversation per 1.5 s stand in for Chatwoot's 200 a minute.
    h = await startHarness({ env: AGENT, chatwootOptions: { messagesPerMinute: 4, floodWindowMs: 1_500 } });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => expectClean(h));

  it('a burst over the flood limit ("Too many messages") is retried until it passes, in order', async () => {
    const { ticket, conversation } = await s.openTicket('one');
    for (const n of ['two', 'three', 'four', 'five', 'six', 'seven']) h.zendesk.customerComment(ticket.id, n);
    await h.settle(30_000);
    expect(s.fromZendesk(conversation.id)).toEqual(['one', 'two', 'three', 'four', 'five', 'six', 'seven']);
  });

  it('an unexplained 422 (a storage hiccup) is retried, not dead-lettered', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    await sleep(1_600);
    h.chatwoot.injectFaults({
      method: 'POST',
      path: /\/messages$/,
      times: 1,
      status: 422,
      body: { error: 'Aws::S3::Errors::ServiceUnavailable' },
    });
    h.zendesk.customerComment(ticket.id, 'second');
    await h.settle(30_000);
    expect(s.fromZendesk(conversation.id)).toEqual(['first', 'second']);
  });
});

describe('Zendesk limits and visibility', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({
      env: { ...AGENT, SYNC_INTERNAL_NOTES: 'false' },
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => expectClean(h));

  it('5. a file on a public comment reaches Chatwoot though its own is_public is false (internal notes off)', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.customerComment(ticket.id, 'photo attached', { attachments: [png] });
    await h.settle();
    const files = h.chatwoot.messages(conversation.id).flatMap((m) => m.attachments.map((a) => a.data_url));
    expect(files.map((u) => decodeURIComponent(u.split('/').at(-1)!))).toEqual(['photo.png']);
  });

  it('6. a reply to a ticket at its 5,000-comment limit opens a new ticket, and the conversation moves to it', async () => {
    const { ticket, conversation } = await s.openTicket('one');
    h.zendesk.fillWithNotes(ticket.id, 4_999);
    expect(h.zendesk.comments(ticket.id)).toHaveLength(5_000);
    h.chatwoot.agentReply(conversation.id, { content: 'the 5,001st comment' });
    await h.settle();
    const followUp = h.zendesk
      .allTickets()
      .find((t) => t.id !== ticket.id && t.requester_id === ticket.requester_id);
    expect(followUp).toBeDefined();
    expect(h.zendesk.ticket(ticket.id)!.status).not.toBe('closed');
    expect(s.ticketTexts(followUp!.id)).toContain('the 5,001st comment');
    h.chatwoot.agentReply(conversation.id, { content: 'and a sixth' });
    await h.settle();
    expect(s.fromChatwoot(followUp!.id)).toContain('and a sixth');
  });
});

describe('8. files on Chatwoot’s FRONTEND_URL', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({
      chatwootOptions: { separateFrontendOrigin: true },
      env: ({ chatwoot }) => ({ ...AGENT, CHATWOOT_ATTACHMENT_ORIGINS: chatwoot.frontendUrl }),
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => expectClean(h));

  it('a file whose data_url is on the allowed FRONTEND_URL origin is copied to the ticket', async () => {
    const { ticket, conversation } = await s.openTicket('send it');
    const m = h.chatwoot.agentReply(conversation.id, { content: 'here it is', attachments: [png] });
    expect(new URL(m.attachments[0]!.data_url).origin).toBe(h.chatwoot.frontendUrl);
    await h.settle();
    const mine = h.zendesk.comments(ticket.id).filter((c) => c.author_id === h.zendesk.bridgeUser.id);
    expect(mine.map((c) => [c.body, c.attachments.map((a) => a.file_name)])).toEqual([
      ['here it is', ['photo.png']],
    ]);
  });
});

describe('12. a Chatwoot that signs nothing (before 4.11)', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  const token = 'x'.repeat(40);
  beforeAll(async () => {
    h = await startHarness({
      chatwootOptions: { version: '4.10.1' },
      env: { ...AGENT, CHATWOOT_WEBHOOK_SECRET: '', CHATWOOT_WEBHOOK_URL_TOKEN: token },
    });
    h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot?token=${token}`);
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => expectClean(h));

  it('its unsigned webhooks are taken on the URL token, and replies sync', async () => {
    const { ticket, conversation } = await s.openTicket('hi');
    h.chatwoot.agentReply(conversation.id, { content: 'hello from an older Chatwoot' });
    await h.settle();
    expect(h.chatwoot.deliveries.at(-1)).toMatchObject({ status: 202 });
    expect(s.fromChatwoot(ticket.id)).toEqual(['hello from an older Chatwoot']);
  });
});
