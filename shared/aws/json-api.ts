// A minimal client for AWS services that speak the JSON protocol (SQS, Secrets Manager): SigV4-signed POSTs
// with the Lambda's credentials from the environment, a few retries on throttling and 5xx, and errors that
// carry the service's error type but never the request or response body.
import { AWS_ATTEMPT_TIMEOUT_MS, AWS_CALL_BUDGET_MS } from '../budgets.ts';
import { ConfigError } from '../config.ts';
import { type AwsCredentials, signRequest } from './sigv4.ts';

export interface AwsService {
  /** Signing name and endpoint prefix, e.g. `sqs`, `secretsmanager`. */
  service: string;
  /** Prefix of X-Amz-Target, e.g. `AmazonSQS`, `secretsmanager`. */
  targetPrefix: string;
  /** JSON protocol version: `1.0` (SQS) or `1.1` (Secrets Manager). */
  jsonVersion: '1.0' | '1.1';
  /** The SDK's per-service endpoint variable (e.g. AWS_ENDPOINT_URL_SQS), honoured like the SDK does. */
  endpointEnv: string;
}

export const SQS: AwsService = {
  service: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
  endpointEnv: 'AWS_ENDPOINT_URL_SQS',
};
export const SECRETS_MANAGER: AwsService = {
  service: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
  endpointEnv: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
};

class AwsApiError extends Error {
  constructor(
    readonly service: string,
    readonly operation: string,
    readonly status: number,
    /** The service's error type, e.g. `AccessDeniedException` (no message text: it may quote input). */
    readonly type: string,
  ) {
    super(`${service} ${operation} failed: ${type} (HTTP ${status})`);
    this.name = type || 'AwsApiError';
  }
  get retryable(): boolean {
    return this.status >= 500 || /Throttl|RequestLimitExceeded|TooManyRequests/.test(this.type);
  }
}

function credentials(env: Record<string, string | undefined>): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    // Lambda always sets these for the function's role; elsewhere this names what is missing.
    throw new ConfigError([`${accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set`]);
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

const ATTEMPTS = 3;

/**
 * Calls `operation` with `input`; `region` defaults to AWS_REGION. All attempts together stay within `budgetMs`
 * (AWS_CALL_BUDGET_MS, shared/budgets.ts): the ingress makes such calls while a platform waits for its answer.
 */
export async function callAws<T>(
  svc: AwsService,
  operation: string,
  input: Record<string, unknown>,
  o: {
    region?: string;
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    budgetMs?: number;
  } = {},
): Promise<T> {
  const deadline = Date.now() + (o.budgetMs ?? AWS_CALL_BUDGET_MS);
  const env = o.env ?? process.env;
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError(['AWS_REGION is not set']);
  const endpoint =
    env[svc.endpointEnv] ?? env.AWS_ENDPOINT_URL ?? `https://${svc.service}.${region}.amazonaws.com`;
  const url = new URL(endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
  const body = JSON.stringify(input);
  for (let attempt = 1; ; attempt++) {
    let failure: Error;
    try {
      const headers = signRequest({
        method: 'POST',
        url,
        headers: {
          'content-type': `application/x-amz-json-${svc.jsonVersion}`,
          'x-amz-target': `${svc.targetPrefix}.${operation}`,
        },
        body,
        region,
        service: svc.service,
        credentials: credentials(env),
        now: new Date(),
      });
      delete headers.host; // fetch sets it from the URL
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(
          Math.max(1, Math.min(o.timeoutMs ?? AWS_ATTEMPT_TIMEOUT_MS, deadline - Date.now())),
        ),
      });
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      let type = res.headers.get('x-amzn-errortype') ?? '';
      try {
        type ||= String((JSON.parse(text) as { __type?: string }).__type ?? '');
      } catch {
        // not JSON: keep the header's type, or none
      }
      failure = new AwsApiError(
        svc.service,
        operation,
        res.status,
        type.split(/[#:]/).filter(Boolean).at(-1) ?? '',
      );
      if (!(failure as AwsApiError).retryable) throw failure;
    } catch (err) {
      if (err instanceof ConfigError || (err instanceof AwsApiError && !err.retryable)) throw err;
      failure = err instanceof Error ? err : new Error(String(err));
    }
    // Full jitter over an exponential base, as the SDK's standard retry mode does; no attempt past the budget.
    const pause = Math.random() * 100 * 2 ** attempt;
    if (attempt >= ATTEMPTS || Date.now() + pause + 50 >= deadline) throw failure;
    await new Promise((r) => setTimeout(r, pause));
  }
}
