// The webhook ingress handler called directly, as the Lambda runtime calls it: every class of bad input gets the
// right status and a JSON {error, message}, nothing is enqueued for it, and no secret or header value leaks.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleWebhook, MAX_BODY_BYTES, type Platform } from '../../shared/http/ingress.ts';
import { MAX_SIGNATURE_AGE_MS } from '../../shared/http/signature.ts';
import { fixture } from '../helpers/fixtures.ts';
import {
  apiEvent,
  captureOutput,
  type Delivery,
  depsOf,
  type LogCapture,
  RecordingQueue,
  signedHeaders,
  testConfig,
} from '../helpers/webhooks.ts';

// Wrap timingSafeEqual so a test can prove the URL token goes through it (not through ===).
const spy = vi.hoisted(() => ({ timingSafeEqualCalls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return {
    ...original,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      spy.timingSafeEqualCalls++;
      return original.timingSafeEqual(a, b);
    },
  };
});

const NOW = Date.parse('2026-08-18T10:10:00Z');
const URL_TOKEN = 'url-T0k3n-0123456789abcdefghijklmnopqrstuv';

const zendeskComment = () => fixture('zendesk', 'ticket.comment_added-end-user-public.json');
const chatwootReply = () => fixture('chatwoot', 'message_created-outgoing-agent-reply.json');
const validBody = (platform: Platform) => (platform === 'zendesk' ? zendeskComment() : chatwootReply());

let config = testConfig();
let queue = new RecordingQueue();
let logs: LogCapture;

beforeAll(() => {
  logs = captureOutput({ echo: false });
});
afterAll(() => logs.stop());
beforeEach(() => {
  config = testConfig();
  queue = new RecordingQueue();
});

const secretOf = (platform: Platform) =>
  platform === 'zendesk' ? config.ZENDESK_WEBHOOK_SECRET[0]! : config.CHATWOOT_WEBHOOK_SECRET![0]!;

async function deliver(platform: Platform, d: Delivery, now = NOW) {
  const res = await handleWebhook(platform, apiEvent(platform, d), depsOf(config, queue, now));
  expect(res.headers).toMatchObject({ 'content-type': 'application/json' });
  return {
    status: res.statusCode,
    body: JSON.parse(res.body ?? '') as Record<string, unknown>,
    raw: res.body,
  };
}

/** Signs exactly these bytes with the platform's configured secret (or `secret`), at `at`. */
function signed(
  platform: Platform,
  body: string | Buffer,
  o: { secret?: string; at?: number; base64?: boolean; headers?: Record<string, string> } = {},
): Delivery {
  const headers = {
    ...signedHeaders(platform, o.secret ?? secretOf(platform), body, o.at ?? NOW),
    ...o.headers,
  };
  return { body, headers, base64: o.base64 };
}

async function expectRejected(
  platform: Platform,
  d: Delivery,
  status: number,
  error: string,
  message?: RegExp,
  now = NOW,
) {
  const queued = queue.sent.length;
  const r = await deliver(platform, d, now);
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error, message: expect.any(String) });
  if (message) expect(r.body.message).toMatch(message);
  expect(queue.sent.length).toBe(queued);
  return r;
}

describe.each(['zendesk', 'chatwoot'] as const)('%s ingress', (platform) => {
  it('queues a signed, valid webhook once, keyed by the source event', async () => {
    const r = await deliver(platform, signed(platform, JSON.stringify(validBody(platform))));
    expect(r.status).toBe(202);
    expect(queue.sent).toHaveLength(1);
    const key = platform === 'zendesk' ? 'zd:comment:39876543210001' : 'cw:message:5012';
    expect(r.body).toEqual({ status: 'queued', eventKey: key });
    expect(JSON.parse(queue.sent[0]!.body)).toMatchObject({ eventKey: key });
  });

  it('verifies a base64-encoded body on its decoded bytes', async () => {
    const raw = JSON.stringify(validBody(platform));
    expect((await deliver(platform, signed(platform, raw, { base64: true }))).status).toBe(202);
    // A signature over the base64 text instead of the bytes is refused.
    const overText = signed(platform, Buffer.from(raw).toString('base64'));
    await expectRejected(platform, { ...overText, body: raw, base64: true }, 401, 'unauthorized');
  });

  it('accepts the previous secret during a rotation, and neither an unknown nor the other platform’s', async () => {
    const previous = secretOf(platform);
    const current = 'rotated-secret-0123456789';
    const key = platform === 'zendesk' ? 'ZENDESK_WEBHOOK_SECRET' : 'CHATWOOT_WEBHOOK_SECRET';
    config = { ...config, [key]: [current, previous] };
    const raw = JSON.stringify(validBody(platform));
    expect((await deliver(platform, signed(platform, raw, { secret: current }))).status).toBe(202);
    expect((await deliver(platform, signed(platform, raw, { secret: previous }))).status).toBe(202);
    expect(queue.sent).toHaveLength(2);
    queue.sent.length = 0;
    await expectRejected(
      platform,
      signed(platform, raw, { secret: 'unknown-secret-0123' }),
      401,
      'unauthorized',
    );
    const other =
      platform === 'zendesk' ? config.CHATWOOT_WEBHOOK_SECRET![0]! : config.ZENDESK_WEBHOOK_SECRET[0]!;
    await expectRejected(platform, signed(platform, raw, { secret: other }), 401, 'unauthorized');
  });

  it('refuses a missing, wrong, tampered, stale or future signature with 401 before reading the body', async () => {
    const raw = JSON.stringify(validBody(platform));
    const good = signed(platform, raw);
    const sigHeader = platform === 'zendesk' ? 'x-zendesk-webhook-signature' : 'x-chatwoot-signature';
    const tsHeader =
      platform === 'zendesk' ? 'x-zendesk-webhook-signature-timestamp' : 'x-chatwoot-timestamp';
    const without = (h: string) => Object.fromEntries(Object.entries(good.headers!).filter(([k]) => k !== h));
    await expectRejected(platform, { body: raw }, 401, 'unauthorized', /missing/);
    await expectRejected(
      platform,
      { body: raw, headers: without(sigHeader) },
      401,
      'unauthorized',
      /missing/,
    );
    await expectRejected(platform, { body: raw, headers: without(tsHeader) }, 401, 'unauthorized', /missing/);
    await expectRejected(
      platform,
      { body: raw, headers: { ...good.headers, [sigHeader]: 'c2lnbmF0dXJl' } },
      401,
      'unauthorized',
      /does not match/,
    );
    await expectRejected(platform, { ...good, body: raw.replace('Thanks', 'Thank5') }, 401, 'unauthorized');
    const stale = NOW - MAX_SIGNATURE_AGE_MS - 2000;
    const future = NOW + MAX_SIGNATURE_AGE_MS + 2000;
    await expectRejected(platform, signed(platform, raw, { at: stale }), 401, 'unauthorized', /5 minutes/);
    await expectRejected(platform, signed(platform, raw, { at: future }), 401, 'unauthorized', /5 minutes/);
    await expectRejected(
      platform,
      { body: raw, headers: { ...good.headers, [tsHeader]: 'yesterday' } },
      401,
      'unauthorized',
    );
    // Just inside the window is still accepted: the limit is the stated one.
    expect(
      (await deliver(platform, signed(platform, raw, { at: NOW - MAX_SIGNATURE_AGE_MS + 2000 }))).status,
    ).toBe(202);
  });

  it('answers an unsigned body of any shape with 401, never revealing whether it would parse', async () => {
    for (const body of ['', 'not json', '[]', '{"event":', JSON.stringify(validBody(platform))]) {
      await expectRejected(platform, { body }, 401, 'unauthorized');
    }
  });

  it('refuses an empty body with 400', async () => {
    await expectRejected(platform, signed(platform, ''), 400, 'invalid_body', /empty/);
    await expectRejected(
      platform,
      { ...signed(platform, ''), body: undefined },
      400,
      'invalid_body',
      /empty/,
    );
  });

  it('refuses malformed JSON with 400', async () => {
    for (const body of ['{"event": "message_created",', 'not json', '\u0000', '{"id": 5012']) {
      await expectRejected(platform, signed(platform, body), 400, 'invalid_json', /not valid JSON/);
    }
    // Zendesk reads brace-wrapped text leniently (trigger placeholders are not JSON-escaped): still a 400.
    const braced = await deliver(platform, signed(platform, '{"id": 5012,, }'));
    expect(braced.status).toBe(400);
    expect(queue.sent).toEqual([]);
  });

  it('refuses a JSON value that is not an object with 400', async () => {
    for (const body of ['[]', '[{"event":"message_created"}]', '"message_created"', '42', 'null', 'true']) {
      await expectRejected(platform, signed(platform, body), 400, 'invalid_body', /must be a JSON object/);
    }
  });

  it('refuses a body that is not UTF-8 with 400, not a 5xx', async () => {
    const raw = JSON.stringify(validBody(platform));
    const at = raw.indexOf('Thanks');
    const bytes = Buffer.concat([
      Buffer.from(raw.slice(0, at)),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(raw.slice(at)),
    ]);
    await expectRejected(platform, signed(platform, bytes, { base64: true }), 400, 'invalid_body', /UTF-8/);
  });

  it('reads a text body as the UTF-8 bytes it was signed as: a leading BOM dropped, a lone surrogate as U+FFFD', async () => {
    // API Gateway hands a text body over as a string; its signature covers the string's UTF-8 bytes, in which a
    // lone surrogate is EF BF BD. Nothing else may differ from decoding those bytes.
    const raw = JSON.stringify(validBody(platform)).replace('Thanks', 'Thanks\ud800');
    const text = (r: { body: string }) => {
      const event = JSON.parse(r.body) as { body?: string; content?: string };
      return platform === 'zendesk' ? event.body : event.content;
    };
    for (const body of [raw, `\ufeff${raw}`]) {
      const event = { ...apiEvent(platform, signed(platform, body)), body };
      const r = await handleWebhook(platform, event, depsOf(config, queue, NOW));
      expect(r.statusCode, r.body).toBe(202);
      expect(text(queue.sent.at(-1)!)).toContain('Thanks\ufffd');
    }
    expect(queue.sent).toHaveLength(2);
  });

  it('refuses a body nested deeper than 64 levels with 400 (it could not be queued)', async () => {
    const body = validBody(platform);
    const raw = JSON.stringify(body);
    // content_attributes is carried into the queued event, so depth there would reach JSON.stringify.
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const hostiles = [raw.replace('{', `{"extra":${deep},`)];
    if (platform === 'chatwoot') {
      hostiles.push(raw.replace('"content_attributes":{}', `"content_attributes":{"x":${deep}}`));
    }
    for (const hostile of hostiles) {
      expect(hostile).toContain(deep);
      await expectRejected(platform, signed(platform, hostile), 400, 'invalid_body', /deeper than 64/);
    }
    body.extra = { a: { b: { c: [1, [2, { d: 3 }]] } } };
    expect((await deliver(platform, signed(platform, JSON.stringify(body)))).status).toBe(202);
  });

  it('refuses a body over 10 MB (API Gateway’s limit) with 413, plain or base64, signed or not; accepts one of exactly 10 MB', async () => {
    const raw = JSON.stringify(validBody(platform));
    const exact = `${raw.slice(0, -1)}${' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(raw))}}`;
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    const over = `${exact} `;
    for (const base64 of [false, true]) {
      await expectRejected(
        platform,
        signed(platform, over, { base64 }),
        413,
        'payload_too_large',
        /10485760 bytes/,
      );
      await expectRejected(platform, { body: over, base64 }, 413, 'payload_too_large');
      expect((await deliver(platform, signed(platform, exact, { base64 }))).status).toBe(202);
      queue.sent.length = 0;
    }
  });

  it('acknowledges a webhook it does not sync with 200 and queues nothing, so the sender does not retry', async () => {
    // Event types neither platform's parser will ever sync, and the echo of the bridge's own message.
    const ignorable =
      platform === 'zendesk'
        ? [
            { ...zendeskComment(), type: 'zen:event-type:organization.created' },
            { ...zendeskComment(), type: 'zen:event-type:user."odd" type\n' },
          ]
        : [
            { ...chatwootReply(), event: 'some_future_event' },
            { event: 'contact_created', id: 1 },
            { ...chatwootReply(), source_id: 'zendesk:comment:1' },
          ];
    for (const body of ignorable) {
      const r = await deliver(platform, signed(platform, JSON.stringify(body)));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^[\w.:?-]+$/) });
    }
    expect(queue.sent).toEqual([]);
  });

  it('answers 503 (retry later) when the queue is down, and queues nothing', async () => {
    queue.fail = true;
    await expectRejected(platform, signed(platform, JSON.stringify(validBody(platform))), 503, 'unavailable');
  });
});

/** An authentic body the bridge cannot use: acknowledged (200, so no retry and no circuit-breaker failure), not queued. */
async function expectUnusable(platform: Platform, d: Delivery) {
  const queued = queue.sent.length;
  const r = await deliver(platform, d);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ status: 'ignored', reason: 'unusable', message: expect.any(String) });
  expect(queue.sent.length).toBe(queued);
  return r;
}

describe('missing or mistyped fields in an authentic event', () => {
  it('Zendesk: acknowledged without queueing, naming the path of the field, never its value', async () => {
    const missing = zendeskComment() as { event: { comment: Record<string, unknown> } };
    delete missing.event.comment.id;
    const r1 = await expectUnusable('zendesk', signed('zendesk', JSON.stringify(missing)));
    expect(r1.body.message).toContain('event.comment.id');

    const mistyped = zendeskComment() as {
      event: { comment: Record<string, unknown> };
      detail: Record<string, unknown>;
    };
    mistyped.event.comment.is_public = 'canary-value-1';
    mistyped.detail.id = 'canary-value-2';
    const r2 = await expectUnusable('zendesk', signed('zendesk', JSON.stringify(mistyped)));
    expect(r2.body.message).toMatch(/detail\.id/);
    expect(r2.raw).not.toContain('canary');
  });

  it('Chatwoot: acknowledged without queueing, naming the path of the field, never its value', async () => {
    const missing = chatwootReply() as { conversation: Record<string, unknown> };
    delete missing.conversation.id;
    const r1 = await expectUnusable('chatwoot', signed('chatwoot', JSON.stringify(missing)));
    expect(r1.body.message).toContain('conversation.id');

    for (const [field, value] of [
      ['id', 'canary-value-3'],
      ['message_type', 'canary-value-4'],
      ['private', 'canary-value-5'],
    ] as const) {
      const r = await expectUnusable(
        'chatwoot',
        signed('chatwoot', JSON.stringify({ ...chatwootReply(), [field]: value })),
      );
      expect(r.body.message).toMatch(new RegExp(`^${field}:`));
      expect(r.raw).not.toContain('canary');
    }
    const r = await expectUnusable('chatwoot', signed('chatwoot', '{"id": 5}'));
    expect(r.body.message).toMatch(/event/);
  });
});

describe('the signed-request contract fixture', () => {
  it('verifies with its documented secret and headers, and is queued', async () => {
    const f = fixture<{ signing_secret: string; headers: Record<string, string>; raw_body: string }>(
      'zendesk',
      'signed-request.test-secret.example.json',
    );
    config = { ...config, ZENDESK_WEBHOOK_SECRET: [f.signing_secret] };
    const at = Date.parse(f.headers['x-zendesk-webhook-signature-timestamp']!);
    const r = await deliver('zendesk', { body: f.raw_body, headers: f.headers }, at + 30_000);
    expect(r.status).toBe(202);
    expect(queue.sent).toHaveLength(1);
    await expectRejected(
      'zendesk',
      { body: f.raw_body, headers: f.headers },
      401,
      'unauthorized',
      /5 minutes/,
      at + 6 * 60_000,
    );
  });
});

describe('Chatwoot URL-token fallback (Chatwoot before 2026 signs nothing)', () => {
  const raw = JSON.stringify(chatwootReply());

  it('is off unless configured: a token does not replace a signature', async () => {
    await expectRejected('chatwoot', { body: raw, query: { token: URL_TOKEN } }, 401, 'unauthorized');
  });

  it('when configured alone, accepts only the exact token, compared in constant time', async () => {
    config = { ...config, CHATWOOT_WEBHOOK_SECRET: undefined, CHATWOOT_WEBHOOK_URL_TOKEN: URL_TOKEN };
    const before = spy.timingSafeEqualCalls;
    expect((await deliver('chatwoot', { body: raw, query: { token: URL_TOKEN } })).status).toBe(202);
    expect(spy.timingSafeEqualCalls).toBeGreaterThan(before);
    const flipped = URL_TOKEN.slice(0, -1) + (URL_TOKEN.endsWith('p') ? 'q' : 'p');
    const queries: Record<string, string>[] = [
      {},
      { token: flipped },
      { token: URL_TOKEN.slice(0, -1) },
      { token: `${URL_TOKEN}x` },
      { t: URL_TOKEN },
    ];
    for (const query of queries) {
      await expectRejected('chatwoot', { body: raw, query }, 401, 'unauthorized', /token/);
    }
    // A token in a header is not the configured mechanism.
    await expectRejected('chatwoot', { body: raw, headers: { token: URL_TOKEN } }, 401, 'unauthorized');
    // The Zendesk route never accepts a token.
    await expectRejected(
      'zendesk',
      { body: JSON.stringify(zendeskComment()), query: { token: URL_TOKEN } },
      401,
      'unauthorized',
    );
  });

  it('with both configured, a present signature must verify; the token only serves unsigned deliveries', async () => {
    config = { ...config, CHATWOOT_WEBHOOK_URL_TOKEN: URL_TOKEN };
    const wrongSig = signed('chatwoot', raw, { secret: 'wrong-secret-0123456' });
    await expectRejected('chatwoot', { ...wrongSig, query: { token: URL_TOKEN } }, 401, 'unauthorized');
    expect((await deliver('chatwoot', { body: raw, query: { token: URL_TOKEN } })).status).toBe(202);
    expect((await deliver('chatwoot', signed('chatwoot', raw))).status).toBe(202);
  });
});

describe('what leaks', () => {
  it('no secret, token or header value appears in any response or log line, and every line is JSON', async () => {
    const canary = `canary-${Date.now()}`;
    config = { ...config, CHATWOOT_WEBHOOK_URL_TOKEN: URL_TOKEN };
    const start = logs.lines().length;
    const responses: string[] = [];
    const hostileHeaders = {
      'x-zendesk-webhook-signature': `${canary}-sig`,
      'x-zendesk-webhook-signature-timestamp': new Date(NOW).toISOString(),
      'x-zendesk-webhook-invocation-id': `${canary} "\n{"level":"ERROR"}`,
      'x-chatwoot-signature': `sha256=${canary}`,
      'x-chatwoot-timestamp': String(NOW / 1000),
      'x-chatwoot-delivery': `<${canary}>`,
      authorization: `Bearer ${canary}`,
    };
    for (const platform of ['zendesk', 'chatwoot'] as const) {
      for (const body of ['{}', JSON.stringify(validBody(platform)), `{"${canary}": 1}`]) {
        const r = await deliver(platform, {
          body,
          headers: hostileHeaders,
          query: { token: `${canary}-token` },
        });
        expect(r.status).toBe(401);
        responses.push(r.raw ?? '');
      }
      // Signed but bad: the body's own text must not come back either.
      const bad = { ...validBody(platform), detail: `${canary}-detail`, conversation: `${canary}-conv` };
      responses.push((await deliver(platform, signed(platform, JSON.stringify(bad)))).raw ?? '');
    }
    const lines = logs.lines().slice(start);
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const secrets = [
      ...config.ZENDESK_WEBHOOK_SECRET,
      ...(config.CHATWOOT_WEBHOOK_SECRET ?? []),
      URL_TOKEN,
      config.ZENDESK_API_TOKEN,
      config.CHATWOOT_API_TOKEN,
    ];
    for (const text of [...responses, ...lines]) {
      expect(text).not.toContain(canary);
      for (const s of secrets) expect(text).not.toContain(s);
    }
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    queue.sent.length = 0;
  });

  it('an id-shaped delivery id is kept in the log for correlation', async () => {
    const start = logs.lines().length;
    const id = '6b3c2a10-5e7f-4c1d-9a8b-0f1e2d3c4b5a';
    await deliver('chatwoot', { body: '{}', headers: { 'x-chatwoot-delivery': id } });
    const rejected = logs
      .lines()
      .slice(start)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'rejected');
    expect(rejected).toMatchObject({ deliveryId: id, statusCode: 401, platform: 'chatwoot' });
  });
});

describe('what the queue and the worker will take', () => {
  it('acknowledges without queueing an event the worker would reject as malformed (a file name over its limit)', async () => {
    const body = fixture('zendesk', 'ticket.attachment_linked_to_comment-end-user.json');
    const attachment = (body.event as { comment: { attachment: { filename: string } } }).comment.attachment;
    attachment.filename = `${'x'.repeat(1500)}.pdf`;
    const r = await expectUnusable('zendesk', signed('zendesk', JSON.stringify(body)));
    expect(r.body.message).toMatch(/fileName/);
  });

  it('refuses with 413 a trigger body whose normalised event outgrows a queue message (no Zendesk comment is that long)', async () => {
    // Control characters take one byte in the body and six (\u0001) in the queued JSON: 1.2 MB queued.
    const comment = '\u0001'.repeat(200_000);
    const raw = `{\n  "ticket_id": "77",\n  "requester_id": "5",\n  "latest_comment": "${comment}",\n  "updated_at": "x"\n}`;
    await expectRejected('zendesk', signed('zendesk', raw), 413, 'payload_too_large');
  });

  it('queues a Chatwoot message of 150,000 characters whole (a 1 MiB queue message holds it), text once', async () => {
    const body = chatwootReply();
    // The worst case for the queue: every character a control character, six bytes once escaped.
    body.content = '\u0001'.repeat(150_000);
    const r = await deliver('chatwoot', signed('chatwoot', JSON.stringify(body)));
    expect(r.status).toBe(202);
    const queued = JSON.parse(queue.sent.at(-1)!.body) as { content: string; readBack?: boolean };
    expect(queued.content).toBe(body.content);
    expect(queued.readBack).toBeUndefined();
  });

  it('leaves the text of an event larger than a queue message at the platform, marked for the worker to read back', async () => {
    const body = chatwootReply();
    // content_attributes travel with the event; an e-mail inbox keeps whole HTML bodies there.
    body.content_attributes = { email: { html_content: { full: `<p>${'x'.repeat(1_100_000)}</p>` } } };
    const r = await deliver('chatwoot', signed('chatwoot', JSON.stringify(body)));
    expect(r.status).toBe(202);
    const queued = queue.sent.at(-1)!.body;
    expect(Buffer.byteLength(queued)).toBeLessThan(10_000);
    expect(JSON.parse(queued)).toMatchObject({ kind: 'chatwoot.message', readBack: true, content: '' });
  });

  it('queues text with U+FFFE/U+FFFF escaped (SQS refuses them raw), and the worker reads back the same text', async () => {
    const body = chatwootReply();
    body.content = 'odd \uFFFF and \uFFFE chars';
    const r = await deliver('chatwoot', signed('chatwoot', JSON.stringify(body)));
    expect(r.status).toBe(202);
    const queued = queue.sent[0]!.body;
    expect(queued).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(queued).content).toBe('odd \uFFFF and \uFFFE chars');
  });
});

describe('a rotated secret', () => {
  it('a signature that does not match re-reads the configuration once, and verifies with the new secret', async () => {
    const old = testConfig();
    const rotated = { ...old, ZENDESK_WEBHOOK_SECRET: ['the-new-secret-after-reset'] };
    let reloads = 0;
    const deps = async () => ({
      config: old,
      queue,
      now: () => NOW,
      reload: async () => {
        reloads++;
        return { config: rotated, queue, now: () => NOW };
      },
    });
    const body = JSON.stringify(zendeskComment());
    const headers = signedHeaders('zendesk', 'the-new-secret-after-reset', body, NOW);
    const res = await handleWebhook('zendesk', apiEvent('zendesk', { body, headers }), deps);
    expect(res.statusCode).toBe(202);
    expect(reloads).toBe(1);
    // A missing signature is not something a fresher secret explains: no re-read.
    const unsigned = await handleWebhook('zendesk', apiEvent('zendesk', { body, headers: {} }), deps);
    expect(unsigned.statusCode).toBe(401);
    expect(reloads).toBe(1);
  });
});
