// Lambda for POST /webhooks/zendesk: verify the signature on the raw body, validate, normalise, enqueue
// (shared/http/ingress.ts). No X-Ray SDK here: it would double the cold start (see shared/tracing.ts).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ingress, ingressDeps, internalErrorAsJson, webhookLogKeys } from '../shared/http/lambda.ts';
import { callableWithoutContext } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/observability.ts';

export const handler = callableWithoutContext(
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(webhookLogKeys('zendesk'))
    // Innermost, so its 500 is set before the logger and metrics middlewares finish the request.
    .use(internalErrorAsJson())
    // The request path — schemas, configuration, queue — is a chunk of its own, loaded by the first request.
    .handler(async (event) => (await ingress()).handleWebhook('zendesk', event, () => ingressDeps())),
);
