// One configured HTTP client per platform: per-call timeout, bounded retries with backoff and jitter,
// Retry-After honoured, and every failure turned into an UpstreamError that never carries a body or a secret.
import ky, { HTTPError, type KyInstance, type Options, TimeoutError } from 'ky';
import { UpstreamError } from '../errors.ts';
import { recordDownstreamCall } from '../observability.ts';

export interface ApiClientOptions {
  platform: 'zendesk' | 'chatwoot';
  /** Absolute prefix every request path is appended to. */
  prefix: string;
  headers: Record<string, string>;
  /** Per-attempt timeout; keep well under the worker's Lambda timeout. */
  timeoutMs?: number;
  /** In-process retries for answers that prove the request was not applied (429, 503). */
  retryLimit?: number;
  /** Upper bound for a server-requested wait before giving the message back to the queue instead. */
  maxRetryAfterMs?: number;
  /** Called once per HTTP attempt: lets benchmarks and metrics count outbound calls. */
  onRequest?: (method: string, path: string) => void;
  fetch?: typeof fetch;
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

export function createApiClient(o: ApiClientOptions): ApiClient {
  const options: Options = {
    prefix: o.prefix,
    headers: o.headers,
    timeout: o.timeoutMs ?? 8_000,
    retry: {
      limit: o.retryLimit ?? 2,
      // Only answers that prove nothing was applied are retried in-process, for every method: a 5xx or a
      // timeout after a POST/PUT may have created the comment, so those go back to SQS and the idempotent path.
      methods: ['get', 'put', 'post', 'patch', 'delete'],
      statusCodes: [429, 503],
      afterStatusCodes: [429, 503],
      maxRetryAfter: o.maxRetryAfterMs ?? 10_000,
      backoffLimit: 5_000,
      jitter: true,
    },
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
      try {
        const res = await raw(path.replace(/^\//, ''), { method, ...init });
        status = res.status;
        const text = await res.text();
        return (text ? JSON.parse(text) : {}) as T;
      } catch (err) {
        const upstream = toUpstreamError(o.platform, operation, err);
        if (upstream instanceof UpstreamError) status = upstream.status;
        throw upstream;
      } finally {
        recordDownstreamCall(o.platform, status, performance.now() - started);
      }
    },
  };
}

function toUpstreamError(platform: 'zendesk' | 'chatwoot', operation: string, err: unknown): Error {
  if (err instanceof HTTPError) {
    const retryAfter = Number(err.response.headers.get('retry-after'));
    return new UpstreamError(
      platform,
      operation,
      err.response.status,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    );
  }
  if (err instanceof TimeoutError) return new UpstreamError(platform, operation, 504);
  // Network errors: the message names host and code only (no credentials are in URLs).
  const e = new Error(
    `${platform} ${operation} network error: ${err instanceof Error ? err.message : 'unknown'}`,
  );
  e.name = 'NetworkError';
  return e;
}
