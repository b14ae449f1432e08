// `bridge setup` and `bridge doctor` over real HTTP against both simulators; Secrets Manager through
// aws-sdk-client-mock. What an operator sees: webhooks registered once, secrets stored once, every broken piece
// named with its fix, and exit code 1 when something is wrong.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appUrlCommand } from '../../bin/commands/app-url.ts';
import { doctor } from '../../bin/commands/doctor.ts';
import { setup } from '../../bin/commands/setup.ts';
import { CliError } from '../../bin/commands/types.ts';
import { ChatwootSimulator } from '../../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';
import { tsxArgs } from '../helpers/tsx.ts';

const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:BridgeSecret-AbCdEf';
const secret = () => randomBytes(18).toString('base64url');

let zendesk: ZendeskSimulator;
let chatwoot: ChatwootSimulator;
const s = { zendeskToken: secret(), chatwootToken: secret(), zendeskHook: secret(), chatwootHook: secret() };
const sm = mockClient(SecretsManagerClient);
/** The secret's JSON as Secrets Manager holds it; PutSecretValue replaces it, like the real service. */
let stored: Record<string, string>;

function credentials(): Record<string, string> {
  return {
    ZENDESK_BASE_URL: zendesk.baseUrl,
    ZENDESK_EMAIL: 'bridge@acme.example',
    ZENDESK_API_TOKEN: s.zendeskToken,
    CHATWOOT_BASE_URL: chatwoot.baseUrl,
    CHATWOOT_ACCOUNT_ID: '1',
    CHATWOOT_INBOX_ID: '7',
    CHATWOOT_API_TOKEN: s.chatwootToken,
  };
}

async function run(
  command: typeof setup,
  options: Record<string, string | boolean>,
  env: Record<string, string | undefined> = {},
): Promise<{ out: string[]; error?: string }> {
  const out: string[] = [];
  try {
    await command.run({ options, args: [], env, print: (l) => out.push(l) });
    return { out };
  } catch (err) {
    if (err instanceof CliError) return { out, error: err.message };
    throw err;
  }
}

const viaSecret = { url: API_URL, 'secret-arn': ARN };
const writes = (sim: { requests: Array<{ method: string; path: string }> }) =>
  sim.requests.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  zendesk = await ZendeskSimulator.start({
    email: 'bridge@acme.example',
    apiToken: s.zendeskToken,
    webhookSecret: s.zendeskHook,
  });
  chatwoot = await ChatwootSimulator.start({
    apiToken: s.chatwootToken,
    accountId: 1,
    inboxId: 7,
    webhookSecret: s.chatwootHook,
    // An administrator's token: an agent's is a problem doctor names (its own test below).
    tokenRole: 'administrator',
  });
});
afterAll(async () => {
  sm.restore();
  await Promise.all([zendesk?.close(), chatwoot?.close()]);
});
beforeEach(() => {
  zendesk.webhookAdmin.webhooks.length = 0;
  chatwoot.webhookAdmin.webhooks.length = 0;
  chatwoot.webhookAdmin.inboxes[0]!.channel_type = 'Channel::Api';
  zendesk.requests.length = 0;
  chatwoot.requests.length = 0;
  // As the stack creates it (empty keys and a generated placeholder), then filled in with the credentials.
  stored = { ...credentials(), ZENDESK_WEBHOOK_SECRET: '', CHATWOOT_WEBHOOK_SECRET: '', PLACEHOLDER: 'x1' };
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: ARN }).callsFake(async () => ({
    SecretString: JSON.stringify(stored),
  }));
  sm.on(PutSecretValueCommand, { SecretId: ARN }).callsFake(async (input: { SecretString: string }) => {
    stored = JSON.parse(input.SecretString);
    return {};
  });
});
afterEach(() => {
  expect(chatwoot.contractViolations).toEqual([]);
  expect(zendesk.contractViolations).toEqual([]);
});

describe('setup', () => {
  it('registers both webhooks for the deployed URL and merges their secrets into the stack secret', async () => {
    const { out, error } = await run(setup, viaSecret);
    expect(error).toBeUndefined();

    expect(zendesk.webhookAdmin.webhooks).toEqual([
      expect.objectContaining({
        endpoint: `${API_URL}webhooks/zendesk`,
        status: 'active',
        http_method: 'POST',
        request_format: 'json',
        subscriptions: [
          'zen:event-type:ticket.comment_added',
          'zen:event-type:ticket.status_changed',
          'zen:event-type:ticket.attachment_linked_to_comment',
        ],
      }),
    ]);
    expect(chatwoot.webhookAdmin.webhooks).toEqual([
      expect.objectContaining({
        url: `${API_URL}webhooks/chatwoot`,
        subscriptions: ['message_created', 'conversation_status_changed'],
        inbox_id: 7,
      }),
    ]);
    expect(stored).toEqual({
      ...credentials(),
      ZENDESK_WEBHOOK_SECRET: s.zendeskHook,
      CHATWOOT_WEBHOOK_SECRET: s.chatwootHook,
      // The dashboard app's key, made by setup (43 base64url characters: 32 random bytes).
      DASHBOARD_APP_SECRET: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      PLACEHOLDER: 'x1',
    });
    expect(out.join('\n')).toMatch(/Zendesk: created webhook \w+ → https:\/\/abc123/);
    expect(out.join('\n')).toMatch(/Chatwoot: created webhook \d+/);
    for (const line of out) {
      for (const value of Object.values(s)) expect(line).not.toContain(value);
    }
  });

  it('prints the dashboard app URL last, keeps its key on later runs, and app-url prints the same URL', async () => {
    const first = await run(setup, viaSecret);
    const key = (stored as Record<string, string>).DASHBOARD_APP_SECRET ?? '';
    expect(first.out.at(-1)).toBe(`${API_URL}app#key=${key}`);
    const second = await run(setup, viaSecret);
    expect((stored as Record<string, string>).DASHBOARD_APP_SECRET).toBe(key);
    expect(second.out.at(-1)).toBe(`${API_URL}app#key=${key}`);

    const printed = await run(appUrlCommand, viaSecret);
    expect(printed.error).toBeUndefined();
    expect(printed.out.at(-1)).toBe(`${API_URL}app#key=${key}`);
    // With only SECRET_ARN: the API URL is the one of the Chatwoot webhook setup registered.
    const bare = await run(appUrlCommand, {}, { SECRET_ARN: ARN });
    expect(bare.error).toBeUndefined();
    expect(bare.out.at(-1)).toBe(`${API_URL}app#key=${key}`);
    // A key someone set in the secret is kept as it is.
    (stored as Record<string, string>).DASHBOARD_APP_SECRET = 'k'.repeat(40);
    await run(setup, viaSecret);
    expect((stored as Record<string, string>).DASHBOARD_APP_SECRET).toBe('k'.repeat(40));
  });

  it('app-url says to run setup when the secret has no app key yet', async () => {
    const { error } = await run(appUrlCommand, viaSecret);
    expect(error).toMatch(/no DASHBOARD_APP_SECRET yet: run `npm run bridge -- setup`/);
  });

  it('running it twice changes nothing: no platform write, no secret write, one webhook each', async () => {
    await run(setup, viaSecret);
    zendesk.requests.length = 0;
    chatwoot.requests.length = 0;
    const puts = sm.commandCalls(PutSecretValueCommand).length;

    const { out, error } = await run(setup, viaSecret);
    expect(error).toBeUndefined();
    expect(writes(zendesk)).toEqual([]);
    expect(writes(chatwoot)).toEqual([]);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(puts);
    expect(zendesk.webhookAdmin.webhooks).toHaveLength(1);
    expect(chatwoot.webhookAdmin.webhooks).toHaveLength(1);
    expect(out.join('\n')).toContain('already current: nothing changed');
  });

  it('corrects a webhook someone changed, keeping their extra subscriptions', async () => {
    await run(setup, viaSecret);
    const zd = zendesk.webhookAdmin.webhooks[0]!;
    zd.status = 'inactive';
    zd.subscriptions = ['zen:event-type:ticket.comment_added', 'zen:event-type:user.created'];
    chatwoot.webhookAdmin.webhooks[0]!.subscriptions = ['message_created', 'contact_created'];

    const { out, error } = await run(setup, viaSecret);
    expect(error).toBeUndefined();
    expect(zendesk.webhookAdmin.webhooks).toHaveLength(1);
    expect(zd.status).toBe('active');
    expect(zd.subscriptions).toEqual(
      expect.arrayContaining([
        'zen:event-type:user.created',
        'zen:event-type:ticket.comment_added',
        'zen:event-type:ticket.status_changed',
        'zen:event-type:ticket.attachment_linked_to_comment',
      ]),
    );
    expect(chatwoot.webhookAdmin.webhooks[0]!.subscriptions).toEqual(
      expect.arrayContaining(['contact_created', 'message_created', 'conversation_status_changed']),
    );
    expect(out.join('\n')).toMatch(/Zendesk: webhook \w+ corrected \(status is inactive, not active/);
  });

  it('--local writes the secrets into the env file, keeping its other lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bridge-setup-')), '.env');
    writeFileSync(file, '# local bridge\nPORT=3100\nZENDESK_WEBHOOK_SECRET=old-secret-value\n');
    const env: Record<string, string | undefined> = { ...credentials() };
    const { error } = await run(
      setup,
      // `--local <url>` as the queue commands take it works too.
      { url: 'http://127.0.0.1:3100/', local: 'http://127.0.0.1:3100', 'env-file': file },
      env,
    );
    expect(error).toBeUndefined();
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# local bridge\nPORT=3100\n')).toBe(true);
    expect(parseEnv(text)).toMatchObject({
      PORT: '3100',
      ZENDESK_WEBHOOK_SECRET: s.zendeskHook,
      CHATWOOT_WEBHOOK_SECRET: s.chatwootHook,
    });
    expect(text.match(/ZENDESK_WEBHOOK_SECRET=/g)).toHaveLength(1);
  });

  it('refuses what cannot work, naming what to change', async () => {
    expect((await run(setup, { 'secret-arn': ARN })).error).toMatch(/--url .* is required/);
    expect((await run(setup, { url: API_URL })).error).toMatch(/--secret-arn .* or --local/);
    expect((await run(setup, { ...viaSecret, url: 'http://plain.example/' })).error).toMatch(/https/);

    chatwoot.webhookAdmin.inboxes[0]!.channel_type = 'Channel::WebWidget';
    expect((await run(setup, viaSecret)).error).toMatch(
      /inbox 7 is a Channel::WebWidget inbox, not an API inbox.*CHATWOOT_INBOX_ID/,
    );

    stored.ZENDESK_API_TOKEN = 'revoked-token';
    expect((await run(setup, viaSecret)).error).toMatch(/HTTP 401.*ZENDESK_EMAIL \/ ZENDESK_API_TOKEN/);
    delete (stored as Partial<typeof stored>).CHATWOOT_INBOX_ID;
    await expect(run(setup, viaSecret)).rejects.toThrow(/CHATWOOT_INBOX_ID is not set/);
  });
});

describe('doctor', () => {
  const fixes = (out: string[]) => out.filter((l) => l.includes('FIX'));

  it('passes once setup has run', async () => {
    await run(setup, viaSecret);
    const { out, error } = await run(doctor, viaSecret);
    expect(error).toBeUndefined();
    expect(fixes(out)).toEqual([]);
    expect(out.at(-1)).toBe('All checks passed.');
  });

  it('names every missing registration and secret, with the command that fixes it', async () => {
    const { out, error } = await run(doctor, viaSecret);
    expect(error).toBe('3 problems found (lines marked FIX)');
    expect(fixes(out)).toEqual([
      expect.stringMatching(/ZENDESK_WEBHOOK_SECRET is not set — run: npm run bridge -- setup/),
      expect.stringMatching(/Zendesk has no webhook pointing at https:\/\/abc123.*\/webhooks\/zendesk: run:/),
      expect.stringMatching(
        /Chatwoot has no webhook pointing at https:\/\/abc123.*\/webhooks\/chatwoot: run:/,
      ),
    ]);
  });

  it('finds a deactivated webhook, a missing event, a stale secret and a non-API inbox', async () => {
    await run(setup, viaSecret);
    zendesk.webhookAdmin.webhooks[0]!.status = 'inactive';
    chatwoot.webhookAdmin.webhooks[0]!.subscriptions = ['message_created'];
    stored.CHATWOOT_WEBHOOK_SECRET = 'rotated-elsewhere-1234';
    chatwoot.webhookAdmin.inboxes[0]!.channel_type = 'Channel::Email';

    const { out, error } = await run(doctor, viaSecret);
    expect(error).toBe('4 problems found (lines marked FIX)');
    const text = fixes(out).join('\n');
    expect(text).toMatch(/Zendesk webhook \w+ is inactive, not active/);
    expect(text).toMatch(/Chatwoot webhook \d+ is not subscribed to conversation_status_changed/);
    expect(text).toMatch(/Chatwoot webhook \d+ signs with a secret that is not in CHATWOOT_WEBHOOK_SECRET/);
    expect(text).toMatch(/inbox 7 is a Channel::Email inbox, not an API inbox/);
    expect(text).not.toContain('rotated-elsewhere-1234');
  });

  describe('what the Chatwoot in front of it really does (issue #13)', () => {
    afterEach(() => {
      chatwoot.configure({ tokenRole: 'administrator', version: '4.16.2' });
      chatwoot.frontendUrl = chatwoot.baseUrl;
    });

    it('names an agent-role token: Chatwoot assigns every conversation the bridge reopens to it', async () => {
      await run(setup, viaSecret);
      chatwoot.configure({ tokenRole: 'agent' });
      const { out, error } = await run(doctor, viaSecret);
      expect(error).toBe('1 problem found (lines marked FIX)');
      expect(fixes(out)).toEqual([
        expect.stringMatching(
          /is an agent: Chatwoot assigns every conversation .* administrator's access token/,
        ),
      ]);
    });

    it('names the URL token for a Chatwoot that signs no webhook (before 4.11), and is content once it is set', async () => {
      await run(setup, viaSecret);
      chatwoot.configure({ version: '4.10.1' });
      const { out } = await run(doctor, viaSecret);
      expect(fixes(out).join('\n')).toMatch(
        /Chatwoot version 4\.10\.1 signs no webhook .* set CHATWOOT_WEBHOOK_URL_TOKEN/,
      );
      stored.CHATWOOT_WEBHOOK_URL_TOKEN = randomBytes(24).toString('base64url');
      const after = await run(doctor, viaSecret);
      expect(after.out.join('\n')).toMatch(
        /ok {4}Chatwoot version 4\.10\.1: signs nothing; CHATWOOT_WEBHOOK_URL_TOKEN/,
      );
    });

    it('names a file host (FRONTEND_URL) other than CHATWOOT_BASE_URL, and the setting that allows it', async () => {
      await run(setup, viaSecret);
      chatwoot.frontendUrl = 'https://files.acme.example';
      const { out, error } = await run(doctor, viaSecret);
      expect(error).toBe('1 problem found (lines marked FIX)');
      expect(fixes(out)).toEqual([
        expect.stringMatching(
          /serves files from https:\/\/files\.acme\.example.*CHATWOOT_ATTACHMENT_ORIGINS=https:\/\/files\.acme\.example/,
        ),
      ]);
      stored.CHATWOOT_ATTACHMENT_ORIGINS = 'https://files.acme.example';
      expect((await run(doctor, viaSecret)).error).toBeUndefined();
    });
  });

  it('says which credentials are rejected, and skips the checks that need them', async () => {
    await run(setup, viaSecret);
    stored.CHATWOOT_API_TOKEN = 'wrong-token';
    const { out, error } = await run(doctor, viaSecret);
    expect(error).toBe('1 problem found (lines marked FIX)');
    expect(fixes(out)).toEqual([
      expect.stringMatching(/Chatwoot credentials: .*HTTP 401.*CHATWOOT_API_TOKEN/),
    ]);
    expect(out.join('\n')).not.toContain('wrong-token');
  });

  it('exits with code 1 and the FIX lines as a command, 0 when all is well', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-doctor-'));
    const file = join(dir, 'bridge.env');
    writeFileSync(
      file,
      `${Object.entries(credentials())
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    // Asynchronous: the simulators answering the CLI live in this process.
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          tsxArgs('bin/bridge.ts', ...args),
          // Only what a shell would pass: no platform variables from the test runner's environment.
          { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 60_000 },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const before = await cli('doctor', '--local', '--env-file', file);
    expect(before.status).toBe(1);
    expect(before.stdout).toMatch(/FIX {3}Zendesk has no webhook/);
    expect(before.stderr).toMatch(/problems found/);

    const set = await cli('setup', '--local', '--env-file', file, '--url', 'http://127.0.0.1:3999/');
    expect(set.status, set.stderr).toBe(0);
    const after = await cli('doctor', '--local', '--env-file', file, '--url', 'http://127.0.0.1:3999/');
    expect(after.stdout).toContain('All checks passed.');
    expect(after.status).toBe(0);
  });
});
