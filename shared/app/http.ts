// The dashboard app's HTTP edge, shared by its Lambda and the local bridge: GET /app (the page), and the JSON API
// under /app/api/conversations/<id> (GET status; POST …/resync and …/retry). Every API request must carry the app
// key as a bearer token; answers carry ids and ticket fields only, never credentials, and are rate-limited.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import type { BridgeConfig } from '../config.ts';
import { errorReason } from '../errors.ts';
import { count, logger } from '../observability.ts';
import { appPage } from './page.ts';
import { RateLimiter } from './rate-limit.ts';
import { type AppDeps, AppError, conversationStatus, resyncConversation, retryEvent } from './service.ts';

export const APP_PATH = '/app';
export const APP_API_PREFIX = '/app/api/';

/** Printed above the app URL by `app-url` and `setup`. */
export const APP_URL_HINT = 'Paste into Chatwoot → Settings → Integrations → Dashboard Apps (endpoint):';

/** The app's URL for a bridge whose API is at `apiUrl`: the key rides in the fragment, which no server ever logs. */
export function appUrl(apiUrl: string, key: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${APP_PATH}#key=${encodeURIComponent(key)}`;
}

/** The origin allowed to frame the app: where agents open Chatwoot. */
function chatwootOrigin(config: BridgeConfig): string {
  return new URL(config.CHATWOOT_DASHBOARD_URL ?? config.CHATWOOT_BASE_URL).origin;
}

// Per source IP: a panel load is one request, a click two (the action, then a fresh status). A desk behind one
// office address shares it: 120 at once and two a second after that is far above a desk's pace and far below a
// script's.
const perIp = new RateLimiter({ capacity: 120, perSecond: 2 });
// Wrong keys: 10 per IP, one more every minute, then every request from that IP is refused until it recovers.
const badKeys = new RateLimiter({ capacity: 10, perSecond: 1 / 60 });
// Actions per conversation: a resync lists both sides' history; one every 10 s is plenty for a person.
const perConversationAction = new RateLimiter({ capacity: 2, perSecond: 0.1 });

const API_HEADERS = {
  'content-type': 'application/json',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function json(
  statusCode: number,
  body: unknown,
  extra: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...API_HEADERS, ...extra }, body: JSON.stringify(body) };
}

const problem = (status: number, error: string, message: string, extra: Record<string, string> = {}) =>
  json(status, { error, message }, extra);

const digest = (s: string) => createHash('sha256').update(s).digest();

function keyMatches(header: string | undefined, key: string): boolean {
  const given = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  // Equal-length digests: the comparison takes the same time whatever the guess.
  return timingSafeEqual(digest(given), digest(key));
}

const RetryBody = z.object({ eventKey: z.string().check(z.minLength(1), z.maxLength(512)) });

function bodyOf(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The app's configuration, and its dependencies (API clients, stores), built only when an API route needs them. */
export interface AppContext {
  config: BridgeConfig;
  deps: () => Promise<AppDeps>;
}

const ROUTE = /^\/app\/api\/conversations\/(\d{1,18})(?:\/(resync|retry))?$/;

export async function handleAppRequest(
  event: APIGatewayProxyEventV2,
  context: () => Promise<AppContext>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext.http.method;
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  const ip = event.requestContext.http.sourceIp || 'unknown';
  count('AppRequests');
  if (!perIp.take(ip) || !badKeys.has(ip)) {
    return problem(429, 'too_many_requests', 'Too many requests; try again in a minute.', {
      'retry-after': '60',
    });
  }
  if (path === APP_PATH) {
    if (method !== 'GET') return problem(405, 'method_not_allowed', 'use GET', { allow: 'GET' });
    const { config } = await context();
    const page = appPage(chatwootOrigin(config));
    return { statusCode: 200, headers: page.headers, body: page.html };
  }
  const match = ROUTE.exec(path);
  if (!match) return problem(404, 'not_found', 'no such route');
  const [, conversationId = '', action] = match;
  const wanted = action ? 'POST' : 'GET';
  if (method !== wanted) return problem(405, 'method_not_allowed', `use ${wanted}`, { allow: wanted });
  const rt = await context();
  const key = rt.config.DASHBOARD_APP_SECRET;
  if (!key) {
    return problem(
      503,
      'not_configured',
      'The app has no key yet: run `npm run bridge -- setup` to create it.',
    );
  }
  if (!keyMatches(event.headers.authorization, key)) {
    badKeys.take(ip);
    logger.warn('app request refused', { reason: 'bad-key', route: action ?? 'status' });
    return problem(
      401,
      'unauthorized',
      'This app URL’s key is wrong or old: paste the URL from `app-url` again.',
    );
  }
  const log = { route: action ?? 'status', conversationId };
  try {
    const deps = await rt.deps();
    if (!action) return json(200, await conversationStatus(deps, conversationId));
    if (!perConversationAction.take(conversationId)) {
      return problem(429, 'too_many_requests', 'One action every few seconds, please.', {
        'retry-after': '10',
      });
    }
    if (action === 'resync') {
      const r = await resyncConversation(deps, conversationId);
      logger.info('app resync', { ...log, ticketId: r.ticketId, enqueued: r.enqueued });
      return json(200, r);
    }
    const parsed = RetryBody.safeParse(bodyOf(event));
    if (!parsed.success) return problem(400, 'bad_request', 'send {"eventKey": "…"}');
    const r = await retryEvent(deps, conversationId, parsed.data.eventKey);
    logger.info('app retry', { ...log, eventKey: r.eventKey, action: r.action, count: r.count });
    return json(200, r);
  } catch (err) {
    if (err instanceof AppError) return problem(err.status, err.code, err.message);
    // An upstream failure or our bug: say so without its text (it may hold an upstream body).
    logger.error('app request failed', { ...log, reason: errorReason(err) });
    return problem(
      502,
      'upstream_failed',
      'The bridge could not read Zendesk or Chatwoot just now; try again.',
    );
  }
}
