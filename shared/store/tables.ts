// DynamoDB table definitions shared by the CDK stack (lib/) and the local embedded store (bin/dev.ts),
// so the tables the bridge runs against locally are the tables it deploys.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export type KeyType = 'S' | 'N';
export interface KeyDef {
  name: string;
  type: KeyType;
}
export interface IndexDef {
  indexName: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
}
export interface TableDef {
  /** Construct id in the stack and suffix of the local table name. */
  id: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  globalIndexes: IndexDef[];
  /** Epoch-seconds attribute DynamoDB's TTL deletes by (deletion may lag up to 48 h: always check in code). */
  ttlAttribute?: string;
}

/**
 * Ticket ⇄ conversation links. One immutable item per Zendesk ticket. A conversation that is relinked to a
 * follow-up ticket gets a second item; the reverse index sorts by `linkedAt` so the newest link wins.
 */
export const LINKS_TABLE: TableDef = {
  id: 'Links',
  partitionKey: { name: 'ticketId', type: 'S' },
  globalIndexes: [
    {
      indexName: 'byConversation',
      partitionKey: { name: 'conversationId', type: 'S' },
      sortKey: { name: 'linkedAt', type: 'N' },
    },
  ],
};

/**
 * The ledger: processed-event claims (`evt#…`), ids of what the bridge wrote itself (`own#…`), contacts
 * (`contact#…`), leases (`lock#…`) and reconciliation's per-platform cursors (`reconcile#…`, the only items
 * without `expiresAt`: they must never expire).
 */
export const LEDGER_TABLE: TableDef = {
  id: 'Ledger',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'expiresAt',
};

export const TABLES = [LINKS_TABLE, LEDGER_TABLE] as const;

/** CreateTable input for the local store (on-demand, like the deployed tables). */
export function createTableInput(def: TableDef, tableName: string): CreateTableCommandInput {
  const keys = [
    def.partitionKey,
    def.sortKey,
    ...def.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const attributes = new Map<string, KeyType>();
  for (const k of keys) if (k) attributes.set(k.name, k.type);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(def.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: def.globalIndexes.map((i) => ({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
              ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}
