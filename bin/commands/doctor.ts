// `bridge doctor`: checks what a working bridge needs — every configuration key, both platforms' credentials, the
// inbox, both webhook registrations and their signing secrets — and says precisely what is wrong and how to fix
// it. Exit code 1 when anything is. Reads only; it never changes a platform or the secret.
import { CHATWOOT_WEBHOOK_EVENTS } from '../../shared/chatwoot/admin.ts';
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
  await check(r, 'Chatwoot inbox', async () => {
    const problem = await inboxProblem(chatwoot, c);
    if (problem) r.problem(problem);
    else r.ok(`Chatwoot inbox ${c.CHATWOOT_INBOX_ID}: an API inbox`);
  });
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

export async function diagnose(ctx: CommandContext): Promise<number> {
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
