// Bridge configuration: one strict schema for the environment (local) and the secret JSON (deployed).
// Errors name the variable that is wrong, never its value.
import * as z from 'zod/mini';
import './schema.ts';

/** Plain http only to this machine (simulators, tunnels): anywhere else it would carry the API token in clear. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const url = z.pipe(
  z.url({ protocol: /^https?$/ }).check(
    z.refine((u) => {
      // Runs even when the URL check above failed; that failure is reported on its own.
      if (!URL.canParse(u)) return true;
      const parsed = new URL(u);
      return parsed.protocol === 'https:' || LOOPBACK.test(parsed.hostname);
    }, 'must use https (plain http is accepted only for a loopback host)'),
  ),
  z.transform((u: string) => u.replace(/\/+$/, '')),
);
const secretList = z.pipe(
  z.pipe(
    z.string().check(z.minLength(1)),
    z.transform((s: string) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ),
  z
    .array(z.string().check(z.minLength(8, 'each secret must be at least 8 characters')))
    .check(z.minLength(1)),
);
const positiveInt = z.coerce.number().check(z.int(), z.positive());
const bool = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no']),
  z.transform((v) => v === 'true' || v === '1' || v === 'yes'),
);

/** Credentials and endpoints of both platforms. Keys are the env variable names (and the secret's JSON keys). */
export const PlatformSchema = z.object({
  /** Zendesk API root, e.g. https://acme.zendesk.com; requests go to `${ZENDESK_BASE_URL}/api/v2/...`. */
  ZENDESK_BASE_URL: url,
  /** The Zendesk user the bridge acts as; basic auth `${email}/token`. */
  ZENDESK_EMAIL: z.email(),
  /** Zendesk API token of that user. */
  ZENDESK_API_TOKEN: z.string().check(z.minLength(1)),
  /** Webhook signing secret(s): comma-separated, current first, previous after it during a rotation. */
  ZENDESK_WEBHOOK_SECRET: secretList,
  /** Chatwoot root, e.g. https://chat.acme.example; requests go to `${CHATWOOT_BASE_URL}/api/v1/accounts/${id}/...`. */
  CHATWOOT_BASE_URL: url,
  /** Chatwoot account id. */
  CHATWOOT_ACCOUNT_ID: positiveInt,
  /** The API-channel inbox that holds the bridged conversations. */
  CHATWOOT_INBOX_ID: positiveInt,
  /** Access token of the Chatwoot agent (or bot) the bridge acts as; header `api_access_token`. */
  CHATWOOT_API_TOKEN: z.string().check(z.minLength(1)),
  /** Chatwoot webhook signing secret(s), comma-separated like ZENDESK_WEBHOOK_SECRET. Optional only when a URL token is set. */
  CHATWOOT_WEBHOOK_SECRET: z.optional(secretList),
  /**
   * Fallback for Chatwoot before 2026, which signs nothing: a long random token that must appear as `?token=` in
   * the webhook URL. Off unless set.
   */
  CHATWOOT_WEBHOOK_URL_TOKEN: z.optional(z.string().check(z.minLength(32, 'must be at least 32 characters'))),
  /**
   * Origins attachment links may be on besides CHATWOOT_BASE_URL's, comma-separated: Chatwoot builds `data_url` on
   * its public FRONTEND_URL, which may differ from the URL the bridge calls (docs/platforms.md). No token is ever
   * sent to them.
   */
  CHATWOOT_ATTACHMENT_ORIGINS: z.optional(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((s: string) =>
          s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        ),
      ),
      z.array(url),
    ),
  ),
  /**
   * Key of the Chatwoot dashboard app: its URL carries it in the fragment, and its requests to the bridge send it.
   * `setup` generates it; the local bridge makes one per run when unset. Without it the app's API answers 503.
   */
  DASHBOARD_APP_SECRET: z.optional(z.string().check(z.minLength(32, 'must be at least 32 characters'))),
});

/** Settings that are not secret: table names, what to sync, limits. */
const SettingsSchema = z.object({
  LINKS_TABLE_NAME: z._default(z.string().check(z.minLength(3)), 'bridge-links'),
  LEDGER_TABLE_NAME: z._default(z.string().check(z.minLength(3)), 'bridge-ledger'),
  /** Mirror Zendesk internal notes by agents into Chatwoot as private notes. */
  SYNC_INTERNAL_NOTES: z._default(bool, true),
  /**
   * Mirror public comments that agents write in Zendesk itself into Chatwoot as outgoing messages labelled with
   * the author. Off by default: Zendesk already mails them to the customer, and teams answering in Chatwoot
   * rarely answer in Zendesk too.
   */
  SYNC_AGENT_COMMENTS: z._default(bool, false),
  /** Largest attachment copied between the platforms (bytes); larger ones leave a note in the conversation. */
  ATTACHMENT_MAX_BYTES: z._default(positiveInt, 20 * 1024 * 1024),
  /**
   * Who authors a Chatwoot agent's comment in Zendesk. `agent`: the Zendesk agent with the same email, else the
   * bridge's user; `agent-or-header`: the same, but a comment by the bridge's user starts with a line naming
   * the Chatwoot agent; `header`: always the bridge's user with that line; `bridge`: always the bridge's user.
   */
  ZENDESK_AUTHORSHIP: z._default(z.enum(['agent', 'agent-or-header', 'header', 'bridge']), 'agent-or-header'),
  /** How long processed-event keys and own-write ids are kept (days); must outlive the reconciliation look-back. */
  LEDGER_RETENTION_DAYS: z._default(positiveInt, 14),
  /**
   * Where agents open Chatwoot (its FRONTEND_URL), when that is not CHATWOOT_BASE_URL: the only origin allowed to
   * embed the dashboard app (Content-Security-Policy frame-ancestors).
   */
  CHATWOOT_DASHBOARD_URL: z.optional(url),
  /**
   * Zendesk API requests per minute of the account's plan (Team 200, Growth/Professional 400, Enterprise 700, High
   * Volume 2,500); used until Zendesk's `X-Rate-Limit` header says otherwise.
   */
  ZENDESK_RATE_LIMIT: z._default(positiveInt, 200),
  /**
   * Fraction of the Zendesk account's limits (the plan's budget and Update Ticket's 100 a minute) the bridge may
   * use; the rest is left to other integrations and apps on the same account. Default 1: the bridge alone; when
   * others use up the minute anyway (X-Rate-Limit-Remaining 0) the bridge waits for its reset.
   */
  ZENDESK_RATE_SHARE: z._default(
    z.coerce.number().check(z.gt(0, 'must be more than 0'), z.lte(1, 'must be at most 1')),
    1,
  ),
  /** Zendesk's Update Ticket limit per account per minute (100, "Endpoint rate limits"; raise it only if Zendesk did). */
  ZENDESK_TICKET_UPDATE_LIMIT: z._default(positiveInt, 100),
  /** Chatwoot's per-IP request limit per minute (its RACK_ATTACK_LIMIT; default 3000). */
  CHATWOOT_RATE_LIMIT: z._default(positiveInt, 3000),
  /** Chatwoot's messages per conversation per minute (its CONVERSATION_MESSAGE_PER_MINUTE_LIMIT; default 200). */
  CHATWOOT_CONVERSATION_MESSAGE_LIMIT: z._default(positiveInt, 200),
});

export type PlatformConfig = z.output<typeof PlatformSchema>;
type SettingsConfig = z.output<typeof SettingsSchema>;
export type BridgeConfig = PlatformConfig & SettingsConfig;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A ConfigError for a bridge that is not set up yet: not one platform key is set (the deployed secret still holds the
 * placeholder the stack created it with), or the credentials are in but `setup` has not yet registered the webhooks
 * and stored their signing secrets (`webhooksPending`). A first deploy passes through both states: reconcile says so
 * once and raises no alarm (README → Deploy), since there is nothing to fix but finishing the setup. Its problems
 * are those of a ConfigError for the same input.
 */
export class NotConfiguredError extends ConfigError {
  constructor(
    problems: string[],
    /** True when only the webhook signing secrets are missing (they are what `setup` stores). */
    readonly webhooksPending: boolean,
  ) {
    super(problems);
    this.name = 'NotConfiguredError';
  }
}

/** The keys `setup` fills in after registering the webhooks. */
const WEBHOOK_SECRET_KEYS = new Set(['ZENDESK_WEBHOOK_SECRET', 'CHATWOOT_WEBHOOK_SECRET']);

const Schema = z.extend(PlatformSchema, SettingsSchema.shape).check(
  z.superRefine((c, ctx) => {
    if (!c.CHATWOOT_WEBHOOK_SECRET && !c.CHATWOOT_WEBHOOK_URL_TOKEN) {
      ctx.issues.push({
        code: 'custom',
        path: ['CHATWOOT_WEBHOOK_SECRET'],
        message:
          'is required (or set CHATWOOT_WEBHOOK_URL_TOKEN for Chatwoot versions that do not sign webhooks)',
        input: undefined,
      });
    }
  }),
);

/** Parses configuration from a flat record (env, or env merged with the secret's JSON). */
export function parseConfig(source: Record<string, string | undefined>): BridgeConfig {
  // Blank values count as unset, as they do in most .env tooling.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const result = Schema.safeParse(cleaned);
  if (!result.success) {
    // Issue messages are built from the schema, never from the input: no value can leak through them.
    const names = result.error.issues.map((i) => i.path.map(String).join('.') || '(root)');
    const problems = result.error.issues.map((i, n) => {
      const name = names[n]!;
      const missing = i.code === 'invalid_type' && cleaned[name] === undefined;
      return missing ? `${name} is not set` : `${name} ${i.message}`;
    });
    if (PLATFORM_KEYS.every((k) => cleaned[k] === undefined)) throw new NotConfiguredError(problems, false);
    if (names.every((name) => WEBHOOK_SECRET_KEYS.has(name) && cleaned[name] === undefined)) {
      throw new NotConfiguredError(problems, true);
    }
    throw new ConfigError(problems);
  }
  return result.data;
}

/** The platform variables; when none is set, the local bridge starts in sandbox mode. */
export const PLATFORM_KEYS = Object.keys(PlatformSchema.shape) as (keyof PlatformConfig)[];

/**
 * An optional whole number of milliseconds in [min, max] from a flat record (operational settings read outside the
 * schema: timeouts, retry and reconciliation timings). Unset or blank: undefined. Errors name the variable.
 */
export function msSetting(
  env: Record<string, string | undefined>,
  name: string,
  bounds: { min: number; max: number },
): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < bounds.min || ms > bounds.max) {
    throw new ConfigError([
      `${name} must be a whole number of milliseconds from ${bounds.min} to ${bounds.max}`,
    ]);
  }
  return ms;
}

/**
 * Reconciliation settings and their defaults (README, "Configure"). The interval is the schedule's (CDK context
 * `reconcileIntervalMinutes`, locally RECONCILE_INTERVAL_MS); the others are read from the environment or the
 * secret's optional keys at every run.
 */
export const RECONCILE_DEFAULTS = {
  /** How often a run starts; also the worst case a missed message waits beyond the settle time. */
  intervalMinutes: 5,
  /** Where a first run (no cursor yet) starts reading: RECONCILE_LOOKBACK_MS. */
  lookbackMs: 24 * 3600 * 1000,
  /** Chatwoot messages younger than this are left to their webhook: RECONCILE_SETTLE_MS. */
  settleMs: 60_000,
  /** Zendesk export pages a run reads at most (the export allows 10 requests a minute): RECONCILE_EXPORT_PAGES. */
  exportPages: 5,
} as const;

/** The deployed schedule's bounds: a run (timeout 2 minutes) must end before the next starts; at least hourly. */
export const RECONCILE_INTERVAL_MINUTES = { min: 3, max: 60 } as const;
