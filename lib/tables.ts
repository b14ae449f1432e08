// DynamoDB tables for the bridge, built from the shared TableDefs so the deployed schema and the local store never drift.
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type GlobalSecondaryIndexProps,
  ProjectionType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type KeyDef, LEDGER_TABLE, LINKS_TABLE, type TableDef } from '../shared/store/tables.ts';

function attribute(key: KeyDef): { name: string; type: AttributeType } {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/** Table props for a shared definition: on-demand, encrypted, PITR, retained, TTL from the def. */
function tablePropsFromDef(def: TableDef): TableProps {
  return {
    partitionKey: attribute(def.partitionKey),
    ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
    ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
    // Webhook traffic is spiky and small: on-demand costs nothing when idle and never throttles a burst
    // the way an under-provisioned table would.
    billingMode: BillingMode.PAY_PER_REQUEST,
    // The AWS-managed key keeps key administration out of the ops runbook while still encrypting at rest
    // with a KMS key whose use is logged in CloudTrail.
    encryption: TableEncryption.AWS_MANAGED,
    // Links are the only record of which ticket belongs to which conversation: losing them would make the
    // bridge open duplicate conversations. PITR gives 35 days of per-second restore.
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/** GSI props for a shared definition (projection ALL, like the local store's CreateTable input). */
function globalIndexPropsFromDef(def: TableDef): GlobalSecondaryIndexProps[] {
  return def.globalIndexes.map((index) => ({
    indexName: index.indexName,
    partitionKey: attribute(index.partitionKey),
    ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
    projectionType: ProjectionType.ALL,
  }));
}

/** Creates one table (and its indexes) from a shared definition; the construct id is the def's id. */
function tableFromDef(scope: Construct, def: TableDef): Table {
  const table = new Table(scope, def.id, tablePropsFromDef(def));
  for (const index of globalIndexPropsFromDef(def)) table.addGlobalSecondaryIndex(index);
  return table;
}

/** The bridge's two data tables. */
export class BridgeTables extends Construct {
  readonly links: Table;
  readonly ledger: Table;
  /** Every table with the definition it was built from. */
  readonly entries: ReadonlyArray<{ def: TableDef; table: Table }>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.links = tableFromDef(this, LINKS_TABLE);
    this.ledger = tableFromDef(this, LEDGER_TABLE);
    this.entries = [
      { def: LINKS_TABLE, table: this.links },
      { def: LEDGER_TABLE, table: this.ledger },
    ];
  }

  get all(): Table[] {
    return this.entries.map((entry) => entry.table);
  }

  /** Tables that have global secondary indexes (their data grants include `<arn>/index/*`). */
  get indexed(): Table[] {
    return this.entries.filter((entry) => entry.def.globalIndexes.length > 0).map((entry) => entry.table);
  }
}
