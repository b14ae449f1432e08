// What the webhook Lambdas wire into middy besides Powertools' middlewares: the ingress's dependencies (the
// configuration, re-read sooner after a signature mismatch, and the queue), the per-request log keys, and the
// safety net that answers an unexpected exception (our bug) with a JSON 500 instead of API Gateway's error page.
//
// Why the body is not parsed by @middy/http-json-body-parser: the ingress (./ingress.ts) must bound the size and
// verify the signature on the raw bytes first, then decode them as strict UTF-8 (invalid bytes are a 400, where the
// parser's decoding would silently replace bytes the signature covered) and read Zendesk trigger bodies, whose
// placeholders are not JSON-escaped, leniently; the parser (7.x) would instead answer 415 to an authentic delivery
// with an unexpected Content-Type and a plain-text 422 to a trigger body, and keeps no raw body since v5.
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { count, logger } from '../observability.ts';
import type { IngressDeps, Platform } from './ingress.ts';

/** A signature mismatch re-reads the secret when the cached copy is older than this (a rotation). */
export const RELOAD_AFTER_MISMATCH_MS = 30_000;

type Result = APIGatewayProxyStructuredResultV2;

/**
 * The request path (./ingress.ts with the webhook and event schemas it builds when imported), imported by the first
 * request rather than at module load: deployed it is a chunk of its own (lib/bundling.ts), so the function's cold
 * start before its first request is Powertools and middy alone (README "Cold start as deployed" has both figures).
 */
export function ingress(): Promise<typeof import('./request-path.ts')> {
  return import('./request-path.ts');
}

/** The ingress's dependencies from the cached configuration; `reload` re-reads it after a signature mismatch. */
export async function ingressDeps(maxAgeMs?: number): Promise<IngressDeps> {
  const { getQueues, loadConfig } = await ingress();
  const loaded = await loadConfig(maxAgeMs === undefined ? {} : { maxAgeMs });
  return {
    config: loaded.config,
    queue: getQueues().queue,
    now: Date.now,
    reload: async () => {
      const fresher = await loadConfig({ maxAgeMs: RELOAD_AFTER_MISMATCH_MS });
      return fresher.fingerprint === loaded.fingerprint ? undefined : ingressDeps();
    },
  };
}

/**
 * Adds the platform and API Gateway's request id to every log line of the request (Powertools'
 * `injectLambdaContext` with `resetKeys` removes them afterwards).
 */
export function webhookLogKeys(platform: Platform): MiddlewareObj<APIGatewayProxyEventV2, Result> {
  return {
    before: (request) => {
      logger.appendKeys({ platform, apiRequestId: request.event.requestContext?.requestId });
    },
  };
}

/**
 * Turns an exception nothing else handled into a JSON 500 that says nothing about it, and logs the error's name and
 * where it was thrown (stack frames, not its message, which may quote the body). It sets the response instead of
 * returning it, so the middlewares around it (logger, metrics) still finish the request.
 */
export function internalErrorAsJson(): MiddlewareObj<APIGatewayProxyEventV2, Result> {
  return {
    onError: (request) => {
      const err = request.error;
      count('UnhandledErrors');
      logger.error('unhandled error', {
        error: err instanceof Error ? err.name : typeof err,
        at: err instanceof Error ? stackFrames(err) : undefined,
      });
      request.response = {
        statusCode: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'internal_error', message: 'unexpected error; it has been logged' }),
      };
    },
  };
}

/** The first frames of an error's stack ("at …" lines), without the message line above them. */
function stackFrames(err: Error): string[] {
  return (err.stack ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '))
    .slice(0, 5);
}
