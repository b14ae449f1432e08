// A downstream outage far longer than the old five-receive limit: every failed attempt holds the message and the
// rest of its ticket back on the retry schedule (30 s doubling to 15 min deployed; compressed here), so nothing
// is dead-lettered, nothing is lost or doubled, and each conversation keeps its order in each direction.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

/** The old maxReceiveCount: an outage spanning more receives than this used to dead-letter messages. */
const OLD_LIMIT = 5;
/** Failed receives of the most-tried message before the platforms come back. */
const FAILED_RECEIVES = 10;

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness({
    // Retry schedule 5 ms doubling to 150 ms (the deployed 30 s → 15 min, 6000× faster).
    queue: { visibilityTimeoutMs: 30 },
    env: { RETRY_BACKOFF_BASE_MS: '5', HTTP_TIMEOUT_MS: '300', ZENDESK_AUTHORSHIP: 'bridge' },
  });
  s = scenario(h);
});
afterAll(async () => {
  await h?.close();
});

/** The highest ApproximateReceiveCount any record was delivered with so far. */
const maxReceives = () =>
  Math.max(
    0,
    ...h.batches.flatMap((b) => b.Records.map((r) => Number(r.attributes.ApproximateReceiveCount))),
  );

it(`rides out an outage of ${FAILED_RECEIVES}+ failed receives: nothing dead-lettered, lost or doubled, order kept`, async () => {
  const links = [await s.openTicket('t0 open'), await s.openTicket('t1 open'), await s.openTicket('t2 open')];
  // Both platforms fail every write with 500 (the bridge cannot know whether it landed, so each retry first
  // looks for it) until the most-tried message has failed FAILED_RECEIVES times.
  h.chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, times: 100_000, status: 500 });
  h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 100_000, status: 500 });
  const expected = links.map((_, i) => ({ toChat: [`t${i} open`], toTicket: [] as string[] }));
  for (let round = 0; round < 3; round++) {
    for (const [i, { ticket, conversation }] of links.entries()) {
      h.zendesk.customerComment(ticket.id, `t${i} customer ${round}`);
      h.chatwoot.agentReply(conversation.id, { content: `t${i} agent ${round}` });
      expected[i]!.toChat.push(`t${i} customer ${round}`);
      expected[i]!.toTicket.push(`t${i} agent ${round}`);
    }
  }
  const started = Date.now();
  while (maxReceives() < FAILED_RECEIVES) {
    if (Date.now() - started > 30_000) throw new Error(`only ${maxReceives()} receives after 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  h.chatwoot.clearFaults();
  h.zendesk.clearFaults();
  await h.settle(40_000);

  expect(maxReceives()).toBeGreaterThan(OLD_LIMIT);
  expect(h.bridge.queue.deadLetters).toEqual([]);
  for (const [i, { ticket, conversation }] of links.entries()) {
    expect(s.fromZendesk(conversation.id)).toEqual(expected[i]!.toChat);
    expect(s.fromChatwoot(ticket.id)).toEqual(expected[i]!.toTicket);
  }
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
}, 90_000);
