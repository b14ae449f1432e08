// The request budget shared across containers, on a real DynamoDB API: several "containers" (separate stores on
// one table) drawing from one bucket never start more calls in a window than the budget allows, and a block
// (a 429's Retry-After) holds every one of them back.
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables } from '../../bin/local-bridge.ts';
import { createDynamo } from '../../shared/store/dynamo.ts';
import { BudgetExhausted, DynamoBucketStore, RateBudget } from '../../shared/store/rate-budget.ts';

let endpoint: string;
let close: () => Promise<void>;
const table = 'budget-test-ledger';

beforeAll(async () => {
  if (process.env.DYNAMODB_ENDPOINT) {
    endpoint = process.env.DYNAMODB_ENDPOINT;
    close = async () => undefined;
  } else {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((r) => server.close(() => r()));
  }
  await ensureTables(endpoint, { links: 'budget-test-links', ledger: table });
});
afterAll(() => close());

/** A virtual clock shared by the "containers": sleeping advances it, so the test runs in real milliseconds. */
function clock() {
  let t = Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e9);
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('shared rate budget (GCRA in one DynamoDB item)', () => {
  it('paces three containers together to the budget: a burst, then one call per interval', async () => {
    const c = clock();
    const key = `budget#test:${Math.random()}`;
    // 60 a minute = one a second, burst 2: three go at once, then one per second.
    const budgets = [0, 1, 2].map(
      () =>
        new RateBudget(
          new DynamoBucketStore(createDynamo(endpoint), table),
          key,
          { perMinute: 60, burst: 2 },
          c,
        ),
    );
    const starts: number[] = [];
    const t0 = c.now();
    for (let i = 0; i < 12; i++) {
      // Round-robin over the containers; each take returns after its (virtual) wait.
      await budgets[i % 3]!.take(60_000);
      starts.push(c.now() - t0);
    }
    expect(starts.slice(0, 3)).toEqual([0, 0, 0]);
    expect(starts.slice(3)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  });

  it('refuses a slot further away than the caller may wait, reserving nothing', async () => {
    const c = clock();
    const key = `budget#test:${Math.random()}`;
    const store = new DynamoBucketStore(createDynamo(endpoint), table);
    const budget = new RateBudget(store, key, { perMinute: 60, burst: 0 }, c);
    await budget.take(0);
    const refused = await budget.take(500).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(BudgetExhausted);
    expect((refused as BudgetExhausted).retryAfterMs).toBe(1000);
    // Nothing was reserved by the refusal: the next slot is still one interval after the first call.
    c.advance(1000);
    expect(await budget.take(0)).toBe(0);
  });

  it('a block from one container (a 429 Retry-After) holds back every container until then', async () => {
    const c = clock();
    const key = `budget#test:${Math.random()}`;
    const a = new RateBudget(
      new DynamoBucketStore(createDynamo(endpoint), table),
      key,
      { perMinute: 600, burst: 5 },
      c,
    );
    const b = new RateBudget(
      new DynamoBucketStore(createDynamo(endpoint), table),
      key,
      { perMinute: 600, burst: 5 },
      c,
    );
    await a.take(0);
    await a.block(c.now() + 7_000);
    const waited = await b.take(10_000);
    expect(waited).toBe(7_000);
  });

  it('concurrent takes from many callers never exceed burst + elapsed / interval', async () => {
    const key = `budget#test:${Math.random()}`;
    // Real clock here: 1,200 a minute (one per 50 ms), burst 3, 40 concurrent callers over 4 stores.
    const stores = [0, 1, 2, 3].map(() => new DynamoBucketStore(createDynamo(endpoint), table));
    const t0 = Date.now();
    const starts = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const budget = new RateBudget(stores[i % 4]!, key, { perMinute: 1200, burst: 3 });
        await budget.take(10_000);
        return Date.now() - t0;
      }),
    );
    starts.sort((x, y) => x - y);
    // The k-th call (0-based) starts no earlier than (k − burst) intervals after the first (a little timer slack).
    for (const [k, at] of starts.entries()) expect(at).toBeGreaterThanOrEqual((k - 3) * 50 - 5);
  });

  it('a spare taker (the import) in one container leaves the reserve to live calls in another', async () => {
    const c = clock();
    const key = `budget#test:${Math.random()}`;
    // 60 a minute, burst 4: five slots at once on an idle bucket; the import leaves half the burst (2).
    const spec = { perMinute: 60, burst: 4 };
    const importer = new RateBudget(new DynamoBucketStore(createDynamo(endpoint), table), key, spec, c);
    const live = new RateBudget(new DynamoBucketStore(createDynamo(endpoint), table), key, spec, c);
    expect(importer.spareReserve(0.5)).toBe(2);
    const t0 = c.now();
    // Three at once (five less the two kept), then one a second as the bucket frees them.
    const importStarts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await importer.takeSpare(0.5, 60_000);
      importStarts.push(c.now() - t0);
    }
    expect(importStarts.slice(0, 3)).toEqual([0, 0, 0]);
    for (let i = 3; i < 6; i++) expect(importStarts[i]! - importStarts[i - 1]!).toBeGreaterThanOrEqual(1000);
    // However busy the import kept it, two live calls still go at once, and the third waits one interval.
    const liveAt = c.now();
    expect(await live.take(3_000)).toBe(0);
    expect(await live.take(3_000)).toBe(0);
    expect(await live.take(3_000)).toBeLessThanOrEqual(1000);
    // Live sync has reserved ahead: the import's next slot comes only after live sync's, with the reserve free.
    await importer.takeSpare(0.5, 60_000);
    expect(c.now()).toBeGreaterThanOrEqual(liveAt + 2000);
    // An import that may wait only briefly gives up instead of queueing in front of live sync.
    await live.take(10_000);
    await live.take(10_000);
    const refused = await importer.takeSpare(0.5, 100).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BudgetExhausted);
  });
});
