// The in-process SQS FIFO twin the local bridge and the integration tests run on: per-group order through
// failures, redelivery after the visibility timeout or a requested hold, dead-lettering at maxReceiveCount,
// deduplication, and redrive keeping message groups.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LocalFifoQueue } from '../../shared/queue/local.ts';

type Handler = (r: SQSRecord) => 'ok' | 'fail';

function queueWith(handle: Handler, options: ConstructorParameters<typeof LocalFifoQueue>[1] = {}) {
  const seen: Array<{ body: string; receive: number; at: number }> = [];
  const q = new LocalFifoQueue(
    async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures: string[] = [];
      for (const r of event.Records) {
        // A failed record fails the rest of its group, as the worker does.
        const group = r.attributes.MessageGroupId;
        if (
          failures.length > 0 &&
          event.Records.some((x) => failures.includes(x.messageId) && x.attributes.MessageGroupId === group)
        ) {
          failures.push(r.messageId);
          continue;
        }
        seen.push({ body: r.body, receive: Number(r.attributes.ApproximateReceiveCount), at: Date.now() });
        if (handle(r) === 'fail') failures.push(r.messageId);
      }
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    },
    { visibilityTimeoutMs: 20, ...options },
  );
  q.start();
  return { q, seen };
}

const send = (q: LocalFifoQueue, groupId: string, body: string, dedupId = `${groupId}:${body}`) =>
  q.send({ body, groupId, dedupId });

describe('LocalFifoQueue', () => {
  it('keeps each group in order while its head fails and is redelivered', async () => {
    let failures = 2;
    const { q, seen } = queueWith((r) => (r.body === 'a1' && failures-- > 0 ? 'fail' : 'ok'));
    for (const b of ['a1', 'a2', 'a3']) await send(q, 'a', b);
    await send(q, 'b', 'b1');
    await q.drained(5_000);
    await q.stop();
    const done = (g: string) => seen.filter((s) => s.body.startsWith(g)).map((s) => s.body);
    expect(done('a')).toEqual(['a1', 'a1', 'a1', 'a2', 'a3']);
    expect(done('b')).toEqual(['b1']);
    expect(seen.filter((s) => s.body === 'a1').map((s) => s.receive)).toEqual([1, 2, 3]);
    expect(q.deadLetters).toEqual([]);
  });

  it('dead-letters after maxReceiveCount, then redrive brings it back in its group', async () => {
    let broken = true;
    const { q, seen } = queueWith((r) => (r.body === 'poison' && broken ? 'fail' : 'ok'), {
      maxReceiveCount: 3,
    });
    await send(q, 'g', 'poison');
    await q.drained(5_000);
    expect(q.deadLetters).toMatchObject([
      { body: 'poison', groupId: 'g', receiveCount: 3, reason: 'max-receive-count' },
    ]);
    broken = false;
    expect(await q.redrive()).toBe(1);
    await q.drained(5_000);
    await q.stop();
    expect(q.deadLetters).toEqual([]);
    expect(seen.filter((s) => s.body === 'poison')).toHaveLength(4);
  });

  it('holds a record back as long as `delay` asked, instead of the visibility timeout', async () => {
    let first = true;
    const holdMs = 300;
    const state: { q?: LocalFifoQueue } = {};
    const { q, seen } = queueWith((r) => {
      if (!first) return 'ok';
      first = false;
      void state.q?.delay(r, holdMs);
      return 'fail';
    });
    state.q = q;
    await send(q, 'g', 'held');
    await q.drained(5_000);
    await q.stop();
    expect(seen).toHaveLength(2);
    // Order of events, not speed: the redelivery did not come before the hold ran out.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(holdMs - 5);
  });

  it('a long hold on one group does not delay another group’s redelivery', async () => {
    // Two batches in flight: the first ends with a 1 s hold (the queue's next wake-up goes to +1 s); the second
    // fails 50 ms later with the 20 ms visibility timeout, so its redelivery is due long before the hold ends.
    const seen: string[] = [];
    const failedOnce = new Set<string>();
    const q: LocalFifoQueue = new LocalFifoQueue(
      async (event: SQSEvent): Promise<SQSBatchResponse> => {
        const r = event.Records[0]!;
        seen.push(r.body);
        if (failedOnce.has(r.body)) return { batchItemFailures: [] };
        failedOnce.add(r.body);
        if (r.body === 'held') await q.delay(r, 1_000);
        else await new Promise((res) => setTimeout(res, 50));
        return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
      },
      { visibilityTimeoutMs: 20, concurrency: 2, batchSize: 1 },
    );
    q.start();
    await send(q, 'slow', 'held');
    await send(q, 'fast', 'quick');
    await q.drained(5_000);
    await q.stop();
    expect(seen).toEqual(['held', 'quick', 'quick', 'held']);
  });

  it('drops a repeat of the same deduplication id', async () => {
    const { q, seen } = queueWith(() => 'ok');
    await send(q, 'g', 'once', 'same-id');
    await send(q, 'g', 'twice', 'same-id');
    await q.drained(5_000);
    await q.stop();
    expect(seen.map((s) => s.body)).toEqual(['once']);
  });

  it('deduplicates within a message group only, as the deployed high-throughput FIFO queue does', async () => {
    // lib/queue.ts sets deduplicationScope MESSAGE_GROUP: SQS drops a repeated id in the same group, and
    // delivers the same id sent to another group.
    const { q, seen } = queueWith(() => 'ok');
    await send(q, 'ticket-1', 'first', 'same-id');
    await send(q, 'ticket-2', 'other group', 'same-id');
    await send(q, 'ticket-1', 'repeat', 'same-id');
    await q.drained(5_000);
    await q.stop();
    expect(seen.map((s) => s.body).sort()).toEqual(['first', 'other group']);
    expect(q.sent).toBe(2);
  });
});
