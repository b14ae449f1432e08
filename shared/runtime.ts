// Builds what the handlers need, once per container: configuration (environment, plus the Secrets Manager JSON
// when deployed, re-read after a TTL so a rotated secret is picked up), API clients, stores and the queue.
// The local bridge swaps in its queue and endpoints through `configureLocalRuntime`, so the deployed and local
// paths run the same handler code.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ChatwootClient } from './chatwoot/client.ts';
import { type BridgeConfig, ConfigError, parseConfig } from './config.ts';
import { logger } from './observability.ts';
import { SqsQueue } from './queue/sqs.ts';
import type { DeadLetterSink, EventQueue } from './queue/types.ts';
import { createDynamo } from './store/dynamo.ts';
import { Ledger } from './store/ledger.ts';
import { LinkStore } from './store/links.ts';
import type { SyncDeps } from './sync/deps.ts';
import { ZendeskClient } from './zendesk/client.ts';

/** Secrets are re-read after this long, so a rotation reaches warm containers without a deploy. */
export const SECRET_TTL_MS = 5 * 60 * 1000;

export interface Runtime extends SyncDeps {
  queue: EventQueue;
  deadLetters: DeadLetterSink;
}

export interface LocalRuntimeOptions {
  queue: EventQueue;
  deadLetters: DeadLetterSink;
  env: Record<string, string | undefined>;
  /** Count outbound calls (benchmarks, tests). */
  onHttpRequest?: (platform: 'zendesk' | 'chatwoot', method: string, path: string) => void;
  onDynamoRequest?: (operation: string) => void;
}

let local: LocalRuntimeOptions | undefined;
let cached: { runtime: Runtime; loadedAt: number; source: string } | undefined;
let db: DynamoDBDocumentClient | undefined;
let links: LinkStore | undefined;
let secrets: SecretsManagerClient | undefined;

export function configureLocalRuntime(o: LocalRuntimeOptions | undefined): void {
  local = o;
  cached = undefined;
  db = undefined;
  links = undefined;
}

/** Drops the per-container link cache, as a fresh container would start (tests of link recovery). */
export function forgetCachedLinks(): void {
  links?.clearCache();
}

async function readSource(
  env: Record<string, string | undefined>,
): Promise<Record<string, string | undefined>> {
  const arn = env.SECRET_ARN;
  if (!arn) return env;
  secrets ??= new SecretsManagerClient({});
  const res = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.SecretString ?? '');
  } catch {
    throw new ConfigError(['SECRET_ARN: the secret is not a JSON object']);
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new ConfigError(['SECRET_ARN: the secret is not a JSON object']);
  const fromSecret = Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : v == null ? undefined : String(v),
    ]),
  );
  return { ...env, ...fromSecret };
}

/** The runtime for this container; configuration errors throw ConfigError (naming variables, never values). */
export async function getRuntime(): Promise<Runtime> {
  const env = local?.env ?? process.env;
  const now = Date.now();
  if (cached && (!env.SECRET_ARN || now - cached.loadedAt < SECRET_TTL_MS)) return cached.runtime;
  const source = await readSource(env);
  const config = parseConfig(source);
  const fingerprint = JSON.stringify(config);
  if (cached && cached.source === fingerprint) {
    cached.loadedAt = now;
    return cached.runtime;
  }
  cached = { runtime: build(config, env), loadedAt: now, source: fingerprint };
  return cached.runtime;
}

function build(config: BridgeConfig, env: Record<string, string | undefined>): Runtime {
  const onHttp = local?.onHttpRequest;
  db ??= createDynamo(env.DYNAMODB_ENDPOINT, local?.onDynamoRequest);
  links ??= new LinkStore(db, config.LINKS_TABLE_NAME);
  let queue: EventQueue & Partial<DeadLetterSink>;
  let deadLetters: DeadLetterSink;
  if (local) {
    queue = local.queue;
    deadLetters = local.deadLetters;
  } else {
    queue = lazySqs(env.QUEUE_URL, 'QUEUE_URL');
    deadLetters = lazySqs(env.DLQ_URL, 'DLQ_URL');
  }
  return {
    config,
    zendesk: new ZendeskClient({
      baseUrl: config.ZENDESK_BASE_URL,
      email: config.ZENDESK_EMAIL,
      apiToken: config.ZENDESK_API_TOKEN,
      onRequest: onHttp && ((m, p) => onHttp('zendesk', m, p)),
    }),
    chatwoot: new ChatwootClient({
      baseUrl: config.CHATWOOT_BASE_URL,
      accountId: config.CHATWOOT_ACCOUNT_ID,
      inboxId: config.CHATWOOT_INBOX_ID,
      apiToken: config.CHATWOOT_API_TOKEN,
      onRequest: onHttp && ((m, p) => onHttp('chatwoot', m, p)),
    }),
    links,
    ledger: new Ledger(db, {
      tableName: config.LEDGER_TABLE_NAME,
      retentionMs: config.LEDGER_RETENTION_DAYS * 24 * 3600 * 1000,
    }),
    queue,
    deadLetters,
    logger,
    now: Date.now,
  };
}

/** The SQS client is made on first use, so a function that never sends never needs the variable. */
function lazySqs(url: string | undefined, name: string): EventQueue & DeadLetterSink {
  let q: SqsQueue | undefined;
  const get = () => {
    if (!url) throw new ConfigError([`${name} is not set`]);
    q ??= SqsQueue.fromUrl(url);
    return q;
  };
  return { send: (m) => get().send(m), deadLetter: (r, reason) => get().deadLetter(r, reason) };
}
