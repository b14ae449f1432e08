// `bridge app-url`: prints the URL to paste into Chatwoot → Settings → Integrations → Dashboard Apps, for the
// deployed bridge (its API URL and the app key from the stack's secret) or, with --local, the running local one.
import { APP_URL_HINT, appUrl } from '../../shared/app/http.ts';
import { callLocal } from './queue-target.ts';
import { isLocal, settingsStore } from './setup.ts';
import { CliError, type Command } from './types.ts';

export const appUrlCommand: Command = {
  name: 'app-url',
  summary: 'print the Chatwoot dashboard app URL (the Zendesk ticket beside the conversation)',
  usage: [
    'app-url (--url <ApiUrl> --secret-arn <SecretArn> | --local [url])',
    '',
    'Deployed: the stack outputs ApiUrl and SecretArn (the key is in the secret; `setup` creates it).',
    'Local: the running `npm run dev` bridge; --local <url> (default http://127.0.0.1:$PORT, PORT 3000).',
    'The key rides in the URL fragment (#key=…), which browsers never send to a server: keep the URL like a password.',
  ].join('\n'),
  async run(ctx) {
    if (isLocal(ctx) && typeof ctx.options['secret-arn'] !== 'string') {
      const local = ctx.options.local;
      const base = (typeof local === 'string' ? local : `http://127.0.0.1:${ctx.env.PORT ?? '3000'}`).replace(
        /\/+$/,
        '',
      );
      if (!/^https?:\/\/[^/]+$/.test(base))
        throw new CliError('--local must be a URL like http://127.0.0.1:3000');
      const { url } = await callLocal<{ url: string }>(base, 'GET', '/_local/app-url');
      ctx.print(APP_URL_HINT);
      ctx.print(url);
      return;
    }
    const apiUrl = ctx.options.url;
    if (typeof apiUrl !== 'string' || !/^https:\/\/[^/]+/.test(apiUrl)) {
      throw new CliError('--url <ApiUrl output of the stack> is required (https://…)');
    }
    const settings = await settingsStore(ctx).read();
    const key = settings.DASHBOARD_APP_SECRET?.trim();
    if (!key) {
      throw new CliError(
        'the secret has no DASHBOARD_APP_SECRET yet: run `npm run bridge -- setup` (same options) to create it',
      );
    }
    ctx.print(APP_URL_HINT);
    ctx.print(appUrl(apiUrl.replace(/webhooks\/(zendesk|chatwoot)\/?$/, ''), key));
  },
};
