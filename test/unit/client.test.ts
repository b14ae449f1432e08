// The platform HTTP client's retry policy: what is retried in-process, what goes back to the queue, and how each
// failure is classified (retryable, permanent, possibly applied). A scripted fetch stands in for the network.
import { describe, expect, it } from 'vitest';
import { isRetryable, mayHaveBeenApplied, NetworkError, UpstreamError } from '../../shared/errors.ts';
import { createApiClient } from '../../shared/http/client.ts';

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
