// `bridge app-url`: prints the URL to paste into Chatwoot → Settings → Integrations → Dashboard Apps, for the
// deployed bridge (its API URL and the app key from the stack's secret) or, with --local, the running local one.
import { APP_URL_HINT, appUrl } from '../../shared/app/http.ts';
import { callLocal } from './queue-target.ts';
import { admins, isLocal, readCredentials, SETTINGS_OPTIONS, settingsStore } from './setup.ts';
import { CliError, type Command } from './types.ts';

export const appUrlCommand: Command = {
  name: 'app-url',
  summary: 'print the Chatwoot dashboard app URL (the Zendesk ticket beside the conversation)',
  usage: [
    'app-url [--url <ApiUrl>] [--secret-arn <SecretArn>] | --local | --local-url <url>',
    '',
    'Deployed: the key comes from the secret (--secret-arn, or SECRET_ARN; `setup` creates the key), the API URL',
    'from --url (the ApiUrl output) or else from the Chatwoot webhook `setup` registered.',
    'Local: --local, the running `npm run dev` bridge on http://127.0.0.1:$PORT (PORT 3000), or --local-url <url>.',
    'The key rides in the URL fragment (#key=…), which browsers never send to a server: keep the URL like a password.',
  ].join('\n'),
  options: { ...SETTINGS_OPTIONS, 'local-url': { type: 'string' } },
  async run(ctx) {
    const localUrl = ctx.options['local-url'];
    if ((isLocal(ctx) || typeof localUrl === 'string') && typeof ctx.options['secret-arn'] !== 'string') {
      const local = typeof localUrl === 'string' ? localUrl : ctx.options.local;
      const base = (typeof local === 'string' ? local : `http://127.0.0.1:${ctx.env.PORT ?? '3000'}`).replace(
        /\/+$/,
        '',
      );
      if (!/^https?:\/\/[^/]+$/.test(base))
        throw new CliError('--local-url must be a URL like http://127.0.0.1:3000');
      const { url } = await callLocal<{ url: string }>(base, 'GET', '/_local/app-url');
      ctx.print(APP_URL_HINT);
      ctx.print(url);
      return;
    }
    // Like the other deployed commands, SECRET_ARN may come from the environment.
    const arn =
      typeof ctx.options['secret-arn'] === 'string' ? ctx.options['secret-arn'] : ctx.env.SECRET_ARN;
    if (!arn)
      throw new CliError(
        'say where the configuration lives: --secret-arn <SecretArn output> (or SECRET_ARN)',
      );
    const settings = await settingsStore({ ...ctx, options: { ...ctx.options, 'secret-arn': arn } }).read();
    const key = settings.DASHBOARD_APP_SECRET?.trim();
    if (!key) {
      throw new CliError(
        'the secret has no DASHBOARD_APP_SECRET yet: run `npm run bridge -- setup` (same options) to create it',
      );
    }
    const apiUrl = typeof ctx.options.url === 'string' ? ctx.options.url : await registeredApiUrl(settings);
    if (!/^https:\/\/[^/]+/.test(apiUrl)) {
      throw new CliError("--url must be the stack's ApiUrl output (https://…)");
    }
    ctx.print(APP_URL_HINT);
    ctx.print(appUrl(apiUrl.replace(/webhooks\/(zendesk|chatwoot)\/?$/, ''), key));
  },
};

/** Without --url: the bridge's API, from the Chatwoot webhook `setup` registered (…/webhooks/chatwoot). */
async function registeredApiUrl(settings: Record<string, string | undefined>): Promise<string> {
  const { chatwoot } = admins(readCredentials(settings));
  const found = new Set(
    (await chatwoot.webhooks().catch(() => []))
      .map((w) => /^(https:\/\/[^?#]+\/)webhooks\/chatwoot\/?(?:[?#].*)?$/.exec(w.url)?.[1])
      .filter((u): u is string => u !== undefined),
  );
  if (found.size !== 1) {
    throw new CliError(
      found.size === 0
        ? 'no bridge webhook is registered in Chatwoot: pass --url <ApiUrl output> (or run setup first)'
        : 'Chatwoot has webhooks for more than one bridge: pass --url <ApiUrl output>',
    );
  }
  return [...found][0] ?? '';
}
