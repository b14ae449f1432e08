// Wires the history import to the bridge's runtime: a Zendesk client of its own that draws from live sync's shared
// rate budget but only from what live sync leaves (shared/http/rate-limits.ts SpareZendeskLimits), the job store
// in the ledger table, and the same queue and links the worker uses.
import { SpareZendeskLimits, ZendeskLimits } from '../http/rate-limits.ts';
import { createDynamo } from '../store/dynamo.ts';
import { DynamoBucketStore } from '../store/rate-budget.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import { ZendeskClient } from '../zendesk/client.ts';
import type { FeederDeps } from './feeder.ts';
import { DEFAULT_RESERVE_SHARE, importReserveShare } from './reserve.ts';
import { ImportStore } from './state.ts';

export interface ImportWorkerDepsOptions {
  dynamoEndpoint?: string;
  /** Messages waiting in the sync queue (live priority). */
  backlog?: () => Promise<number>;
  /**
   * Share of the shared Zendesk bucket's burst the import leaves to live sync (IMPORT_RESERVE_SHARE, default 0.5):
   * the import takes a slot only while that much would still be free for live sync after it.
   */
  reserveShare?: number;
  onHttpRequest?: (method: string, path: string) => void;
}

export function importStore(rt: Pick<WorkerDeps, 'config' | 'now'>, dynamoEndpoint?: string): ImportStore {
  return new ImportStore(createDynamo(dynamoEndpoint), rt.config.LEDGER_TABLE_NAME, rt.now);
}

export function feederDeps(
  rt: WorkerDeps,
  o: ImportWorkerDepsOptions = {},
): FeederDeps & { limits: SpareZendeskLimits } {
  const db = createDynamo(o.dynamoEndpoint);
  // The same buckets as live sync's (same keys in the same ledger table, same paces from the same settings).
  const limits = new SpareZendeskLimits(
    new ZendeskLimits({
      store: new DynamoBucketStore(db, rt.config.LEDGER_TABLE_NAME),
      accountLimit: rt.config.ZENDESK_RATE_LIMIT,
      share: rt.config.ZENDESK_RATE_SHARE,
      ticketUpdateLimit: rt.config.ZENDESK_TICKET_UPDATE_LIMIT,
    }),
    { reserveShare: o.reserveShare ?? DEFAULT_RESERVE_SHARE },
  );
  const zendesk = new ZendeskClient({
    baseUrl: rt.config.ZENDESK_BASE_URL,
    email: rt.config.ZENDESK_EMAIL,
    apiToken: rt.config.ZENDESK_API_TOKEN,
    limiter: limits,
    ...(o.onHttpRequest ? { onRequest: o.onHttpRequest } : {}),
  });
  return {
    config: rt.config,
    zendesk,
    queue: rt.queue,
    links: rt.links,
    store: new ImportStore(db, rt.config.LEDGER_TABLE_NAME, rt.now),
    logger: rt.logger,
    now: rt.now,
    limits,
    ...(o.backlog ? { backlog: o.backlog } : {}),
  };
}

/** IMPORT_RESERVE_SHARE, when set (shared/import/reserve.ts). */
export function reserveShareFrom(env: Record<string, string | undefined>): number | undefined {
  return env.IMPORT_RESERVE_SHARE === undefined || env.IMPORT_RESERVE_SHARE === ''
    ? undefined
    : importReserveShare(env);
}
