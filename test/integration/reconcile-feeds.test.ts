// Reconciliation reads each platform's change feed from a stored cursor, over real HTTP to the simulators: a
// webhook that never arrives for a ticket or conversation quiet for hours is synced by the next run exactly once;
// more than a page of changes is read whole; a run that stops midway resumes from its cursor; the Zendesk
// export's rate limit defers the run instead of failing it; unlinked tickets are read but never synced.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileResult } from '../../shared/sync/reconcile.ts';
import { ACCOUNT_ID, BRIDGE_EMAIL, type Harness, INBOX_ID, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

const HOUR = 3600 * 1000;
let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness({
    queue: { visibilityTimeoutMs: 50 },
    env: {
      RECONCILE_SETTLE_MS: '0',
      ZENDESK_AUTHORSHIP: 'bridge',
      // A run here enqueues up to 145 events for one ticket and one conversation. At the default limits the bridge
      // paces them (Chatwoot's 200 messages a conversation a minute, Zendesk's 100 ticket updates a minute): 50 s
      // of waiting that reconciliation does not need to be shown correct (rate-budget.test.ts covers the pacing).
      // Both platforms let an operator raise them; the Chatwoot simulator is raised to match below.
      ZENDESK_RATE_LIMIT: '2500',
      ZENDESK_TICKET_UPDATE_LIMIT: '2500',
      CHATWOOT_CONVERSATION_MESSAGE_LIMIT: '2500',
    },
    chatwootOptions: { messagesPerMinute: 2500 },
  });
  s = scenario(h);
  // Many runs a minute here; the export's own limit of 10 has its test below.
  h.zendesk.exports.requestsPerMinute = 1000;
  await reconcileNow(); // the cursors' first run
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
  h.zendesk.exports.requestsPerMinute = 1000;
  h.zendesk.clearFaults();
  h.chatwoot.clearFaults();
});

async function reconcileNow(): Promise<ReconcileResult> {
  await h.beforeReconcile();
  const res = await fetch(`${h.bridge.url}/_local/reconcile`, { method: 'POST' });
  expect(res.status).toBe(200);
  const body = (await res.json()) as ReconcileResult;
  // A run may enqueue a hundred events or more; on a loaded machine they take a while to drain.
  await h.settle(90_000);
  return body;
}

/** Runs `fn` with both platforms' webhooks undelivered (as when the one attempt fails), then restores them. */
async function withoutWebhooks<T>(fn: () => T): Promise<T> {
  h.zendesk.setWebhookUrl(undefined);
  h.chatwoot.setWebhookUrl(undefined);
  const out = fn();
  await h.zendesk.idle();
  await h.chatwoot.idle();
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
  return out;
}

/** A conversation in the bridge's inbox that no ticket is linked to (made through Chatwoot's API). */
async function unlinkedConversation(i: number): Promise<number> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${h.chatwoot.baseUrl}/api/v1/accounts/${ACCOUNT_ID}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', api_access_token: h.secrets.chatwootToken },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const tag = `${Date.now().toString(36)}-${i}`;
  const contact = (await call('contacts', {
    inbox_id: INBOX_ID,
    name: `Walk-in ${tag}`,
    identifier: tag,
  })) as {
    payload: { contact: { id: number }; contact_inbox: { source_id: string } };
  };
  const conversation = await call('conversations', {
    source_id: contact.payload.contact_inbox.source_id,
    inbox_id: INBOX_ID,
    contact_id: contact.payload.contact.id,
  });
  return Number(conversation.id);
}

const exportStarts = () =>
  h.zendesk.requests
    .filter((r) => r.path.startsWith('/api/v2/incremental/ticket_events'))
    .map((r) => r.query);

describe('a webhook that never arrives, however long the conversation was quiet', () => {
  it('a customer comment on a ticket quiet for three hours is synced by the next run, once', async () => {
    const { ticket, conversation } = await s.openTicket('opened yesterday evening');
    await reconcileNow();
    h.zendesk.advanceClock(3 * HOUR); // quiet overnight: longer than the old two-hour look-back
    await withoutWebhooks(() => h.zendesk.customerComment(ticket.id, 'any news this morning?'));
    expect(s.fromZendesk(conversation.id)).toEqual(['opened yesterday evening']);

    const run = await reconcileNow();
    expect(run.zendesk.missed).toBe(1);
    expect(run.enqueued).toBe(1);
    expect(s.fromZendesk(conversation.id)).toEqual(['opened yesterday evening', 'any news this morning?']);

    const [again, third] = [await reconcileNow(), await reconcileNow()];
    expect([again.enqueued, third.enqueued]).toEqual([0, 0]);
    expect(s.fromZendesk(conversation.id)).toHaveLength(2);
  });

  it('an agent reply in a conversation quiet for three hours is synced by the next run, once', async () => {
    const { ticket, conversation } = await s.openTicket('waiting for an answer');
    h.chatwoot.backdate(3 * HOUR);
    await reconcileNow();
    await withoutWebhooks(() => h.chatwoot.agentReply(conversation.id, { content: 'Good morning, sorted.' }));
    expect(s.fromChatwoot(ticket.id)).toEqual([]);

    const run = await reconcileNow();
    expect(run.chatwoot.missed).toBe(1);
    expect(s.fromChatwoot(ticket.id)).toEqual(['Good morning, sorted.']);

    const before = h.zendesk.comments(ticket.id).length;
    const [again, third] = [await reconcileNow(), await reconcileNow()];
    expect([again.enqueued, third.enqueued]).toEqual([0, 0]);
    expect(h.zendesk.comments(ticket.id)).toHaveLength(before);
  });

  it('reports what each run read and cost; a quiet run costs one read per platform feed', async () => {
    await reconcileNow();
    const calls = h.calls.length;
    const quiet = await reconcileNow();
    expect(quiet.enqueued).toBe(0);
    expect(quiet.apiCalls).toBe(h.calls.length - calls);
    // Zendesk: one export page. Chatwoot: the window's filter page and the pass for conversations that moved.
    expect(quiet.zendesk.apiCalls).toBe(1);
    // (None when the last window already reached the last whole second.)
    expect(quiet.chatwoot.apiCalls).toBeLessThanOrEqual(2);
  });
});

describe('more than a page of changes', () => {
  it('120 lost comments on one ticket and 25 lost replies (more than a page of each) are all synced, in order', async () => {
    const { ticket, conversation } = await s.openTicket('start');
    await reconcileNow();
    const comments = Array.from({ length: 120 }, (_, i) => `comment ${i + 1}`);
    const replies = Array.from({ length: 25 }, (_, i) => `reply ${i + 1}`);
    await withoutWebhooks(() => {
      for (const c of comments) h.zendesk.customerComment(ticket.id, c);
      for (const r of replies) h.chatwoot.agentReply(conversation.id, { content: r });
    });

    const run = await reconcileNow();
    expect(run.zendesk.missed).toBe(120);
    expect(run.chatwoot.missed).toBe(25);
    expect(s.fromZendesk(conversation.id)).toEqual(['start', ...comments]);
    expect(s.fromChatwoot(ticket.id)).toEqual(replies);
    expect((await reconcileNow()).enqueued).toBe(0);
  }, 240_000);

  it('an export longer than a page is read page by page; an interrupted run resumes from its cursor', async () => {
    const a = await s.openTicket('ticket A');
    const b = await s.openTicket('ticket B');
    await reconcileNow();
    const filler = h.zendesk.createUser({
      name: 'Unlinked',
      email: `u-${Date.now()}@example.com`,
      role: 'end-user',
    });
    await withoutWebhooks(() => {
      h.zendesk.customerComment(a.ticket.id, 'lost on the first page');
      // 1,200 updates of tickets the bridge never linked, over two seconds (a time-based page cannot end inside
      // a second holding more than a page), then B's lost comment on the second page.
      for (let second = 0; second < 2; second++) {
        h.zendesk.advanceClock(1000);
        for (let i = 0; i < 600; i++)
          h.zendesk.createTicket({ requester: filler, subject: 'x', body: `n${i}` });
      }
      h.zendesk.advanceClock(1000);
      h.zendesk.customerComment(b.ticket.id, 'lost on the second page');
    });
    // The run stops inside the second page: B's author cannot be read.
    h.zendesk.injectFaults({
      method: 'GET',
      path: new RegExp(`/users/${b.customer.id}$`),
      times: 3,
      status: 503,
    });
    const before = exportStarts().length;
    const first = await reconcileNow();
    expect(first.zendesk.failed).toBe(true);
    expect(first.zendesk.changesRead).toBeGreaterThan(1000);
    expect(s.fromZendesk(a.conversation.id)).toEqual(['ticket A', 'lost on the first page']);
    expect(s.fromZendesk(b.conversation.id)).toEqual(['ticket B']);
    const firstRun = exportStarts().slice(before);
    expect(firstRun).toHaveLength(2);

    const second = await reconcileNow();
    // It starts where the first page ended, not where the first run started.
    expect(exportStarts().slice(before)[2]?.start_time).toBe(firstRun[1]?.start_time);
    expect(second.zendesk.failed).toBe(false);
    expect(second.zendesk.missed).toBe(1);
    expect(s.fromZendesk(b.conversation.id)).toEqual(['ticket B', 'lost on the second page']);
    expect(s.fromZendesk(a.conversation.id)).toEqual(['ticket A', 'lost on the first page']);
  }, 240_000);

  it('more than a page of updates in one second is read by ticket, resumably: no endless loop, nothing skipped', async () => {
    const crowded = await s.openTicket('crowded second');
    const after = await s.openTicket('after the crowd');
    await reconcileNow();
    const filler = h.zendesk.createUser({
      name: 'Bulk',
      email: `bulk-${Date.now()}@example.com`,
      role: 'end-user',
    });
    await withoutWebhooks(() => {
      // A bulk import stamps 1,200 tickets with one second; a customer's comment lands in the same second, past
      // the first 1,000, so a time-based page starting there always ends there again.
      h.zendesk.holdClock();
      try {
        for (let i = 0; i < 1200; i++)
          h.zendesk.createTicket({ requester: filler, subject: 'bulk', body: `b${i}` });
        h.zendesk.customerComment(crowded.ticket.id, 'lost in the crowded second');
      } finally {
        h.zendesk.releaseClock();
      }
      h.zendesk.advanceClock(1000);
      h.zendesk.customerComment(after.ticket.id, 'lost just after it');
    });
    const before = h.zendesk.requests.length;
    // The account's export budget runs out on the ticket export's second page (an event page up to the crowded
    // second, the crowded page itself, the ticket export's first page): the run stops inside the crowded second.
    h.zendesk.exports.reset();
    h.zendesk.exports.requestsPerMinute = 3;
    const first = await reconcileNow();
    expect(first.zendesk).toMatchObject({ failed: false, deferred: true, missed: 1 });
    expect(s.fromZendesk(crowded.conversation.id)).toEqual(['crowded second', 'lost in the crowded second']);
    expect(s.fromZendesk(after.conversation.id)).toEqual(['after the crowd']);

    h.zendesk.exports.requestsPerMinute = 1000;
    const resumedAt = h.zendesk.requests.length;
    const second = await reconcileNow();
    expect(second.zendesk).toMatchObject({ failed: false, deferred: false, missed: 1 });
    expect(s.fromZendesk(after.conversation.id)).toEqual(['after the crowd', 'lost just after it']);
    // It resumed inside the ticket export, from its cursor, not from the crowded second again.
    const resumed = h.zendesk.requests
      .slice(resumedAt)
      .find((r) => r.path.startsWith('/api/v2/incremental/'));
    expect(resumed?.path).toBe('/api/v2/incremental/tickets/cursor');
    expect(resumed?.query.cursor).toBeTruthy();
    // Every export request answered asked for something new: the crowded second was not requested over and over.
    const exports = h.zendesk.requests
      .slice(before)
      .filter((r) => r.path.startsWith('/api/v2/incremental/') && r.status === 200)
      .map((r) => `${r.path}?${JSON.stringify(r.query)}`);
    expect(new Set(exports).size).toBe(exports.length);

    const again = await reconcileNow();
    expect(again.enqueued).toBe(0);
    expect(again.zendesk.deferred).toBe(false);
    expect(s.fromZendesk(crowded.conversation.id)).toHaveLength(2);
    expect(s.fromZendesk(after.conversation.id)).toHaveLength(2);
  }, 240_000);

  it('a Chatwoot run interrupted on its second page of conversations resumes below the first', async () => {
    const older = await s.openTicket('older conversation');
    const newer = await s.openTicket('newer conversation');
    await reconcileNow();
    await withoutWebhooks(() =>
      h.chatwoot.agentReply(older.conversation.id, { content: 'older lost reply' }),
    );
    await new Promise((r) => setTimeout(r, 1100)); // its activity second is older than the fillers'
    for (let i = 0; i < 26; i++) await unlinkedConversation(i);
    // Whole seconds apart, so "done down to" a second on the first page excludes `newer` itself.
    await new Promise((r) => setTimeout(r, 1100));
    await withoutWebhooks(() =>
      h.chatwoot.agentReply(newer.conversation.id, { content: 'newer lost reply' }),
    );
    // 28 changed conversations: `newer` is on the first page, `older` on the second, whose messages fail.
    h.chatwoot.injectFaults({
      method: 'GET',
      path: new RegExp(`/conversations/${older.conversation.id}/messages$`),
      times: 3,
      status: 503,
    });
    const first = await reconcileNow();
    expect(first.chatwoot.failed).toBe(true);
    expect(s.fromChatwoot(newer.ticket.id)).toEqual(['newer lost reply']);
    expect(s.fromChatwoot(older.ticket.id)).toEqual([]);

    const reads = () =>
      h.chatwoot.requests.filter((r) => r.path.endsWith(`/conversations/${newer.conversation.id}/messages`))
        .length;
    const newerReads = reads();
    const second = await reconcileNow();
    expect(second.chatwoot.failed).toBe(false);
    expect(s.fromChatwoot(older.ticket.id)).toEqual(['older lost reply']);
    expect(s.fromChatwoot(newer.ticket.id)).toEqual(['newer lost reply']);
    // The first page was not read again: the conversation done before the failure was left alone.
    expect(reads()).toBe(newerReads);
  }, 240_000);
});

describe('limits and scope', () => {
  it('past the export’s 10 requests a minute the Zendesk side waits for the next run; nothing is lost', async () => {
    const { ticket, conversation } = await s.openTicket('rate limited');
    await reconcileNow();
    await withoutWebhooks(() => h.zendesk.customerComment(ticket.id, 'found after the limit'));
    h.zendesk.exports.requestsPerMinute = 10; // Zendesk's limit
    // Another client (an import, a BI tool) spends the account's export budget for this minute.
    const auth = `Basic ${Buffer.from(`${BRIDGE_EMAIL}/token:${h.secrets.zendeskToken}`).toString('base64')}`;
    const start = Math.floor((h.zendesk.now() - 120_000) / 1000);
    for (let i = 0; i < 10; i++) {
      await fetch(`${h.zendesk.baseUrl}/api/v2/incremental/ticket_events?start_time=${start}`, {
        headers: { authorization: auth },
      }).then((r) => r.arrayBuffer());
    }
    const limited = await reconcileNow();
    expect(limited.zendesk).toMatchObject({ deferred: true, failed: false, missed: 0 });
    expect(limited.failed).toBe(0);
    h.zendesk.exports.requestsPerMinute = 1000;
    expect((await reconcileNow()).zendesk.missed).toBe(1);
    expect(s.fromZendesk(conversation.id)).toEqual(['rate limited', 'found after the limit']);
  });

  it('a ticket the bridge never linked is read from the feed but never synced', async () => {
    const stranger = s.newCustomer();
    const ticket = await withoutWebhooks(() =>
      h.zendesk.createTicket({ requester: stranger, subject: 'never linked', body: 'not bridged' }),
    );
    const conversations = h.chatwoot.conversations().length;
    const run = await reconcileNow();
    expect(run.zendesk.changesRead).toBeGreaterThan(0);
    expect(run.enqueued).toBe(0);
    expect(h.chatwoot.conversations()).toHaveLength(conversations);
    expect(s.conversationOf(ticket.id)).toEqual([]);
  });
});
