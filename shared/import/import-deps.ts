// Wires the history import to the bridge's runtime: a Zendesk client of its own that keeps to the import's share
// of the rate budget, the job store in the ledger table, and the same queue and links the worker uses.
import { createDynamo } from '../store/dynamo.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import { ZendeskClient } from '../zendesk/client.ts';
import { RateBudget } from './budget.ts';
import type { FeederDeps } from './feeder.ts';
import { ImportStore } from './state.ts';

export interface ImportWorkerDepsOptions {
  dynamoEndpoint?: string;
  /** Messages waiting in the sync queue (live priority). */
  backlog?: () => Promise<number>;
  /** Share of the Zendesk budget left to live sync (IMPORT_RESERVE_SHARE, default 0.5). */
  reserveShare?: number;
  onHttpRequest?: (method: string, path: string) => void;
}

export function importStore(rt: Pick<WorkerDeps, 'config' | 'now'>, dynamoEndpoint?: string): ImportStore {
  return new ImportStore(createDynamo(dynamoEndpoint), rt.config.LEDGER_TABLE_NAME, rt.now);
}

export function feederDeps(
  rt: WorkerDeps,
  o: ImportWorkerDepsOptions = {},
): FeederDeps & { budget: RateBudget } {
  const budget = new RateBudget({
    ...(o.reserveShare !== undefined ? { reserveShare: o.reserveShare } : {}),
  });
  const zendesk = new ZendeskClient({
    baseUrl: rt.config.ZENDESK_BASE_URL,
    email: rt.config.ZENDESK_EMAIL,
    apiToken: rt.config.ZENDESK_API_TOKEN,
    fetch: budget.fetch,
    ...(o.onHttpRequest ? { onRequest: o.onHttpRequest } : {}),
  });
  return {
    config: rt.config,
    zendesk,
    queue: rt.queue,
    links: rt.links,
    store: importStore(rt, o.dynamoEndpoint),
    logger: rt.logger,
    now: rt.now,
    budget,
    ...(o.backlog ? { backlog: o.backlog } : {}),
  };
}

/** IMPORT_RESERVE_SHARE: a number in [0, 0.95]; anything else is refused by name. */
export function reserveShareFrom(env: Record<string, string | undefined>): number | undefined {
  const raw = env.IMPORT_RESERVE_SHARE;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 0.95)
    throw new Error('IMPORT_RESERVE_SHARE must be between 0 and 0.95');
  return n;
}
