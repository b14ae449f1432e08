// The benchmark's load run, small: it must still drive both directions through the local bridge and find
// every message exactly once and in order (its numbers are printed by `npm run bench`, never asserted here).
import { describe, expect, it } from 'vitest';
import { runImportBench } from '../../bench/import.ts';
import { runLoad } from '../../bench/load.ts';

describe('npm run bench (load phase, small)', () => {
  it('delivers every event exactly once, in order, with duplicates and injected faults', async () => {
    const r = await runLoad({
      events: 80,
      conversations: 8,
      duplicateShare: 0.2,
      faultShare: 0.1,
      concurrency: 4,
      rate: 0,
      progress: () => undefined,
    });
    expect(r.zendeskToChatwoot).toBeGreaterThan(0);
    expect(r.chatwootToZendesk).toBeGreaterThan(0);
    expect(r.duplicatesSent).toBeGreaterThan(0);
    expect({
      lost: r.lost,
      duplicated: r.duplicated,
      outOfOrder: r.outOfOrder,
      dead: r.deadLettered,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      dead: 0,
    });
    // Without the injected faults' retries, each message costs exactly one call, as in steady state.
    expect(r.apiCallsPerMessageExcludingFaultRetries).toBe(1);
  });
});

describe('npm run bench -- --import (small)', () => {
  it('imports every comment exactly once and in order, with the feeder killed mid-run', async () => {
    const r = await runImportBench({
      tickets: 12,
      comments: 4,
      restartAt: 0.5,
      rateLimitPerMinute: 0,
      pageSize: 5,
      progress: () => undefined,
    });
    expect(r.restarted).toBe(true);
    expect(r.refedTickets).toBeGreaterThan(0);
    expect({
      lost: r.lost,
      duplicated: r.duplicated,
      outOfOrder: r.outOfOrder,
      dead: r.deadLettered,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      dead: 0,
    });
  });
});
