// Configuration and the queue, once per container: the environment, plus the Secrets Manager JSON when
// deployed (re-read after a TTL so a rotated secret reaches warm containers without a deploy). This is all the
// ingress functions need, so it imports no API client or store (their bundles stay small: cold start).
// The local bridge swaps in its queue and endpoints through `setLocalMode`, so the deployed and local
// paths run the same handler code.
import { callAws, SECRETS_MANAGER } from './aws/json-api.ts';
import { type BridgeConfig, ConfigError, NotConfiguredError, parseConfig } from './config.ts';
import { count, logger, sayNotConfigured } from './observability.ts';
import { SqsQueue } from './queue/sqs.ts';
import type { DeadLetterSink, EventQueue, RedeliveryControl } from './queue/types.ts';

/** Secrets are re-read after this long. */
export const SECRET_TTL_MS = 5 * 60 * 1000;

/** What the local bridge puts in place of the deployed queues and environment (absent: deployed). */
export interface LocalMode {
  queue: EventQueue;
  deadLetters: DeadLetterSink;
  /** Holds failed records back as long as a platform asked (the local queue's twin of ChangeMessageVisibility). */
  redelivery?: RedeliveryControl;
  env: Record<string, string | undefined>;
  /** Makes held queue messages visible now (the dashboard app's retry); deployed, SQS does it. */
  releaseHeld?: (messageIds: string[]) => number;
  /** Count outbound calls (benchmarks, tests). */
  onHttpRequest?: ((platform: 'zendesk' | 'chatwoot', method: string, path: string) => void) | undefined;
  /** Each DynamoDB request: its command name and input (benchmarks size the items they write). */
  onDynamoRequest?: ((operation: string, input: unknown) => void) | undefined;
}

export interface LoadedConfig {
  config: BridgeConfig;
  /** Changes whenever the configuration does, so dependants can rebuild. */
  fingerprint: string;
  env: Record<string, string | undefined>;
}

let local: LocalMode | undefined;
let cached: { loaded: LoadedConfig; loadedAt: number } | undefined;
let queues: { queue: EventQueue; deadLetters: DeadLetterSink } | undefined;
const resetHooks: Array<() => void> = [];

export function setLocalMode(o: LocalMode | undefined): void {
  local = o;
  cached = undefined;
  queues = undefined;
  for (const hook of resetHooks) hook();
}

/** Lets modules holding per-container state (clients, caches) drop it when the local mode is set or cleared. */
export function onLocalModeChange(hook: () => void): void {
  resetHooks.push(hook);
}

export function localMode(): LocalMode | undefined {
  return local;
}

async function readSource(
  env: Record<string, string | undefined>,
): Promise<Record<string, string | undefined>> {
  const arn = env.SECRET_ARN;
  if (!arn) return env;
  // The region is the secret's own (arn:aws:secretsmanager:<region>:…), whatever the function's is.
  const region = arn.split(':')[3];
  const res = await callAws<{ SecretString?: string }>(
    SECRETS_MANAGER,
    'GetSecretValue',
    { SecretId: arn },
    region ? { region } : {},
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.SecretString ?? '');
  } catch {
    throw new ConfigError(['SECRET_ARN: the secret is not a JSON object']);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new ConfigError(['SECRET_ARN: the secret is not a JSON object']);
  }
  const fromSecret = Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : v == null ? undefined : String(v),
    ]),
  );
  // The stack owns the table names: a stray key in the secret must not point the functions elsewhere.
  const stackOwned = Object.fromEntries(STACK_OWNED.filter((k) => env[k]).map((k) => [k, env[k]]));
  return { ...env, ...fromSecret, ...stackOwned };
}

const STACK_OWNED = ['LINKS_TABLE_NAME', 'LEDGER_TABLE_NAME'] as const;

/** After a failed refresh the last good configuration is kept, and the secret is tried again this soon. */
const REFRESH_RETRY_MS = 30_000;

/**
 * The configuration; ConfigError (naming variables, never values) when it is invalid and there is no earlier
 * good one. `maxAgeMs` asks for a fresher read than the TTL (a signature mismatch may mean a rotated secret).
 */
export async function loadConfig(o: { maxAgeMs?: number } = {}): Promise<LoadedConfig> {
  const env = local?.env ?? process.env;
  const now = Date.now();
  const maxAge = Math.min(SECRET_TTL_MS, o.maxAgeMs ?? SECRET_TTL_MS);
  if (cached && (!env.SECRET_ARN || now - cached.loadedAt < maxAge)) return cached.loaded;
  let config: BridgeConfig;
  try {
    config = parseConfig(await readSource(env));
  } catch (err) {
    if (!cached) throw err;
    // A Secrets Manager blip or a mis-edited secret must not take every function down: keep serving with the
    // configuration that worked, say so loudly, and try again soon.
    logger.error('configuration refresh failed; keeping the last good configuration', {
      problems: err instanceof ConfigError ? err.problems : [err instanceof Error ? err.name : 'unknown'],
    });
    count('ConfigRefreshFailures');
    cached.loadedAt = now - SECRET_TTL_MS + REFRESH_RETRY_MS;
    return cached.loaded;
  }
  const fingerprint = JSON.stringify(config);
  cached = {
    loaded: cached?.loaded.fingerprint === fingerprint ? cached.loaded : { config, fingerprint, env },
    loadedAt: now,
  };
  return cached.loaded;
}

/**
 * False while the bridge is not set up yet (the first deploy's placeholder secret, or credentials stored but no
 * webhook secrets before `setup` ran): said once per container, no error, no metric. Any other configuration
 * problem throws as before, and is alarmed.
 */
export async function isConfigured(): Promise<boolean> {
  try {
    await loadConfig();
    return true;
  } catch (err) {
    if (!(err instanceof NotConfiguredError)) throw err;
    sayNotConfigured(err.webhooksPending);
    return false;
  }
}

/** The queue and dead-letter sink: SQS when deployed, the local bridge's emulation otherwise. */
export function getQueues(): { queue: EventQueue; deadLetters: DeadLetterSink } {
  if (local) return { queue: local.queue, deadLetters: local.deadLetters };
  queues ??= {
    queue: lazySqs(process.env.QUEUE_URL, 'QUEUE_URL'),
    deadLetters: lazySqs(process.env.DLQ_URL, 'DLQ_URL'),
  };
  return queues;
}

/** The SQS client is made on first use, so a function that never sends never needs the variable. */
function lazySqs(url: string | undefined, name: string): EventQueue & DeadLetterSink {
  let q: SqsQueue | undefined;
  const get = () => {
    if (!url) throw new ConfigError([`${name} is not set`]);
    q ??= new SqsQueue(url);
    return q;
  };
  return { send: (m) => get().send(m), deadLetter: (r, reason) => get().deadLetter(r, reason) };
}
