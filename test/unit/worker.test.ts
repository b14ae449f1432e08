// The batch worker's FIFO contract: order within a message group, independence between groups, and partial
// batch failures that never let a later record of a group overtake a failed one.
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { RetryableError } from '../../shared/errors.ts';
import type { SyncEvent } from '../../shared/sync/events.ts';
import type { Runtime } from '../../shared/worker-runtime.ts';

const calls: string[] = [];
const failOn = new Set<string>();
const slow = new Set<string>();

vi.mock('../../shared/sync/engine.ts', () => ({
  processEvent: async (e: SyncEvent) => {
    const id =
      e.kind === 'zendesk.comment' ? (e.commentId ?? '') : e.kind === 'chatwoot.message' ? e.messageId : '';
    calls.push(`start ${id}`);
    if (slow.has(id)) await new Promise((r) => setTimeout(r, 50));
    calls.push(`end ${id}`);
    if (failOn.has(id)) throw new RetryableError('downstream busy', 'test');
    return { status: 'synced', action: 'test', ownWrites: [], ids: {} };
  },
}));

const { handleBatch } = await import('../../shared/sync/worker.ts');

function record(ticket: string, comment: string): SQSRecord {
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
  return {
    messageId: `m-${comment}`,
    receiptHandle: 'r',
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: `ticket-${ticket}`,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn',
    awsRegion: 'local',
  };
}

const runtime = async () => ({ now: Date.now, logger: { createChild: () => ({}) } }) as unknown as Runtime;

describe('handleBatch', () => {
  it('fails a group from its failed record on, and leaves other groups alone', async () => {
    calls.length = 0;
    failOn.clear();
    failOn.add('2');
    const event: SQSEvent = {
      Records: [record('1', '1'), record('2', '10'), record('1', '2'), record('1', '3'), record('2', '11')],
    };
    const res = await handleBatch(event, undefined, runtime);
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
    const res = await handleBatch(event, undefined, runtime);
    expect(res.batchItemFailures).toEqual([]);
    expect(calls.indexOf('end 20')).toBeLessThan(calls.indexOf('start 21'));
    // The other ticket's record finished while the slow one was still in flight.
    expect(calls.indexOf('end 30')).toBeLessThan(calls.indexOf('end 20'));
    slow.clear();
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
    await handleBatch({ Records: [r] }, undefined, runtime);
    const names = spy.mock.calls.map(([name]) => name);
    expect(names).toContain('Synced_ZendeskToChatwoot');
    expect(names).not.toContain('Synced_ChatwootToZendesk');
    spy.mockRestore();
  });
});
