// Wraps the ingress as a Lambda handler: request-scoped log context, metrics flushed per invocation, and a
// safety net that turns an unexpected exception (our bug) into a JSON 500 instead of an API Gateway error page.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger, metrics } from '../observability.ts';
import { getQueues, loadConfig } from '../runtime.ts';
import { handleWebhook, type Platform } from './ingress.ts';

export function webhookHandler(platform: Platform) {
  return async (
    event: APIGatewayProxyEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ platform, apiRequestId: event.requestContext?.requestId });
    try {
      return await handleWebhook(platform, event, async () => {
        const { config } = await loadConfig();
        return { config, queue: getQueues().queue, now: Date.now };
      });
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
