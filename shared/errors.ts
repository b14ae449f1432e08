// Error classes that decide what happens to a failed sync: retry through SQS, or dead-letter with a reason.

/** A failure that may succeed later (429, 5xx, timeout, network, a concurrent worker holding the claim). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    /** When the platform said to come back (Retry-After); the worker delays the redelivery to then. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** A failure that will not succeed by retrying (401, 403, 404, 422 …): dead-letter it with the reason. */
export class PermanentError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** Error for an upstream HTTP answer, carrying status and platform but never the response body. */
export class UpstreamError extends Error {
  constructor(
    readonly platform: 'zendesk' | 'chatwoot',
    /** `<method> <path with ids replaced>`, e.g. `put tickets/:id`. */
    readonly operation: string,
    readonly status: number,
    readonly retryAfterMs?: number,
    /**
     * What the platform's answer means, as a short label its client derived from the body (never the body itself):
     * e.g. Chatwoot's catch-all 422 is `flood-limit`, `too-long` or `unexplained` (shared/chatwoot/errors.ts).
     */
    readonly detail?: string,
    /** Set by the platform's classifier when this status is not proof of a permanent failure (Chatwoot's 422). */
    readonly mayPass = false,
  ) {
    super(`${platform} ${operation} failed with HTTP ${status}${detail ? ` (${detail})` : ''}`);
    this.name = 'UpstreamError';
  }
  get retryable(): boolean {
    return this.mayPass || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/**
 * How long an answer that may pass (`UpstreamError.mayPass`, e.g. Chatwoot's catch-all 422) is retried, counted from
 * when the event was received, before it is dead-lettered with its reason: long enough for a flood limit (one
 * minute) or a storage hiccup to pass, short enough that a message that can never pass does not hold its ticket
 * for the whole ~23-hour retry window.
 */
export const MAY_PASS_RETRY_MS = 6 * 3600 * 1000;

/** No HTTP answer at all (reset, refused, DNS): the message names the operation and the code, never a URL. */
export class NetworkError extends Error {
  constructor(
    readonly platform: 'zendesk' | 'chatwoot',
    readonly operation: string,
    readonly code: string,
  ) {
    super(`${platform} ${operation} network error: ${code}`);
    this.name = 'NetworkError';
  }
}

/**
 * An answer that may pass (`UpstreamError.mayPass`) stays retryable only for MAY_PASS_RETRY_MS after the event was
 * received; past that it becomes a permanent failure carrying the platform's reason, and is dead-lettered.
 */
export function withinRetryBound(err: unknown, receivedAt: number, now: number): unknown {
  if (!(err instanceof UpstreamError) || !err.mayPass || now - receivedAt <= MAY_PASS_RETRY_MS) return err;
  return new PermanentError(
    `${err.message}, still after ${Math.round(MAY_PASS_RETRY_MS / 3_600_000)} h of retries`,
    errorReason(err),
  );
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof PermanentError) return false;
  if (err instanceof UpstreamError) return err.retryable;
  // Unknown errors (network, timeouts, our own bugs) are retried; SQS's maxReceiveCount bounds them.
  return true;
}

/**
 * Whether a failed call may nevertheless have been applied: a write (POST/PUT/PATCH/DELETE) that got a 5xx, a
 * timeout or no answer. Such a failure marks the claim so the retry first looks for the write on the platform.
 * 429 and 4xx prove nothing was applied. Errors that are not HTTP errors (our bugs) count as uncertain.
 */
export function mayHaveBeenApplied(err: unknown): boolean {
  if (err instanceof UpstreamError) {
    if (err.operation.startsWith('get ')) return false;
    return err.status === 408 || (err.status >= 500 && err.status !== 503);
  }
  if (err instanceof NetworkError) return !err.operation.startsWith('get ') && err.code !== 'ECONNREFUSED';
  return !(err instanceof RetryableError || err instanceof PermanentError);
}

export function errorReason(err: unknown): string {
  if (err instanceof RetryableError || err instanceof PermanentError) return err.reason;
  if (err instanceof UpstreamError)
    return `${err.platform}-${err.operation}-http-${err.status}${err.detail ? `-${err.detail}` : ''}`;
  if (err instanceof NetworkError) return `${err.platform}-${err.operation}-network-${err.code}`;
  if (err instanceof Error) return err.name;
  return 'unknown';
}
