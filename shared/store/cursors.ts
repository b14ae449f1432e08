// Reconciliation cursors: where each platform's change feed was last read to, one ledger item per platform,
// moved with single-item conditional writes (a version number), so two overlapping runs never move one backwards
// or both past the same changes (DynamoDB Local and dynalite have no transactions, and none is needed).
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo.ts';
import { ledgerKeys } from './ledger-keys.ts';

export type FeedName = 'zendesk' | 'chatwoot';

export interface Cursor<T> {
  /** Absent before the first run. */
  value?: T;
  /** 0 before the first write; every save must name the version it read. */
  version: number;
}

/** Another run saved the cursor since this one read it: this run stops and leaves the feed to that one. */
export class CursorConflictError extends Error {
  constructor(name: string) {
    super(`reconcile cursor ${name} was moved by another run`);
    this.name = 'CursorConflictError';
  }
}

export class CursorStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get<T>(name: FeedName): Promise<Cursor<T>> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: ledgerKeys.reconcileCursor(name) },
        ConsistentRead: true,
      }),
    );
    const item = res.Item;
    if (!item || typeof item.version !== 'number') return { version: 0 };
    return { value: item.state as T, version: item.version };
  }

  /**
   * Saves `value` if the cursor is still at `expected` (the version this run read or last wrote); returns the new
   * version. No `expiresAt`: a cursor outlives every TTL (a quiet account keeps its place).
   */
  async save<T>(name: FeedName, value: T, expected: number, now: number): Promise<number> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: ledgerKeys.reconcileCursor(name), state: value, version: expected + 1, savedAt: now },
          ConditionExpression: expected === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expected === 0 ? {} : { ExpressionAttributeValues: { ':v': expected } }),
        }),
      );
      return expected + 1;
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new CursorConflictError(name);
      throw err;
    }
  }
}
