// Wraps the ingress as a Lambda handler: request-scoped log context, metrics flushed per invocation, and a
// safety net that turns an unexpected exception (our bug) into a JSON 500 instead of an API Gateway error page.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { getQueues, loadConfig } from '../config-loader.ts';
import { logger, metrics } from '../observability.ts';
import { handleWebhook, type IngressDeps, type Platform } from './ingress.ts';

/** A signature mismatch re-reads the secret when the cached copy is older than this (a rotation). */
export const RELOAD_AFTER_MISMATCH_MS = 30_000;

export function webhookHandler(platform: Platform) {
  return async (
    event: APIGatewayProxyEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ platform, apiRequestId: event.requestContext?.requestId });
    try {
      const deps = async (maxAgeMs?: number): Promise<IngressDeps> => {
        const loaded = await loadConfig(maxAgeMs === undefined ? {} : { maxAgeMs });
        return {
          config: loaded.config,
          queue: getQueues().queue,
          now: Date.now,
          reload: async () => {
            const fresher = await loadConfig({ maxAgeMs: RELOAD_AFTER_MISMATCH_MS });
            return fresher.fingerprint === loaded.fingerprint ? undefined : deps();
          },
        };
      };
      return await handleWebhook(platform, event, () => deps());
    } catch (err) {
      logger.error('unhandled error', { error: err instanceof Error ? err.name : 'unknown' });
      return {
        statusCode: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'internal_error', message: 'unexpected error; it has been logged' }),
      };
    } finally {
      logger.removeKeys(['platform', 'apiRequestId']);
      // Publishing nothing would print a plain-text warning into an otherwise all-JSON log stream.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
