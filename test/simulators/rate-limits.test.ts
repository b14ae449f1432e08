// The simulators are as unkind as the platforms about rate limits: Zendesk's account budget and its headers,
// Update Ticket's own limit, Chatwoot's per-IP throttle and per-conversation message flood check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatwootSimulator } from '../../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';

const EMAIL = 'bridge@acme.example';
const AUTH = `Basic ${Buffer.from(`${EMAIL}/token:zd-token`).toString('base64')}`;
let zendesk: ZendeskSimulator;
let chatwoot: ChatwootSimulator;

beforeAll(async () => {
  // A 10-minute window keeps every request of a test inside one window whatever the clock says.
  zendesk = await ZendeskSimulator.start({
    email: EMAIL,
    apiToken: 'zd-token',
    webhookSecret: 'zd-webhook-secret',
    accountRateLimit: 5,
    ticketUpdateRateLimit: 2,
    accountWindowMs: 600_000,
  });
  chatwoot = await ChatwootSimulator.start({
    apiToken: 'cw-token',
    accountId: 1,
    inboxId: 7,
    webhookSecret: 'cw-webhook-secret',
    perIpRateLimit: 6,
    messagesPerMinute: 3,
    rateWindowMs: 600_000,
    floodWindowMs: 600_000,
  });
});
afterAll(async () => {
  await zendesk.close();
  await chatwoot.close();
});

describe('Zendesk account rate limit', () => {
  it('counts every API request in the minute, says so in headers, and answers 429 with Retry-After beyond it', async () => {
    const customer = zendesk.createUser({ name: 'C', email: 'c@example.com', role: 'end-user' });
    const ticket = zendesk.createTicket({ requester: customer, subject: 's', body: 'b' });
    const get = (path: string) => fetch(`${zendesk.baseUrl}${path}`, { headers: { authorization: AUTH } });
    const put = () =>
      fetch(`${zendesk.baseUrl}/api/v2/tickets/${ticket.id}`, {
        method: 'PUT',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ ticket: { comment: { body: 'x', public: true } } }),
      });
    const first = await get('/api/v2/users/me');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-rate-limit')).toBe('5');
    expect(first.headers.get('x-rate-limit-remaining')).toBe('4');
    // Ticketing APIs also carry ratelimit-* with the seconds until the window resets.
    expect(first.headers.get('ratelimit-remaining')).toBe('4');
    expect(Number(first.headers.get('ratelimit-reset'))).toBeGreaterThan(0);

    expect((await put()).status).toBe(200);
    expect((await put()).status).toBe(200);
    // Update Ticket's own limit (2 here, 100 at Zendesk) refuses the third update within the minute.
    const third = await put();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({ error: 'APIRateLimitExceeded' });

    // Counted so far: users/me and two updates (the refused one is not counted); two more reach the limit of 5.
    expect((await get(`/api/v2/tickets/${ticket.id}`)).status).toBe(200);
    expect((await get(`/api/v2/tickets/${ticket.id}`)).status).toBe(200);
    const over = await get(`/api/v2/tickets/${ticket.id}`);
    expect(over.status).toBe(429);
    expect(over.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(zendesk.rateLimited.tooManyRequests).toBe(2);
  });
});

describe('Chatwoot limits', () => {
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${chatwoot.baseUrl}/api/v1/accounts/1/${path}`, {
      method,
      headers: { api_access_token: 'cw-token', 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('refuses a conversation its next message once it holds the per-minute limit (422, nothing created)', async () => {
    const contact = (await (await api('POST', 'contacts', { name: 'C', inbox_id: 7 })).json()) as {
      payload: { contact: { id: number } };
    };
    const created = await api('POST', 'conversations', {
      source_id: 'bridge:ticket:1',
      inbox_id: 7,
      contact_id: contact.payload.contact.id,
      message: { content: 'first', message_type: 'incoming', source_id: 'zendesk:comment:1' },
    });
    const conversation = (await created.json()) as { id: number; messages: Array<{ source_id: string }> };
    // The first message came with the conversation, with the fields MessageBuilder takes.
    expect(conversation.messages[0]).toMatchObject({ source_id: 'zendesk:comment:1', message_type: 0 });
    for (const content of ['m2', 'm3']) {
      expect((await api('POST', `conversations/${conversation.id}/messages`, { content })).status).toBe(200);
    }
    const flooded = await api('POST', `conversations/${conversation.id}/messages`, { content: 'm4' });
    expect(flooded.status).toBe(422);
    expect(await flooded.json()).toEqual({ error: 'Validation failed: Too many messages' });
    expect(chatwoot.messages(conversation.id)).toHaveLength(3);
  });

  it("throttles requests per IP with rack-attack's answer: 429 'Retry later', no Retry-After", async () => {
    // Five requests were made above (the refused message too: rack-attack counts before the app); the limit is 6.
    expect((await api('GET', 'contacts/search?q=C')).status).toBe(200);
    const throttled = await api('GET', 'contacts/search?q=C');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBeNull();
    expect(await throttled.text()).toBe('Retry later\n');
  });
});
