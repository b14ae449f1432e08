// Lambda on the SQS FIFO queue: syncs each event with one API call, reports partial batch failures; traced in X-Ray
// with every downstream call as a subsegment.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger, metrics } from '../shared/observability.ts';
import { handleBatch } from '../shared/sync/worker.ts';
import { traced } from '../shared/tracing.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  if (context) logger.addContext(context);
  try {
    return await traced('## sync batch', { records: event.Records.length }, () =>
      handleBatch(event, context, getWorkerDeps),
    );
  } finally {
    metrics.publishStoredMetrics();
  }
};
