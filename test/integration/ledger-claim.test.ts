// The ledger claim's states and what claiming each returns, against a real DynamoDB API (dynalite in-process, or
// DYNAMODB_ENDPOINT when CI points it at DynamoDB Local): the one conditional write exactly-once rests on.
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables } from '../../bin/local-bridge.ts';
import { createDynamo } from '../../shared/store/dynamo.ts';
import { type ClaimResult, Ledger } from '../../shared/store/ledger.ts';

const LEASE_MS = 60_000;
const RETENTION_MS = 24 * 3600 * 1000;
const TABLE = `ledger-claim-${process.pid}-${Date.now()}`;

let endpoint: string;
let close: () => Promise<void> = async () => {};
let n = 0;

beforeAll(async () => {
  if (process.env.DYNAMODB_ENDPOINT) {
    endpoint = process.env.DYNAMODB_ENDPOINT;
  } else {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((r) => server.close(() => r()));
  }
  await ensureTables(endpoint, { links: `${TABLE}-links`, ledger: TABLE });
});
afterAll(() => close());

/** A ledger on its own clock, which a row moves forward between its set-up and the claim under test. */
function ledgerAt(start: number) {
  const clock = { now: start };
  const ledger = new Ledger(createDynamo(endpoint), {
    tableName: TABLE,
    retentionMs: RETENTION_MS,
    now: () => clock.now,
  });
  return { ledger, clock };
}

type Row = {
  state: string;
  /** Brings the key into the state, then may move the clock. */
  arrange: (ledger: Ledger, key: string, clock: { now: number }) => Promise<void>;
  expected: { state: 'claimed'; resumed: boolean } | { state: 'done' } | { state: 'busy' };
};

const claimed = async (ledger: Ledger, key: string) => {
  const c = await ledger.claim(key, LEASE_MS);
  if (c.state !== 'claimed') throw new Error(`set-up claim was ${c.state}`);
  return c.token;
};

const rows: Row[] = [
  { state: 'new (never seen)', arrange: async () => {}, expected: { state: 'claimed', resumed: false } },
  {
    state: 'done',
    arrange: async (l, k) => {
      await claimed(l, k);
      await l.complete(k, [], 'chatwoot-message-created');
    },
    expected: { state: 'done' },
  },
  {
    state: 'pending with a live lease (another delivery at work)',
    arrange: async (l, k, clock) => {
      await claimed(l, k);
      clock.now += LEASE_MS - 1;
    },
    expected: { state: 'busy' },
  },
  {
    state: 'pending with a lapsed lease (a crashed attempt)',
    arrange: async (l, k, clock) => {
      await claimed(l, k);
      clock.now += LEASE_MS + 1;
    },
    expected: { state: 'claimed', resumed: true },
  },
  {
    state: 'released after a retryable failure',
    arrange: async (l, k) => l.release(k, await claimed(l, k)),
    expected: { state: 'claimed', resumed: false },
  },
  {
    state: 'uncertain (released after a write that may have landed)',
    arrange: async (l, k) => l.releaseUncertain(k, await claimed(l, k)),
    expected: { state: 'claimed', resumed: true },
  },
  {
    state: 'dead-lettered (a redrive)',
    arrange: async (l, k) => l.markDeadLettered(k, await claimed(l, k), 'zendesk-update-rejected'),
    expected: { state: 'claimed', resumed: false },
  },
  {
    state: 'done but expired (TTL not yet deleted it)',
    arrange: async (l, k, clock) => {
      await claimed(l, k);
      await l.complete(k, [], 'chatwoot-message-created');
      clock.now += RETENTION_MS + 1000;
    },
    expected: { state: 'claimed', resumed: false },
  },
  {
    state: 'pending but expired (an abandoned claim past retention)',
    arrange: async (l, k, clock) => {
      await claimed(l, k);
      clock.now += RETENTION_MS + 1000;
    },
    expected: { state: 'claimed', resumed: false },
  },
];

describe('Ledger.claim', () => {
  it.each(rows)('$state → $expected.state', async ({ arrange, expected }) => {
    const { ledger, clock } = ledgerAt(1_800_000_000_000);
    const key = `zd:comment:${++n}`;
    await arrange(ledger, key, clock);
    const result = await ledger.claim(key, LEASE_MS);
    const { token, ...rest } = result as ClaimResult & { token?: string };
    expect(rest).toEqual(expected);
    if (result.state === 'claimed') expect(token).toEqual(expect.any(String));
  });

  it('a claim taken over after a lapsed lease cannot be released or dead-lettered by its old holder', async () => {
    const { ledger, clock } = ledgerAt(1_800_000_000_000);
    const key = `zd:comment:${++n}`;
    const stale = await claimed(ledger, key);
    clock.now += LEASE_MS + 1;
    await claimed(ledger, key);
    // The old holder gives its claim back: nothing happens to the new holder's.
    await ledger.release(key, stale);
    await ledger.markDeadLettered(key, stale, 'late');
    expect(await ledger.claim(key, LEASE_MS)).toEqual({ state: 'busy' });
  });
});
