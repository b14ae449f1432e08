// The webhook ingress, shared by both platforms: bound the body, verify the signature on the raw bytes, parse,
// validate, normalise, drop what is not ours to sync, enqueue, and answer fast. Bad input gets a 4xx with a JSON
// error and leaves no trace downstream; a 5xx means our bug or our outage.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parseChatwootWebhook } from '../chatwoot/webhook.ts';
import { type BridgeConfig, ConfigError, NotConfiguredError } from '../config.ts';
import { screen } from '../events/loop-guard.ts';
import type { ParseResult } from '../events/parse-result.ts';
import { eventIds, type SyncEvent, SyncEventSchema } from '../events/sync-event.ts';
import { count, countWithReason, logger, sayNotConfigured } from '../observability.ts';
import { type EventQueue, toOutbound } from '../queue/types.ts';
import { describeIssues } from '../schema.ts';
import { parseLenientTriggerJson, parseZendeskWebhook } from '../zendesk/webhook.ts';
import { chatwootSignature, safeEqual, verifySignature, zendeskSignature } from './signature.ts';

/**
 * Largest webhook body accepted (bytes): API Gateway's HTTP API payload quota (10 MB). A Chatwoot message may hold
 * 150,000 characters and `message_created` carries its text three times, so legitimate bodies reach 0.5–2 MB
 * (docs/platforms.md, "Sizes"); and Chatwoot never retries, so a refusal loses the message.
 */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Deepest JSON nesting accepted. Real payloads nest about 6 levels; a body of 10 MB can nest millions deep,
 * which JSON.parse survives but JSON.stringify (when the event is enqueued) does not: refuse it as bad input.
 */
export const MAX_BODY_DEPTH = 64;

/** Header values are the sender's text: only id-shaped ones reach logs and events (no injection, no secrets). */
const ID_SHAPED = /^[A-Za-z0-9._:-]{1,100}$/;

// Decoding must fail on invalid UTF-8 (a 400), not silently replace bytes the signature covered.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Platform = 'zendesk' | 'chatwoot';

export interface IngressDeps {
  config: BridgeConfig;
  queue: EventQueue;
  now: () => number;
  /**
   * Re-reads the configuration sooner than its cache lifetime when a signature does not match: after a secret
   * was reset on the platform and stored, the next delivery verifies within seconds, not minutes. Returns the
   * new dependencies, or undefined when there is nothing newer (throttled to one read per 30 s).
   */
  reload?: () => Promise<IngressDeps | undefined>;
}

/**
 * The largest event body the ingress enqueues whole. SQS takes messages up to 1 MiB since August 2025 (the queues
 * set `MaximumMessageSize` to it, lib/queue.ts); 8 KiB stay free for the attributes a dead-lettered copy carries.
 * A larger event is enqueued without its text, marked `readBack`: the worker reads the message from the platform.
 */
export const MAX_QUEUE_MESSAGE_BYTES = 1024 * 1024 - 8 * 1024;

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: Record<string, unknown>): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function reject(platform: Platform, statusCode: number, error: string, message: string, ids = {}): Result {
  countWithReason('RejectedWebhooks', 'Rejected', error);
  logger.warn('rejected', { platform, statusCode, reason: error, ...ids });
  return json(statusCode, { error, message });
}

/** An authenticated body the bridge cannot use: 200, so the platform neither retries nor counts a failure. */
function unusable(platform: Platform, message: string, ids: Record<string, unknown>): Result {
  countWithReason('SkippedEvents', 'Skipped', 'unusable');
  logger.warn('unusable event skipped', { platform, problem: message, ...ids });
  return json(200, { status: 'ignored', reason: 'unusable', message });
}

/** The deepest nesting of a parsed JSON value, walked without recursion; stops counting past `limit`. */
function jsonDepth(value: unknown, limit = MAX_BODY_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Keeps a sender-chosen label (an event type) printable and short before it goes into a response or a log. */
const label = (s: string): string => s.replace(/[^\w.:-]/g, '?').slice(0, 100);

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const h = event.headers ?? {};
  // API Gateway HTTP APIs lower-case header names; the local server does too. Be lenient anyway.
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** Handles one webhook delivery. Config problems are our outage (500); everything the sender did wrong is 4xx. */
export async function handleWebhook(
  platform: Platform,
  event: APIGatewayProxyEventV2,
  loadDeps: () => Promise<IngressDeps>,
): Promise<Result> {
  const raw = event.body ?? '';
  // Bound the size before decoding so a huge body costs nothing. A UTF-16 code unit is at most 3 bytes of UTF-8 and
  // base64 decodes 4 characters to at most 3 bytes, so only a long string needs its exact byte length counted.
  const bound = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : raw.length * 3;
  const tooLarge =
    bound > MAX_BODY_BYTES + 4 && (event.isBase64Encoded || Buffer.byteLength(raw) > MAX_BODY_BYTES + 4);
  if (tooLarge) return reject(platform, 413, 'payload_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (body.length > MAX_BODY_BYTES) {
    return reject(platform, 413, 'payload_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
  }

  let deps: IngressDeps;
  try {
    deps = await loadDeps();
  } catch (err) {
    // ConfigError problems name variables, never values; other errors are logged by name only.
    const problems = err instanceof ConfigError ? err.problems : ['configuration could not be loaded'];
    // Before the first configuration no webhook is registered yet (setup needs the credentials): whatever calls
    // now is not a platform's delivery, and there is nothing to alarm on.
    // Only the empty secret: once credentials are in, a missing webhook secret is a misconfiguration here (setup
    // stores both secrets with the registrations, so a delivery without one means a secret was lost), and alarms.
    if (err instanceof NotConfiguredError && !err.webhooksPending) sayNotConfigured(false);
    else {
      count('ServerMisconfigured');
      logger.error('configuration invalid', {
        platform,
        problems,
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
    return json(500, {
      error: 'server_misconfigured',
      message: 'the bridge is not configured; see its logs',
    });
  }

  const deliveryHeader =
    platform === 'chatwoot'
      ? header(event, 'x-chatwoot-delivery')
      : header(event, 'x-zendesk-webhook-invocation-id');
  const deliveryId = deliveryHeader && ID_SHAPED.test(deliveryHeader) ? deliveryHeader : undefined;
  const ids = { deliveryId };
  let auth = authenticate(platform, event, body, deps);
  if (auth === MISMATCH && deps.reload) {
    const fresher = await deps.reload().catch(() => undefined);
    if (fresher) {
      deps = fresher;
      auth = authenticate(platform, event, body, deps);
    }
  }
  if (auth !== 'ok') return reject(platform, 401, 'unauthorized', auth, ids);

  if (body.length === 0) return reject(platform, 400, 'invalid_body', 'body is empty', ids);
  let text: string;
  if (event.isBase64Encoded) {
    try {
      text = utf8.decode(body);
    } catch {
      return reject(platform, 400, 'invalid_body', 'body is not valid UTF-8', ids);
    }
  } else {
    // A text body (how API Gateway passes JSON) is already the text: its bytes above are Buffer.from's UTF-8, where a
    // lone surrogate became U+FFFD, and decoding them back would give exactly this string without a leading BOM.
    text = raw.toWellFormed();
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  }
  let parsed: unknown;
  let lenient = false;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Trigger bodies render placeholders without JSON escaping; read those leniently before refusing.
    parsed = platform === 'zendesk' ? parseLenientTriggerJson(text) : undefined;
    if (parsed === undefined) return reject(platform, 400, 'invalid_json', 'body is not valid JSON', ids);
    lenient = true;
  }
  if (jsonDepth(parsed) > MAX_BODY_DEPTH) {
    return reject(platform, 400, 'invalid_body', `body nests deeper than ${MAX_BODY_DEPTH} levels`, ids);
  }

  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject(platform, 400, 'invalid_body', 'body must be a JSON object', ids);
  }

  const now = deps.now();
  const result: ParseResult<SyncEvent> =
    platform === 'zendesk'
      ? parseZendeskWebhook(parsed, now, deliveryId)
      : parseChatwootWebhook(parsed, now, deliveryId);
  // An authentic event is never refused for an odd value: neither platform would fix and resend it (Chatwoot never
  // retries; Zendesk's circuit breaker pauses a webhook whose requests keep failing, docs/platforms.md). What the
  // bridge cannot use is acknowledged, logged with the paths at fault (never values) and counted.
  if (result.kind === 'invalid') {
    // Text that is not JSON and does not read as a trigger template either stays unparseable.
    if (lenient) return reject(platform, 400, 'invalid_json', 'body is not valid JSON', ids);
    return unusable(platform, result.message, ids);
  }
  if (result.kind === 'ignore') {
    const reason = label(result.reason);
    count('IgnoredWebhooks');
    logger.info('ignored', { platform, reason, ...ids });
    return json(200, { status: 'ignored', reason });
  }

  const e = result.event;
  for (const part of result.skipped ?? []) {
    // Parts of the event the bridge cannot use (a location or contact card, a file with no URL): the rest syncs.
    countWithReason('SkippedParts', 'SkippedPart', part);
    logger.info('part skipped', { platform, reason: label(part), ...eventIds(e), ...ids });
  }
  const skip = screen(e, deps.config.CHATWOOT_INBOX_ID, deps.config);
  if (skip) {
    countWithReason('SkippedEvents', 'Skipped', skip);
    logger.info('skipped', { platform, reason: skip, ...eventIds(e), ...ids });
    return json(200, { status: 'ignored', reason: skip });
  }
  // What the worker will accept is checked here, so nothing the sender can put in a body gets a 202 and then
  // fails in the queue or in the worker (dead-lettered as malformed): it is the sender's 4xx instead.
  const valid = SyncEventSchema.safeParse(e);
  if (!valid.success) return unusable(platform, describeIssues(valid.error), ids);
  let message = toOutbound(e);
  if (Buffer.byteLength(message.body) > MAX_QUEUE_MESSAGE_BYTES) {
    // Only the text can be this large (attachments are references): leave it at the platform for the worker.
    message = toOutbound(withoutText(e));
    count('ReadBackEvents');
    logger.info('event too large for the queue; the worker reads it back', {
      platform,
      ...eventIds(e),
      ...ids,
    });
    if (Buffer.byteLength(message.body) > MAX_QUEUE_MESSAGE_BYTES) {
      return reject(
        platform,
        413,
        'payload_too_large',
        'the event is larger than a queue message can be',
        ids,
      );
    }
  }
  try {
    await deps.queue.send(message);
  } catch (err) {
    // Our outage: a 5xx tells the sender (Zendesk) to retry; nothing was enqueued.
    count('EnqueueFailures');
    logger.error('enqueue failed', {
      platform,
      ...eventIds(e),
      ...ids,
      error: err instanceof Error ? err.name : 'unknown',
    });
    return json(503, { error: 'unavailable', message: 'could not queue the event; retry later' });
  }
  count('AcceptedWebhooks');
  // The source's ids (ticket and comment, or conversation and message) let one query follow the event onward.
  logger.info('received', { platform, ...eventIds(e), ...ids });
  return json(202, { status: 'queued', eventKey: e.eventKey });
}

/** The event without its text, for the worker to read back from the platform (see MAX_QUEUE_MESSAGE_BYTES). */
function withoutText(e: SyncEvent): SyncEvent {
  if (e.kind === 'chatwoot.message') {
    // content_attributes are free-form (an e-mail inbox keeps whole HTML bodies there); the worker needs none of
    // them (the bridge's own marker was screened out above), so they stay at the platform with the text.
    const { contentAttributes: _attributes, ...rest } = e;
    return { ...rest, content: '', readBack: true };
  }
  // A trigger body is resolved by its text (Zendesk comments stay far below the queue's size anyway).
  if (e.kind === 'zendesk.comment' && e.via !== 'trigger') {
    const { htmlBody: _html, ...rest } = e;
    return { ...rest, body: '', readBack: true };
  }
  return e;
}

function authenticate(
  platform: Platform,
  event: APIGatewayProxyEventV2,
  body: Buffer,
  deps: IngressDeps,
): string {
  const now = deps.now();
  if (platform === 'zendesk') {
    const v = verifySignature({
      secrets: deps.config.ZENDESK_WEBHOOK_SECRET,
      signature: header(event, 'x-zendesk-webhook-signature'),
      timestamp: header(event, 'x-zendesk-webhook-signature-timestamp'),
      rawBody: body,
      now,
      sign: zendeskSignature,
    });
    return v.ok ? 'ok' : signatureMessage(v.reason);
  }
  const signature = header(event, 'x-chatwoot-signature');
  const secrets = deps.config.CHATWOOT_WEBHOOK_SECRET;
  if (secrets && (signature || !deps.config.CHATWOOT_WEBHOOK_URL_TOKEN)) {
    const v = verifySignature({
      secrets,
      signature,
      timestamp: header(event, 'x-chatwoot-timestamp'),
      rawBody: body,
      now,
      sign: chatwootSignature,
    });
    return v.ok ? 'ok' : signatureMessage(v.reason);
  }
  // Fallback for Chatwoot versions that sign nothing: a long random token in the webhook URL.
  const expected = deps.config.CHATWOOT_WEBHOOK_URL_TOKEN;
  const given = event.queryStringParameters?.token;
  if (expected && given && safeEqual(given, expected)) return 'ok';
  return 'missing or wrong webhook token';
}

function signatureMessage(reason: 'missing' | 'stale' | 'mismatch'): string {
  if (reason === 'missing') return 'signature or timestamp header missing';
  if (reason === 'stale') return 'signature timestamp is more than 5 minutes from now';
  return MISMATCH;
}

/** The one failure a rotated secret explains (missing and stale signatures are not fixed by a fresher secret). */
const MISMATCH = 'signature does not match';
