// Ticket ⇄ conversation links: created once with a conditional write, read through a per-container cache.
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo.ts';
import { LINKS_TABLE } from './tables.ts';

export interface Link {
  ticketId: string;
  conversationId: string;
  contactId?: string;
  /** Epoch ms; the reverse index sorts by it so a relinked conversation resolves to its newest ticket. */
  linkedAt: number;
}

const BY_CONVERSATION = LINKS_TABLE.globalIndexes[0]!.indexName;

export class LinkStore {
  // A ticket's link never changes once made, so a hit by ticket is valid for the life of the container. A
  // conversation's link can move to a follow-up ticket (relink), made by another container: a hit by conversation
  // may be stale, and the ticket writer asks `latestForConversation` when Zendesk rejects a write as closed.
  private readonly byTicket = new Map<string, Link>();
  private readonly byConversation = new Map<string, Link>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getByTicket(ticketId: string): Promise<Link | undefined> {
    const hit = this.byTicket.get(ticketId);
    if (hit) return hit;
    const res = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { ticketId }, ConsistentRead: true }),
    );
    return res.Item ? this.remember(res.Item as Link) : undefined;
  }

  /**
   * Links of many tickets (reconciliation reads every ticket a page of the change feed names, most of them never
   * bridged): cached ones from the cache, the rest with BatchGetItem, 100 keys a request.
   */
  async getManyByTicket(ticketIds: string[]): Promise<Map<string, Link>> {
    const found = new Map<string, Link>();
    const missing: string[] = [];
    for (const id of new Set(ticketIds)) {
      const hit = this.byTicket.get(id);
      if (hit) found.set(id, hit);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 100) {
      let keys: Array<Record<string, unknown>> | undefined = missing
        .slice(i, i + 100)
        .map((ticketId) => ({ ticketId }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 5) throw new Error('links batch read left unprocessed keys');
        const res: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const link = this.remember(item as Link);
          found.set(link.ticketId, link);
        }
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  async getByConversation(conversationId: string): Promise<Link | undefined> {
    return this.byConversation.get(conversationId) ?? this.latestForConversation(conversationId);
  }

  /**
   * The conversation's newest link, read from the table past the cache: a ticket write that Zendesk rejects as
   * closed asks this, so a container whose cache predates a relink to a follow-up ticket catches up.
   */
  async latestForConversation(conversationId: string): Promise<Link | undefined> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_CONVERSATION,
        KeyConditionExpression: 'conversationId = :c',
        ExpressionAttributeValues: { ':c': conversationId },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = res.Items?.[0];
    return item ? this.remember(item as Link) : undefined;
  }

  /**
   * Creates the link unless the ticket already has one; returns whichever link won, so two concurrent creators
   * agree on one conversation.
   */
  async create(link: Link): Promise<{ link: Link; created: boolean }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: link,
          ConditionExpression: 'attribute_not_exists(ticketId)',
        }),
      );
      return { link: this.remember(link), created: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      this.byTicket.delete(link.ticketId);
      const existing = await this.getByTicket(link.ticketId);
      if (!existing) throw err;
      return { link: existing, created: false };
    }
  }

  /** Forgets cached links (tests that empty the table; a relink in another container). */
  clearCache(): void {
    this.byTicket.clear();
    this.byConversation.clear();
  }

  private remember(link: Link): Link {
    setBounded(this.byTicket, link.ticketId, link);
    const current = this.byConversation.get(link.conversationId);
    if (!current || current.linkedAt <= link.linkedAt)
      setBounded(this.byConversation, link.conversationId, link);
    return link;
  }
}

/**
 * Links per cache: enough for every conversation a container sees in its lifetime in practice, and a bound on
 * memory for one that lives long; the oldest entry goes first (a miss costs one read).
 */
export const LINK_CACHE_SIZE = 10_000;

function setBounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > LINK_CACHE_SIZE) map.delete(map.keys().next().value as K);
}
