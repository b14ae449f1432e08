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
    /**
     * Whether the platform answered. A 5xx answer means the request is over (applied or not, the replay guard can
     * look at once); a timeout (reported as 504, `answered` false) means it may still be landing.
     */
    readonly answered = true,
  ) {
    super(
      `${platform} ${operation} failed with ${answered ? `HTTP ${status}` : 'no answer (timeout)'}${detail ? ` (${detail})` : ''}`,
    );
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
 * What kind of failure this is, which decides what the worker does with the record:
 * - `retryable`: it may succeed later — an HTTP 408/429/5xx, no answer, a network error, a claim held elsewhere,
 *   an AWS service's throttling or server fault (`$fault: 'server'`, `$retryable`);
 * - `permanent`: it never will, and the reason says why — a platform's 401/403/404/422, a PermanentError, an AWS
 *   client fault (ValidationException, AccessDeniedException, ResourceNotFoundException: our request or our
 *   permissions are wrong, and the same request fails the same way), a programming error (TypeError, RangeError,
 *   ReferenceError, SyntaxError not caused by the network);
 * - `unknown`: anything else. Retried a few times (the worker dead-letters it after UNKNOWN_FAILURE_ATTEMPTS
 *   receives) instead of holding the ticket's messages for a day.
 */
export type FailureClass = 'retryable' | 'permanent' | 'unknown';

/** AWS SDK v3 service exceptions carry these (ServiceException): who is at fault, and the SDK's retry verdict. */
interface AwsServiceErrorShape {
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

const AWS_RETRYABLE =
  /Throttl|RequestLimitExceeded|TooManyRequests|ProvisionedThroughputExceeded|InternalServer|ServiceUnavailable|TransactionConflict|LimitExceeded/;
const PROGRAMMING = new Set([
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'EvalError',
  'URIError',
]);

export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof PermanentError) return 'permanent';
  if (err instanceof RetryableError || err instanceof NetworkError) return 'retryable';
  if (err instanceof UpstreamError) return err.retryable ? 'retryable' : 'permanent';
  if (!(err instanceof Error)) return 'unknown';
  if (networkCause(err)) return 'retryable';
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'retryable';
  const aws = err as Error & AwsServiceErrorShape & { retryable?: boolean; status?: number };
  if (aws.$fault !== undefined || aws.$metadata !== undefined) {
    if (aws.$retryable || aws.$fault === 'server' || AWS_RETRYABLE.test(err.name)) return 'retryable';
    return 'permanent';
  }
  // The SigV4 client's AwsApiError (shared/aws/json-api.ts) says itself.
  if (typeof aws.retryable === 'boolean' && typeof aws.status === 'number')
    return aws.retryable ? 'retryable' : 'permanent';
  if (PROGRAMMING.has(err.name)) return 'permanent';
  return 'unknown';
}

/** A failure caused by the network under another name (undici's `TypeError: fetch failed` carries the code). */
function networkCause(err: Error): boolean {
  let e: unknown = err.cause;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return true;
  }
  return false;
}

/** Receives after which an unclassified failure is dead-lettered (the worker): a blip passes well within them. */
export const UNKNOWN_FAILURE_ATTEMPTS = 3;

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
  return classifyFailure(err) !== 'permanent';
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
  // The replay guard is still waiting for an earlier write that may be landing: keep the claim marked for it.
  if (err instanceof RetryableError) return err.reason === 'outcome-settling';
  return !(err instanceof PermanentError);
}

/**
 * After a write that may have been applied: is the platform done with it? An answered 5xx ends the request, so
 * the replay guard can look at once; a timeout or a reset leaves it possibly still running (`settling`), and the
 * retry waits UNKNOWN_OUTCOME_SETTLE_MS (shared/budgets.ts) for that platform before looking.
 */
export function uncertainOutcome(
  err: unknown,
): { platform: 'zendesk' | 'chatwoot' | undefined; settling: boolean } | undefined {
  if (!mayHaveBeenApplied(err)) return undefined;
  if (err instanceof UpstreamError) return { platform: err.platform, settling: !err.answered };
  if (err instanceof NetworkError) return { platform: err.platform, settling: true };
  return { platform: undefined, settling: true };
}

export function errorReason(err: unknown): string {
  if (err instanceof RetryableError || err instanceof PermanentError) return err.reason;
  if (err instanceof UpstreamError)
    return `${err.platform}-${err.operation}-http-${err.status}${err.detail ? `-${err.detail}` : ''}`;
  if (err instanceof NetworkError) return `${err.platform}-${err.operation}-network-${err.code}`;
  // AWS errors and our bugs: the class name (never the message, which may quote input).
  if (err instanceof Error) return err.name === 'Error' ? 'error' : err.name;
  return 'unknown';
}
