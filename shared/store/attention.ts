// Events that need a person's attention, per FIFO message group (one ticket, or a conversation not linked yet):
// held back for a retry, or dead-lettered. Written by the worker on those failure paths only (steady state pays
// nothing); read by the Chatwoot dashboard app, which shows them beside the conversation with a retry button.
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo.ts';
import { ledgerKeys } from './ledger-keys.ts';

type AttentionState = 'retrying' | 'dead-lettered';

export interface AttentionEntry {
  eventKey: string;
  state: AttentionState;
  /** The error reason (an id-like word such as `upstream-503`), never a message body. */
  reason: string;
  /** Epoch ms of the failure. */
  at: number;
  receiveCount: number;
  /** The queue message and the receipt handle of its latest receive: what "retry now" makes visible again. */
  sqsMessageId?: string;
  receiptHandle?: string;
  queueArn?: string;
}

// Items (shared/store/ledger-keys.ts): `attn#<group>` holds a map `events` of event key → entry; `dead#<event key>`
// holds a dead-lettered event's queued body, so one event can be retried alone (SQS cannot fetch one DLQ message).

const seconds = (ms: number) => Math.floor(ms / 1000);

export class AttentionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly o: { tableName: string; retentionMs: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /**
   * Records entries of one group (one update; the group's item is created on first use). For dead-lettered
   * entries, `bodies` holds the queued body, stored under its own key with the same retention as the DLQ's.
   */
  async note(
    groupId: string,
    entries: AttentionEntry[],
    bodies: Map<string, string> = new Map(),
  ): Promise<void> {
    if (entries.length === 0) return;
    const expiresAt = seconds(this.now() + this.o.retentionMs);
    for (const [eventKey, body] of bodies) {
      await this.db.send(
        new PutCommand({
          TableName: this.o.tableName,
          Item: { pk: ledgerKeys.deadLetterBody(eventKey), body, groupId, expiresAt },
        }),
      );
    }
    const names: Record<string, string> = { '#e': 'events' };
    const values: Record<string, unknown> = { ':x': expiresAt };
    const sets = entries.map(({ eventKey, ...entry }, i) => {
      names[`#k${i}`] = eventKey;
      values[`:v${i}`] = entry;
      return `#e.#k${i} = :v${i}`;
    });
    // A nested SET needs the map to exist, and creating it in the same expression would overlap the paths: update
    // when the item is there, else create it; a concurrent creator only sends us back to the update.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.o.tableName,
            Key: { pk: ledgerKeys.attention(groupId) },
            UpdateExpression: `SET ${sets.join(', ')}, expiresAt = :x`,
            ConditionExpression: 'attribute_exists(#e)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.o.tableName,
            Item: {
              pk: ledgerKeys.attention(groupId),
              events: Object.fromEntries(entries.map(({ eventKey, ...e }) => [eventKey, e])),
              expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
  }

  /** Forgets entries (the event synced after all, or a person sent it again). */
  async clear(groupId: string, eventKeys: string[]): Promise<void> {
    if (eventKeys.length === 0) return;
    const names: Record<string, string> = { '#e': 'events' };
    const removes = eventKeys.map((k, i) => {
      names[`#k${i}`] = k;
      return `#e.#k${i}`;
    });
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.o.tableName,
          Key: { pk: ledgerKeys.attention(groupId) },
          UpdateExpression: `REMOVE ${removes.join(', ')}`,
          // Without it, REMOVE on a missing item would create an empty one with no expiry.
          ConditionExpression: 'attribute_exists(#e)',
          ExpressionAttributeNames: names,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

/** The entries of an `attn#…` item as read from the ledger (anything malformed is left out). */
export function entriesOf(item: Record<string, unknown> | undefined): AttentionEntry[] {
  const events = item?.events;
  if (typeof events !== 'object' || events === null) return [];
  const out: AttentionEntry[] = [];
  for (const [eventKey, raw] of Object.entries(events as Record<string, Record<string, unknown>>)) {
    if (raw?.state !== 'retrying' && raw?.state !== 'dead-lettered') continue;
    out.push({
      eventKey,
      state: raw.state,
      reason: typeof raw.reason === 'string' ? raw.reason : 'unknown',
      at: typeof raw.at === 'number' ? raw.at : 0,
      receiveCount: typeof raw.receiveCount === 'number' ? raw.receiveCount : 0,
      ...(typeof raw.sqsMessageId === 'string' ? { sqsMessageId: raw.sqsMessageId } : {}),
      ...(typeof raw.receiptHandle === 'string' ? { receiptHandle: raw.receiptHandle } : {}),
      ...(typeof raw.queueArn === 'string' ? { queueArn: raw.queueArn } : {}),
    });
  }
  return out.sort((a, b) => a.at - b.at);
}
