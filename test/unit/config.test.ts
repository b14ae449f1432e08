// Configuration errors name the variable and never echo its value.
import { describe, expect, it } from 'vitest';
import { ConfigError, msSetting, parseConfig } from '../../shared/config.ts';

const valid = {
  ZENDESK_BASE_URL: 'https://acme.zendesk.com/',
  ZENDESK_EMAIL: 'bridge@acme.example',
  ZENDESK_API_TOKEN: 'zd-token-value',
  ZENDESK_WEBHOOK_SECRET: 'zendesk-secret-1, zendesk-secret-0',
  CHATWOOT_BASE_URL: 'https://chat.acme.example',
  CHATWOOT_ACCOUNT_ID: '1',
  CHATWOOT_INBOX_ID: '7',
  CHATWOOT_API_TOKEN: 'cw-token-value',
  CHATWOOT_WEBHOOK_SECRET: 'chatwoot-secret-1',
};

describe('parseConfig', () => {
  it('parses a complete configuration, trimming the trailing slash and splitting secret lists', () => {
    const c = parseConfig(valid);
    expect(c.ZENDESK_BASE_URL).toBe('https://acme.zendesk.com');
    expect(c.ZENDESK_WEBHOOK_SECRET).toEqual(['zendesk-secret-1', 'zendesk-secret-0']);
    expect(c.CHATWOOT_INBOX_ID).toBe(7);
    expect(c.SYNC_INTERNAL_NOTES).toBe(true);
  });

  it('names each missing or invalid variable and never prints a value', () => {
    const bad = {
      ...valid,
      ZENDESK_BASE_URL: 'not a url with-secret-zzz',
      CHATWOOT_INBOX_ID: 'abc-secret-yyy',
    };
    delete (bad as Partial<typeof valid>).ZENDESK_API_TOKEN;
    let error: unknown;
    try {
      parseConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('ZENDESK_BASE_URL');
    expect(message).toContain('CHATWOOT_INBOX_ID');
    expect(message).toContain('ZENDESK_API_TOKEN is not set');
    expect(message).not.toContain('secret-zzz');
    expect(message).not.toContain('secret-yyy');
  });

  it('accepts a Chatwoot URL token instead of a signing secret, and neither is refused', () => {
    const { CHATWOOT_WEBHOOK_SECRET: _, ...rest } = valid;
    expect(() => parseConfig(rest)).toThrow(/CHATWOOT_WEBHOOK_SECRET is required/);
    expect(
      parseConfig({ ...rest, CHATWOOT_WEBHOOK_URL_TOKEN: 'x'.repeat(40) }).CHATWOOT_WEBHOOK_URL_TOKEN,
    ).toHaveLength(40);
  });

  it('refuses plain http to a remote host (the API token would travel in clear), but not to loopback', () => {
    expect(() => parseConfig({ ...valid, ZENDESK_BASE_URL: 'http://acme.zendesk.com' })).toThrow(
      /ZENDESK_BASE_URL must use https/,
    );
    expect(parseConfig({ ...valid, CHATWOOT_BASE_URL: 'http://127.0.0.1:3001' }).CHATWOOT_BASE_URL).toBe(
      'http://127.0.0.1:3001',
    );
  });

  it('reads millisecond settings within bounds, naming the variable (not the value) when out of them', () => {
    expect(msSetting({ X_MS: ' 250 ' }, 'X_MS', { min: 0, max: 1000 })).toBe(250);
    expect(msSetting({ X_MS: '' }, 'X_MS', { min: 0, max: 1000 })).toBeUndefined();
    expect(() => msSetting({ X_MS: '1001' }, 'X_MS', { min: 0, max: 1000 })).toThrow(
      /X_MS must be a whole number of milliseconds from 0 to 1000/,
    );
    expect(() => msSetting({ X_MS: '0' }, 'X_MS', { min: 1, max: 1000 })).toThrow(ConfigError);
  });
});
