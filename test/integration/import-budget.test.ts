// The history import and live sync on one Zendesk rate budget, over real HTTP (local bridge, simulators, dynalite):
// agents reply in Chatwoot while an import of a backlog runs against a small account limit. The replies reach
// Zendesk without waiting behind the import (none is held back for a retry), the import's calls and live sync's together keep to the
// bridge's pace in every window (so Zendesk never answers 429), and the import still finishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specFor } from '../../shared/http/rate-limits.ts';
import type { ImportJob } from '../../shared/import/state.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

/** Zendesk's plan limit in this test: the Team plan's 200 is too slow for a test, Growth's 400 too fast to matter. */
const LIMIT = 300;

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness({
    env: { ZENDESK_RATE_LIMIT: String(LIMIT), ZENDESK_RATE_SHARE: '1' },
    zendeskOptions: { accountRateLimit: LIMIT },
  });
  s = scenario(h);
});
afterAll(async () => {
  await h?.close();
});

/** Milliseconds until a reply written in Chatwoot is on the Zendesk ticket (polled every 10 ms, bounded). */
async function replyLatency(ticketId: number, conversationId: number, text: string): Promise<number> {
  const started = performance.now();
  h.chatwoot.agentReply(conversationId, { content: text });
  const deadline = started + 30_000;
  while (!s.fromChatwoot(ticketId).some((b) => b.endsWith(text))) {
    if (performance.now() > deadline) throw new Error(`reply ${text} never reached Zendesk`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - started;
}

describe('history import on the shared Zendesk budget', { timeout: 180_000 }, () => {
  it('live replies during an import keep their pace, and import + live sync stay under the account limit', async () => {
    const live = [await s.openTicket('live one'), await s.openTicket('live two')];
    // Before the import: how long a reply takes here, on this machine, now.
    const before: number[] = [];
    for (const [i, l] of live.entries())
      before.push(await replyLatency(l.ticket.id, l.conversation.id, `before ${i}`));
    await h.settle();

    // The backlog: 40 tickets no webhook will mention again, two comments each.
    h.zendesk.muteWebhooks = true;
    const customer = s.newCustomer();
    for (let i = 0; i < 40; i++) {
      const t = h.zendesk.createTicket({ requester: customer, subject: `old ${i}`, body: `old ${i} first` });
      h.zendesk.customerComment(t.id, `old ${i} second`);
    }
    h.zendesk.muteWebhooks = false;

    const importStarted = Date.now();
    const batchesBefore = h.batches.length;
    const res = await fetch(`${h.bridge.url}/_local/import`, { method: 'POST' });
    expect(res.status).toBe(202);
    await res.body?.cancel();

    // Replies while the import reads the backlog (it needs ~45 Zendesk calls at 190 a minute: over 10 s).
    const during: number[] = [];
    const sent = new Map<number, string[]>();
    for (let i = 0; i < 8; i++) {
      const l = live[i % live.length]!;
      const text = `during ${i}`;
      sent.set(l.ticket.id, [...(sent.get(l.ticket.id) ?? []), text]);
      during.push(await replyLatency(l.ticket.id, l.conversation.id, text));
      await new Promise((r) => setTimeout(r, 600));
    }
    const repliesDone = Date.now();

    let job: ImportJob | undefined;
    const deadline = Date.now() + 120_000;
    for (;;) {
      job = ((await (await fetch(`${h.bridge.url}/_local/import`)).json()) as { job: ImportJob }).job;
      if (job.status !== 'running') break;
      if (Date.now() > deadline) throw new Error('import did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    await h.settle(60_000);
    const importDone = Date.now();
    // The two live tickets were linked before the import began: left as they are.
    expect(job).toMatchObject({ status: 'done', tickets: 40, comments: 80, alreadyLinked: 2 });
    // The replies overlapped the import (else this test would show nothing).
    expect(repliesDone).toBeLessThan(importDone);

    console.info(
      `reply latency before ${before.map(Math.round).join(', ')} ms; during ${during.map(Math.round).join(', ')} ms; ` +
        `import ${Math.round((importDone - importStarted) / 1000)} s, ${h.zendesk.requests.length} Zendesk requests`,
    );
    // No reply waited behind the import. A reply queued behind the import's calls waits out its 3 s slot budget
    // and is then held back for a retry (measured with the import's client unpaced: 6 s and 20 s): its record is
    // received a second time. So every live record of the run was received once, whatever the machine's load (the
    // latencies above are printed, not asserted: they move with the load; the precise bound, at most
    // burst + 1 − reserve intervals of waiting, is tested in test/unit/rate-limits.test.ts).
    const liveGroups = new Set(
      live.flatMap((l) => [`ticket-${l.ticket.id}`, `conversation-${l.conversation.id}`]),
    );
    const liveReceives = h.batches
      .slice(batchesBefore)
      .flatMap((b) => b.Records)
      .filter((r) => liveGroups.has(r.attributes.MessageGroupId ?? ''))
      .map((r) => r.attributes.ApproximateReceiveCount);
    expect(liveReceives.length).toBeGreaterThanOrEqual(8);
    expect(liveReceives.every((n) => n === '1')).toBe(true);
    for (const [ticketId, texts] of sent)
      expect(s.fromChatwoot(ticketId).filter((b) => b.includes('during '))).toEqual(
        texts.map((t) => expect.stringContaining(t)),
      );

    // Zendesk never refused a call, and every window of the run held at most what the bridge's pace allows:
    // twice the burst (the shared bucket may grant it twice) + 1 + the pace over the window's length.
    expect(h.zendesk.rateLimited.tooManyRequests).toBe(0);
    const all = specFor(LIMIT, 1);
    const starts = h.zendesk.requests
      .filter((r) => r.path.startsWith('/api/v2/') && Date.parse(r.at) >= importStarted)
      .map((r) => Date.parse(r.at))
      .sort((a, b) => a - b);
    expect(starts.length).toBeGreaterThan(40);
    let worst = 0;
    for (let i = 0; i < starts.length; i++)
      for (let j = i; j < starts.length; j++) {
        const allowed = 2 * all.burst + 2 + ((starts[j]! - starts[i]!) * all.perMinute) / 60_000;
        worst = Math.max(worst, j - i + 1 - allowed);
      }
    expect(worst).toBeLessThanOrEqual(0);
    expect(Math.max(...h.zendesk.rateLimited.accountWindows.values())).toBeLessThanOrEqual(LIMIT);
  });
});
