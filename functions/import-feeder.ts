// Lambda on the import control queue: works the history import a stretch of pages at a time
// (shared/import/lambda.ts), enqueueing each ticket's comments on the sync queue, behind live sync.
import type { Context, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/config-loader.ts';
import { feederDeps, reserveShareFrom } from '../shared/import/import-deps.ts';
import { handleImportMessages, sqsBacklog } from '../shared/import/lambda.ts';
import { logger, metrics } from '../shared/observability.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

export const handler = async (event: SQSEvent, context: Context): Promise<void> => {
  logger.addContext(context);
  try {
    const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
    const importQueueUrl = env.IMPORT_QUEUE_URL;
    const syncQueueUrl = env.QUEUE_URL;
    if (!importQueueUrl || !syncQueueUrl) throw new Error('IMPORT_QUEUE_URL and QUEUE_URL must be set');
    const reserveShare = reserveShareFrom(env);
    const deps = feederDeps(rt, {
      backlog: sqsBacklog(syncQueueUrl),
      ...(reserveShare !== undefined ? { reserveShare } : {}),
    });
    await handleImportMessages(event, context, deps, { importQueueUrl, syncQueueUrl });
  } finally {
    metrics.publishStoredMetrics();
  }
};
