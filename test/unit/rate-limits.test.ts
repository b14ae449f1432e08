// The platforms' limits as budgets: Zendesk's headers set and block the shared budget, a per-ticket 429 does not;
// Chatwoot's per-conversation budget keeps any minute under 200 messages, as its flood check counts them.
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors.ts';
import { ChatwootLimits, specFor, ZendeskLimits, zendeskSpecs } from '../../shared/http/rate-limits.ts';
import { MemoryBucketStore } from '../../shared/store/rate-budget.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('Zendesk budget', () => {
  it('paces to 95 % of the share with a 2 % burst, so no 60 s window can exceed the limit', () => {
    const s = specFor(700, 1);
    expect(s.perMinute).toBeCloseTo(665);
    expect(s.burst).toBe(14);
    // Any 60 s: twice the burst (the shared bucket may grant it twice) + 1 + 60 s / interval ≤ limit.
    expect(2 * s.burst + 1 + s.perMinute).toBeLessThanOrEqual(700);
    const shared = specFor(400, 0.5);
    expect(2 * shared.burst + 1 + shared.perMinute).toBeLessThanOrEqual(200);
  });

  it("learns the account's limit from X-Rate-Limit", async () => {
    const limits = new ZendeskLimits({ store: new MemoryBucketStore(), accountLimit: 200, share: 1 });
    await limits.observe(
      { method: 'GET', path: 'users/me' },
      { status: 200, headers: headers({ 'x-rate-limit': '2500' }) },
    );
    // 95 % of 2,500, less what Update Ticket's 100 a minute takes (95).
    expect(limits.account.perMinute).toBeCloseTo(2375 - 95);
    expect(limits.ticketUpdates.perMinute).toBeCloseTo(95);
  });

  it('the two budgets together never exceed the limit in any minute, whatever the plan and share', () => {
    for (const limit of [10, 200, 400, 700, 2500])
      for (const share of [0.25, 0.5, 1]) {
        const { account, ticketUpdates } = zendeskSpecs(limit, share);
        const worst =
          account.perMinute + account.burst + 1 + ticketUpdates.perMinute + ticketUpdates.burst + 1;
        expect(worst, `${limit} × ${share}`).toBeLessThanOrEqual(limit * share + 2);
        expect(ticketUpdates.perMinute + ticketUpdates.burst + 1).toBeLessThanOrEqual(100 * share + 1);
      }
  });

  it('an account-wide 429 blocks every call until its Retry-After; a per-ticket 429 blocks nothing', async () => {
    let now = 1_000_000;
    const limits = new ZendeskLimits({
      store: new MemoryBucketStore(),
      accountLimit: 600,
      share: 1,
      now: () => now,
    });
    await limits.observe(
      { method: 'PUT', path: 'tickets/5' },
      { status: 429, headers: headers({ 'retry-after': '540', 'x-rate-limit-remaining': '300' }) },
    );
    await limits.acquire({ method: 'GET', path: 'users/me' }, 0);
    await limits.observe(
      { method: 'GET', path: 'tickets/5/comments' },
      { status: 429, headers: headers({ 'retry-after': '12', 'x-rate-limit-remaining': '0' }) },
    );
    const err = await limits.acquire({ method: 'GET', path: 'users/me' }, 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ reason: 'zendesk-rate-budget' });
    expect((err as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(11_000);
    now += 12_000;
    await expect(limits.acquire({ method: 'GET', path: 'users/me' }, 0)).resolves.toBeUndefined();
  });

  it('when others used the minute up (Remaining 0), waits for ratelimit-reset', async () => {
    const now = 5_000_000;
    const limits = new ZendeskLimits({
      store: new MemoryBucketStore(),
      accountLimit: 600,
      share: 1,
      now: () => now,
    });
    await limits.observe(
      { method: 'GET', path: 'tickets/5' },
      { status: 200, headers: headers({ 'x-rate-limit-remaining': '0', 'ratelimit-reset': '20' }) },
    );
    const err = await limits.acquire({ method: 'GET', path: 'tickets/5' }, 1_000).catch((e: unknown) => e);
    expect((err as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(19_000);
  });

  it('ticket updates draw from the Update Ticket budget (100 a minute)', async () => {
    const limits = new ZendeskLimits({
      store: new MemoryBucketStore(),
      accountLimit: 2500,
      share: 1,
      now: () => 0,
    });
    let granted = 0;
    for (let i = 0; i < 10; i++) {
      const ok = await limits.acquire({ method: 'PUT', path: 'tickets/9' }, 0).then(
        () => true,
        () => false,
      );
      if (ok) granted++;
    }
    // At one instant: the Update Ticket burst (2) plus one.
    expect(granted).toBe(3);
  });
});

describe('Chatwoot budget', () => {
  it("counts a conversation's messages over a sliding minute, as Chatwoot's flood check does", async () => {
    let now = 0;
    const limits = new ChatwootLimits({
      store: new MemoryBucketStore(),
      perIpLimit: 100_000,
      perConversationLimit: 200,
      now: () => now,
    });
    const post = (c: number) =>
      limits.acquire({ method: 'POST', path: `conversations/${c}/messages` }, 0).then(
        () => true,
        (err: unknown) => {
          expect(err).toBeInstanceOf(RetryableError);
          return false;
        },
      );
    // A ticket's history goes at once: ten messages, no waiting.
    for (let i = 0; i < 10; i++) expect(await post(1)).toBe(true);
    // 95 % of 200 within any minute, the rest left to messages others write; other conversations unaffected.
    now = 30_000;
    let granted = 10;
    for (let i = 0; i < 300; i++) if (await post(1)) granted++;
    expect(granted).toBe(190);
    expect(await post(2)).toBe(true);
    // Not before the oldest are a minute old; then as many slots as messages left the window (the first ten).
    now = 59_999;
    expect(await post(1)).toBe(false);
    now = 60_000;
    let again = 0;
    for (let i = 0; i < 20; i++) if (await post(1)) again++;
    expect(again).toBe(10);
  });

  it('waits for the window when allowed to, and says how long otherwise', async () => {
    const limits = new ChatwootLimits({
      store: new MemoryBucketStore(),
      perIpLimit: 100_000,
      perConversationLimit: 2,
    });
    const call = { method: 'POST', path: 'conversations/9/messages' };
    await limits.acquire(call, 0);
    const refused = await limits.acquire(call, 0).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RetryableError);
    expect((refused as RetryableError).retryAfterMs).toBeGreaterThan(59_000);
  });
});

describe('answers without rate-limit headers', () => {
  it('change nothing: an absent header is unknown, not zero', async () => {
    const limits = new ZendeskLimits({
      store: new MemoryBucketStore(),
      accountLimit: 200,
      share: 1,
      now: () => 0,
    });
    await limits.observe({ method: 'PUT', path: 'tickets/1' }, { status: 200, headers: headers({}) });
    await expect(limits.acquire({ method: 'GET', path: 'users/me' }, 0)).resolves.toBeUndefined();
    await expect(limits.acquire({ method: 'PUT', path: 'tickets/1' }, 0)).resolves.toBeUndefined();
  });
});
