// DynamoDB table definitions shared by the CDK stack (lib/tables.ts) and the local bridge, which creates them in
// its embedded store (bin/local-bridge.ts), so the tables the bridge runs against locally are the ones it deploys.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

type KeyType = 'S' | 'N';
export interface KeyDef {
  name: string;
  type: KeyType;
}
interface IndexDef {
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
 * The ledger: one item per key, every kind of key listed in shared/store/ledger-keys.ts (event claims, the ids of
 * what the bridge wrote itself, leases, lookup caches and reconciliation's cursors). Every item carries
 * `expiresAt` except the reconciliation cursors (`reconcile#…`), which must never expire.
 */
export const LEDGER_TABLE: TableDef = {
  id: 'Ledger',
  partitionKey: { name: 'pk', type: 'S' },
  globalIndexes: [],
  ttlAttribute: 'expiresAt',
};

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
