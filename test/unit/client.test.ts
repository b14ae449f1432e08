// The platform HTTP client's retry policy: what is retried in-process, what goes back to the queue, and how each
// failure is classified (retryable, permanent, possibly applied). A scripted fetch stands in for the network.
import { describe, expect, it } from 'vitest';
import { classifyChatwootError } from '../../shared/chatwoot/errors.ts';
import {
  errorReason,
  isRetryable,
  mayHaveBeenApplied,
  NetworkError,
  RetryableError,
  UpstreamError,
  uncertainOutcome,
} from '../../shared/errors.ts';
import { type CallLimiter, createApiClient } from '../../shared/http/client.ts';

type Step = Response | Error | 'hang';

function scripted(steps: Step[]) {
  const seen: string[] = [];
  const fetchImpl = (async (input: Request | string | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push(request.method);
    const step = steps.shift() ?? new Response('{}', { status: 200 });
    if (step === 'hang') {
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason)),
      );
    }
    if (step instanceof Error) throw step;
    return step;
  }) as typeof fetch;
  const client = createApiClient({
    platform: 'zendesk',
    prefix: 'http://127.0.0.1:9/api/v2/',
    headers: {},
    timeoutMs: 100,
    fetch: fetchImpl,
  });
  return { client, seen };
}

const status = (code: number, headers: Record<string, string> = {}) =>
  new Response(code === 204 ? null : '{}', { status: code, headers });
const networkError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('reads', () => {
  it('retries a 500 and a timeout, then succeeds', async () => {
    const { client, seen } = scripted([status(500), 'hang', new Response('{"ok":true}')]);
    await expect(client.json('GET', 'tickets/1')).resolves.toEqual({ ok: true });
    expect(seen).toEqual(['GET', 'GET', 'GET']);
  });

  it('gives up after the retry limit with a retryable error', async () => {
    const { client, seen } = scripted([status(502), status(502), status(502)]);
    const err = await failure(client.json('GET', 'tickets/1'));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(isRetryable(err)).toBe(true);
    expect(mayHaveBeenApplied(err)).toBe(false);
    expect(seen).toHaveLength(3);
  });
});

describe('writes', () => {
  it('does not repeat a POST that got a 500: it may have been applied', async () => {
    const { client, seen } = scripted([status(500)]);
    const err = await failure(client.json('POST', 'tickets', { json: {} }));
    expect(seen).toEqual(['POST']);
    expect(isRetryable(err)).toBe(true);
    expect(mayHaveBeenApplied(err)).toBe(true);
  });

  it('does not repeat a PUT that timed out, and reports it as a retryable 504', async () => {
    const { client, seen } = scripted(['hang']);
    const err = await failure(client.json('PUT', 'tickets/1', { json: {} }));
    expect(seen).toEqual(['PUT']);
    expect(err).toMatchObject({ name: 'UpstreamError', status: 504 });
    expect(mayHaveBeenApplied(err)).toBe(true);
  });

  it('does not repeat a POST whose connection was reset; retries one that was refused', async () => {
    const reset = scripted([networkError('ECONNRESET')]);
    const err = await failure(reset.client.json('POST', 'tickets', { json: {} }));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expect(mayHaveBeenApplied(err)).toBe(true);
    expect(reset.seen).toHaveLength(1);

    const refused = scripted([networkError('ECONNREFUSED'), status(201)]);
    await expect(refused.client.json('POST', 'tickets', { json: {} })).resolves.toEqual({});
    expect(refused.seen).toHaveLength(2);
  });

  it('retries a 429 with a short Retry-After and a 429 without one (Chatwoot) with backoff', async () => {
    const { client, seen } = scripted([status(429, { 'retry-after': '0' }), status(429), status(200)]);
    await expect(client.json('POST', 'conversations/1/messages', { json: {} })).resolves.toEqual({});
    expect(seen).toEqual(['POST', 'POST', 'POST']);
  });

  it('hands a long Retry-After back to the caller instead of waiting it out in-process', async () => {
    const { client, seen } = scripted([status(429, { 'retry-after': '540' })]);
    const err = await failure(client.json('PUT', 'tickets/1', { json: {} }));
    expect(seen).toEqual(['PUT']);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 540_000 });
    expect(isRetryable(err)).toBe(true);
    expect(mayHaveBeenApplied(err)).toBe(false);
  });

  it('classifies 401, 404 and 422 as permanent, without retrying', async () => {
    for (const code of [401, 404, 422]) {
      const { client, seen } = scripted([status(code)]);
      const err = await failure(client.json('PUT', 'tickets/1', { json: {} }));
      expect(seen).toHaveLength(1);
      expect(isRetryable(err)).toBe(false);
      expect(err).toMatchObject({ status: code });
    }
  });
});

describe('outcomes', () => {
  it('tells an answered 5xx (the request is over) from a timeout (it may still be landing)', async () => {
    const answered = await failure(scripted([status(502)]).client.json('POST', 'tickets', { json: {} }));
    expect(answered).toMatchObject({ status: 502, answered: true });
    expect(uncertainOutcome(answered)).toEqual({ platform: 'zendesk', settling: false });

    const timedOut = await failure(scripted(['hang']).client.json('PUT', 'tickets/1', { json: {} }));
    expect(timedOut).toMatchObject({ status: 504, answered: false });
    expect(uncertainOutcome(timedOut)).toEqual({ platform: 'zendesk', settling: true });

    const reset = await failure(
      scripted([networkError('ECONNRESET')]).client.json('POST', 'tickets', { json: {} }),
    );
    expect(uncertainOutcome(reset)).toEqual({ platform: 'zendesk', settling: true });
    // A 429 proves nothing was applied: no replay guard needed at all.
    const throttled = await failure(
      scripted([status(429, { 'retry-after': '90' })]).client.json('PUT', 'tickets/1', { json: {} }),
    );
    expect(uncertainOutcome(throttled)).toBeUndefined();
  });

  it("retries Chatwoot's 'Too many messages' 422 later instead of dead-lettering it; other 422s stay permanent", async () => {
    const chatwoot = (steps: Step[]) =>
      createApiClient({
        platform: 'chatwoot',
        prefix: 'http://127.0.0.1:9/api/v1/accounts/1/',
        headers: {},
        fetch: scriptedFetch(steps) as typeof fetch,
        // The one reading of Chatwoot's error answers, as ChatwootClient passes it.
        classify: classifyChatwootError,
      });
    const flood = new Response(JSON.stringify({ error: 'Validation failed: Too many messages' }), {
      status: 422,
      headers: { 'content-type': 'application/json' },
    });
    const err = await failure(chatwoot([flood]).json('POST', 'conversations/5/messages', { json: {} }));
    expect(isRetryable(err)).toBe(true);
    expect(err).toMatchObject({ status: 422, detail: 'flood-limit', mayPass: true });
    expect(errorReason(err)).toBe('chatwoot-post conversations/:id/messages-http-422-flood-limit');
    expect(mayHaveBeenApplied(err)).toBe(false);

    const invalid = new Response(JSON.stringify({ message: "Content can't be blank" }), {
      status: 422,
      headers: { 'content-type': 'application/json' },
    });
    const bad = await failure(chatwoot([invalid]).json('POST', 'conversations/5/messages', { json: {} }));
    expect(isRetryable(bad)).toBe(false);
  });
});

describe('request budget', () => {
  it('takes a slot before the first attempt and before every retry, and shows every answer to the budget', async () => {
    const log: string[] = [];
    const limiter: CallLimiter = {
      acquire: async (call) => {
        log.push(`acquire ${call.method} ${call.path}`);
      },
      observe: async (call, answer) => {
        log.push(
          `observe ${call.method} ${call.path} ${answer.status} ${answer.headers.get('x-rate-limit') ?? '-'}`,
        );
      },
    };
    const client = createApiClient({
      platform: 'zendesk',
      prefix: 'http://127.0.0.1:9/api/v2/',
      headers: {},
      limiter,
      fetch: scriptedFetch([
        status(429, { 'retry-after': '0', 'x-rate-limit': '200' }),
        status(200),
      ]) as typeof fetch,
    });
    await client.json('PUT', 'tickets/7', { json: {} });
    expect(log).toEqual([
      'acquire PUT tickets/7',
      'observe PUT tickets/7 429 200',
      'acquire PUT tickets/7',
      'observe PUT tickets/7 200 -',
    ]);
  });

  it('a call that gets no slot in time is a retryable failure that made no request', async () => {
    const seen: string[] = [];
    const client = createApiClient({
      platform: 'zendesk',
      prefix: 'http://127.0.0.1:9/api/v2/',
      headers: {},
      limiter: {
        acquire: async () => {
          throw new RetryableError('no slot', 'zendesk-rate-budget', 4_000);
        },
        observe: async () => undefined,
      },
      fetch: (async () => {
        seen.push('request');
        return status(200);
      }) as typeof fetch,
    });
    const err = await failure(client.json('PUT', 'tickets/7', { json: {} }));
    expect(seen).toEqual([]);
    expect(err).toMatchObject({ reason: 'zendesk-rate-budget', retryAfterMs: 4_000 });
    expect(mayHaveBeenApplied(err)).toBe(false);
  });
});

function scriptedFetch(steps: Step[]) {
  return async (input: Request | string | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const step = steps.shift() ?? new Response('{}', { status: 200 });
    if (step === 'hang') {
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason)),
      );
    }
    if (step instanceof Error) throw step;
    return step;
  };
}
