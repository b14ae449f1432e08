// `bridge doctor`: checks what a working bridge needs — every configuration key, both platforms' credentials, the
// inbox, both webhook registrations and their signing secrets — and says precisely what is wrong and how to fix
// it. Exit code 1 when anything is. Reads only; it never changes a platform or the secret.
import {
  CHATWOOT_WEBHOOK_EVENTS,
  type ChatwootAdmin,
  FIRST_SIGNING_VERSION,
  versionAtLeast,
} from '../../shared/chatwoot/admin.ts';
import { ConfigError, parseConfig } from '../../shared/config.ts';
import { UpstreamError } from '../../shared/errors.ts';
import { ZENDESK_WEBHOOK_EVENTS } from '../../shared/zendesk/admin.ts';
import {
  admins,
  type Credentials,
  chatwootWebhookDrift,
  endpoints,
  inboxProblem,
  readCredentials,
  SETTINGS_OPTIONS,
  sameEndpoint,
  settingsStore,
  withoutQuery,
  zendeskWebhookDrift,
} from './setup.ts';
import { CliError, type Command, type CommandContext } from './types.ts';

interface Report {
  ok(line: string): void;
  problem(line: string): void;
  readonly problems: number;
}

function report(print: (line: string) => void): Report {
  let problems = 0;
  return {
    ok: (line) => print(`  ok    ${line}`),
    problem: (line) => {
      problems++;
      print(`  FIX   ${line}`);
    },
    get problems() {
      return problems;
    },
  };
}

const SETUP_HINT = 'run: npm run bridge -- setup --url <ApiUrl> (same --secret-arn/--local option)';

/** True when the value is one of a comma-separated secret list (current first, previous during a rotation). */
const listed = (list: string | undefined, value: string): boolean =>
  (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(value);

/** Runs a check; an API failure becomes a problem line naming the platform, the call and the status. */
async function check(r: Report, what: string, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (err instanceof UpstreamError && (err.status === 401 || err.status === 403)) {
      const vars = err.platform === 'zendesk' ? 'ZENDESK_EMAIL and ZENDESK_API_TOKEN' : 'CHATWOOT_API_TOKEN';
      r.problem(
        `${what}: ${err.message} — ${vars} are wrong, revoked or lack admin rights; issue a new token`,
      );
    } else {
      r.problem(
        `${what}: ${err instanceof Error ? err.message : 'failed'} — is the base URL right and reachable?`,
      );
    }
    return false;
  }
}

async function checkZendesk(
  r: Report,
  c: Credentials,
  source: Record<string, string | undefined>,
  url: string | undefined,
) {
  const { zendesk } = admins(c);
  const signedIn = await check(r, 'Zendesk credentials', async () => {
    const me = await zendesk.me();
    if (me.role === 'end-user') {
      r.problem(`Zendesk user ${me.id} is an end-user: the bridge's API user must be an agent or admin`);
    } else r.ok(`Zendesk credentials: user ${me.id} (${me.role ?? 'unknown role'}) at ${c.ZENDESK_BASE_URL}`);
  });
  if (!signedIn) return;
  await check(r, 'Zendesk webhook', async () => {
    const all = await zendesk.webhooks();
    const expected = url ? endpoints(url, c).zendesk : undefined;
    const found = all.filter((w) =>
      expected ? w.endpoint === expected : w.endpoint.replace(/\/+$/, '').endsWith('/webhooks/zendesk'),
    );
    if (found.length === 0) {
      r.problem(`Zendesk has no webhook pointing at ${expected ?? '…/webhooks/zendesk'}: ${SETUP_HINT}`);
      return;
    }
    for (const w of found) {
      const drift = zendeskWebhookDrift(w);
      if (drift.length === 0)
        r.ok(`Zendesk webhook ${w.id} → ${w.endpoint}: active, ${ZENDESK_WEBHOOK_EVENTS.length} events`);
      for (const [, problem] of drift) r.problem(`Zendesk webhook ${w.id} ${problem}: ${SETUP_HINT}`);
      const secret = await zendesk.signingSecret(w.id);
      if (secret && listed(source.ZENDESK_WEBHOOK_SECRET, secret)) {
        r.ok(`Zendesk webhook ${w.id}: its signing secret is in ZENDESK_WEBHOOK_SECRET`);
      } else {
        r.problem(
          `Zendesk webhook ${w.id} signs with a secret that is not in ZENDESK_WEBHOOK_SECRET (every delivery would be rejected): ${SETUP_HINT}`,
        );
      }
    }
  });
}

async function checkChatwoot(
  r: Report,
  c: Credentials,
  source: Record<string, string | undefined>,
  url: string | undefined,
) {
  const { chatwoot } = admins(c);
  const signedIn = await check(r, 'Chatwoot credentials', async () => {
    const profile = await chatwoot.profile();
    const member =
      profile.accounts === undefined || profile.accounts.some((a) => a.id === c.CHATWOOT_ACCOUNT_ID);
    if (member) r.ok(`Chatwoot credentials: user ${profile.id} at ${c.CHATWOOT_BASE_URL}`);
    else
      r.problem(
        `Chatwoot user ${profile.id} is not a member of account ${c.CHATWOOT_ACCOUNT_ID}: fix CHATWOOT_ACCOUNT_ID`,
      );
  });
  if (!signedIn) return;
  await check(r, 'Chatwoot role', () => checkRole(r, chatwoot, c));
  await check(r, 'Chatwoot version', () => checkVersion(r, chatwoot, c));
  await check(r, 'Chatwoot inbox', async () => {
    const problem = await inboxProblem(chatwoot, c);
    if (problem) r.problem(problem);
    else r.ok(`Chatwoot inbox ${c.CHATWOOT_INBOX_ID}: an API inbox`);
  });
  await check(r, 'Chatwoot file host', () => checkFileHost(r, chatwoot, c));
  await check(r, 'Chatwoot webhook', async () => {
    const all = await chatwoot.webhooks();
    const expected = url ? endpoints(url, c).chatwoot : undefined;
    const found = all.filter((w) =>
      expected
        ? sameEndpoint(w.url, expected)
        : withoutQuery(w.url).replace(/\/+$/, '').endsWith('/webhooks/chatwoot'),
    );
    if (found.length === 0) {
      const where = expected ? withoutQuery(expected) : '…/webhooks/chatwoot';
      r.problem(`Chatwoot has no webhook pointing at ${where}: ${SETUP_HINT}`);
      return;
    }
    for (const w of found) {
      const drift = chatwootWebhookDrift(w, expected ?? w.url);
      if (drift.length === 0)
        r.ok(`Chatwoot webhook ${w.id} → ${withoutQuery(w.url)}: ${CHATWOOT_WEBHOOK_EVENTS.join(', ')}`);
      for (const problem of drift) r.problem(`Chatwoot webhook ${w.id} ${problem}: ${SETUP_HINT}`);
      if (w.secret) {
        if (listed(source.CHATWOOT_WEBHOOK_SECRET, w.secret)) {
          r.ok(`Chatwoot webhook ${w.id}: its secret is in CHATWOOT_WEBHOOK_SECRET`);
        } else {
          r.problem(
            `Chatwoot webhook ${w.id} signs with a secret that is not in CHATWOOT_WEBHOOK_SECRET (every delivery would be rejected): ${SETUP_HINT}`,
          );
        }
      } else if (!c.CHATWOOT_WEBHOOK_URL_TOKEN) {
        r.problem(
          `Chatwoot webhook ${w.id} is not signed by this Chatwoot version: set CHATWOOT_WEBHOOK_URL_TOKEN (32+ random characters), then ${SETUP_HINT}`,
        );
      }
    }
  });
}

/**
 * `toggle_status` assigns a conversation it opens to the caller when the caller is an agent
 * (ConversationsController#handle_human_open): with an agent's token every reopen by the bridge would take the
 * conversation from its assignee until the bridge puts it back. An administrator's token is not assigned.
 */
async function checkRole(r: Report, chatwoot: ChatwootAdmin, c: Credentials): Promise<void> {
  const profile = await chatwoot.profile();
  const role = profile.accounts?.find((a) => a.id === c.CHATWOOT_ACCOUNT_ID)?.role;
  if (role === undefined || role === 'administrator') {
    r.ok(`Chatwoot role: ${role ?? 'not shown'} (reopening a conversation leaves its assignee)`);
    return;
  }
  r.problem(
    `Chatwoot user ${profile.id} is an ${role}: Chatwoot assigns every conversation the bridge reopens to it (the bridge puts the assignee back, one request later) — use an administrator's access token as CHATWOOT_API_TOKEN`,
  );
}

/** Chatwoot signs account webhooks from 4.11 (per-webhook secret); older releases need the URL token. */
async function checkVersion(r: Report, chatwoot: ChatwootAdmin, c: Credentials): Promise<void> {
  const version = await chatwoot.version();
  if (version === undefined) {
    r.ok('Chatwoot version: not shown by GET /api');
    return;
  }
  if (versionAtLeast(version, FIRST_SIGNING_VERSION)) {
    r.ok(`Chatwoot version ${version}: signs webhooks (CHATWOOT_WEBHOOK_SECRET)`);
  } else if (c.CHATWOOT_WEBHOOK_URL_TOKEN) {
    r.ok(`Chatwoot version ${version}: signs nothing; CHATWOOT_WEBHOOK_URL_TOKEN authenticates its webhooks`);
  } else {
    r.problem(
      `Chatwoot version ${version} signs no webhook (signing came in ${FIRST_SIGNING_VERSION}): set CHATWOOT_WEBHOOK_URL_TOKEN (32+ random characters), then ${SETUP_HINT}`,
    );
  }
}

/**
 * Attachment links are built on Chatwoot's FRONTEND_URL, which may differ from CHATWOOT_BASE_URL. Where doctor can
 * see that host (an Active Storage avatar of the token's user or of the inbox), it must be an allowed origin.
 */
async function checkFileHost(r: Report, chatwoot: ChatwootAdmin, c: Credentials): Promise<void> {
  const allowed = new Set(
    [c.CHATWOOT_BASE_URL, ...(c.CHATWOOT_ATTACHMENT_ORIGINS ?? [])].map((u) => new URL(u).origin),
  );
  const [profile, inbox] = await Promise.all([chatwoot.profile(), chatwoot.inbox(c.CHATWOOT_INBOX_ID)]);
  const seen = [profile.avatar_url, inbox.avatar_url]
    .filter((u): u is string => typeof u === 'string' && u.includes('/rails/active_storage/'))
    .map((u) => (URL.canParse(u) ? new URL(u).origin : undefined))
    .filter((o): o is string => o !== undefined);
  const foreign = seen.find((o) => !allowed.has(o));
  if (foreign) {
    r.problem(
      `Chatwoot serves files from ${foreign}, not from an allowed origin (its FRONTEND_URL differs from CHATWOOT_BASE_URL): set CHATWOOT_ATTACHMENT_ORIGINS=${foreign}`,
    );
  } else if (seen.length > 0) {
    r.ok(`Chatwoot file host: ${seen[0]} is allowed`);
  }
}

async function diagnose(ctx: CommandContext): Promise<number> {
  const url = typeof ctx.options.url === 'string' && ctx.options.url !== '' ? ctx.options.url : undefined;
  const store = settingsStore(ctx);
  const r = report(ctx.print);
  // Read first: when AWS refuses or cannot be reached, the one line saying so (and how to fix it) is all there is.
  const source = await store.read();
  ctx.print(`Configuration: ${store.where}`);
  try {
    parseConfig(source);
    r.ok('configuration: every required key is set and valid');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      const webhookSecret = /^(ZENDESK|CHATWOOT)_WEBHOOK_SECRET /.test(p);
      r.problem(`configuration: ${p} — ${webhookSecret ? SETUP_HINT : `set it in ${store.where}`}`);
    }
  }
  let credentials: Credentials;
  try {
    credentials = readCredentials(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.print('  (platform checks skipped until the credentials above are set)');
      return r.problems;
    }
    throw err;
  }
  await checkZendesk(r, credentials, source, url);
  await checkChatwoot(r, credentials, source, url);
  return r.problems;
}

export const doctor: Command = {
  name: 'doctor',
  summary:
    'check credentials, inbox, webhook registrations and secrets; say what to fix (exit 1 on problems)',
  usage: 'doctor (--secret-arn <SecretArn> | --local [--env-file .env]) [--url <ApiUrl>]',
  options: SETTINGS_OPTIONS,
  async run(ctx) {
    const problems = await diagnose(ctx);
    if (problems > 0)
      throw new CliError(`${problems} problem${problems === 1 ? '' : 's'} found (lines marked FIX)`);
    ctx.print('All checks passed.');
  },
};
