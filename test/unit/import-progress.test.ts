// What the import shows and how it spends the rate budget: a bar on a terminal, plain lines elsewhere; below
// the share kept for live sync, the import waits.
import { describe, expect, it } from 'vitest';
import { progress } from '../../bin/commands/progress.ts';
import { RateBudget } from '../../shared/import/budget.ts';
import { queriesOf } from '../../shared/import/feeder.ts';

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
  it('spends freely above the reserve and waits below it, long enough for the window to free requests', async () => {
    const waits: number[] = [];
    const budget = new RateBudget({ reserveShare: 0.5, sleep: async (ms) => void waits.push(ms) });
    budget.learn(new Headers({ 'x-rate-limit': '600', 'x-rate-limit-remaining': '302' }));
    await budget.beforeRequest();
    await budget.beforeRequest();
    expect(waits).toEqual([]);
    await budget.beforeRequest();
    // 300 left = the reserve: one request frees every 100 ms at 600 a minute.
    expect(waits).toEqual([100]);
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
