// Failures in the middle of an event: a secondary write failing after the main one landed must not repeat the
// main one, and a dead-lettered event must stay dead (not re-enqueued by every reconciliation) until redriven.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, heldZendeskDeliveries, postSigned, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

const LIMIT = 200_000;
let h: Harness;
let s: ReturnType<typeof scenario>;
/** The queue's clock runs ahead by this much: six minutes per reconcile run, past SQS's 5-minute dedup window. */
let skew = 0;

beforeAll(async () => {
  h = await startHarness({
    queue: { visibilityTimeoutMs: 50, now: () => Date.now() + skew },
    env: { ATTACHMENT_MAX_BYTES: String(LIMIT), ZENDESK_AUTHORSHIP: 'bridge', RECONCILE_SETTLE_MS: '0' },
  });
  s = scenario(h);
  h.zendesk.exports.requestsPerMinute = 1000;
});
afterAll(async () => {
  await h?.close();
});

async function reconcileNow(): Promise<{ enqueued: number }> {
  skew += 6 * 60_000;
  await h.beforeReconcile();
  const res = await fetch(`${h.bridge.url}/_local/reconcile`, { method: 'POST' });
  const body = (await res.json()) as { enqueued: number };
  await h.settle();
  return body;
}

describe('a secondary write fails after the main one landed', () => {
  it('a reply whose "file too large" note meets Chatwoot 429s is posted to Zendesk once', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    // The note's POST fails on the first attempt and both in-process retries.
    h.chatwoot.injectFaults({
      method: 'POST',
      path: new RegExp(`/conversations/${conversation.id}/messages$`),
      times: 3,
      status: 429,
    });
    h.chatwoot.agentReply(conversation.id, {
      content: 'Full manual attached.',
      attachments: [{ filename: 'manual.pdf', contentType: 'application/pdf', data: randomBytes(LIMIT + 5) }],
    });
    await h.settle();
    expect(s.fromChatwoot(ticket.id)).toEqual(['Full manual attached.']);
  });
});

describe('dead letters', () => {
  it('a dead-lettered reply is not re-enqueued by reconciliation, and a redrive still delivers it once', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.injectFaults({
      method: 'PUT',
      path: new RegExp(`/tickets/${ticket.id}$`),
      times: 1,
      status: 422,
    });
    h.chatwoot.agentReply(conversation.id, { content: 'meets a 422 once' });
    await h.settle();
    expect(h.bridge.queue.deadLetters).toHaveLength(1);
    const runs = [await reconcileNow(), await reconcileNow()];
    expect(runs.map((r) => r.enqueued)).toEqual([0, 0]);
    expect(h.bridge.queue.deadLetters).toHaveLength(1);
    expect(s.fromChatwoot(ticket.id)).toEqual([]);

    // The operator fixed the cause and redrives: the event is claimed again and delivered exactly once.
    expect((await fetch(`${h.bridge.url}/_local/redrive`, { method: 'POST' })).status).toBe(200);
    await h.settle();
    expect(h.bridge.queue.deadLetters).toHaveLength(0);
    expect(s.fromChatwoot(ticket.id)).toEqual(['meets a 422 once']);
    await reconcileNow();
    expect(s.fromChatwoot(ticket.id)).toEqual(['meets a 422 once']);
  });

  it('a comment that its file event failed to post for good stays dead, like any other event, until redriven', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const held = await heldZendeskDeliveries(h, () =>
      h.zendesk.customerComment(ticket.id, 'signed form', {
        attachments: [{ filename: 'form.pdf', contentType: 'application/pdf', data: randomBytes(1000) }],
      }),
    );
    const linked = held.find((d) => d.type === 'zen:event-type:ticket.attachment_linked_to_comment');
    // Only the file event arrives; it posts the comment with its file, which Chatwoot refuses for good: a 422 that
    // names a validation (a bare 422 from message creation proves nothing: it may be Chatwoot's flood limit).
    h.chatwoot.injectFaults({
      method: 'POST',
      path: new RegExp(`/conversations/${conversation.id}/messages$`),
      times: 1,
      status: 422,
      body: { error: 'Validation failed: Attachments exceeded maximum allowed' },
    });
    expect(await postSigned(h, 'zendesk', linked!.body)).toBe(202);
    await h.settle();
    expect(h.bridge.queue.deadLetters).toHaveLength(1);
    // The comment's claim is remembered as dead-lettered: reconciliation does not bring the comment back.
    const runs = [await reconcileNow(), await reconcileNow()];
    expect(runs.map((r) => r.enqueued)).toEqual([0, 0]);
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual(['first']);

    expect((await fetch(`${h.bridge.url}/_local/redrive`, { method: 'POST' })).status).toBe(200);
    await h.settle();
    expect(h.bridge.queue.deadLetters).toHaveLength(0);
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages.map((m) => m.content)).toEqual(['first', 'signed form']);
    expect(messages[1]!.attachments).toHaveLength(1);
  });
});
