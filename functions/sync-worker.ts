// Lambda on the SQS FIFO queue: syncs each event with one API call and reports partial batch failures; traced in
// X-Ray with every downstream call as a subsegment.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { callableWithoutContext, lambdaContext } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/observability.ts';
import { handleBatch } from '../shared/sync/worker.ts';
import { annotate, captureLambdaHandlerLazily } from '../shared/tracing.ts';
import { getWorkerDeps, redeliveryControl } from '../shared/worker-deps.ts';

export const handler = callableWithoutContext(
  middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(captureLambdaHandlerLazily())
    .handler(async (event, context) => {
      annotate({ records: event.Records.length });
      return handleBatch(event, lambdaContext(context), getWorkerDeps, redeliveryControl);
    }),
);
