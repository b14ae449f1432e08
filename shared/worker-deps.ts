// What the worker and the reconciler need on top of configuration: API clients, the stores and the queue,
// built once per container and rebuilt only when the configuration changes (a rotated secret).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RATE_WAIT_MS, UNKNOWN_OUTCOME_SETTLE_MS } from './budgets.ts';
import { type BridgeConfig, msSetting } from './config.ts';
import { getQueues, loadConfig, localMode, onLocalModeChange } from './config-loader.ts';
import { DEFAULT_RESERVE_SHARE, importReserveShare } from './import/reserve.ts';
import { logger } from './observability.ts';
import { RETRY_BASE_MS } from './queue/backoff.ts';
import { sqsRedelivery } from './queue/sqs.ts';
import type { DeadLetterSink, EventQueue, RedeliveryControl } from './queue/types.ts';
import type { AttentionStore } from './store/attention.ts';
import type { CursorStore } from './store/cursors.ts';
import type { LinkStore } from './store/links.ts';
import type { SyncDeps } from './sync/deps.ts';
import { captureAwsClient } from './tracing.ts';
import type { ZendeskClient, ZendeskClientConfig } from './zendesk/client.ts';

export interface WorkerDeps extends SyncDeps {
  queue: EventQueue;
  deadLetters: DeadLetterSink;
  /** Holds a failed record back for the retry schedule or the platform's Retry-After (absent: the queue's timeout). */
  redelivery?: RedeliveryControl | undefined;
  /** First step of the retry schedule (shared/queue/backoff.ts); absent: RETRY_BASE_MS. */
  retryBaseMs?: number;
  /** Where reconciliation last read each platform's change feed to (in the ledger table). */
  cursors: CursorStore;
  /** Held and dead-lettered events per group, for the dashboard app (absent: not recorded). */
  attention?: AttentionStore;
  /** How long a platform may still finish a write after an unknown outcome (tests shorten it). */
  settleMs?: number;
  /**
   * The Zendesk client for records the history import enqueued: the same account budget, but only the slots live
   * sync leaves (SpareZendeskLimits), so imported comments never make a live event wait for its turn.
   */
  importZendesk?: ZendeskClient;
}

let cached: { deps: WorkerDeps; fingerprint: string } | undefined;
let db: DynamoDBDocumentClient | undefined;
let links: LinkStore | undefined;

onLocalModeChange(() => {
  cached = undefined;
  db = undefined;
  links = undefined;
});

/** Drops the per-container link cache, as a fresh container would start (tests of link recovery). */
export function forgetCachedLinks(): void {
  links?.clearCache();
}

/** Holds failed records back: locally the in-process queue; deployed, SQS (ChangeMessageVisibility). */
export function redeliveryControl(): RedeliveryControl | undefined {
  const local = localMode();
  return local ? local.redelivery : sqsRedelivery();
}

export async function getWorkerDeps(): Promise<WorkerDeps> {
  const loaded = await loadConfig();
  if (cached?.fingerprint === loaded.fingerprint) return cached.deps;
  cached = { deps: await build(loaded.config, loaded.env), fingerprint: loaded.fingerprint };
  return cached.deps;
}

async function build(config: BridgeConfig, env: Record<string, string | undefined>): Promise<WorkerDeps> {
  // The stores bring the AWS SDK's DynamoDB client, the largest part of the worker's code: imported here, when the
  // first batch needs them, so the function's module load stays small (README "Cold start as deployed").
  // The request budgets keep their state in DynamoDB too (the shared Zendesk budget), so they load with them, and
  // so do the platform clients (ky) and the import backfill (its job store imports the SDK's document client).
  // Deployed, they are a chunk of their own (lib/bundling.ts): not even parsed until this runs. No static import of
  // these may come back: one would pull the SDK into the worker's module load.
  const {
    createDynamo,
    Ledger,
    LinkStore,
    AttentionStore,
    CursorStore,
    DynamoBucketStore,
    MemoryBucketStore,
    ZendeskLimits,
    SpareZendeskLimits,
    ChatwootLimits,
    ZendeskClient,
    ChatwootClient,
    importBackfill,
  } = await import('./worker-deps-parts.ts');
  const local = localMode();
  const onHttp = local?.onHttpRequest;
  // Tests shorten both; neither may exceed what the stack was sized for (the worker's 30 s timeout; the
  // retry schedule behind maxReceiveCount and the queues' retention).
  // Per-attempt timeout of platform calls (default in shared/http/client.ts) and the first retry delay.
  const timeoutMs = msSetting(env, 'HTTP_TIMEOUT_MS', { min: 1, max: 25_000 });
  const retryBaseMs = msSetting(env, 'RETRY_BACKOFF_BASE_MS', { min: 1, max: RETRY_BASE_MS });
  // Never longer than a platform may take (shared/budgets.ts); tests shorten it like the retry base.
  const settleMs = msSetting(env, 'UNKNOWN_OUTCOME_SETTLE_MS', {
    min: 1,
    max: Math.min(...Object.values(UNKNOWN_OUTCOME_SETTLE_MS)),
  });
  // Each DynamoDB request becomes an X-Ray subsegment when traced (a no-op outside Lambda).
  db ??= captureAwsClient(createDynamo(env.DYNAMODB_ENDPOINT, local?.onDynamoRequest));
  // The link cache survives a configuration change: a ticket's link never changes once made (a relinked
  // conversation is re-read, see LinkStore).
  links ??= new LinkStore(db, config.LINKS_TABLE_NAME);
  // Zendesk's budget is the account's, shared by every container through one ledger item per budget;
  // Chatwoot's limits are per IP (per container) and per conversation (one worker at a time).
  const zendeskLimits = new ZendeskLimits({
    store: new DynamoBucketStore(db, config.LEDGER_TABLE_NAME),
    accountLimit: config.ZENDESK_RATE_LIMIT,
    share: config.ZENDESK_RATE_SHARE,
    ticketUpdateLimit: config.ZENDESK_TICKET_UPDATE_LIMIT,
  });
  const chatwootLimits = new ChatwootLimits({
    store: new MemoryBucketStore(),
    perIpLimit: config.CHATWOOT_RATE_LIMIT,
    perConversationLimit: config.CHATWOOT_CONVERSATION_MESSAGE_LIMIT,
  });
  const backfill = importBackfill();
  const zendeskWith = (limiter: ZendeskClientConfig['limiter']) =>
    new ZendeskClient({
      baseUrl: config.ZENDESK_BASE_URL,
      email: config.ZENDESK_EMAIL,
      apiToken: config.ZENDESK_API_TOKEN,
      timeoutMs,
      onRequest: onHttp && ((m, p) => onHttp('zendesk', m, p)),
      limiter,
    });
  // A bad value stops the import's feeder with its name (bin, functions/import-feeder.ts); live sync runs on.
  let reserveShare = DEFAULT_RESERVE_SHARE;
  try {
    reserveShare = importReserveShare(env);
  } catch {
    logger.warn('IMPORT_RESERVE_SHARE ignored: must be between 0 and 1');
  }
  const deps: WorkerDeps = {
    config,
    zendesk: zendeskWith(zendeskLimits),
    // Within the record's own wait for a slot: an imported record that finds none goes back to the queue.
    importZendesk: zendeskWith(
      new SpareZendeskLimits(zendeskLimits, { reserveShare, maxWaitMs: RATE_WAIT_MS }),
    ),
    chatwoot: new ChatwootClient({
      baseUrl: config.CHATWOOT_BASE_URL,
      accountId: config.CHATWOOT_ACCOUNT_ID,
      inboxId: config.CHATWOOT_INBOX_ID,
      apiToken: config.CHATWOOT_API_TOKEN,
      ...(config.CHATWOOT_ATTACHMENT_ORIGINS
        ? { attachmentOrigins: config.CHATWOOT_ATTACHMENT_ORIGINS }
        : {}),
      timeoutMs,
      onRequest: onHttp && ((m, p) => onHttp('chatwoot', m, p)),
      limiter: chatwootLimits,
    }),
    links,
    ledger: new Ledger(db, {
      tableName: config.LEDGER_TABLE_NAME,
      retentionMs: config.LEDGER_RETENTION_DAYS * 24 * 3600 * 1000,
    }),
    cursors: new CursorStore(db, config.LEDGER_TABLE_NAME),
    attention: new AttentionStore(db, {
      tableName: config.LEDGER_TABLE_NAME,
      retentionMs: config.LEDGER_RETENTION_DAYS * 24 * 3600 * 1000,
    }),
    ...getQueues(),
    redelivery: redeliveryControl(),
    ...(retryBaseMs !== undefined ? { retryBaseMs } : {}),
    ...(settleMs !== undefined ? { settleMs } : {}),
    logger,
    now: Date.now,
    backfill: (e) => backfill(e, deps),
  };
  return deps;
}
