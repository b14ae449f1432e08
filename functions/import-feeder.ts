// Lambda on the import control queue: works the history import a stretch of pages at a time
// (shared/import/lambda.ts), enqueueing each ticket's comments on the sync queue, behind live sync.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/config-loader.ts';
import { feederDeps, reserveShareFrom } from '../shared/import/import-deps.ts';
import { handleImportMessages, sqsBacklog } from '../shared/import/lambda.ts';
import { lambdaContext } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/observability.ts';
import { captureLambdaHandlerLazily } from '../shared/tracing.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

export const handler = middy<SQSEvent, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandlerLazily())
  .handler(async (event, context) => {
    const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
    const importQueueUrl = env.IMPORT_QUEUE_URL;
    const syncQueueUrl = env.QUEUE_URL;
    if (!importQueueUrl || !syncQueueUrl) throw new Error('IMPORT_QUEUE_URL and QUEUE_URL must be set');
    const reserveShare = reserveShareFrom(env);
    const deps = feederDeps(rt, {
      backlog: sqsBacklog(syncQueueUrl),
      ...(reserveShare !== undefined ? { reserveShare } : {}),
    });
    // Without a Lambda context (a local call) there is no deadline: work until done or handed on.
    const clock = lambdaContext(context) ?? { getRemainingTimeInMillis: () => Number.POSITIVE_INFINITY };
    await handleImportMessages(event, clock, deps, { importQueueUrl, syncQueueUrl });
  });
