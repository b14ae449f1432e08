// The batch worker's FIFO contract: order within a message group, independence between groups, partial batch
// failures that never let a later record of a group overtake a failed one, the hold-back schedule of a failed
// group, records left unstarted when the invocation is nearly out of time, and a batch whose dependencies cannot be built.
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { RetryableError, UpstreamError } from '../../shared/errors.ts';
import type { SyncEvent } from '../../shared/events/sync-event.ts';
import { MAX_RECEIVE_COUNT, retryWindowMs } from '../../shared/queue/backoff.ts';
import type { WorkerDeps } from '../../shared/worker-deps.ts';
import { sqsRecordFor } from '../helpers/sqs.ts';

const calls: string[] = [];
const failOn = new Set<string>();
const slow = new Set<string>();
/** Retry-After a failing record's error carries, by comment id. */
const retryAfter = new Map<string, number>();
/** Milliseconds of the fake invocation each record uses up, by comment id. */
const spends = new Map<string, number>();
let remainingMs = 30_000;
/** Fail with an error after which the write may have landed (a 500 on a POST) instead of a certain one. */
let uncertain = false;
/** The Zendesk client each processed event was given. */
const zendeskFor = new Map<string, unknown>();

vi.mock('../../shared/sync/engine.ts', () => ({
  processEvent: async (e: SyncEvent, deps: { zendesk?: unknown }) => {
    zendeskFor.set(e.eventKey, deps.zendesk);
    const id =
      e.kind === 'zendesk.comment' ? (e.commentId ?? '') : e.kind === 'chatwoot.message' ? e.messageId : '';
    calls.push(`start ${id}`);
    if (slow.has(id)) await new Promise((r) => setTimeout(r, 50));
    const spend = spends.get(id);
    if (spend !== undefined) {
      // Time passes while the call is in flight, so records of other groups start meanwhile.
      await new Promise((r) => setTimeout(r, 5));
      remainingMs -= spend;
    }
    calls.push(`end ${id}`);
    if (failOn.has(id) && uncertain) throw new UpstreamError('chatwoot', 'post messages', 500);
    if (failOn.has(id)) throw new RetryableError('downstream busy', 'test', retryAfter.get(id));
    return { status: 'synced', action: 'test', ownWrites: [], ids: {} };
  },
}));

const { handleBatch, START_MARGIN_MS } = await import('../../shared/sync/worker.ts');

function record(ticket: string, comment: string, receiveCount = 1): SQSRecord {
  const body: SyncEvent = {
    kind: 'zendesk.comment',
    via: 'event',
    eventKey: `zd:comment:${comment}`,
    ticketId: ticket,
    commentId: comment,
    body: 'x',
    public: true,
    author: { id: '1', isStaff: false },
    receivedAt: 0,
  };
  return sqsRecordFor(body, `m-${comment}`, receiveCount);
}

const deps = async () => ({ now: Date.now, logger: { createChild: () => ({}) } }) as unknown as WorkerDeps;

/** Dependencies whose redelivery control records each hold-back as `<sqs message id> <ms>`. */
function holdingDeps(retryBaseMs?: number) {
  const holds: string[] = [];
  const get = async () =>
    ({
      now: Date.now,
      logger: { createChild: () => ({}) },
      redelivery: { delay: async (r: SQSRecord, ms: number) => void holds.push(`${r.messageId} ${ms}`) },
      ...(retryBaseMs !== undefined ? { retryBaseMs } : {}),
    }) as unknown as WorkerDeps;
  return { holds, get };
}

const fakeContext = { getRemainingTimeInMillis: () => remainingMs };

function reset() {
  calls.length = 0;
  failOn.clear();
  retryAfter.clear();
  spends.clear();
  remainingMs = 30_000;
}

describe('handleBatch', () => {
  it('fails a group from its failed record on, and leaves other groups alone', async () => {
    calls.length = 0;
    failOn.clear();
    failOn.add('2');
    const event: SQSEvent = {
      Records: [record('1', '1'), record('2', '10'), record('1', '2'), record('1', '3'), record('2', '11')],
    };
    const res = await handleBatch(event, undefined, deps);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }, { itemIdentifier: 'm-3' }]);
    // Record 3 never ran: it must not overtake record 2, which will be redelivered first.
    expect(calls).not.toContain('start 3');
    expect(calls).toContain('end 11');
  });

  it('runs one group in order while other groups proceed concurrently', async () => {
    calls.length = 0;
    failOn.clear();
    slow.add('20');
    const event: SQSEvent = { Records: [record('1', '20'), record('1', '21'), record('2', '30')] };
    const res = await handleBatch(event, undefined, deps);
    expect(res.batchItemFailures).toEqual([]);
    expect(calls.indexOf('end 20')).toBeLessThan(calls.indexOf('start 21'));
    // The other ticket's record finished while the slow one was still in flight.
    expect(calls.indexOf('end 30')).toBeLessThan(calls.indexOf('end 20'));
    slow.clear();
  });
});

describe('imported comments', () => {
  it("read Zendesk with the import's client (spare budget only), live events with live sync's", async () => {
    reset();
    const live = record('1', '101');
    const importedRecord = sqsRecordFor(
      {
        kind: 'zendesk.comment',
        via: 'import',
        eventKey: 'zd:comment:201',
        ticketId: '2',
        commentId: '201',
        body: 'x',
        public: true,
        author: { id: '1', isStaff: false },
        receivedAt: 0,
      },
      'm-201',
    );
    const rt = async () =>
      ({
        now: Date.now,
        logger: { createChild: () => ({}) },
        zendesk: 'live client',
        importZendesk: 'spare client',
      }) as unknown as WorkerDeps;
    await handleBatch({ Records: [live, importedRecord] } as SQSEvent, undefined, rt);
    expect(zendeskFor.get('zd:comment:101')).toBe('live client');
    expect(zendeskFor.get('zd:comment:201')).toBe('spare client');
  });
});

describe('holding a failed group back', () => {
  it('holds the failed record and the rest of its group back longer with every receive (30 s × 2^(n−1))', async () => {
    reset();
    failOn.add('41');
    const { holds, get } = holdingDeps();
    const res = await handleBatch(
      { Records: [record('4', '40', 5), record('4', '41', 4), record('4', '42', 3), record('5', '50', 4)] },
      undefined,
      get,
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-41', 'm-42']);
    // The failed record's 4th receive sets the delay for the whole rest of its group: 30 s × 2³ = 4 minutes.
    expect(holds).toEqual(['m-41 240000', 'm-42 240000']);
  });

  it("waits for the platform's Retry-After when longer, caps at 15 minutes, and honours a shortened base", async () => {
    reset();
    failOn.add('60');
    retryAfter.set('60', 600_000);
    failOn.add('70');
    const first = holdingDeps();
    await handleBatch({ Records: [record('6', '60', 1), record('7', '70', 40)] }, undefined, first.get);
    expect(first.holds.sort()).toEqual(['m-60 600000', 'm-70 900000']);

    retryAfter.clear();
    const fast = holdingDeps(10);
    await handleBatch({ Records: [record('6', '60', 3)] }, undefined, fast.get);
    expect(fast.holds).toEqual(['m-60 40']);
  });

  it('retries an answered 500 after a write in-process before holding it on the schedule (no floor: the platform is done)', async () => {
    reset();
    failOn.add('65');
    uncertain = true;
    const { holds, get } = holdingDeps();
    await handleBatch({ Records: [record('6', '65', 1)] }, undefined, get);
    uncertain = false;
    expect(calls.filter((c) => c === 'start 65')).toHaveLength(3);
    expect(holds).toEqual(['m-65 30000']);
  });
});

describe('time left in the invocation', () => {
  it(`starts no record with less than ${START_MARGIN_MS} ms left, and hands the rest back at once, unclaimed`, async () => {
    reset();
    // Records 80 and 90 start together with 30 s left and take 9 s and 1 s: then 20 s are left, under the
    // margin, so neither ticket's next record is started.
    spends.set('80', 9_000);
    spends.set('90', 1_000);
    const { holds, get } = holdingDeps();
    const event: SQSEvent = {
      Records: [
        record('8', '80'),
        record('9', '90'),
        record('8', '81'),
        record('9', '91'),
        record('8', '82'),
      ],
    };
    const res = await handleBatch(event, fakeContext, get);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-81', 'm-91', 'm-82']);
    // Never started means never claimed: processEvent (which takes the claim) did not see them.
    for (const id of ['81', '82', '91']) expect(calls).not.toContain(`start ${id}`);
    expect(calls).toContain('end 90');
    // Visible again as soon as this batch ends (SQS holds the group until then), not after 180 s.
    expect(holds.sort()).toEqual(['m-81 0', 'm-82 0', 'm-91 0']);
  });

  it('runs everything when time is plentiful or no context is given (local queue)', async () => {
    reset();
    const { get } = holdingDeps();
    const batch = () => ({ Records: [record('10', '100'), record('10', '101')] });
    expect((await handleBatch(batch(), fakeContext, get)).batchItemFailures).toEqual([]);
    remainingMs = 0;
    expect((await handleBatch(batch(), undefined, get)).batchItemFailures).toEqual([]);
  });
});

describe('metrics per direction', () => {
  it('counts every Zendesk-side kind as Zendesk→Chatwoot, not only comments', async () => {
    const { metrics } = await import('../../shared/observability.ts');
    const spy = vi.spyOn(metrics, 'addMetric');
    const status: SyncEvent = {
      kind: 'zendesk.status',
      via: 'event',
      eventKey: 'zd:status:9:solved',
      ticketId: '9',
      status: 'solved',
      state: 'resolved',
      receivedAt: 0,
    };
    const r = record('9', '90');
    r.body = JSON.stringify(status);
    await handleBatch({ Records: [r] }, undefined, deps);
    const names = spy.mock.calls.map(([name]) => name);
    expect(names).toContain('Synced_ZendeskToChatwoot');
    expect(names).not.toContain('Synced_ChatwootToZendesk');
    spy.mockRestore();
  });
});

describe('when the worker dependencies cannot be built', () => {
  const failing = async (): Promise<WorkerDeps> => {
    throw new Error('Secrets Manager unreachable');
  };

  it('reports the whole batch failed, starts nothing, and holds each group back on the retry schedule', async () => {
    reset();
    const holds: string[] = [];
    const redelivery = { delay: async (r: SQSRecord, ms: number) => void holds.push(`${r.messageId} ${ms}`) };
    const res = await handleBatch(
      { Records: [record('11', '110', 1), record('12', '120', 4), record('11', '111', 1)] },
      fakeContext,
      failing,
      () => redelivery,
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-110', 'm-120', 'm-111']);
    expect(calls).toEqual([]);
    // First receive: 30 s; the 4th: 30 s × 2³ = 4 minutes, as for any retryable failure.
    expect(holds.sort()).toEqual(['m-110 30000', 'm-111 30000', 'm-120 240000']);
  });

  it('keeps the documented retry window (retryWindowMs, ≈ 23¾ h) before SQS dead-letters, not 100 × 180 s', async () => {
    reset();
    let waited = 0;
    const redelivery = {
      delay: async (_r: SQSRecord, ms: number) => {
        waited += ms;
      },
    };
    // Every receive before the last (the 100th moves the message to the DLQ) fails the same way.
    for (let n = 1; n < MAX_RECEIVE_COUNT; n++) {
      await handleBatch({ Records: [record('13', '130', n)] }, fakeContext, failing, () => redelivery);
    }
    expect(waited).toBe(retryWindowMs());
    expect(waited / 3_600_000).toBeGreaterThan(23.5);
  });

  it('still reports the batch failed (whole-batch retry) where nothing can hold it back', async () => {
    reset();
    const res = await handleBatch({ Records: [record('14', '140')] }, undefined, failing);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-140' }]);
  });
});
