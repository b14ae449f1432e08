// What the import shows and how it spends the rate budget: a bar on a terminal, plain lines elsewhere; it takes
// from live sync's bucket only what leaves live sync its reserve, and waits otherwise.
import { describe, expect, it } from 'vitest';
import { progress } from '../../bin/commands/progress.ts';
import { SpareZendeskLimits, ZendeskLimits } from '../../shared/http/rate-limits.ts';
import { queriesOf } from '../../shared/import/feeder.ts';
import { MemoryBucketStore } from '../../shared/store/rate-budget.ts';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return {
    stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream,
    written,
  };
}

describe('progress', () => {
  it('on a terminal: one bar redrawn in place with count, rate and ETA', () => {
    let now = 0;
    const { stream, written } = fakeStream(true);
    const lines: string[] = [];
    const bar = progress({ stream, print: (l) => lines.push(l), unit: 'tickets', now: () => now });
    bar.update(0, 100, '');
    now = 10_000;
    bar.update(50, 100, '500 comments');
    bar.finish();
    expect(lines).toEqual([]);
    expect(written[1]).toBe(
      '\r\x1b[2K[############------------] 50/100 tickets  5.0/s  ETA 10s  500 comments',
    );
    expect(written.at(-1)).toBe('\n');
  });

  it('elsewhere: plain lines, at most every 10 seconds', () => {
    let now = 0;
    const { stream, written } = fakeStream(false);
    const lines: string[] = [];
    const bar = progress({ stream, print: (l) => lines.push(l), unit: 'tickets', now: () => now });
    bar.update(0, 1000, '');
    now = 5_000;
    bar.update(10, 1000, '');
    now = 20_000;
    bar.update(100, 1000, '');
    expect(written).toEqual([]);
    expect(lines).toEqual(['  0/1,000 tickets  0.0/s  ETA ?', '  100/1,000 tickets  5.0/s  ETA 3m 0s']);
  });
});

describe('rate budget share', () => {
  it('the import takes only what live sync leaves of the shared bucket, and waits while live sync holds it', async () => {
    let now = Date.UTC(2026, 0, 1);
    const limits = new ZendeskLimits({
      store: new MemoryBucketStore(),
      accountLimit: 600,
      share: 1,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const spare = new SpareZendeskLimits(limits, { reserveShare: 0.5 });
    const get = { method: 'GET', path: 'tickets/1/comments' };
    // 600 a minute: 475 for reads with a burst of 10 (Update Ticket has the rest); half the burst stays free.
    expect(limits.account.perMinute).toBeCloseTo(475);
    expect(limits.account.spareReserve(0.5)).toBe(5);
    const t0 = now;
    for (let i = 0; i < 6; i++) await spare.acquire(get, 3_000);
    // The bucket's 11 slots at once less the 5 kept: six went at once, the seventh waits for a slot to free.
    expect(now).toBe(t0);
    await spare.acquire(get, 3_000);
    expect(now).toBeGreaterThan(t0);
    // Live sync still finds five slots at once, then paces as it would have anyway.
    const liveAt = now;
    for (let i = 0; i < 5; i++) await limits.acquire(get, 3_000);
    expect(now).toBe(liveAt);
  });
});

describe('search queries', () => {
  it('the unsolved default is one query; a status list is one query per status; --since bounds by update day', () => {
    expect(queriesOf({ statuses: ['new', 'open', 'pending', 'hold'] })).toEqual(['status<solved']);
    expect(queriesOf({ statuses: ['open', 'solved'], since: '2026-03-01' })).toEqual([
      'status:open updated>2026-02-28',
      'status:solved updated>2026-02-28',
    ]);
  });
});
