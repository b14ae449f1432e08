// The platforms' limits as budgets: Zendesk's headers set and block the shared budget, a per-ticket 429 does not;
// Chatwoot's per-conversation budget keeps any minute under 200 messages, as its flood check counts them.
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors.ts';
import {
  ChatwootLimits,
  SpareZendeskLimits,
  specFor,
  ZendeskLimits,
  zendeskSpecs,
} from '../../shared/http/rate-limits.ts';
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

describe('the history import on the shared Zendesk budget', () => {
  /** Live sync's limits and the import's view of the same buckets, on one virtual clock. */
  function rig(accountLimit = 600, share = 1) {
    const c = { now: Date.UTC(2026, 0, 1) };
    const store = new MemoryBucketStore();
    const opts = {
      store,
      accountLimit,
      share,
      now: () => c.now,
      sleep: async (ms: number) => {
        c.now += ms;
      },
    };
    const live = new ZendeskLimits(opts);
    const spare = new SpareZendeskLimits(new ZendeskLimits(opts), { reserveShare: 0.5, maxWaitMs: 10_000 });
    return { c, store, live, spare };
  }
  const get = { method: 'GET', path: 'tickets/1/comments' };

  it('a burst of live calls during a saturating import waits at most the import-free pacing plus the spare part of the burst', async () => {
    const { c, live, spare } = rig();
    const T = 60_000 / live.account.perMinute;
    const burst = 10;
    const reserve = live.account.spareReserve(0.5);
    const starts: number[] = [];
    // The import runs flat out for 5 s (each acquire returns when its slot has come).
    while (c.now < Date.UTC(2026, 0, 1) + 5_000) {
      await spare.acquire(get, 3_000);
      starts.push(c.now);
    }
    // The import alone gets the bucket's whole pace: nothing is wasted while live sync is idle.
    expect(starts.length).toBeGreaterThanOrEqual(Math.floor(5_000 / T));
    // Eight live calls arrive at once: the first `reserve` go at once, each later one at most one interval
    // per call after them (without the import it would be burst + 1 at once).
    const arrival = c.now;
    const waits: number[] = [];
    for (let k = 0; k < 8; k++) {
      await live.acquire(get, 3_000);
      starts.push(c.now);
      waits.push(c.now - arrival);
    }
    for (const [k, w] of waits.entries()) expect(w).toBeLessThanOrEqual(Math.max(0, k - reserve + 1) * T + 1);
    // Live first: the import's next call starts only after live sync's last reserved slot.
    const lastLive = c.now;
    await spare.acquire(get, 3_000);
    expect(c.now).toBeGreaterThan(lastLive);
    starts.push(c.now);
    // Together they stay within the bucket's pace in every window (burst + 1 + w / T).
    starts.sort((a, b) => a - b);
    for (let i = 0; i < starts.length; i++)
      for (let j = i; j < starts.length; j++)
        expect(j - i + 1).toBeLessThanOrEqual(burst + 1 + (starts[j]! - starts[i]!) / T + 1e-9);
  });

  it('while live sync has slots reserved ahead the import waits until after them, or gives up retryably', async () => {
    const { c, store, live, spare } = rig();
    const T = 60_000 / live.account.perMinute;
    // A queue of live calls arrives at once: each reserves its slot up to 3 s ahead (they sleep on their own).
    const reserving = new ZendeskLimits({
      store,
      accountLimit: 600,
      share: 1,
      now: () => c.now,
      sleep: async () => undefined,
    });
    let lastLiveSlot = c.now;
    for (let k = 0; k < 30; k++) {
      const before = c.now;
      await reserving.account.take(3_000);
      lastLiveSlot = before + Math.max(0, (k - 10) * T);
    }
    const impatient = new SpareZendeskLimits(reserving, { reserveShare: 0.5, maxWaitMs: 1_000 });
    const refused = await impatient.acquire(get, 3_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RetryableError);
    expect((refused as RetryableError).retryAfterMs).toBeGreaterThan(1_000);
    // A patient import starts only once live sync's reserved slots have all come, with the reserve free again.
    await spare.acquire(get, 3_000);
    expect(c.now).toBeGreaterThanOrEqual(lastLiveSlot + T);
  });

  it('keeps at least one slot for live sync even with a burst of one, and none when the burst is 0', () => {
    const { live } = rig(60, 1);
    expect(live.account.spareReserve(0.5)).toBe(Math.min(1, zendeskSpecs(60, 1).account.burst));
    const { live: big } = rig(2500, 1);
    expect(big.account.spareReserve(0)).toBe(1);
    expect(big.account.spareReserve(1)).toBe(zendeskSpecs(2500, 1).account.burst);
  });
});
