// #14 items 3, 4 and 5 over real HTTP and a real DynamoDB API: a ticket held back by a failing message shows in
// the worker's metrics within minutes; a failure that can never succeed goes to the dead-letter queue at once
// with its reason instead of holding its ticket for a day (and the duplicate-inline-image case syncs once); a slow
// attachment times out on its own budget without taking the batch's other tickets with it.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOWNLOADS_BUDGET_MS } from '../../shared/budgets.ts';
import { type Harness, postSigned, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';
import { captureOutput } from '../helpers/webhooks.ts';

type Line = Record<string, unknown>;

/** JSON lines written to stdout/stderr while `fn` runs (Powertools writes logs and EMF metrics there). */
async function capture(fn: () => Promise<void>): Promise<Line[]> {
  const output = captureOutput({ echo: false });
  try {
    await fn();
  } finally {
    output.stop();
  }
  return output
    .lines()
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness();
  s = scenario(h);
});
afterAll(async () => {
  await h?.close();
});

describe('a stuck ticket is visible within minutes (#14 item 3)', () => {
  it('publishes the age and receive count of the held-back message, and the ticket drains once the cause is gone', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    // Zendesk refuses this ticket's updates for a while: every attempt is an answered 500.
    h.zendesk.injectFaults({
      method: 'PUT',
      path: new RegExp(`/tickets/${ticket.id}$`),
      times: 12,
      status: 500,
    });
    const lines = await capture(async () => {
      h.chatwoot.agentReply(conversation.id, { content: 'held up' });
      h.chatwoot.agentReply(conversation.id, { content: 'behind it' });
      await h.settle(60_000);
    });
    const emf = lines.filter((l) => typeof l._aws === 'object');
    const ages = emf.map((l) => l.HeldBackAgeSeconds).filter((v) => v !== undefined);
    const receives = emf.map((l) => l.HeldBackReceiveCount).filter((v) => v !== undefined);
    expect(ages.length).toBeGreaterThan(0);
    expect(Math.max(...receives.flat().map(Number))).toBeGreaterThanOrEqual(2);
    const held = lines.filter((l) => l.message === 'held back');
    expect(held.length).toBeGreaterThan(0);
    expect(held[0]).toMatchObject({
      ticketId: String(ticket.id),
      reason: expect.stringContaining('http-500'),
    });
    expect(typeof held[0]!.ageSeconds).toBe('number');
    // Drained in order, each once, nothing dead-lettered.
    expect(
      s
        .ticketTexts(ticket.id)
        .slice(1)
        .map((t) => t.replace(/^.*\n\n/s, '')),
    ).toEqual(['held up', 'behind it']);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  });
});

describe('failures that can never succeed are not retried for a day (#14 item 4)', () => {
  it('a Zendesk comment whose HTML holds the same inline image twice syncs once and holds nothing', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const png = { filename: 'same.png', contentType: 'image/png', data: randomBytes(4_000) };
    await h.settle();
    h.zendesk.setWebhookUrl(undefined);
    const before = h.zendesk.deliveries.length;
    h.zendesk.customerComment(ticket.id, 'x', { attachments: [png] });
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    const [added, linked] = h.zendesk.deliveries.slice(before) as Array<{
      body: { event: { comment: Record<string, unknown> } };
    }>;
    const url = (linked!.body.event.comment.attachment as { content_url: string }).content_url;
    added!.body.event.comment.html_body = `<p>Look here:</p><p><img src="${url}" alt="same.png"></p><p>and again:</p><p><img src="${url}" alt="same.png"></p>`;
    const lines = await capture(async () => {
      expect(await postSigned(h, 'zendesk', added!.body)).toBe(202);
      await h.settle();
    });
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages).toHaveLength(2);
    expect(messages[1]!.attachments).toHaveLength(1);
    expect(lines.filter((l) => l.message === 'retrying' || l.message === 'held back')).toEqual([]);
    expect(h.bridge.queue.deadLetters).toEqual([]);
  });

  it('a DynamoDB client fault (the ledger table is gone) dead-letters at the first receive with its reason', async () => {
    const { conversation } = await s.openTicket('first');
    const db = new DynamoDBClient({
      endpoint: h.bridge.dynamoEndpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await db.send(new DeleteTableCommand({ TableName: String(h.bridge.env.LEDGER_TABLE_NAME) }));
    db.destroy();
    h.chatwoot.agentReply(conversation.id, { content: 'cannot be recorded' });
    await h.settle();
    expect(h.bridge.queue.deadLetters).toHaveLength(1);
    expect(h.bridge.queue.deadLetters[0]).toMatchObject({
      reason: 'ResourceNotFoundException',
      receiveCount: 1,
    });
  });
});

describe('time budgets fit inside what encloses them (#14 item 5)', () => {
  let hh: Harness;
  beforeAll(async () => {
    hh = await startHarness();
  });
  afterAll(async () => {
    await hh?.close();
  });

  it('a slow attachment times out on its own budget; the batch’s other tickets are not held up', async () => {
    const ss = scenario(hh);
    const slow = await ss.openTicket('first');
    const other = await ss.openTicket('first');
    const file = { filename: 'big.pdf', contentType: 'application/pdf', data: randomBytes(10_000) };
    // The first download of the file hangs past the record's download budget; the second is quick.
    hh.zendesk.injectFaults({
      method: 'GET',
      path: /^\/attachments\//,
      times: 1,
      delayMs: DOWNLOADS_BUDGET_MS + 2_000,
    });
    hh.zendesk.customerComment(slow.ticket.id, 'see attached', { attachments: [file] });
    await new Promise((r) => setTimeout(r, 200));
    hh.zendesk.customerComment(other.ticket.id, 'unrelated');
    const started = Date.now();
    while (!ss.chatTexts(other.conversation.id).includes('unrelated')) {
      expect(Date.now() - started).toBeLessThan(3_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await hh.settle(60_000);
    // The hanging download was given up at the record's download budget and tried again, not waited out.
    const gets = hh.zendesk.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/attachments/'));
    expect(gets.length).toBeGreaterThanOrEqual(2);
    const gap = Date.parse(gets[1]!.at) - Date.parse(gets[0]!.at);
    expect(gap).toBeLessThan(DOWNLOADS_BUDGET_MS + 1_500);
    const files = hh.chatwoot.messages(slow.conversation.id).flatMap((m) => m.attachments);
    expect(files).toHaveLength(1);
    expect(ss.chatTexts(slow.conversation.id).filter((t) => t === 'see attached')).toHaveLength(1);
    expect(hh.bridge.queue.deadLetters).toEqual([]);
  });
});
