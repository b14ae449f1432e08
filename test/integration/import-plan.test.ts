// `import --dry-run` over the local bridge: it says what a run would write (tickets by status, conversations,
// contacts, messages — counted exactly on a small backlog, estimated from a sample on a large one), within a few
// Zendesk requests, and writes nothing to either platform or to the job store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCommand } from '../../bin/commands/import.ts';
import { COMMENT_SAMPLE } from '../../shared/import/plan.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  h = await startHarness();
  s = scenario(h);
});
afterAll(async () => {
  await h?.close();
});

async function dryRun(options: Record<string, string | boolean> = {}): Promise<string[]> {
  const lines: string[] = [];
  await importCommand.run({
    args: [],
    options: { local: h.bridge.url, 'dry-run': true, ...options },
    env: {},
    print: (l) => lines.push(l),
  });
  return lines;
}

describe('import --dry-run', { timeout: 120_000 }, () => {
  it('says what it would write: tickets by status, conversations, contacts and messages, and writes nothing', async () => {
    // A ticket live sync has linked already: left out of the import.
    await s.openTicket('already synced live');
    h.zendesk.muteWebhooks = true;
    const [ann, bob] = [s.newCustomer(), s.newCustomer()];
    const statuses = ['new', 'open', 'open', 'pending', 'hold'] as const;
    for (const [i, status] of statuses.entries()) {
      const t = h.zendesk.createTicket({
        requester: i % 2 ? bob : ann,
        subject: `old ${i}`,
        body: `first ${i}`,
      });
      h.zendesk.customerComment(t.id, `second ${i}`);
      h.zendesk.agentComment(t.id, h.zendesk.defaultAgent.id, `note ${i}`, { public: false });
      h.zendesk.setStatus(t.id, status);
    }
    const solved = h.zendesk.createTicket({ requester: ann, subject: 'done', body: 'solved one' });
    h.zendesk.setStatus(solved.id, 'solved');
    h.zendesk.muteWebhooks = false;
    await h.settle();
    const conversations = h.chatwoot.conversations().length;
    const chatwootWrites = () => h.chatwoot.requests.filter((r) => r.method !== 'GET').length;
    const writesBefore = chatwootWrites();
    const zendeskBefore = h.zendesk.requests.length;

    const lines = await dryRun();
    expect(lines[0]).toMatch(
      /^dry run: would import 5 ticket\(s\); 1 already linked by live sync would be left as they are \(queries: status<solved; 1 export page\(s\) read\)$/,
    );
    expect(lines).toContain('  by status: new 1, open 2, pending 1, hold 1');
    // Five tickets of three comments each, all counted (fewer than the sample): 15, notes included.
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}would write to Chatwoot: 5 conversation\(s\), a contact for each of 2 requester\(s\) \(reused when it exists\), up to 15 comment\(s\) as messages \(.*internal notes.*\)$/,
      ),
    );
    expect(lines.at(-1)).toBe(
      '  nothing was written (6 Zendesk request(s) read); an import never writes to Zendesk',
    );
    // One export page and one comment count per ticket; nothing written anywhere, no job started.
    const made = h.zendesk.requests.slice(zendeskBefore);
    expect(made.every((r) => r.method === 'GET')).toBe(true);
    expect(h.chatwoot.conversations()).toHaveLength(conversations);
    expect(chatwootWrites()).toBe(writesBefore);
    const status = (await (await fetch(`${h.bridge.url}/_local/import`)).json()) as { job: unknown };
    expect(status.job).toBeNull();
  });

  it('on a backlog larger than the sample, estimates the messages from a sample of comment counts', async () => {
    h.zendesk.muteWebhooks = true;
    const customer = s.newCustomer();
    const many = COMMENT_SAMPLE + 5;
    for (let i = 0; i < many; i++) {
      const t = h.zendesk.createTicket({ requester: customer, subject: `pending ${i}`, body: `a ${i}` });
      h.zendesk.customerComment(t.id, `b ${i}`);
      h.zendesk.setStatus(t.id, 'pending');
    }
    h.zendesk.muteWebhooks = false;
    const zendeskBefore = h.zendesk.requests.length;
    const lines = await dryRun({ status: 'pending' });
    expect(lines[0]).toMatch(new RegExp(`^dry run: would import ${many + 1} ticket\\(s\\)`));
    // Every sampled ticket has two or three comments, so the estimate lies between those bounds.
    const m = /up to about (\d+) comment\(s\) \((\d+) on (\d+) sampled tickets, scaled to all\)/.exec(
      lines.join('\n'),
    );
    expect(m).not.toBeNull();
    expect(Number(m![3])).toBe(COMMENT_SAMPLE);
    expect(Number(m![1])).toBeGreaterThanOrEqual(2 * (many + 1));
    expect(Number(m![1])).toBeLessThanOrEqual(3 * (many + 1));
    // One export page plus the sample: the cost does not grow with the backlog beyond its pages.
    expect(h.zendesk.requests.length - zendeskBefore).toBe(1 + COMMENT_SAMPLE);
  });
});
