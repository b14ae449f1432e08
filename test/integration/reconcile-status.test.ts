// Status changes whose webhook never arrived are repaired by the next reconciliation run, through the local bridge
// and the simulators: a ticket solved in Zendesk resolves its conversation, a conversation resolved in Chatwoot
// solves its ticket, exactly once and without flapping; a change on both sides keeps the newer one.
//
// The two feeds' times are compared with each other here, so both simulated platforms keep the machine's clock:
// the Zendesk export's last-minute cut is shortened (a test setting) instead of moving Zendesk's clock ahead.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileResult } from '../../shared/sync/reconcile.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness({ queue: { visibilityTimeoutMs: 50 }, env: { RECONCILE_SETTLE_MS: '0' } });
  s = scenario(h);
  h.zendesk.exports.requestsPerMinute = 1000;
  h.zendesk.exports.excludedMs = 0;
  await reconcileNow(); // the cursors' first run
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
  restoreWebhooks();
});

function restoreWebhooks(): void {
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  h.chatwoot.setWebhookUrl(`${h.bridge.url}/webhooks/chatwoot`);
}

/** The next whole second: feeds stamp whole seconds, and Chatwoot's window ends at the last finished one. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));

async function reconcileNow(): Promise<ReconcileResult> {
  await nextSecond();
  const res = await fetch(`${h.bridge.url}/_local/reconcile`, { method: 'POST' });
  expect(res.status).toBe(200);
  const body = (await res.json()) as ReconcileResult;
  await h.settle(30_000);
  return body;
}

/** Runs `fn` with both platforms' webhooks undelivered (a failed attempt), then restores them. */
async function withoutWebhooks(fn: () => void): Promise<void> {
  h.zendesk.setWebhookUrl(undefined);
  h.chatwoot.setWebhookUrl(undefined);
  fn();
  await h.zendesk.idle();
  await h.chatwoot.idle();
  restoreWebhooks();
}

const statuses = (ticketId: number, conversationId: number) => ({
  zendesk: h.zendesk.ticket(ticketId)?.status,
  chatwoot: h.chatwoot.conversation(conversationId)?.status,
});
const statusActivities = (conversationId: number) =>
  h.chatwoot.messages(conversationId).filter((m) => m.message_type === 2).length;
const ticketUpdates = (ticketId: number) =>
  h.zendesk.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/tickets/${ticketId}`).length;

/** Two runs after a repair: nothing enqueued, nothing written to either side. */
async function expectQuiet(ticketId: number, conversationId: number): Promise<void> {
  const before = {
    ...statuses(ticketId, conversationId),
    activities: statusActivities(conversationId),
    updates: ticketUpdates(ticketId),
  };
  const [again, third] = [await reconcileNow(), await reconcileNow()];
  expect([again.enqueued, third.enqueued]).toEqual([0, 0]);
  expect({
    ...statuses(ticketId, conversationId),
    activities: statusActivities(conversationId),
    updates: ticketUpdates(ticketId),
  }).toEqual(before);
}

describe('a status webhook that never arrives', () => {
  it('a ticket solved in Zendesk resolves its conversation at the next run, once', async () => {
    const { ticket, conversation } = await s.openTicket('please close this when done');
    await reconcileNow();
    await withoutWebhooks(() => h.zendesk.setStatus(ticket.id, 'solved'));
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'open' });

    const run = await reconcileNow();
    expect(run.zendesk.missed).toBe(1);
    expect(run.enqueued).toBe(1);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'resolved' });
    await expectQuiet(ticket.id, conversation.id);
  });

  it('a conversation resolved in Chatwoot solves its ticket at the next run, once', async () => {
    const { ticket, conversation } = await s.openTicket('sorted on the phone');
    await reconcileNow();
    await withoutWebhooks(() => h.chatwoot.resolve(conversation.id));
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'new', chatwoot: 'resolved' });

    const run = await reconcileNow();
    expect(run.chatwoot.missed).toBe(1);
    expect(run.enqueued).toBe(1);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'resolved' });
    await expectQuiet(ticket.id, conversation.id);

    // A reopening lost the same way comes back too, and the state does not flap afterwards.
    await withoutWebhooks(() => h.chatwoot.reopen(conversation.id));
    expect((await reconcileNow()).chatwoot.missed).toBe(1);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'open', chatwoot: 'open' });
    await expectQuiet(ticket.id, conversation.id);
  });

  it('a status the webhooks did sync is never applied again by a run (no echo)', async () => {
    const { ticket, conversation } = await s.openTicket('solved live');
    h.zendesk.setStatus(ticket.id, 'solved');
    await h.settle();
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'resolved' });
    h.chatwoot.reopen(conversation.id);
    await h.settle();
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'open', chatwoot: 'open' });
    await expectQuiet(ticket.id, conversation.id);
  });
});

describe('a change on both sides', () => {
  it('keeps the newer one: a Zendesk reopening after a Chatwoot resolve reopens the conversation', async () => {
    const { ticket, conversation } = await s.openTicket('two agents at once');
    await reconcileNow();
    await withoutWebhooks(() => h.chatwoot.resolve(conversation.id));
    await nextSecond();
    await withoutWebhooks(() => {
      h.zendesk.setStatus(ticket.id, 'solved');
      h.zendesk.setStatus(ticket.id, 'open');
    });
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'open', chatwoot: 'resolved' });

    const run = await reconcileNow();
    expect(run.enqueued).toBe(1);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'open', chatwoot: 'open' });
    await expectQuiet(ticket.id, conversation.id);
  });

  it('keeps the newer one: a Chatwoot resolve after a Zendesk solve-and-reopen solves the ticket', async () => {
    const { ticket, conversation } = await s.openTicket('two agents, the other order');
    await reconcileNow();
    await withoutWebhooks(() => {
      h.zendesk.setStatus(ticket.id, 'solved');
      h.zendesk.setStatus(ticket.id, 'open');
    });
    await nextSecond();
    await withoutWebhooks(() => h.chatwoot.resolve(conversation.id));
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'open', chatwoot: 'resolved' });

    const run = await reconcileNow();
    expect(run.enqueued).toBe(1);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'resolved' });
    await expectQuiet(ticket.id, conversation.id);
  });

  it('both sides resolved independently: recorded, nothing written', async () => {
    const { ticket, conversation } = await s.openTicket('closed twice');
    await reconcileNow();
    await withoutWebhooks(() => {
      h.zendesk.setStatus(ticket.id, 'solved');
      h.chatwoot.resolve(conversation.id);
    });
    const updates = ticketUpdates(ticket.id);
    const activities = statusActivities(conversation.id);
    const run = await reconcileNow();
    expect(run.enqueued).toBe(0);
    expect(statuses(ticket.id, conversation.id)).toEqual({ zendesk: 'solved', chatwoot: 'resolved' });
    expect([ticketUpdates(ticket.id), statusActivities(conversation.id)]).toEqual([updates, activities]);
    await expectQuiet(ticket.id, conversation.id);
  });
});
