// The Zendesk simulator's listing endpoints behave as documented: Export Search Results pages by cursor in
// created_at order, refuses a type in the query and an expired cursor, allows 100 requests a minute; List
// Comments pages by cursor with side-loaded authors; the account limit shows in every answer's headers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';
import { MinuteWindow } from '../../simulators/zendesk-listing.ts';

const EMAIL = 'bridge@acme.example';
const TOKEN = 'zd-api-token';
const AUTH = `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`;

let sim: ZendeskSimulator;
beforeAll(async () => {
  sim = await ZendeskSimulator.start({ email: EMAIL, apiToken: TOKEN, webhookSecret: 'secret' });
  sim.muteWebhooks = true;
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  const violations = [...sim.contractViolations];
  sim.reset();
  expect(violations).toEqual([]);
});

async function get(path: string) {
  const res = await fetch(`${sim.baseUrl}${path}`, { headers: { authorization: AUTH } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('Export Search Results', () => {
  it('pages through matching tickets by cursor in created_at order, with meta and links', async () => {
    const customer = sim.createUser({ name: 'C', email: 'c@example.com', role: 'end-user' });
    const ids = Array.from(
      { length: 5 },
      (_, i) => sim.createTicket({ requester: customer, subject: `s${i}`, body: 'b' }).id,
    );
    sim.setStatus(ids[2]!, 'solved');
    const seen: number[] = [];
    const base = '/api/v2/search/export?query=status%3Csolved&filter%5Btype%5D=ticket&page%5Bsize%5D=2';
    let path = base;
    for (let i = 0; i < 5 && path; i++) {
      const r = await get(path);
      expect(r.status).toBe(200);
      seen.push(...(r.body.results as Array<{ id: number }>).map((t) => t.id));
      const meta = r.body.meta as { has_more: boolean; after_cursor: string | null };
      const links = r.body.links as { next: string | null };
      expect(Boolean(links.next)).toBe(meta.has_more);
      // links.next is the `.json` form Zendesk gives; the cursor is the same.
      if (links.next) expect(new URL(links.next).searchParams.get('page[after]')).toBe(meta.after_cursor);
      path = meta.has_more ? `${base}&page%5Bafter%5D=${meta.after_cursor}` : '';
    }
    expect(seen).toEqual([ids[0], ids[1], ids[3], ids[4]]);
  });

  it('refuses a type in the query, a missing filter[type] and a page over 1,000', async () => {
    expect((await get('/api/v2/search/export?query=type%3Aticket&filter%5Btype%5D=ticket')).status).toBe(400);
    expect((await get('/api/v2/search/export?query=status%3Aopen')).status).toBe(400);
    expect(
      (await get('/api/v2/search/export?query=status%3Aopen&filter%5Btype%5D=ticket&page%5Bsize%5D=1001'))
        .status,
    ).toBe(400);
  });

  it('counts what a query matches (Show Results Count)', async () => {
    const customer = sim.createUser({ name: 'D', email: 'd@example.com', role: 'end-user' });
    sim.createTicket({ requester: customer, subject: 'x', body: 'b' });
    const r = await get('/api/v2/search/count?query=type%3Aticket%20status%3Csolved');
    expect(r.body).toEqual({ count: 1 });
  });
});

describe('rate limits', () => {
  it('a minute window refuses past its limit and says when to come back', () => {
    let now = 0;
    const w = new MinuteWindow(2, () => now);
    expect([w.take(), w.take()]).toEqual([undefined, undefined]);
    now = 15_000;
    expect(w.take()).toBe(45);
    now = 60_001;
    expect(w.take()).toBeUndefined();
  });

  it('the account limit shows on every answer and a request over it gets 429 with Retry-After', async () => {
    const limited = await ZendeskSimulator.start({
      email: EMAIL,
      apiToken: TOKEN,
      webhookSecret: 's',
      rateLimitPerMinute: 2,
    });
    try {
      const call = () => fetch(`${limited.baseUrl}/api/v2/users/me`, { headers: { authorization: AUTH } });
      const first = await call();
      expect([first.headers.get('x-rate-limit'), first.headers.get('x-rate-limit-remaining')]).toEqual([
        '2',
        '1',
      ]);
      await call();
      const third = await call();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('List Comments', () => {
  it('pages by cursor (at most 100), oldest first, with the authors side-loaded', async () => {
    const customer = sim.createUser({ name: 'E', email: 'e@example.com', role: 'end-user' });
    const t = sim.createTicket({ requester: customer, subject: 'long', body: 'c0' });
    for (let i = 1; i < 130; i++) sim.customerComment(t.id, `c${i}`);
    const first = await get(`/api/v2/tickets/${t.id}/comments?page%5Bsize%5D=100&include=users`);
    expect((first.body.comments as unknown[]).length).toBe(100);
    expect((first.body.users as Array<{ id: number }>).map((u) => u.id)).toEqual([customer.id]);
    const meta = first.body.meta as { has_more: boolean; after_cursor: string };
    expect(meta.has_more).toBe(true);
    const second = await get(
      `/api/v2/tickets/${t.id}/comments?page%5Bsize%5D=100&page%5Bafter%5D=${meta.after_cursor}`,
    );
    expect((second.body.comments as Array<{ body: string }>).map((c) => c.body).at(-1)).toBe('c129');
    expect((second.body.meta as { has_more: boolean }).has_more).toBe(false);
    expect((await get(`/api/v2/tickets/${t.id}/comments?page%5Bsize%5D=101`)).status).toBe(400);
  });
});
