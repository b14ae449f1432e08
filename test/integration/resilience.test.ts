// #15 over real HTTP: one passing failure costs its message seconds and never a duplicate; a backlog against
// Zendesk's account limits drains without running into them; a new ticket costs at most three calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

/** Waits until `check` holds (bounded), and says how long that took. */
async function until(check: () => boolean, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('a passing failure costs seconds', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    // The deployed retry schedule (30 s first step): only the in-process retries can make these fast. The time a
    // platform may still be finishing a write after a timeout or reset (30 s for Zendesk) is compressed to 2 s.
    h = await startHarness({
      env: { RETRY_BACKOFF_BASE_MS: '30000', HTTP_TIMEOUT_MS: '1000', UNKNOWN_OUTCOME_SETTLE_MS: '2000' },
    });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['an answered 500', { status: 500 }],
    ['an answered 502', { status: 502 }],
    ['a reset connection', { reset: true }],
  ])('%s on the Zendesk update: the reply lands once within seconds', async (_name, fault) => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.injectFaults({ method: 'PUT', path: new RegExp(`/tickets/${ticket.id}$`), times: 1, ...fault });
    const text = `reply after ${JSON.stringify(fault)}`;
    h.chatwoot.agentReply(conversation.id, { content: text });
    const ms = await until(() => s.ticketTexts(ticket.id).some((t) => t.includes(text)));
    expect(ms).toBeLessThan(5_000);
    await h.settle();
    expect(s.ticketTexts(ticket.id).filter((t) => t.includes(text))).toHaveLength(1);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  });

  it('a timeout whose write lands late: found by the replay guard, not posted twice', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    // The client gives up after 1 s; Zendesk applies the update after 1.5 s.
    h.zendesk.injectFaults({
      method: 'PUT',
      path: new RegExp(`/tickets/${ticket.id}$`),
      times: 1,
      delayMs: 1_500,
    });
    h.chatwoot.agentReply(conversation.id, { content: 'slow but sure' });
    const ms = await until(() => s.ticketTexts(ticket.id).includes('Sam Agent (Chatwoot):\n\nslow but sure'));
    expect(ms).toBeLessThan(5_000);
    await h.settle();
    await new Promise((r) => setTimeout(r, 3_000));
    await h.settle();
    expect(s.ticketTexts(ticket.id).filter((t) => t.includes('slow but sure'))).toHaveLength(1);
  });

  it('an answered 500 on the Chatwoot message: the comment lands once within seconds, in order', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, times: 1, status: 500 });
    h.zendesk.customerComment(ticket.id, 'second');
    h.zendesk.customerComment(ticket.id, 'third');
    const ms = await until(() => s.chatTexts(conversation.id).includes('third'));
    expect(ms).toBeLessThan(5_000);
    await h.settle();
    expect(s.chatTexts(conversation.id)).toEqual(['first', 'second', 'third']);
  });
});

describe('rate limits are a budget', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness({ env: { ZENDESK_RATE_LIMIT: '60', ZENDESK_RATE_SHARE: '1' } });
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a burst of replies on several tickets drains under the account limit: at most 2 answers 429, each once, in order', async () => {
    const opened = [];
    for (let i = 0; i < 4; i++) opened.push(await s.openTicket(`open ${i}`));
    // From here on Zendesk enforces 60 requests a minute, announced in its headers.
    h.zendesk.accountRateLimit = 60;
    h.chatwoot.setWebhookUrl(undefined);
    const expected = new Map<number, string[]>();
    for (let i = 0; i < 16; i++) {
      const { ticket, conversation } = opened[i % opened.length]!;
      const text = `burst ${i}`;
      h.chatwoot.agentReply(conversation.id, { content: text });
      expected.set(ticket.id, [...(expected.get(ticket.id) ?? []), text]);
    }
    const refused = h.zendesk.rateLimited.tooManyRequests;
    // Deliver the held webhooks together.
    const held = h.chatwoot.deliveries.filter((d) => d.status === 0 && d.type === 'message_created');
    h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
    const { signedHeaders } = await import('../helpers/webhooks.ts');
    await Promise.all(
      held.map(async (d) => {
        const raw = JSON.stringify(d.body);
        const res = await fetch(`${h.bridge.url}/webhooks/chatwoot`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...signedHeaders('chatwoot', h.secrets.chatwootWebhook, raw, Date.now()),
          },
          body: raw,
        });
        await res.body?.cancel();
      }),
    );
    await h.settle(120_000);
    expect(h.zendesk.rateLimited.tooManyRequests - refused).toBeLessThanOrEqual(2);
    for (const [ticketId, texts] of expected) {
      const landed = s.ticketTexts(ticketId).filter((t) => t.includes('burst '));
      expect(landed.map((t) => t.replace(/^.*\n\n/s, ''))).toEqual(texts);
    }
    expect(h.bridge.queue.deadLetters).toEqual([]);
  });
});

describe('API calls per ticket', () => {
  let h: Harness;
  let s: ReturnType<typeof scenario>;
  beforeAll(async () => {
    h = await startHarness();
    s = scenario(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a new ticket costs at most 3 calls for its first comment, and 1 for each after', async () => {
    await s.openTicket('warm-up');
    const before = h.calls.length;
    const { ticket, conversation } = await s.openTicket('first of a new ticket');
    expect(h.calls.length - before).toBeLessThanOrEqual(3);
    // The first message came with the conversation, with the bridge's marker, as an incoming message.
    const [first] = h.chatwoot.messages(conversation.id);
    expect(first).toMatchObject({ content: 'first of a new ticket', message_type: 0 });
    expect(first?.source_id).toMatch(/^zendesk:comment:/);
    const mid = h.calls.length;
    h.zendesk.customerComment(ticket.id, 'second');
    await h.settle();
    expect(h.calls.length - mid).toBe(1);
    expect(s.chatTexts(conversation.id)).toEqual(['first of a new ticket', 'second']);
  });
});
