// The simulators are as unkind as the platforms (issue #13; sources in docs/platforms.md): Chatwoot's catch-all 422,
// its length and flood limits, reopening that assigns, files on FRONTEND_URL, odd attachments, other inboxes and
// unsigned releases; Zendesk's statuses beyond closed, the system actor, an attachment's own is_public, the 5,000
// comment limit, messaging events and unescaped trigger bodies.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatwootSimulator, MESSAGE_MAX_CHARACTERS } from '../../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';
import { type Receiver, startReceiver } from './support.ts';

const TOKEN = 'cw-api-token';
let receiver: Receiver;
const sims: Array<ChatwootSimulator | ZendeskSimulator> = [];

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await receiver.close();
});
afterEach(() => {
  receiver.received.length = 0;
  for (const sim of sims) expect(sim.contractViolations).toEqual([]);
});

async function chatwoot(o: Partial<Parameters<typeof ChatwootSimulator.start>[0]> = {}) {
  const sim = await ChatwootSimulator.start({
    apiToken: TOKEN,
    accountId: 1,
    inboxId: 7,
    webhookSecret: 'cw-secret',
    webhookUrl: receiver.url,
    ...o,
  });
  sims.push(sim);
  return sim;
}

async function zendesk(o: Partial<Parameters<typeof ZendeskSimulator.start>[0]> = {}) {
  const sim = await ZendeskSimulator.start({
    email: 'bridge@acme.example',
    apiToken: 'zd-token',
    webhookSecret: 'zd-secret',
    webhookUrl: receiver.url,
    ...o,
  });
  sims.push(sim);
  return sim;
}

const zendeskAuth = `Basic ${Buffer.from('bridge@acme.example/token:zd-token').toString('base64')}`;

async function cw(sim: ChatwootSimulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.baseUrl}${path.startsWith('/api') ? '' : '/api/v1/accounts/1'}${path}`, {
    method,
    headers: { api_access_token: TOKEN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A contact and a conversation in the bridge's inbox, made through the API like the bridge does. */
async function conversation(sim: ChatwootSimulator): Promise<number> {
  const contact = await cw(sim, 'POST', '/contacts', {
    inbox_id: 7,
    name: 'Ann',
    identifier: `id-${Date.now()}`,
  });
  const id = (contact.json.payload as { contact: { id: number } }).contact.id;
  const c = await cw(sim, 'POST', '/conversations', {
    source_id: `zendesk:ticket:${id}`,
    inbox_id: 7,
    contact_id: id,
  });
  return c.json.id as number;
}

describe('Chatwoot simulator', () => {
  it('answers every refused message with 422 {"error": "Validation failed: …"}: too long, then too many a minute', async () => {
    const sim = await chatwoot({ messagesPerMinute: 3 });
    const id = await conversation(sim);
    const long = await cw(sim, 'POST', `/conversations/${id}/messages`, {
      content: 'x'.repeat(MESSAGE_MAX_CHARACTERS + 1),
      message_type: 'incoming',
    });
    expect(long).toEqual({
      status: 422,
      json: { error: 'Validation failed: Content is too long (maximum is 150000 characters)' },
    });
    // 150,000 characters of 4-byte emoji pass: Ruby counts characters, not bytes or UTF-16 units.
    const ok = await cw(sim, 'POST', `/conversations/${id}/messages`, {
      content: '😀'.repeat(MESSAGE_MAX_CHARACTERS),
      message_type: 'incoming',
    });
    expect(ok.status).toBe(200);
    for (const n of [1, 2]) {
      const r = await cw(sim, 'POST', `/conversations/${id}/messages`, {
        content: `m${n}`,
        message_type: 'incoming',
      });
      expect(r.status).toBe(200);
    }
    const flood = await cw(sim, 'POST', `/conversations/${id}/messages`, {
      content: 'm3',
      message_type: 'incoming',
    });
    expect(flood).toEqual({ status: 422, json: { error: 'Validation failed: Too many messages' } });
  });

  it('carries a long message’s text three times in message_created (content, and twice in conversation.messages[0])', async () => {
    const sim = await chatwoot();
    const id = await conversation(sim);
    const text = 'é'.repeat(MESSAGE_MAX_CHARACTERS);
    sim.agentReply(id, { content: text });
    await sim.idle();
    // This message's webhook: the previous test's may still arrive after its afterEach cleared the list.
    const hook = receiver.received.find(
      (r) => r.body.event === 'message_created' && r.body.content === text,
    )!;
    expect(hook.raw.length).toBeGreaterThan(3 * Buffer.byteLength(text));
  });

  it('assigns a conversation it reopens to an agent-role caller, not to an administrator', async () => {
    for (const [role, expected] of [
      ['agent', 'bridge'],
      ['administrator', 'sam'],
    ] as const) {
      const sim = await chatwoot({ tokenRole: role });
      const id = await conversation(sim);
      sim.assignTo(id, sim.defaultAgent.id);
      sim.resolve(id);
      await cw(sim, 'POST', `/conversations/${id}/toggle_status`, { status: 'open' });
      const assignee = sim.conversation(id)!.assignee_id;
      expect(assignee).toBe(expected === 'bridge' ? sim.bridgeAgent.id : sim.defaultAgent.id);
      const profile = await cw(sim, 'GET', '/api/v1/profile');
      expect(profile.json).toMatchObject({ role, accounts: [{ id: 1, role }] });
      // The assignments endpoint puts it back.
      await cw(sim, 'POST', `/conversations/${id}/assignments`, { assignee_id: sim.defaultAgent.id });
      expect(sim.conversation(id)!.assignee_id).toBe(sim.defaultAgent.id);
    }
  });

  it('builds data_url on FRONTEND_URL, another origin than the API, where the file is served', async () => {
    const sim = await chatwoot({ separateFrontendOrigin: true });
    const id = await conversation(sim);
    const m = sim.agentReply(id, {
      content: 'see file',
      attachments: [{ filename: 'a.txt', contentType: 'text/plain', data: Buffer.from('hello') }],
    });
    const url = m.attachments[0]!.data_url;
    expect(new URL(url).origin).toBe(sim.frontendUrl);
    expect(sim.frontendUrl).not.toBe(sim.baseUrl);
    expect(await (await fetch(url)).text()).toBe('hello');
  });

  it('renders locations, contact cards and nil entries among a message’s attachments, without data_url', async () => {
    const sim = await chatwoot();
    const id = await conversation(sim);
    sim.agentReplyWithOddAttachments(id, {
      content: 'here',
      attachments: [{ filename: 'p.png', contentType: 'image/png', data: Buffer.from([1]) }],
      odd: ['location', 'contact', 'null'],
    });
    await sim.idle();
    // This message's webhook: the previous test's may still arrive after its afterEach cleared the list.
    const hook = receiver.received.find(
      (r) => r.body.event === 'message_created' && r.body.content === 'here',
    )!;
    const attachments = hook.body.attachments as Array<Record<string, unknown> | null>;
    expect(attachments.map((a) => a?.file_type ?? null)).toEqual(['image', 'location', 'contact', null]);
    expect(attachments[1]).toMatchObject({ data_url: null });
    expect(attachments[2]).not.toHaveProperty('data_url');
  });

  it('sends every inbox’s events to the account webhook (no inbox filter)', async () => {
    const sim = await chatwoot();
    sim.otherInboxMessage('for another team');
    await sim.idle();
    // This message's webhook: the previous test's may still arrive after its afterEach cleared the list.
    const hook = receiver.received.find(
      (r) => r.body.event === 'message_created' && r.body.content === 'for another team',
    )!;
    expect((hook.body.inbox as { id: number }).id).not.toBe(7);
  });

  it('signs nothing before 4.11 and tells its version on GET /api', async () => {
    const sim = await chatwoot({ version: '4.10.1' });
    const id = await conversation(sim);
    sim.agentReply(id, { content: 'hi' });
    await sim.idle();
    expect(receiver.received.length).toBeGreaterThan(0);
    for (const r of receiver.received) expect(r.headers['x-chatwoot-signature']).toBeUndefined();
    const info = await fetch(`${sim.baseUrl}/api`);
    expect(await info.json()).toMatchObject({ version: '4.10.1' });
  });
});

describe('Zendesk simulator', () => {
  async function put(sim: ZendeskSimulator, id: number, ticket: unknown) {
    const res = await fetch(`${sim.baseUrl}/api/v2/tickets/${id}`, {
      method: 'PUT',
      headers: { authorization: zendeskAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ ticket }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('reports archived, deleted and scrubbed tickets as status changes by the system (actor -1)', async () => {
    const sim = await zendesk();
    const customer = sim.createUser({ name: 'Ann', email: 'ann@example.com', role: 'end-user' });
    const t = sim.createTicket({ requester: customer, subject: 's', body: 'b' });
    sim.setStatus(t.id, 'closed');
    for (const status of ['archived', 'deleted', 'scrubbed'] as const) sim.lifecycle(t.id, status);
    sim.systemSetStatus(sim.createTicket({ requester: customer, subject: 's2', body: 'b2' }).id, 'solved');
    await sim.idle();
    const changes = receiver.received
      .filter((r) => r.body.type === 'zen:event-type:ticket.status_changed')
      .map((r) => [
        (r.body.event as { current: string }).current,
        (r.body.detail as { actor_id: string }).actor_id,
      ]);
    expect(changes.slice(1)).toEqual([
      ['ARCHIVED', '-1'],
      ['DELETED', '-1'],
      ['SCRUBBED', '-1'],
      ['SOLVED', '-1'],
    ]);
  });

  it('sends an attachment’s own is_public (false), not its public comment’s', async () => {
    const sim = await zendesk();
    const customer = sim.createUser({ name: 'Ann', email: 'ann@example.com', role: 'end-user' });
    sim.createTicket({
      requester: customer,
      subject: 's',
      body: 'with file',
      attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', data: Buffer.from('x') }],
    });
    await sim.idle();
    const linked = receiver.received.find(
      (r) => r.body.type === 'zen:event-type:ticket.attachment_linked_to_comment',
    )!;
    expect(
      (linked.body.event as { comment: { attachment: { is_public: boolean } } }).comment.attachment.is_public,
    ).toBe(false);
  });

  it('refuses a comment beyond the ticket’s comment limit with 422, and still takes other updates', async () => {
    const sim = await zendesk({ maxComments: 2 });
    const customer = sim.createUser({ name: 'Ann', email: 'ann@example.com', role: 'end-user' });
    const t = sim.createTicket({ requester: customer, subject: 's', body: 'one' });
    sim.customerComment(t.id, 'two');
    const refused = await put(sim, t.id, { comment: { body: 'three', public: true } });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ error: 'RecordInvalid' });
    expect((await put(sim, t.id, { status: 'pending' })).status).toBe(200);
  });

  it('sends a messaging message as comment_added, message_added, or both, in either order', async () => {
    const sim = await zendesk();
    const customer = sim.createUser({ name: 'Ann', email: 'ann@example.com', role: 'end-user' });
    const t = sim.createTicket({
      requester: customer,
      subject: 's',
      body: 'hi',
      channel: 'native_messaging',
    });
    await sim.idle();
    receiver.received.length = 0;
    const typesOf = async () => {
      await sim.idle();
      const types = receiver.received.map((r) => String(r.body.type).replace('zen:event-type:', ''));
      receiver.received.length = 0;
      return types;
    };
    sim.messagingMessage(t.id, 'one', { deliver: 'messaging' });
    expect(await typesOf()).toEqual(['messaging_ticket.message_added']);
    sim.messagingMessage(t.id, 'two', { deliver: 'both', messagingFirst: true });
    expect(await typesOf()).toEqual(['messaging_ticket.message_added', 'ticket.comment_added']);
    expect(sim.comments(t.id).map((c) => c.body)).toEqual(['hi', 'one', 'two']);
  });

  it('renders a trigger template without JSON escaping: a quote or a line break breaks the JSON', async () => {
    const sim = await zendesk();
    const customer = sim.createUser({ name: 'Ann', email: 'ann@example.com', role: 'end-user' });
    const t = sim.createTicket({ requester: customer, subject: 's', body: 'He said "hi"\nbye' });
    await sim.idle();
    receiver.received.length = 0;
    sim.triggerWebhook(
      t.id,
      '{\n  "ticket_id": "{{ticket.id}}",\n  "latest_comment": "{{ticket.latest_comment}}"\n}',
    );
    await sim.idle();
    const raw = receiver.received[0]!.raw.toString('utf8');
    expect(raw).toContain('"He said "hi"\nbye"');
    expect(() => JSON.parse(raw)).toThrow();
  });
});
