// The Chatwoot simulator behaves like Chatwoot: auth, unique contacts, conversations, messages, signed webhooks, faults.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chatwootSignature, verifySignature } from '../../shared/http/signature.ts';
import { ChatwootSimulator } from '../../simulators/chatwoot.ts';
import { at, type Captured, fixture, keysOf, type Receiver, startReceiver } from './support.ts';

const TOKEN = 'cw-api-token';
const SECRET = 'cw-webhook-secret';
const ACCOUNT = 1;
const INBOX = 7;

let sim: ChatwootSimulator;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await ChatwootSimulator.start({
    apiToken: TOKEN,
    accountId: ACCOUNT,
    inboxId: INBOX,
    webhookSecret: SECRET,
    webhookUrl: receiver.url,
  });
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

afterEach(async () => {
  await sim.idle();
  expect(sim.contractViolations).toEqual([]);
  sim.reset();
  receiver.received.length = 0;
});

type Json = Record<string, unknown>;

async function api(method: string, path: string, body?: unknown, token = TOKEN) {
  const res = await fetch(`${sim.baseUrl}/api/v1/accounts/${ACCOUNT}${path}`, {
    method,
    headers: {
      api_access_token: token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json: Json | undefined;
  try {
    json = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json ?? {} };
}

/** What the bridge does for a new ticket: contact, then a conversation keyed by the ticket. */
async function bridgeConversation(ticketId = 9876) {
  const contact = await api('POST', '/contacts', {
    inbox_id: INBOX,
    name: 'Jane Doe',
    email: `jane.${ticketId}@example.com`,
    identifier: `zendesk:user:${ticketId}`,
    custom_attributes: { zendesk_user_id: ticketId },
  });
  const contactId = at(contact.json, 'payload.contact.id') as number;
  const conversation = await api('POST', '/conversations', {
    source_id: `zendesk:ticket:${ticketId}`,
    inbox_id: INBOX,
    contact_id: contactId,
    custom_attributes: { zendesk_ticket_id: ticketId },
  });
  return { contactId, conversationId: conversation.json.id as number, contact, conversation };
}

function verified(hook: Captured): boolean {
  const result = verifySignature({
    secrets: [SECRET],
    signature: String(hook.headers['x-chatwoot-signature']),
    timestamp: String(hook.headers['x-chatwoot-timestamp']),
    rawBody: hook.raw,
    now: Date.now(),
    sign: chatwootSignature,
  });
  return result.ok;
}

function expectSameShape(body: unknown, fx: unknown, paths: string[]): void {
  for (const path of paths) {
    const pick = (o: unknown) => (path ? at(o, path) : o);
    expect(keysOf(pick(body)), path || 'top level').toEqual(keysOf(pick(fx)));
  }
}

describe('authentication', () => {
  it('rejects a missing or wrong api_access_token and other accounts', async () => {
    const none = await fetch(`${sim.baseUrl}/api/v1/accounts/${ACCOUNT}/contacts/search?q=a`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'You need to sign in or sign up before continuing.' });
    expect((await api('GET', '/contacts/search?q=a', undefined, 'wrong')).status).toBe(401);
    const other = await fetch(`${sim.baseUrl}/api/v1/accounts/2/contacts/search?q=a`, {
      headers: { api_access_token: TOKEN },
    });
    expect(other.status).toBe(404);
  });
});

describe('contacts', () => {
  it('creates a contact with a contact inbox and rejects duplicate email or identifier with 422', async () => {
    const { contact } = await bridgeConversation(1);
    expect(contact.status).toBe(200);
    expect(at(contact.json, 'payload.contact')).toMatchObject({
      email: 'jane.1@example.com',
      identifier: 'zendesk:user:1',
    });
    expect(at(contact.json, 'payload.contact_inbox.inbox.id')).toBe(INBOX);
    expect(typeof at(contact.json, 'payload.contact_inbox.source_id')).toBe('string');
    const sameEmail = await api('POST', '/contacts', { inbox_id: INBOX, email: 'JANE.1@example.com' });
    expect(sameEmail).toMatchObject({
      status: 422,
      json: { message: 'Email has already been taken', attributes: ['email'] },
    });
    const sameId = await api('POST', '/contacts', { inbox_id: INBOX, identifier: 'zendesk:user:1' });
    expect(sameId).toMatchObject({
      status: 422,
      json: { message: 'Identifier has already been taken', attributes: ['identifier'] },
    });
  });

  it('searches case-insensitively and lists a contact’s conversations', async () => {
    const { contactId, conversationId } = await bridgeConversation(2);
    const found = await api('GET', '/contacts/search?q=JANE.2');
    expect(found.json).toMatchObject({ meta: { count: 1, current_page: 1 } });
    expect((found.json.payload as Json[]).map((c) => c.id)).toEqual([contactId]);
    const list = await api('GET', `/contacts/${contactId}/conversations`);
    expect((list.json.payload as Json[]).map((c) => c.id)).toEqual([conversationId]);
  });
});

describe('conversations', () => {
  it('creates a conversation per POST (no reuse), finds it by filter and 404s unknown ids', async () => {
    const { contactId, conversation } = await bridgeConversation(3);
    expect(conversation.json).toMatchObject({ account_id: ACCOUNT, inbox_id: INBOX, status: 'open' });
    const again = await api('POST', '/conversations', {
      source_id: 'zendesk:ticket:3',
      inbox_id: INBOX,
      contact_id: contactId,
    });
    expect(again.json.id).not.toBe(conversation.json.id);
    const filtered = await api('POST', '/conversations/filter', {
      payload: [
        {
          attribute_key: 'zendesk_ticket_id',
          filter_operator: 'equal_to',
          values: ['3'],
          query_operator: 'AND',
        },
        { attribute_key: 'status', filter_operator: 'equal_to', values: ['open'] },
      ],
    });
    expect((filtered.json.payload as Json[]).map((c) => c.id)).toEqual([conversation.json.id]);
    expect(at(filtered.json, 'meta.all_count')).toBe(1);
    expect(await api('GET', '/conversations/99999')).toMatchObject({
      status: 404,
      json: { error: 'Resource could not be found' },
    });
  });

  it('toggles status, records an activity message and sends status_changed + updated like the fixtures', async () => {
    const { conversationId } = await bridgeConversation(4);
    await sim.idle();
    receiver.received.length = 0;
    const res = await api('POST', `/conversations/${conversationId}/toggle_status`, { status: 'resolved' });
    expect(res.json).toEqual({
      meta: {},
      payload: { success: true, current_status: 'resolved', conversation_id: conversationId },
    });
    expect(sim.messages(conversationId).at(-1)?.message_type).toBe(2);
    await sim.idle();
    const [changed, updated] = receiver.received;
    expect(changed?.body).toMatchObject({
      event: 'conversation_status_changed',
      status: 'resolved',
      changed_attributes: null,
    });
    expect(updated?.body.event).toBe('conversation_updated');
    expect(at(updated?.body, 'changed_attributes.0.status')).toEqual({
      previous_value: 'open',
      current_value: 'resolved',
    });
    expectSameShape(changed?.body, fixture('chatwoot', 'conversation_status_changed-resolved.json'), [
      '',
      'contact_inbox',
      'meta',
    ]);
    expectSameShape(updated?.body, fixture('chatwoot', 'conversation_updated-status-resolved.json'), ['']);
    expect(receiver.received.every(verified)).toBe(true);
  });
});

describe('messages', () => {
  it('echoes an API incoming message as message_created shaped like the fixture, sender without type', async () => {
    const { conversationId } = await bridgeConversation(5);
    await sim.idle();
    receiver.received.length = 0;
    const res = await api('POST', `/conversations/${conversationId}/messages`, {
      content: 'Hi, my order still has not shipped.',
      message_type: 'incoming',
      source_id: 'zendesk:comment:24567890123',
      content_attributes: { zendesk_comment_id: 24567890123 },
    });
    expect(res.json).toMatchObject({
      message_type: 0,
      source_id: 'zendesk:comment:24567890123',
      sender_type: 'Contact',
    });
    await sim.idle();
    const hook = receiver.received[0]!;
    expect(verified(hook)).toBe(true);
    expect(hook.headers['x-chatwoot-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(hook.body).toMatchObject({ event: 'message_created', message_type: 'incoming', id: res.json.id });
    expect(at(hook.body, 'conversation.messages.0.message_type')).toBe(0);
    expectSameShape(hook.body, fixture('chatwoot', 'message_created-incoming-contact.json'), [
      '',
      'sender',
      'conversation',
      'conversation.contact_inbox',
      'conversation.messages.0',
      'conversation.meta.sender',
    ]);
  });

  it('delivers agent replies and private notes with a user sender; messages[0] stays the last public one', async () => {
    const { conversationId } = await bridgeConversation(6);
    const reply = sim.agentReply(conversationId, { content: 'Replacement is on its way.' });
    sim.privateNote(conversationId, 'Customer seems upset');
    await sim.idle();
    const [replyHook, noteHook] = receiver.received.slice(-2).map((r) => r.body);
    const fx = fixture('chatwoot', 'message_created-outgoing-agent-reply.json');
    expectSameShape(replyHook, fx, ['', 'sender', 'conversation']);
    expect(replyHook).toMatchObject({
      message_type: 'outgoing',
      private: false,
      source_id: null,
      sender: { type: 'user' },
    });
    expect(noteHook).toMatchObject({ private: true, sender: { type: 'user', id: sim.defaultAgent.id } });
    expect(at(noteHook, 'conversation.messages.0.id')).toBe(reply.id);
  });

  it('accepts multipart attachments, serves them at data_url and lists messages after an id', async () => {
    const { conversationId } = await bridgeConversation(7);
    const first = sim.agentReply(conversationId, { content: 'First' });
    const form = new FormData();
    form.append('content', 'Invoice attached');
    form.append('message_type', 'outgoing');
    form.append('private', 'false');
    form.append('source_id', 'zendesk:comment:1');
    form.append(
      'attachments[]',
      new Blob([Buffer.from('%PDF-1.4')], { type: 'application/pdf' }),
      'invoice.pdf',
    );
    const res = await fetch(
      `${sim.baseUrl}/api/v1/accounts/${ACCOUNT}/conversations/${conversationId}/messages`,
      {
        method: 'POST',
        headers: { api_access_token: TOKEN },
        body: form,
      },
    );
    const message = (await res.json()) as {
      id: number;
      attachments: Array<{ data_url: string; file_type: string }>;
    };
    expect(message.attachments[0]?.file_type).toBe('file');
    const file = await fetch(message.attachments[0]!.data_url);
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe('%PDF-1.4');
    const after = await api('GET', `/conversations/${conversationId}/messages?after=${first.id}`);
    expect((after.json.payload as Json[]).map((m) => m.id)).toEqual([message.id]);
    await sim.idle();
    const hook = receiver.received.at(-1)!.body;
    expectSameShape(hook, fixture('chatwoot', 'message_created-outgoing-with-attachment.json'), [
      '',
      'attachments.0',
    ]);
  });

  it('reopens a resolved conversation on an incoming message', async () => {
    const { conversationId } = await bridgeConversation(8);
    sim.resolve(conversationId);
    await api('POST', `/conversations/${conversationId}/messages`, {
      content: 'Still broken',
      message_type: 'incoming',
    });
    expect(sim.conversation(conversationId)?.status).toBe('open');
  });
});

describe('contract checks', () => {
  it('records requests that break the swagger (here: no source_id) as violations', async () => {
    const res = await api('POST', '/conversations', { inbox_id: INBOX, contact_id: 1 });
    expect(res.status).toBe(404);
    expect(sim.contractViolations).toEqual([
      "chatwoot POST /api/v1/accounts/{account_id}/conversations: body must have required property 'source_id'",
    ]);
    sim.contractViolations.length = 0;
  });
});

describe('faults', () => {
  it('answers 429 without Retry-After, resets sockets and delays', async () => {
    sim.injectFaults({ method: 'POST', path: /\/messages$/, times: 1, status: 429, retryAfter: 30 });
    const throttled = await api('POST', '/conversations/1/messages', { content: 'x' });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBeNull();
    sim.injectFaults({ path: /search/, times: 1, reset: true });
    await expect(api('GET', '/contacts/search?q=x')).rejects.toThrow();
    sim.injectFaults({ path: /search/, times: 1, delayMs: 120 });
    const started = Date.now();
    expect((await api('GET', '/contacts/search?q=x')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 0, 200]);
  });

  it('records a failed delivery without retrying', async () => {
    receiver.status = 500;
    try {
      const { conversationId } = await bridgeConversation(9);
      sim.agentReply(conversationId, { content: 'x' });
      await sim.idle();
      expect(sim.deliveries.map((d) => [d.type, d.status])).toEqual([
        ['conversation_created', 500],
        ['message_created', 500],
      ]);
      expect(receiver.received).toHaveLength(2);
    } finally {
      receiver.status = 200;
    }
  });
});

describe('conversations by last activity (the reconciler’s change feed)', () => {
  const activeSince = (date: string, page = 1, extra: Json[] = []) =>
    api('POST', `/conversations/filter?page=${page}`, {
      payload: [
        ...extra,
        {
          attribute_key: 'inbox_id',
          filter_operator: 'equal_to',
          values: [String(INBOX)],
          query_operator: 'AND',
        },
        { attribute_key: 'last_activity_at', filter_operator: 'is_greater_than', values: [date] },
      ],
    });
  const day = (offsetDays: number) =>
    new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

  it('compares dates, not times, and lists newest activity first, 25 a page', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 27; i++) ids.push((await bridgeConversation(7000 + i)).conversationId);
    sim.agentReply(ids[0]!, { content: 'the oldest conversation is now the most recent' });
    // "after yesterday" is today, whatever the time of day.
    const first = await activeSince(day(-1));
    const page1 = first.json.payload as Json[];
    expect(page1).toHaveLength(25);
    expect(page1[0]?.id).toBe(ids[0]);
    expect(at(first.json, 'meta.all_count')).toBe(27);
    expect(((await activeSince(day(-1), 2)).json.payload as Json[]).map((c) => c.id)).toHaveLength(2);
    // "after today" excludes everything that happened today.
    expect((await activeSince(day(0))).json.payload).toEqual([]);
    sim.backdate(3 * 86_400_000);
    expect((await activeSince(day(-1))).json.payload).toEqual([]);
    expect(((await activeSince(day(-4))).json.payload as Json[]).length).toBe(25);
  });

  it('answers 422 for an operator the attribute does not take, a bad date, or a query_operator on the last condition', async () => {
    const bad = [
      [{ attribute_key: 'last_activity_at', filter_operator: 'equal_to', values: ['2026-11-30'] }],
      [{ attribute_key: 'last_activity_at', filter_operator: 'is_greater_than', values: ['yesterday'] }],
      [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: 'AND' }],
    ];
    for (const payload of bad) {
      const res = await api('POST', '/conversations/filter', { payload });
      expect(res.status).toBe(422);
      expect(typeof res.json.error).toBe('string');
    }
  });
});
