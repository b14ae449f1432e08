// Error classes that decide what happens to a failed sync: retry through SQS, or dead-letter with a reason.

/** A failure that may succeed later (429, 5xx, timeout, network, a concurrent worker holding the claim). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly reason: string,
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
    readonly operation: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${platform} ${operation} failed with HTTP ${status}`);
    this.name = 'UpstreamError';
  }
  get retryable(): boolean {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof PermanentError) return false;
  if (err instanceof UpstreamError) return err.retryable;
  // Unknown errors (network, timeouts, our own bugs) are retried; SQS's maxReceiveCount bounds them.
  return true;
}

export function errorReason(err: unknown): string {
  if (err instanceof RetryableError || err instanceof PermanentError) return err.reason;
  if (err instanceof UpstreamError) return `${err.platform}-${err.operation}-http-${err.status}`;
  if (err instanceof Error) return err.name;
  return 'unknown';
}
