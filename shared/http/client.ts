// One configured HTTP client per platform: per-call timeout, bounded retries with backoff and jitter,
// Retry-After honoured, and every failure turned into an UpstreamError that never carries a body or a secret.
import ky, { HTTPError, type KyInstance, type Options, type RetryOptions, TimeoutError } from 'ky';
import { HTTP_ATTEMPT_TIMEOUT_MS, HTTP_CALL_BUDGET_MS, RATE_WAIT_MS } from '../budgets.ts';
import { NetworkError, RetryableError, UpstreamError } from '../errors.ts';
import { recordDownstreamCall } from '../observability.ts';

/** One call as a request budget sees it: method and the path below the API prefix (e.g. `tickets/12`). */
export interface Call {
  method: string;
  path: string;
}

/**
 * Paces calls to a platform's rate limits (shared/http/rate-limits.ts): `acquire` waits for the call's slot (at
 * most `maxWaitMs`) or throws a RetryableError carrying when to come back; `observe` learns from every answer
 * (Zendesk's X-Rate-Limit headers, a 429's Retry-After).
 */
export interface CallLimiter {
  acquire(call: Call, maxWaitMs: number): Promise<void>;
  observe(call: Call, answer: { status: number; headers: Headers }): Promise<void>;
}

export interface ApiClientOptions {
  platform: 'zendesk' | 'chatwoot';
  /** Absolute prefix every request path is appended to. */
  prefix: string;
  headers: Record<string, string>;
  /** Per-attempt timeout; keep well under the worker's Lambda timeout. */
  timeoutMs?: number | undefined;
  /** Budget for one call with all its in-process retries and waits; under the worker's 30 s timeout. */
  totalTimeoutMs?: number;
  /** In-process retries (see `retryPolicy` for which failures qualify). */
  retryLimit?: number;
  /** Upper bound for a server-requested wait before giving the message back to the queue instead. */
  maxRetryAfterMs?: number;
  /** Called once per HTTP attempt: lets benchmarks and metrics count outbound calls. */
  onRequest?: ((method: string, path: string) => void) | undefined;
  /** The platform's request budget; every attempt (retries included) takes a slot from it. */
  limiter?: CallLimiter;
  fetch?: typeof fetch;
  /**
   * The platform's reading of an error answer from its body (only a label and a verdict leave it, never the body):
   * status codes alone do not say whether a failure is permanent (Chatwoot answers 422 for any exception).
   */
  classify?: (status: number, operation: string, body: unknown) => ErrorClass | undefined;
}

/** A platform's verdict on one error answer. */
export interface ErrorClass {
  /** Short label for logs and the dead-letter reason. */
  detail: string;
  /** The same request may succeed later: retry it (for a bounded time, MAY_PASS_RETRY_MS). */
  mayPass: boolean;
  /** When to try again, if the platform's rule says (e.g. Chatwoot's per-minute flood limit). */
  retryAfterMs?: number;
}

export interface ApiClient {
  json<T>(
    method: string,
    path: string,
    init?: {
      json?: unknown;
      body?: string | Buffer | FormData | Blob;
      searchParams?: Record<string, string>;
    },
  ): Promise<T>;
  raw: KyInstance;
}

/** Per attempt: a slow platform answers within seconds or not at all (shared/budgets.ts states how they nest). */
const DEFAULT_TIMEOUT_MS = HTTP_ATTEMPT_TIMEOUT_MS;
const DEFAULT_TOTAL_TIMEOUT_MS = HTTP_CALL_BUDGET_MS;
/** Longest server-requested wait spent in-process; longer ones go back to the queue (see the worker). */
const DEFAULT_MAX_RETRY_AFTER_MS = 5_000;

/**
 * Which failures are retried in-process, with exponential backoff and full jitter:
 * - reads (GET): network errors, timeouts, 408, 429, 5xx — repeating a read is harmless;
 * - writes (POST/PUT): only answers that prove nothing was applied: 429, 503, and a refused connection. A 5xx,
 *   a timeout or a reset after a write may have created the comment, so that failure goes back to SQS, and the
 *   redelivery first looks for the write on the platform (shared/sync/replay-guard.ts) instead of repeating it.
 * Retry-After (Zendesk) is honoured; Chatwoot's 429 carries none and gets the exponential backoff. A wait longer
 * than `maxRetryAfterMs` (Zendesk's per-ticket limit asks for minutes) is not spent here: the error carries it
 * and the worker delays the message's redelivery by that much.
 */
function retryPolicy(method: string, o: Pick<ApiClientOptions, 'retryLimit' | 'maxRetryAfterMs'>) {
  const read = method.toUpperCase() === 'GET';
  const maxRetryAfter = o.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const policy: RetryOptions = {
    limit: o.retryLimit ?? 2,
    methods: [method.toLowerCase() as 'get'],
    statusCodes: read ? [408, 429, 500, 502, 503, 504] : [429, 503],
    afterStatusCodes: [429, 503],
    maxRetryAfter,
    backoffLimit: 3_000,
    jitter: true,
    retryOnTimeout: read,
    shouldRetry: ({ error }) => {
      if (error instanceof HTTPError) {
        const wait = retryAfterMs(error.response.headers);
        return wait !== undefined && wait > maxRetryAfter ? false : undefined;
      }
      if (!read && !(error instanceof TimeoutError)) return networkCode(error) === 'ECONNREFUSED';
      return undefined;
    },
  };
  return policy;
}

function retryAfterMs(headers: Headers): number | undefined {
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The error code under a fetch failure (undici nests it in `cause`), e.g. ECONNRESET or UND_ERR_SOCKET. */
function networkCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'unknown';
}

export function createApiClient(o: ApiClientOptions): ApiClient {
  const options: Options = {
    prefix: o.prefix,
    headers: o.headers,
    timeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    totalTimeout: o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
    hooks: {
      beforeRequest: [
        ({ request }) => {
          o.onRequest?.(request.method, new URL(request.url).pathname);
        },
      ],
    },
    ...(o.fetch ? { fetch: o.fetch } : {}),
  };
  const raw = ky.create(options);
  const baseFetch = o.fetch ?? globalThis.fetch;

  return {
    raw,
    async json<T>(
      method: string,
      path: string,
      init: {
        json?: unknown;
        body?: string | Buffer | FormData | Blob;
        searchParams?: Record<string, string>;
      } = {},
    ): Promise<T> {
      const operation = `${method.toLowerCase()} ${path.replace(/\/\d+/g, '/:id').replace(/\?.*$/, '')}`;
      // Downstream latency metric: one value per call, in-process retries included (what the sync waits for).
      const started = performance.now();
      let status = 0;
      const call: Call = { method: method.toUpperCase(), path: path.replace(/^\//, '') };
      const limiter = o.limiter;
      try {
        // The budget's wait happens outside ky's per-attempt timeout: a call that waited for its slot and was
        // never sent must not look like a timed-out write (an unknown outcome).
        await limiter?.acquire(call, RATE_WAIT_MS);
        const res = await raw(call.path, {
          method,
          retry: retryPolicy(method, o),
          ...(limiter
            ? {
                // Every answer, failures included, tells the budget what the platform counted.
                fetch: async (input: Request | URL | string, requestInit?: RequestInit) => {
                  const answer = await baseFetch(input, requestInit);
                  await limiter.observe(call, answer).catch(() => undefined);
                  return answer;
                },
                hooks: { beforeRetry: [async () => limiter.acquire(call, RATE_WAIT_MS)] },
              }
            : {}),
          ...init,
        });
        status = res.status;
        const text = await res.text();
        return (text ? JSON.parse(text) : {}) as T;
      } catch (err) {
        const upstream = toUpstreamError(o.platform, operation, err, o.classify);
        if (upstream instanceof UpstreamError) status = upstream.status;
        throw upstream;
      } finally {
        recordDownstreamCall(o.platform, status, performance.now() - started);
      }
    },
  };
}

function toUpstreamError(
  platform: 'zendesk' | 'chatwoot',
  operation: string,
  err: unknown,
  classify: ApiClientOptions['classify'],
): Error {
  // A request budget that had no slot in time (shared/http/rate-limits.ts) says itself when to come back.
  if (err instanceof RetryableError) return err;
  if (err instanceof HTTPError) {
    const status = err.response.status;
    // What an error answer means beyond its status is the platform's to say (Chatwoot's 422, flood limit included:
    // shared/chatwoot/errors.ts).
    const verdict = classify?.(status, operation, err.data);
    return new UpstreamError(
      platform,
      operation,
      status,
      retryAfterMs(err.response.headers) ?? verdict?.retryAfterMs,
      verdict?.detail,
      verdict?.mayPass ?? false,
    );
  }
  // No answer within the attempt's timeout: the outcome of a write is unknown (it may still be landing).
  if (err instanceof TimeoutError)
    return new UpstreamError(platform, operation, 504, undefined, undefined, false, false);
  // Network errors: only the code (e.g. ECONNRESET) is kept; messages may name hosts.
  return new NetworkError(platform, operation, networkCode(err));
}
