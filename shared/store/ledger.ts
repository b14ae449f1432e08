// The ledger: idempotency claims for source events and the ids of everything the bridge wrote itself.
// Every item expires (DynamoDB TTL), and expiry is also checked in code because TTL deletion can lag 48 h.

import { randomUUID } from 'node:crypto';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { RetryableError } from '../errors.ts';
import { isConditionalCheckFailed } from './dynamo.ts';
import {
  type LedgerKey,
  type LockName,
  ledgerKeys,
  type SyncDirection,
  type WriteId,
} from './ledger-keys.ts';

export type ClaimResult =
  | {
      state: 'claimed';
      token: string;
      /**
       * An earlier attempt held this claim and did not finish cleanly: it crashed (lease ran out) or failed after
       * a write that may have been applied. The flow must look for that write before repeating it.
       */
      resumed: boolean;
    }
  | { state: 'done' }
  | { state: 'busy' };

export interface LedgerOptions {
  tableName: string;
  /** How long a finished event or an own-write id is remembered; must outlive the reconciliation look-back. */
  retentionMs: number;
  now?: () => number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Status of an event that failed permanently and was dead-lettered. */
export const DEAD_LETTERED = 'dead-lettered';

export class Ledger {
  private readonly now: () => number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly o: LedgerOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Claims a source event for processing with one conditional write. It succeeds when the key is new, when its
   * item has expired (whatever TTL has not deleted yet), or when an earlier worker's lease ran out.
   */
  claim(eventKey: string, leaseMs: number): Promise<ClaimResult> {
    return this.acquire(ledgerKeys.event(eventKey), leaseMs);
  }

  /** A short lease on a name (e.g. creating one ticket's conversation), released by `unlock`. */
  lock(name: LockName, leaseMs: number): Promise<ClaimResult> {
    return this.acquire(ledgerKeys.lock(name), leaseMs);
  }

  unlock(name: LockName, token: string): Promise<void> {
    return this.deleteIfOwned(ledgerKeys.lock(name), token);
  }

  private async acquire(pk: LedgerKey, leaseMs: number): Promise<ClaimResult> {
    const now = this.now();
    const token = randomUUID();
    try {
      const res = await this.db.send(
        new PutCommand({
          TableName: this.o.tableName,
          Item: {
            pk,
            status: 'pending',
            token,
            leaseUntil: now + leaseMs,
            expiresAt: seconds(now + this.o.retentionMs),
          },
          // A dead-lettered event may be claimed again: that is a redrive from the DLQ.
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :nowS OR (#s = :pending AND leaseUntil < :now) OR #s = :dead',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':nowS': seconds(now),
            ':now': now,
            ':pending': 'pending',
            ':dead': DEAD_LETTERED,
          },
          // Same request, no extra cost: the item it replaced tells whether an earlier attempt was cut short.
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = res.Attributes;
      const resumed =
        old?.status === 'pending' && !(typeof old.expiresAt === 'number' && old.expiresAt < seconds(now));
      return { state: 'claimed', token, resumed };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Rare path (a duplicate or a concurrent delivery): read why the claim was refused.
      const res = await this.db.send(
        new GetCommand({ TableName: this.o.tableName, Key: { pk }, ConsistentRead: true }),
      );
      return res.Item?.status === 'done' ? { state: 'done' } : { state: 'busy' };
    }
  }

  /**
   * Marks the event done and records the ids the bridge just wrote, in one BatchWriteItem request. No condition
   * is needed: only the claim holder reaches this point.
   */
  async complete(
    eventKey: string,
    ownWrites: readonly WriteId[],
    outcome: string,
    synced?: { ticketId: string; direction: SyncDirection },
  ): Promise<void> {
    const now = this.now();
    const expiresAt = seconds(now + this.o.retentionMs);
    const requests = [
      {
        PutRequest: {
          Item: { pk: ledgerKeys.event(eventKey), status: 'done', outcome, doneAt: now, expiresAt },
        },
      },
      // One item per id: DynamoDB refuses a batch naming a key twice (ValidationException), which would fail an
      // event that was synced (the same inline image twice in one comment, #14).
      ...[...new Set(ownWrites)].map((id) => ({
        PutRequest: { Item: { pk: ledgerKeys.ownWrite(id), writtenAt: now, expiresAt } },
      })),
      // When this direction of the link last synced (the dashboard app shows it): one more item in the same
      // request, so a synced message still costs two DynamoDB requests.
      ...(synced
        ? [
            {
              PutRequest: {
                Item: { pk: ledgerKeys.lastSynced(synced.ticketId, synced.direction), at: now, expiresAt },
              },
            },
          ]
        : []),
    ];
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Record<string, unknown[]> | undefined = { [this.o.tableName]: requests.slice(i, i + 25) };
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        // DynamoDB kept throttling the batch: retryable, never a reason to give up on the event.
        if (attempt > 5)
          throw new RetryableError('ledger batch write left unprocessed items', 'dynamodb-unprocessed');
        const res = await this.db.send(new BatchWriteCommand({ RequestItems: pending as never }));
        pending = res.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  }

  /**
   * Records that the event failed for good and went to the dead-letter queue, so reconciliation does not enqueue
   * it again every run; a redrive can still claim it.
   */
  markDeadLettered(eventKey: string, token: string, reason: string): Promise<void> {
    const now = this.now();
    return this.replaceIfOwned(token, {
      pk: ledgerKeys.event(eventKey),
      status: DEAD_LETTERED,
      reason: reason.slice(0, 200),
      at: now,
      expiresAt: seconds(now + this.o.retentionMs),
    });
  }

  /** Gives a claim back after a retryable failure so the redelivery can take it at once. */
  release(eventKey: string, token: string): Promise<void> {
    return this.deleteIfOwned(ledgerKeys.event(eventKey), token);
  }

  /**
   * Gives a claim back after a failure that may have left a write applied (a 5xx or timeout after a POST/PUT):
   * the claim stays `pending` with an expired lease, so the next claim takes it at once and sees `resumed`.
   */
  releaseUncertain(eventKey: string, token: string): Promise<void> {
    const now = this.now();
    return this.replaceIfOwned(token, {
      pk: ledgerKeys.event(eventKey),
      status: 'pending',
      token: 'released',
      leaseUntil: 0,
      uncertainAt: now,
      expiresAt: seconds(now + this.o.retentionMs),
    });
  }

  /** Replaces a claim with `item` if this holder still owns it (a lapsed lease may have passed it on). */
  private async replaceIfOwned(token: string, item: Record<string, unknown>): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.o.tableName,
          Item: item,
          ConditionExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':t': token },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  private async deleteIfOwned(pk: LedgerKey, token: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.o.tableName,
          Key: { pk },
          ConditionExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':t': token },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /** Whether the bridge itself wrote this comment/message (id like `zd:comment:123`). */
  async isOwnWrite(id: WriteId): Promise<boolean> {
    const item = await this.get(ledgerKeys.ownWrite(id));
    return item !== undefined;
  }

  /** Reads many items (BatchGetItem, 100 keys a request), unexpired ones only, keyed by pk. */
  async getMany(pks: LedgerKey[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const unique = [...new Set(pks)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Array<Record<string, unknown>> | undefined = unique.slice(i, i + 100).map((pk) => ({ pk }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 5)
          throw new RetryableError('ledger batch read left unprocessed keys', 'dynamodb-unprocessed');
        const res: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.o.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of res.Responses?.[this.o.tableName] ?? []) {
          if (typeof item.expiresAt === 'number' && item.expiresAt < seconds(this.now())) continue;
          found.set(String(item.pk), item);
        }
        keys = res.UnprocessedKeys?.[this.o.tableName]?.Keys;
      }
    }
    return found;
  }

  /** Reads an item, treating one whose expiry has passed as absent. */
  async get(pk: LedgerKey): Promise<Record<string, unknown> | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.o.tableName, Key: { pk }, ConsistentRead: true }),
    );
    const item = res.Item;
    if (!item) return undefined;
    if (typeof item.expiresAt === 'number' && item.expiresAt < seconds(this.now())) return undefined;
    return item;
  }

  async put(pk: LedgerKey, attributes: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.o.tableName,
        Item: { ...attributes, pk, expiresAt: seconds(this.now() + ttlMs) },
      }),
    );
  }
}
