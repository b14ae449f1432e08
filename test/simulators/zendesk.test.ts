// The Zendesk simulator behaves like Zendesk: auth, tag replacement, closed tickets, uploads, signed webhooks, faults.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature, zendeskSignature } from '../../shared/http/signature.ts';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';
import { at, fixture, keysOf, type Receiver, startReceiver } from './support.ts';

const EMAIL = 'bridge@acme.example';
const TOKEN = 'zd-api-token';
const SECRET = 'zd-webhook-secret';
const AUTH = `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`;

let sim: ZendeskSimulator;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await ZendeskSimulator.start({
    email: EMAIL,
    apiToken: TOKEN,
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
  sim.rateLimitPerTicket = undefined;
  receiver.received.length = 0;
});

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    headers: {
      authorization: AUTH,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
  };
}

function customerTicket(tags: string[] = ['order_issue']) {
  const maria = sim.createUser({
    name: 'Maria Lopez',
    email: `maria.${Date.now()}@example.com`,
    role: 'end-user',
  });
  const ticket = sim.createTicket({
    requester: maria,
    subject: 'Order arrived damaged',
    body: 'The box was crushed.',
    tags,
  });
  return { maria, ticket };
}

describe('authentication', () => {
  it('rejects a missing or wrong token with 401 and accepts email/token:apiToken', async () => {
    const none = await fetch(`${sim.baseUrl}/api/v2/users/me`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: "Couldn't authenticate you" });
    const wrong = `Basic ${Buffer.from(`${EMAIL}/token:nope`).toString('base64')}`;
    expect((await api('GET', '/api/v2/users/me', undefined, { authorization: wrong })).status).toBe(401);
    const me = await api('GET', '/api/v2/users/me');
    expect(me.status).toBe(200);
    expect(me.json.user).toMatchObject({
      id: sim.bridgeUser.id,
      email: EMAIL,
      role: 'admin',
      name: 'Chatwoot Bridge',
    });
  });
});

describe('users and tickets', () => {
  it('shows and searches users, 404 for unknown ones', async () => {
    const { maria } = customerTicket();
    expect((await api('GET', `/api/v2/users/${maria.id}`)).json.user).toMatchObject({
      id: maria.id,
      role: 'end-user',
    });
    expect(await api('GET', '/api/v2/users/999')).toMatchObject({
      status: 404,
      json: { error: 'RecordNotFound', description: 'Not found' },
    });
    const found = await api('GET', `/api/v2/users/search?query=${encodeURIComponent(maria.email ?? '')}`);
    expect((found.json.users as Array<{ id: number }>).map((u) => u.id)).toEqual([maria.id]);
  });

  it('replaces all tags on a tags write and keeps them on a comment-only update', async () => {
    const { ticket } = customerTicket(['order_issue', 'web_widget']);
    const commentOnly = await api('PUT', `/api/v2/tickets/${ticket.id}`, {
      ticket: { comment: { body: 'On it' } },
    });
    expect(commentOnly.status).toBe(200);
    expect(at(commentOnly.json, 'ticket.tags')).toEqual(['order_issue', 'web_widget']);
    const tagged = await api('PUT', `/api/v2/tickets/${ticket.id}`, { ticket: { tags: ['chatwoot'] } });
    expect(at(tagged.json, 'ticket.tags')).toEqual(['chatwoot']);
    expect(sim.ticket(ticket.id)?.tags).toEqual(['chatwoot']);
  });

  it('answers a comment update with the audit that names the new comment id', async () => {
    const { ticket } = customerTicket();
    const res = await api('PUT', `/api/v2/tickets/${ticket.id}`, {
      ticket: { comment: { body: 'Internal', public: false }, status: 'pending' },
    });
    const events = at(res.json, 'audit.events') as Array<Record<string, unknown>>;
    const comment = sim.comments(ticket.id).at(-1)!;
    expect(events[0]).toMatchObject({
      id: comment.id,
      type: 'Comment',
      author_id: sim.bridgeUser.id,
      public: false,
    });
    expect(events[1]).toMatchObject({
      type: 'Change',
      field_name: 'status',
      value: 'pending',
      previous_value: 'new',
    });
    expect(comment.id).toBeGreaterThan(40000000000000);
    const list = await api('GET', `/api/v2/tickets/${ticket.id}/comments?sort_order=desc`);
    expect((list.json.comments as Array<{ id: number }>)[0]?.id).toBe(comment.id);
    expect(list.json).toMatchObject({ count: 2, next_page: null, previous_page: null });
  });

  it('rejects updates to a closed ticket with 422 and accepts a follow-up that copies requester and subject', async () => {
    const { maria, ticket } = customerTicket();
    sim.setStatus(ticket.id, 'closed');
    const res = await api('PUT', `/api/v2/tickets/${ticket.id}`, {
      ticket: { comment: { body: 'late reply' } },
    });
    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { status: [{ description: 'Status: closed prevents ticket update' }] },
    });
    const followUp = await api('POST', '/api/v2/tickets', {
      ticket: { via_followup_source_id: ticket.id, comment: { body: 'Continuing here', public: true } },
    });
    expect(followUp.status).toBe(201);
    expect(followUp.json.ticket).toMatchObject({ requester_id: maria.id, subject: ticket.subject });
    expect(sim.ticket(ticket.id)?.followup_ids).toEqual([at(followUp.json, 'ticket.id')]);
  });

  it('404s unknown tickets', async () => {
    expect((await api('GET', '/api/v2/tickets/1')).status).toBe(404);
    expect((await api('PUT', '/api/v2/tickets/1', { ticket: { status: 'open' } })).status).toBe(404);
  });

  it('stores uploads, attaches them by token and serves the bytes at content_url with auth', async () => {
    const { ticket } = customerTicket();
    const bytes = Buffer.from('%PDF-1.4 simulated');
    const up = await fetch(`${sim.baseUrl}/api/v2/uploads?filename=invoice.pdf`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/pdf' },
      body: bytes,
    });
    expect(up.status).toBe(201);
    const upload = (
      (await up.json()) as { upload: { token: string; attachment: { content_url: string; size: number } } }
    ).upload;
    expect(upload.attachment.size).toBe(bytes.length);
    await api('PUT', `/api/v2/tickets/${ticket.id}`, {
      ticket: { comment: { body: 'Invoice', uploads: [upload.token] } },
    });
    expect(
      sim
        .comments(ticket.id)
        .at(-1)
        ?.attachments.map((a) => a.file_name),
    ).toEqual(['invoice.pdf']);
    expect((await fetch(upload.attachment.content_url)).status).toBe(401);
    const file = await fetch(upload.attachment.content_url, { headers: { authorization: AUTH } });
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  });
});

describe('webhooks', () => {
  it('delivers a signed comment_added shaped like the fixture when a customer writes', async () => {
    const { maria, ticket } = customerTicket();
    sim.customerComment(ticket.id, 'Here is a photo.');
    await sim.idle();
    expect(receiver.received).toHaveLength(2);
    const hook = receiver.received[1]!;
    const check = verifySignature({
      secrets: [SECRET],
      signature: String(hook.headers['x-zendesk-webhook-signature']),
      timestamp: String(hook.headers['x-zendesk-webhook-signature-timestamp']),
      rawBody: hook.raw,
      now: Date.now(),
      sign: zendeskSignature,
    });
    expect(check).toEqual({ ok: true });
    expect(hook.headers['user-agent']).toBe('Zendesk Webhook');
    const fx = fixture('zendesk', 'ticket.comment_added-end-user-public.json');
    for (const path of [
      '',
      'detail',
      'event',
      'event.comment',
      'event.comment.author',
      'event.meta.sequence',
    ]) {
      const pick = (o: unknown) => (path ? at(o, path) : o);
      expect(keysOf(pick(hook.body)), path || 'top level').toEqual(keysOf(pick(fx)));
    }
    expect(hook.body).toMatchObject({
      type: 'zen:event-type:ticket.comment_added',
      subject: `zen:ticket:${ticket.id}`,
      detail: { id: String(ticket.id), status: 'NEW', requester_id: String(maria.id) },
      event: { comment: { author: { id: String(maria.id), is_staff: false }, body: 'Here is a photo.' } },
    });
  });

  it('reports the bridge as a staff author of its own API comments and sends status_changed', async () => {
    const { ticket } = customerTicket();
    await sim.idle();
    receiver.received.length = 0;
    await api('PUT', `/api/v2/tickets/${ticket.id}`, {
      ticket: { comment: { body: 'Reply' }, status: 'solved' },
    });
    await sim.idle();
    const [comment, status] = receiver.received.map((r) => r.body);
    expect(at(comment, 'event.comment.author')).toMatchObject({
      id: String(sim.bridgeUser.id),
      is_staff: true,
    });
    expect(status).toMatchObject({
      type: 'zen:event-type:ticket.status_changed',
      event: { current: 'SOLVED', previous: 'NEW' },
    });
    const fx = fixture('zendesk', 'ticket.status_changed-solved.json');
    expect(keysOf(status)).toEqual(keysOf(fx));
    expect(keysOf(at(status, 'event'))).toEqual(keysOf(fx.event));
    // One update, one sequence: the two events share its id.
    expect(at(comment, 'event.meta.sequence.id')).toBe(at(status, 'event.meta.sequence.id'));
  });

  it('reopens a solved ticket when the customer replies', async () => {
    const { ticket } = customerTicket();
    sim.setStatus(ticket.id, 'solved');
    sim.customerComment(ticket.id, 'Not fixed yet');
    expect(sim.ticket(ticket.id)?.status).toBe('open');
    await sim.idle();
    expect(sim.deliveries.map((d) => d.type).at(-1)).toBe('zen:event-type:ticket.status_changed');
    expect(sim.deliveries.every((d) => d.status === 200)).toBe(true);
  });
});

describe('contract checks', () => {
  it('records requests that break the spec as violations and answers 422 like Zendesk', async () => {
    const { ticket } = customerTicket();
    const res = await api('PUT', `/api/v2/tickets/${ticket.id}`, { ticket: { comment: 5 } });
    expect(res.status).toBe(422);
    expect(sim.contractViolations).toEqual([
      'zendesk PUT /api/v2/tickets/{ticket_id}: body/ticket/comment must be object',
    ]);
    sim.contractViolations.length = 0;
  });
});

describe('faults', () => {
  it('injects a status with Retry-After, consumes the rule and records the request', async () => {
    const { ticket } = customerTicket();
    sim.injectFaults({ method: 'PUT', path: /\/tickets\//, times: 1, status: 429, retryAfter: 7 });
    const first = await api('PUT', `/api/v2/tickets/${ticket.id}`, { ticket: { status: 'open' } });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await api('PUT', `/api/v2/tickets/${ticket.id}`, { ticket: { status: 'open' } })).status).toBe(
      200,
    );
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(sim.requests[0]).toMatchObject({
      method: 'PUT',
      path: `/api/v2/tickets/${ticket.id}`,
      body: { ticket: { status: 'open' } },
    });
  });

  it('resets the socket and delays responses', async () => {
    sim.injectFaults({ path: /users\/me/, times: 1, reset: true });
    await expect(api('GET', '/api/v2/users/me')).rejects.toThrow();
    sim.injectFaults({ path: /users\/me/, times: 1, delayMs: 150 });
    const started = Date.now();
    expect((await api('GET', '/api/v2/users/me')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('limits updates per ticket with 429 and Retry-After', async () => {
    const { ticket } = customerTicket();
    sim.rateLimitPerTicket = 2;
    sim.rateWindowMs = 60_000;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await api('PUT', `/api/v2/tickets/${ticket.id}`, {
        ticket: { comment: { body: `n${i}` } },
      });
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});

describe('incremental exports', () => {
  const minuteAgo = () => Math.floor((sim.now() - 61_000) / 1000);
  type EventsPage = {
    ticket_events: Array<{ id: number; ticket_id: number; timestamp: number; child_events: Json[] }>;
    end_time: number | null;
    next_page: string | null;
    end_of_stream: boolean;
    count: number;
  };
  type Json = Record<string, unknown>;
  const events = async (start: number, include = true) =>
    (
      await api(
        'GET',
        `/api/v2/incremental/ticket_events?start_time=${start}${include ? '&include=comment_events' : ''}`,
      )
    ).json as unknown as EventsPage;

  it('streams each ticket update with its comments once the minute has passed; start_time is inclusive', async () => {
    const start = minuteAgo();
    const { ticket } = customerTicket();
    const comment = sim.customerComment(ticket.id, 'second comment');
    // Zendesk leaves out the last minute.
    expect((await events(start)).ticket_events).toEqual([]);
    sim.advanceClock(61_000);
    const page = await events(start);
    expect(page.ticket_events.map((e) => e.ticket_id)).toEqual([ticket.id, ticket.id]);
    expect(page.ticket_events[1]?.child_events).toEqual([
      expect.objectContaining({
        id: comment.id,
        event_type: 'Comment',
        body: 'second comment',
        public: true,
      }),
    ]);
    expect(page).toMatchObject({ count: 2, end_of_stream: true });
    // The next page starts at end_time and repeats that second's updates.
    const again = await events(page.end_time ?? 0);
    expect(again.ticket_events.map((e) => e.id)).toEqual(page.ticket_events.map((e) => e.id));
    // Without the sideload a comment is only flagged.
    expect((await events(start, false)).ticket_events[1]?.child_events).toEqual([
      { id: comment.id, comment_present: true, comment_public: true, event_type: 'Comment' },
    ]);
  });

  it('pages by 1,000 with end_of_stream false until the last page; an empty page has null end_time', async () => {
    const start = minuteAgo();
    const maria = sim.createUser({ name: 'M', email: `m.${Date.now()}@example.com`, role: 'end-user' });
    sim.setWebhookUrl(undefined); // 1,005 deliveries would only slow the test
    // Two seconds exactly: 600 tickets in one, 405 in the next, however long creating them takes on a busy machine
    // (the real clock crossing a second inside the loop would split the first 600).
    sim.holdClock();
    for (let i = 0; i < 1005; i++) {
      if (i === 600) {
        sim.releaseClock();
        sim.advanceClock(1000);
        sim.holdClock();
      }
      sim.createTicket({ requester: maria, subject: 's', body: `b${i}` });
    }
    sim.releaseClock();
    await sim.idle();
    sim.setWebhookUrl(receiver.url);
    sim.advanceClock(61_000);
    const first = await events(start);
    expect(first).toMatchObject({ count: 1000, end_of_stream: false });
    expect(first.next_page).toContain(`start_time=${first.end_time}`);
    const second = await events(first.end_time ?? 0);
    expect(second.end_of_stream).toBe(true);
    expect(second.count).toBe(405);
    const empty = await events(Math.floor((sim.now() - 60_000) / 1000));
    expect(empty).toMatchObject({ count: 0, end_time: null, next_page: null, end_of_stream: true });
  });

  it('refuses a start_time inside the last minute and allows 10 export requests a minute, then 429', async () => {
    const recent = await api(
      'GET',
      `/api/v2/incremental/ticket_events?start_time=${Math.floor(sim.now() / 1000)}`,
    );
    expect(recent.status).toBe(400);
    for (let i = 1; i < 10; i++) expect((await events(minuteAgo())).count).toBeGreaterThanOrEqual(0);
    const limited = await api('GET', `/api/v2/incremental/tickets/cursor?start_time=${minuteAgo()}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('exports changed tickets by cursor, oldest change first, keeping the cursor when nothing is new', async () => {
    const start = minuteAgo();
    const { ticket: one } = customerTicket();
    const { ticket: two } = customerTicket();
    sim.advanceClock(61_000);
    const first = await api('GET', `/api/v2/incremental/tickets/cursor?start_time=${start}&per_page=1`);
    expect((first.json.tickets as Json[]).map((t) => t.id)).toEqual([one.id]);
    expect(first.json.end_of_stream).toBe(false);
    const second = await api('GET', `/api/v2/incremental/tickets/cursor?cursor=${first.json.after_cursor}`);
    expect((second.json.tickets as Json[]).map((t) => t.id)).toEqual([two.id]);
    expect(second.json.end_of_stream).toBe(true);
    const none = await api('GET', `/api/v2/incremental/tickets/cursor?cursor=${second.json.after_cursor}`);
    expect(none.json).toMatchObject({
      tickets: [],
      after_cursor: second.json.after_cursor,
      end_of_stream: true,
    });
  });
});
