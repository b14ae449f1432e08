// Lambda on a schedule (5 minutes by default): enqueues comments and messages that no webhook delivered
// (shared/sync/reconcile.ts); publishes how many as ReconciledMissed (an alarm watches it), and what the run read
// and cost as ReconcileChangesRead and ReconcileApiCalls.
import type { Context } from 'aws-lambda';
import { loadConfig } from '../shared/config-loader.ts';
import { logger, MetricUnit, metrics } from '../shared/observability.ts';
import { type ReconcileResult, reconcile, reconcileOptionsFrom } from '../shared/sync/reconcile.ts';
import { traced } from '../shared/tracing.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

/** Room left at the end of a run to finish the link in hand and flush metrics. */
const SAFETY_MS = 20_000;

export const handler = async (_event?: unknown, context?: Context): Promise<ReconcileResult> => {
  if (context) logger.addContext(context);
  try {
    const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
    const result = await traced('## reconcile', {}, () =>
      reconcile(rt, {
        ...reconcileOptionsFrom(env),
        ...(context ? { deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS } : {}),
      }),
    );
    metrics.addMetric('ReconciledMissed', MetricUnit.Count, result.enqueued);
    metrics.addMetric('ReconcileChangesRead', MetricUnit.Count, result.changesRead);
    metrics.addMetric('ReconcileApiCalls', MetricUnit.Count, result.apiCalls);
    metrics.addMetric('ReconcileFailedLinks', MetricUnit.Count, result.failed);
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
};
