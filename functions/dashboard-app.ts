// Lambda for the Chatwoot dashboard app: GET /app (the page) and /app/api/… (the ticket beside the conversation,
// retry, resync). middy with the Powertools logger and metrics middlewares; the routes live in shared/app/http.ts.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { appContext } from '../shared/app/deps.ts';
import { handleAppRequest } from '../shared/app/http.ts';
import { logger, metrics } from '../shared/observability.ts';

const app = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  try {
    return await handleAppRequest(event, appContext);
  } catch (err) {
    // Configuration missing or our bug: a JSON 500 naming nothing secret.
    logger.error('unhandled error', { error: err instanceof Error ? err.name : 'unknown' });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({ error: 'internal_error', message: 'unexpected error; it has been logged' }),
    };
  }
};

export const handler = middy(app)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
