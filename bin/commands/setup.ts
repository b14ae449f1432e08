// `bridge setup`: registers the bridge's webhooks on Zendesk and Chatwoot for a deployed URL and stores their
// signing secrets (in the stack's Secrets Manager secret, or in .env with --local). Idempotent: existing
// webhooks are found by URL and only corrected where they differ, and the secret is written only when it changes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import '../../shared/schema.ts';
import { APP_URL_HINT, appUrl } from '../../shared/app/http.ts';
import {
  API_CHANNEL,
  CHATWOOT_WEBHOOK_EVENTS,
  ChatwootAdmin,
  type ChatwootWebhook,
  type ChatwootWebhookInput,
} from '../../shared/chatwoot/admin.ts';
import { ConfigError, PlatformSchema, parseConfig } from '../../shared/config.ts';
import { UpstreamError } from '../../shared/errors.ts';
import {
  ZENDESK_WEBHOOK_EVENTS,
  ZendeskAdmin,
  type ZendeskWebhook,
  type ZendeskWebhookInput,
} from '../../shared/zendesk/admin.ts';
import { aws, OPERATOR_PERMISSIONS, secretsFor } from './aws.ts';
import { CliError, type Command, type CommandContext, UsageError } from './types.ts';

/** Name both webhooks get, so an admin browsing either platform's settings knows what they are for. */
const WEBHOOK_NAME = 'Zendesk ⇄ Chatwoot bridge';
const WEBHOOK_SECRET_KEYS = ['ZENDESK_WEBHOOK_SECRET', 'CHATWOOT_WEBHOOK_SECRET'] as const;

const Credentials = z.pick(PlatformSchema, {
  ZENDESK_BASE_URL: true,
  ZENDESK_EMAIL: true,
  ZENDESK_API_TOKEN: true,
  CHATWOOT_BASE_URL: true,
  CHATWOOT_ACCOUNT_ID: true,
  CHATWOOT_INBOX_ID: true,
  CHATWOOT_API_TOKEN: true,
  CHATWOOT_WEBHOOK_URL_TOKEN: true,
  CHATWOOT_ATTACHMENT_ORIGINS: true,
});
export type Credentials = z.output<typeof Credentials>;

/** The options of setup and doctor (node:util parseArgs). */
export const SETTINGS_OPTIONS = {
  url: { type: 'string' },
  'secret-arn': { type: 'string' },
  local: { type: 'boolean' },
  'env-file': { type: 'string' },
} as const;

/** Where the configuration lives: the deployed stack's secret, or the local environment and its .env file. */
export interface SettingsStore {
  /** Printable name (an ARN or a file path; never a value). */
  readonly where: string;
  read(): Promise<Record<string, string | undefined>>;
  /** Merges `values` in; false when every value was already stored (nothing is written then). */
  merge(values: Record<string, string>): Promise<boolean>;
}

export const isLocal = (ctx: CommandContext): boolean =>
  ctx.options.local !== undefined && ctx.options.local !== false;

/** `--secret-arn ARN` (Secrets Manager) or `--local` (the environment, written back to `--env-file`, default .env). */
export function settingsStore(
  ctx: CommandContext,
  secrets: (arn: string) => SecretsManagerClient = secretsFor,
): SettingsStore {
  const arn = ctx.options['secret-arn'];
  if (typeof arn === 'string' && arn !== '') return secretStore(arn, secrets(arn));
  // `--local` may carry a value (other commands take the local bridge's URL there); any form means local.
  if (isLocal(ctx)) {
    const file = typeof ctx.options['env-file'] === 'string' ? ctx.options['env-file'] : '.env';
    return envFileStore(file, ctx.env);
  }
  throw new UsageError('say where the configuration lives: --secret-arn <SecretArn output> or --local');
}

function secretStore(arn: string, client: SecretsManagerClient): SettingsStore {
  const readJson = async (): Promise<Record<string, unknown>> => {
    // In the secret's own region (from its ARN), whatever the shell's profile says.
    const res = await aws(`reading the secret ${arn}`, OPERATOR_PERMISSIONS.doctor, () =>
      client.send(new GetSecretValueCommand({ SecretId: arn })),
    );
    try {
      const parsed: unknown = JSON.parse(res.SecretString ?? '');
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // fall through: reported below without echoing the content
    }
    throw new CliError(`the secret ${arn} is not a JSON object; put {"ZENDESK_BASE_URL": …} into it first`);
  };
  return {
    where: arn,
    read: async () =>
      Object.fromEntries(
        // Numbers (an account id stored as 1) are read as the functions read them (shared/config-loader.ts).
        Object.entries(await readJson()).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined,
        ]),
      ),
    merge: async (values) => {
      const current = await readJson();
      if (Object.entries(values).every(([k, v]) => current[k] === v)) return false;
      // Keys this command does not know (other settings, the template's placeholder) are kept as they are.
      const next = JSON.stringify({ ...current, ...values });
      await aws(`writing the secret ${arn}`, OPERATOR_PERMISSIONS.setup, () =>
        client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: next })),
      );
      return true;
    },
  };
}

function envFileStore(file: string, env: Record<string, string | undefined>): SettingsStore {
  return {
    where: file,
    // The environment wins over the file, as when the bridge loads .env (process.loadEnvFile).
    read: async () => ({ ...(existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {}), ...env }),
    merge: async (values) => {
      const stored = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
      if (Object.entries(values).every(([k, v]) => (env[k] ?? stored[k]) === v)) return false;
      const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
      for (const [key, value] of Object.entries(values)) {
        const line = `${key}="${value.replace(/(["\\])/g, '\\$1')}"`;
        const at = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(l));
        if (at >= 0) lines[at] = line;
        else lines.splice(lines.at(-1) === '' ? lines.length - 1 : lines.length, 0, line);
        env[key] = value;
      }
      writeFileSync(file, `${lines.join('\n').replace(/\n*$/, '')}\n`, { mode: 0o600 });
      return true;
    },
  };
}

/**
 * The platform credentials, or a ConfigError naming every missing/invalid variable. Missing webhook secrets are
 * not a problem here: providing them is what setup is for.
 */
export function readCredentials(source: Record<string, string | undefined>): Credentials {
  try {
    parseConfig(source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const blocking = err.problems.filter((p) => !WEBHOOK_SECRET_KEYS.some((k) => p.startsWith(`${k} `)));
    if (blocking.length > 0) throw new ConfigError(blocking);
  }
  return Credentials.parse(Object.fromEntries(Object.entries(source).filter(([, v]) => v?.trim())));
}

export function admins(c: Credentials): { zendesk: ZendeskAdmin; chatwoot: ChatwootAdmin } {
  return {
    zendesk: new ZendeskAdmin({
      baseUrl: c.ZENDESK_BASE_URL,
      email: c.ZENDESK_EMAIL,
      apiToken: c.ZENDESK_API_TOKEN,
    }),
    chatwoot: new ChatwootAdmin({
      baseUrl: c.CHATWOOT_BASE_URL,
      accountId: c.CHATWOOT_ACCOUNT_ID,
      apiToken: c.CHATWOOT_API_TOKEN,
    }),
  };
}

/** The two webhook endpoints under the API's base URL (the `ApiUrl` output, or either webhook URL output). */
export function endpoints(url: string, c: Pick<Credentials, 'CHATWOOT_WEBHOOK_URL_TOKEN'>) {
  let base: URL;
  try {
    base = new URL(url.replace(/webhooks\/(zendesk|chatwoot)\/?$/, ''));
  } catch {
    throw new CliError(
      `--url is not a URL; pass the stack's ApiUrl output, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/`,
    );
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  base.search = '';
  const zendesk = new URL('webhooks/zendesk', base).toString();
  const chatwoot = new URL('webhooks/chatwoot', base);
  // Chatwoot versions that do not sign: the token in the URL is the only proof a delivery is genuine.
  if (c.CHATWOOT_WEBHOOK_URL_TOKEN) chatwoot.searchParams.set('token', c.CHATWOOT_WEBHOOK_URL_TOKEN);
  return { zendesk, chatwoot: chatwoot.toString() };
}

/** Compares URLs without their query (which may hold a token that must never be printed). */
export const sameEndpoint = (a: string, b: string): boolean => withoutQuery(a) === withoutQuery(b);
export const withoutQuery = (u: string): string => u.replace(/[?#].*$/, '');

/** What is wrong with the bridge's Zendesk webhook, as `[field, problem]`; empty when it is right. */
export function zendeskWebhookDrift(w: ZendeskWebhook): Array<[keyof ZendeskWebhookInput, string]> {
  const drift: Array<[keyof ZendeskWebhookInput, string]> = [];
  if (w.status !== 'active') drift.push(['status', `is ${w.status}, not active`]);
  if (w.http_method !== 'POST') drift.push(['http_method', `uses ${w.http_method}, not POST`]);
  if (w.request_format !== 'json') drift.push(['request_format', `sends ${w.request_format}, not json`]);
  const missing = ZENDESK_WEBHOOK_EVENTS.filter((e) => !w.subscriptions?.includes(e));
  if (missing.length > 0) drift.push(['subscriptions', `is not subscribed to ${missing.join(', ')}`]);
  return drift;
}

/** What is wrong with the bridge's Chatwoot webhook; empty when it is right. */
export function chatwootWebhookDrift(w: ChatwootWebhook, expectedUrl: string): string[] {
  const drift: string[] = [];
  const missing = CHATWOOT_WEBHOOK_EVENTS.filter((e) => !w.subscriptions?.includes(e));
  if (missing.length > 0) drift.push(`is not subscribed to ${missing.join(', ')}`);
  if (w.url !== expectedUrl) drift.push('has a different URL token than CHATWOOT_WEBHOOK_URL_TOKEN');
  return drift;
}

function expectedZendeskWebhook(endpoint: string): ZendeskWebhookInput {
  return {
    name: WEBHOOK_NAME,
    status: 'active',
    endpoint,
    http_method: 'POST',
    request_format: 'json',
    subscriptions: [...ZENDESK_WEBHOOK_EVENTS],
  };
}

async function registerZendesk(admin: ZendeskAdmin, endpoint: string, print: (l: string) => void) {
  const me = await admin.me();
  print(`Zendesk: signed in as user ${me.id} (${me.role ?? 'unknown role'})`);
  const existing = (await admin.webhooks()).find((w) => w.endpoint === endpoint);
  let webhook: ZendeskWebhook;
  if (!existing) {
    webhook = await admin.createWebhook(expectedZendeskWebhook(endpoint));
    print(`Zendesk: created webhook ${webhook.id} → ${endpoint}`);
  } else {
    webhook = existing;
    const drift = zendeskWebhookDrift(existing);
    if (drift.length === 0) print(`Zendesk: webhook ${existing.id} → ${endpoint} is already registered`);
    else {
      const expected = expectedZendeskWebhook(endpoint);
      const changes: Partial<ZendeskWebhookInput> = Object.fromEntries(
        drift.map(([field]) => [field, expected[field]]),
      );
      // Keep whatever else the webhook was subscribed to; only add what the bridge needs.
      if (changes.subscriptions) {
        changes.subscriptions = [...new Set([...(existing.subscriptions ?? []), ...ZENDESK_WEBHOOK_EVENTS])];
      }
      await admin.updateWebhook(existing.id, changes);
      print(`Zendesk: webhook ${existing.id} corrected (${drift.map(([f, p]) => `${f} ${p}`).join('; ')})`);
    }
  }
  const secret = await admin.signingSecret(webhook.id);
  if (!secret) throw new CliError(`Zendesk returned no signing secret for webhook ${webhook.id}`);
  return secret;
}

async function registerChatwoot(
  admin: ChatwootAdmin,
  c: Credentials,
  endpoint: string,
  print: (l: string) => void,
) {
  const profile = await admin.profile();
  print(`Chatwoot: signed in as user ${profile.id}`);
  const problem = await inboxProblem(admin, c);
  if (problem) throw new CliError(problem);
  const input: ChatwootWebhookInput = {
    url: endpoint,
    name: WEBHOOK_NAME,
    subscriptions: [...CHATWOOT_WEBHOOK_EVENTS],
    // Stored by Chatwoot but no filter: every inbox's events arrive, and the ingress drops the others' (README).
    inbox_id: c.CHATWOOT_INBOX_ID,
  };
  const existing = (await admin.webhooks()).find((w) => sameEndpoint(w.url, endpoint));
  let webhook: ChatwootWebhook;
  if (!existing) {
    webhook = await admin.createWebhook(input);
    print(`Chatwoot: created webhook ${webhook.id} → ${withoutQuery(endpoint)}`);
  } else if (chatwootWebhookDrift(existing, endpoint).length === 0) {
    webhook = existing;
    print(`Chatwoot: webhook ${existing.id} → ${withoutQuery(endpoint)} is already registered`);
  } else {
    const subscriptions = [...new Set([...(existing.subscriptions ?? []), ...CHATWOOT_WEBHOOK_EVENTS])];
    webhook = await admin.updateWebhook(existing.id, { ...input, subscriptions });
    print(
      `Chatwoot: webhook ${existing.id} corrected (${chatwootWebhookDrift(existing, endpoint).join('; ')})`,
    );
  }
  if (!webhook.secret && !c.CHATWOOT_WEBHOOK_URL_TOKEN) {
    throw new CliError(
      'this Chatwoot does not sign webhooks (no secret on the webhook): set CHATWOOT_WEBHOOK_URL_TOKEN to a random string of 32+ characters and run setup again',
    );
  }
  return webhook.secret ?? undefined;
}

/** Why the configured inbox cannot hold bridged conversations (with the fix), or undefined when it can. */
export async function inboxProblem(admin: ChatwootAdmin, c: Credentials): Promise<string | undefined> {
  const id = c.CHATWOOT_INBOX_ID;
  try {
    const inbox = await admin.inbox(id);
    if (inbox.channel_type === API_CHANNEL) return undefined;
    return `Chatwoot inbox ${id} is a ${inbox.channel_type ?? 'unknown'} inbox, not an API inbox: create one (Settings → Inboxes → Add inbox → API) and put its id in CHATWOOT_INBOX_ID`;
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) {
      return `Chatwoot inbox ${id} does not exist in account ${c.CHATWOOT_ACCOUNT_ID} (or the token's user is not a member of it): fix CHATWOOT_INBOX_ID`;
    }
    throw err;
  }
}

/** Explains an API failure in operator terms (the platform, the call, the status), never with a body. */
function explain(err: unknown): never {
  if (err instanceof UpstreamError && (err.status === 401 || err.status === 403)) {
    const vars = err.platform === 'zendesk' ? 'ZENDESK_EMAIL / ZENDESK_API_TOKEN' : 'CHATWOOT_API_TOKEN';
    throw new CliError(`${err.message}: ${vars} are not accepted or lack admin rights`);
  }
  if (err instanceof Error && !(err instanceof CliError) && !(err instanceof ConfigError)) {
    throw new CliError(`${err.name}: ${err.message}`);
  }
  throw err;
}

export const setup: Command = {
  name: 'setup',
  summary: 'register both webhooks for a deployed URL and store their signing secrets (idempotent)',
  usage: 'setup --url <ApiUrl> (--secret-arn <SecretArn> | --local [--env-file .env])',
  options: SETTINGS_OPTIONS,
  async run(ctx) {
    const url = ctx.options.url;
    if (typeof url !== 'string' || url === '')
      throw new UsageError('--url <ApiUrl output of the stack> is required');
    const store = settingsStore(ctx);
    const stored = await store.read();
    const credentials = readCredentials(stored);
    const to = endpoints(url, credentials);
    if (!to.zendesk.startsWith('https://') && !isLocal(ctx)) {
      throw new CliError('--url must be https:// (the API Gateway URL); plain http is only for --local');
    }
    const { zendesk, chatwoot } = admins(credentials);
    ctx.print(`Configuration: ${store.where}`);
    try {
      const zendeskSecret = await registerZendesk(zendesk, to.zendesk, ctx.print);
      const chatwootSecret = await registerChatwoot(chatwoot, credentials, to.chatwoot, ctx.print);
      const values: Record<string, string> = { ZENDESK_WEBHOOK_SECRET: zendeskSecret };
      if (chatwootSecret) values.CHATWOOT_WEBHOOK_SECRET = chatwootSecret;
      // The dashboard app's key: made once, kept afterwards (a new one would break every pasted app URL).
      const appKey =
        stored.DASHBOARD_APP_SECRET && stored.DASHBOARD_APP_SECRET.trim().length >= 32
          ? stored.DASHBOARD_APP_SECRET.trim()
          : randomBytes(32).toString('base64url');
      values.DASHBOARD_APP_SECRET = appKey;
      const changed = await store.merge(values);
      ctx.print(
        changed
          ? `Stored ${Object.keys(values).join(' and ')} in ${store.where}; running functions pick them up within 5 minutes`
          : `Secrets in ${store.where} are already current: nothing changed`,
      );
      ctx.print('Done. Check everything with: npm run bridge -- doctor (same options)');
      ctx.print(APP_URL_HINT);
      ctx.print(appUrl(to.zendesk.replace(/webhooks\/zendesk$/, ''), appKey));
    } catch (err) {
      explain(err);
    }
  },
};
