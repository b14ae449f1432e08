// The Chatwoot dashboard app's HTTP API against the local bridge and both simulators: what it shows for a linked
// and an unlinked conversation, held and dead-lettered events and their retry, resync, and what it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_PROCESS_ATTEMPTS } from '../../shared/queue/backoff.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { appApi, appKey, unlinkedConversation } from '../helpers/dashboard-app.ts';
import { scenario } from '../helpers/scenario.ts';

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  // A held record waits its full first retry delay (30 s, the deployed value) unless someone retries it now.
  h = await startHarness({ env: { RETRY_BACKOFF_BASE_MS: '30000' } });
  s = scenario(h);
});
afterAll(() => h?.close());

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Problems = Array<{ eventKey: string; state: string; reason: string; label: string }>;
const problemsOf = (body: Record<string, unknown>) => (body.problems ?? []) as Problems;

describe('dashboard app API', () => {
  it('shows a linked conversation’s ticket, requester, assignee, tags and last sync, and nothing waiting', async () => {
    const { ticket, conversation, customer } = await s.openTicket();
    const stored = h.zendesk.ticket(ticket.id)!;
    stored.priority = 'high';
    stored.assignee_id = h.zendesk.defaultAgent.id;
    stored.tags = ['vip', 'damaged'];

    const { status, body, headers } = await appApi(h, String(conversation.id));
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({
      linked: true,
      ticket: {
        id: ticket.id,
        url: `${h.zendesk.baseUrl}/agent/tickets/${ticket.id}`,
        subject: 'Order',
        status: 'new',
        priority: 'high',
        requester: { name: customer.name, email: customer.email },
        assignee: { name: h.zendesk.defaultAgent.name },
        tags: ['vip', 'damaged'],
      },
      lastSynced: { chatwootToZendesk: null },
      problems: [],
    });
    const synced = (body.lastSynced as { zendeskToChatwoot: number }).zendeskToChatwoot;
    expect(synced).toBeGreaterThan(Date.now() - 60_000);

    // An agent reply stamps the other direction.
    h.chatwoot.agentReply(conversation.id, { content: 'We will send a new one.' });
    await h.settle();
    const after = await appApi(h, String(conversation.id));
    expect((after.body.lastSynced as { chatwootToZendesk: number | null }).chatwootToZendesk).toBeGreaterThan(
      0,
    );
    // Nothing secret rides along.
    const text = JSON.stringify(after.body);
    for (const secret of Object.values(h.secrets)) expect(text).not.toContain(secret);
    expect(text).not.toContain(appKey(h));
  });

  it('says plainly that a conversation is not linked, and shows no other ticket', async () => {
    await s.openTicket();
    const id = await unlinkedConversation(h);
    const { status, body } = await appApi(h, String(id));
    expect(status).toBe(200);
    expect(body).toEqual({ linked: false, reason: 'not-linked', now: expect.any(Number) });
  });

  it('answers only for the configured inbox and account', async () => {
    const { conversation } = await s.openTicket();
    const stored = h.chatwoot.conversation(conversation.id)!;
    const inbox = stored.inbox_id;
    stored.inbox_id = 99;
    try {
      expect((await appApi(h, String(conversation.id))).body).toEqual({
        linked: false,
        reason: 'other-inbox',
        now: expect.any(Number),
      });
    } finally {
      stored.inbox_id = inbox;
    }
    // A conversation Chatwoot does not know in this account.
    expect((await appApi(h, '987654321')).body).toMatchObject({ linked: false, reason: 'not-found' });
    // Nothing to retry or resync there either.
    expect((await appApi(h, '987654321/resync', { method: 'POST' })).status).toBe(404);
  });

  it('lists a held agent reply with its reason, and Retry sends it now instead of after the 30 s delay', async () => {
    const { ticket, conversation } = await s.openTicket();
    // Answers that may have been applied (500) on every in-process attempt: the worker then holds the reply for
    // the 30 s retry delay.
    h.zendesk.injectFaults({
      method: 'PUT',
      path: /\/tickets\/\d+/,
      times: IN_PROCESS_ATTEMPTS,
      status: 500,
    });
    const reply = h.chatwoot.agentReply(conversation.id, { content: 'Held for a moment.' });
    const held = await until(
      () => appApi(h, String(conversation.id)),
      (r) => problemsOf(r.body).length > 0,
    );
    expect(problemsOf(held.body)).toEqual([
      {
        eventKey: `cw:message:${reply.id}`,
        label: `Chatwoot message ${reply.id}`,
        state: 'retrying',
        reason: 'zendesk-put tickets/:id-http-500',
        at: expect.any(Number),
      },
    ]);
    expect(s.fromChatwoot(ticket.id)).not.toContain('Held for a moment.');

    const started = Date.now();
    const retried = await appApi(h, `${conversation.id}/retry`, {
      method: 'POST',
      body: { eventKey: `cw:message:${reply.id}` },
    });
    expect(retried).toMatchObject({ status: 200, body: { action: 'released', count: 1 } });
    await h.settle();
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(s.fromChatwoot(ticket.id).filter((b) => b.includes('Held for a moment.'))).toHaveLength(1);
    expect(problemsOf((await appApi(h, String(conversation.id))).body)).toEqual([]);
  });

  it('lists a dead-lettered reply; Retry sends it again once, through the idempotent path', async () => {
    const { ticket, conversation } = await s.openTicket();
    // 401 is permanent: dead-lettered at once with its reason.
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+/, times: 1, status: 401 });
    const reply = h.chatwoot.agentReply(conversation.id, { content: 'Dead-lettered first.' });
    await h.settle();
    const key = `cw:message:${reply.id}`;
    const listed = problemsOf((await appApi(h, String(conversation.id))).body);
    expect(listed).toEqual([expect.objectContaining({ eventKey: key, state: 'dead-lettered' })]);

    const retried = await appApi(h, `${conversation.id}/retry`, { method: 'POST', body: { eventKey: key } });
    expect(retried).toMatchObject({ status: 200, body: { action: 'requeued', count: 1 } });
    await h.settle();
    expect(s.fromChatwoot(ticket.id).filter((b) => b.includes('Dead-lettered first.'))).toHaveLength(1);
    expect(problemsOf((await appApi(h, String(conversation.id))).body)).toEqual([]);

    // A second click after it synced finds nothing waiting; an operator's redrive of the same dead letter is a
    // duplicate the ledger drops.
    const again = await appApi(h, `${conversation.id}/retry`, { method: 'POST', body: { eventKey: key } });
    expect(again.status).toBe(404);
    await h.bridge.queue.redrive();
    await h.settle();
    expect(s.fromChatwoot(ticket.id).filter((b) => b.includes('Dead-lettered first.'))).toHaveLength(1);
  });

  it('Resync enqueues what no webhook brought, once', async () => {
    const { ticket, conversation } = await s.openTicket();
    h.zendesk.setWebhookUrl(undefined);
    h.zendesk.customerComment(ticket.id, 'Sent while the webhook was down.');
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const first = await appApi(h, `${conversation.id}/resync`, { method: 'POST' });
    expect(first).toMatchObject({ status: 200, body: { ticketId: String(ticket.id), enqueued: 1 } });
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toContain('Sent while the webhook was down.');
    const second = await appApi(h, `${conversation.id}/resync`, { method: 'POST' });
    expect(second).toMatchObject({ status: 200, body: { enqueued: 0 } });
  });

  it('refuses requests without the key, with a wrong key, and with the wrong method', async () => {
    const { conversation } = await s.openTicket();
    expect((await appApi(h, String(conversation.id), { key: null })).status).toBe(401);
    expect((await appApi(h, String(conversation.id), { key: 'x'.repeat(40) })).status).toBe(401);
    expect((await appApi(h, `${conversation.id}/resync`)).status).toBe(405);
    expect((await appApi(h, `${conversation.id}/retry`, { method: 'POST', body: { nope: 1 } })).status).toBe(
      400,
    );
    expect((await appApi(h, 'abc')).status).toBe(404);
  });

  it('serves the page with a CSP that lets only the Chatwoot origin frame it, and no key inside', async () => {
    const res = await fetch(`${h.bridge.url}/app`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`frame-ancestors ${new URL(h.chatwoot.baseUrl).origin}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html.length).toBeLessThan(16_000);
    expect(html).not.toContain(appKey(h));
    expect((await fetch(`${h.bridge.url}/app`, { method: 'POST' })).status).toBe(405);
  });

  it('app-url --local prints the running bridge’s app URL as its last line', async () => {
    const { appUrlCommand } = await import('../../bin/commands/app-url.ts');
    const out: string[] = [];
    await appUrlCommand.run({
      options: { local: h.bridge.url },
      args: [],
      env: {},
      print: (l) => out.push(l),
    });
    expect(out.at(-1)).toBe(`${h.bridge.url}/app#key=${encodeURIComponent(appKey(h))}`);
  });
});
