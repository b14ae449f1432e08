// Lambda on a 5-minute schedule: enqueues comments and messages that no webhook delivered
// (shared/sync/reconcile.ts), and publishes how many as ReconciledMissed (an alarm watches it).
import type { Context } from 'aws-lambda';
import { isConfigured, loadConfig } from '../shared/config-loader.ts';
import { logger, MetricUnit, metrics } from '../shared/observability.ts';
import { type ReconcileResult, reconcile, reconcileOptionsFrom } from '../shared/sync/reconcile.ts';
import { traced } from '../shared/tracing.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

/** Room left at the end of a run to finish the link in hand and flush metrics. */
const SAFETY_MS = 20_000;

export const handler = async (_event?: unknown, context?: Context): Promise<ReconcileResult> => {
  if (context) logger.addContext(context);
  try {
    // Before the first configuration (the placeholder secret) there is nothing to reconcile and nothing to fix but
    // setup itself: said once, no error, so the first deploy raises no alarm (README → Deploy).
    if (!(await isConfigured())) return recordResult({ links: 0, enqueued: 0, failed: 0, deferred: 0 });
    const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
    const result = await traced('## reconcile', {}, () =>
      reconcile(rt, {
        ...reconcileOptionsFrom(env),
        ...(context ? { deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS } : {}),
      }),
    );
    return recordResult(result);
  } finally {
    metrics.publishStoredMetrics();
  }
};

function recordResult(result: ReconcileResult): ReconcileResult {
  metrics.addMetric('ReconciledMissed', MetricUnit.Count, result.enqueued);
  metrics.addMetric('ReconcileFailedLinks', MetricUnit.Count, result.failed);
  return result;
}
