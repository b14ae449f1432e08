// The dashboard app's HTTP edge without a bridge behind it: what it refuses before touching anything (no key, a
// wrong key, a guesser from one address), the page's security headers, and the rate limiter itself.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AppContext, appUrl, handleAppRequest } from '../../shared/app/http.ts';
import { RateLimiter } from '../../shared/app/rate-limit.ts';
import { labelOf } from '../../shared/app/service.ts';
import { testConfig } from '../helpers/webhooks.ts';

const KEY = 'k'.repeat(43);

function request(
  path: string,
  o: { method?: string; ip?: string; key?: string | undefined } = {},
): APIGatewayProxyEventV2 {
  const method = o.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: o.key === undefined ? {} : { authorization: `Bearer ${o.key}` },
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: o.ip ?? '198.51.100.1', userAgent: 'test' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** An app context whose dependencies must never be reached: every case here is refused before. */
function context(overrides: Parameters<typeof testConfig>[0] = {}): () => Promise<AppContext> {
  const config = testConfig({ DASHBOARD_APP_SECRET: KEY, ...overrides });
  return async () => ({
    config,
    deps: async () => {
      throw new Error('dependencies reached');
    },
  });
}

describe('dashboard app HTTP edge', () => {
  it.each([
    ['no key', undefined, 401],
    ['a wrong key', 'x'.repeat(43), 401],
    ['a key one character short', KEY.slice(1), 401],
  ])('refuses %s with %i before reading anything', async (_name, key, status) => {
    const res = await handleAppRequest(
      request('/app/api/conversations/12', { key, ip: `203.0.113.${status}` }),
      context(),
    );
    expect(res.statusCode).toBe(status);
    expect(res.body).not.toContain(KEY);
  });

  it('answers 503 naming setup when no key is configured', async () => {
    const res = await handleAppRequest(
      request('/app/api/conversations/12', { key: KEY }),
      context({ DASHBOARD_APP_SECRET: undefined }),
    );
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(String(res.body)).message).toMatch(/bridge -- setup/);
  });

  it('locks out an address after ten wrong keys, even for the right key, and not other addresses', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 10; i++) {
      expect(
        (await handleAppRequest(request('/app/api/conversations/1', { key: 'wrong', ip }), context()))
          .statusCode,
      ).toBe(401);
    }
    const locked = await handleAppRequest(request('/app/api/conversations/1', { key: KEY, ip }), context());
    expect(locked.statusCode).toBe(429);
    expect(locked.headers?.['retry-after']).toBe('60');
    const other = await handleAppRequest(
      request('/app/api/conversations/1', { key: 'wrong', ip: '192.0.2.78' }),
      context(),
    );
    expect(other.statusCode).toBe(401);
  });

  it('serves the page framed only by the Chatwoot dashboard origin', async () => {
    const res = await handleAppRequest(
      request('/app', { ip: '192.0.2.10' }),
      context({ CHATWOOT_DASHBOARD_URL: 'https://desk.acme.test/app' }),
    );
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers?.['content-security-policy']);
    expect(csp).toContain('frame-ancestors https://desk.acme.test');
    expect(csp).not.toContain('chat.acme.test');
    expect(res.headers?.['x-content-type-options']).toBe('nosniff');
    expect(res.headers?.['referrer-policy']).toBe('no-referrer');
    const fallback = await handleAppRequest(request('/app', { ip: '192.0.2.10' }), context());
    expect(String(fallback.headers?.['content-security-policy'])).toContain(
      'frame-ancestors https://chat.acme.test',
    );
  });

  it.each([
    ['/app/api/conversations/1/resync', 'GET', 405],
    ['/app/api/conversations/1', 'POST', 405],
    ['/app/api/conversations/1/delete', 'POST', 404],
    ['/app/api/conversations/../secret', 'GET', 404],
    ['/app', 'POST', 405],
  ])('%s by %s: %i', async (path, method, status) => {
    const res = await handleAppRequest(request(path, { method, key: KEY, ip: '192.0.2.20' }), context());
    expect(res.statusCode).toBe(status);
  });

  it('puts the key in the URL fragment, which browsers never send', () => {
    expect(appUrl('https://abc.execute-api.eu-west-1.amazonaws.com/', 'a+b/c')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/app#key=a%2Bb%2Fc',
    );
  });

  it.each([
    ['zd:comment:123', 'Zendesk comment 123'],
    ['cw:message:45', 'Chatwoot message 45'],
    ['zd:attachment:9', 'Zendesk attachment 9'],
    ['something else', 'Sync event'],
  ])('labels %s as %s', (key, label) => expect(labelOf(key)).toBe(label));
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at its rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ capacity: 3, perSecond: 1 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    expect(limiter.take('b')).toBe(true);
    now = 1_000;
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    expect(limiter.has('a')).toBe(false);
    now = 10_000;
    expect(limiter.has('a')).toBe(true);
  });
});
