// A record's attempts inside one invocation: a passing failure is retried in-process, an unknown outcome lets
// the guard write only after the settle time, a long wait goes back to the queue, a permanent failure is
// dead-lettered; the age and receive count of a held-back message are published.
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { NetworkError, RetryableError, UpstreamError } from '../../shared/errors.ts';
import { attemptRecord } from '../../shared/queue/attempts.ts';

const record = (receiveCount = 1, sentAgoMs = 0): SQSRecord =>
  ({
    messageId: 'm-1',
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(1_000_000 - sentAgoMs),
    },
  }) as unknown as SQSRecord;

function clock() {
  let t = 1_000_000;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('attemptRecord', () => {
  it('gets past one answered 500 within the invocation', async () => {
    const c = clock();
    const failures = [new UpstreamError('zendesk', 'put tickets/:id', 500)];
    const seen: Array<number | undefined> = [];
    const verdict = await attemptRecord(
      record(),
      async (settleUntil) => {
        seen.push(settleUntil);
        const f = failures.shift();
        if (f) throw f;
      },
      { spareMs: () => 20_000, ...c },
    );
    expect(verdict).toEqual({ kind: 'done' });
    expect(seen).toEqual([undefined, undefined]);
    expect(c.now() - 1_000_000).toBeLessThan(1_000);
  });

  it('after a reset, the next attempts carry the settle deadline for the replay guard', async () => {
    const c = clock();
    const seen: Array<number | undefined> = [];
    const failures = [new NetworkError('chatwoot', 'post conversations/:id/messages', 'ECONNRESET')];
    await attemptRecord(
      record(),
      async (settleUntil) => {
        seen.push(settleUntil);
        const f = failures.shift();
        if (f) throw f;
      },
      { spareMs: () => 20_000, ...c },
    );
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toBe(1_000_000 + 15_000);
  });

  it('hands a long wait to the queue and a permanent failure to the dead-letter queue', async () => {
    const c = clock();
    const long = await attemptRecord(
      record(),
      async () => {
        throw new UpstreamError('zendesk', 'put tickets/:id', 429, 540_000);
      },
      { spareMs: () => 20_000, ...c },
    );
    expect(long).toMatchObject({ kind: 'hold', delayMs: 540_000 });
    const denied = Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
    });
    const dead = await attemptRecord(
      record(),
      async () => {
        throw denied;
      },
      { spareMs: () => 20_000, ...c },
    );
    expect(dead).toMatchObject({ kind: 'dead-letter', reason: 'AccessDeniedException' });
  });

  it('a guard that may not write yet holds the record until the platform is done', async () => {
    const c = clock();
    const verdict = await attemptRecord(
      record(),
      async () => {
        throw new RetryableError('not yet', 'outcome-settling', 12_000);
      },
      { spareMs: () => 20_000, ...c },
    );
    expect(verdict).toMatchObject({ kind: 'hold', delayMs: 12_000 });
  });
});
