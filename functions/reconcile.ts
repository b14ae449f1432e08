// Lambda on a schedule (5 minutes by default): enqueues comments and messages that no webhook delivered
// (shared/sync/reconcile.ts); publishes how many as ReconciledMissed (an alarm watches it), and what the run read
// and cost as ReconcileChangesRead and ReconcileApiCalls.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { isConfigured, loadConfig } from '../shared/config-loader.ts';
import { callableWithoutContext, lambdaContext } from '../shared/lambda.ts';
import { logger, MetricUnit, metrics } from '../shared/observability.ts';
import {
  emptyReconcileResult,
  type ReconcileResult,
  reconcile,
  reconcileOptionsFrom,
} from '../shared/sync/reconcile.ts';
import { captureLambdaHandlerLazily } from '../shared/tracing.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

/** Room left at the end of a run to finish the link in hand and flush metrics. */
const SAFETY_MS = 20_000;

// The schedule's event carries nothing the run needs; the local bridge calls it with none.
export const handler: (event?: unknown, context?: Context) => Promise<ReconcileResult> =
  callableWithoutContext(
    middy<unknown, ReconcileResult>()
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics))
      .use(captureLambdaHandlerLazily())
      .handler(async (_event, context) => {
        // Before the bridge is set up (the placeholder secret, or no webhook secrets yet) there is nothing to
        // reconcile and nothing to fix but setup itself: said once, no error, so a first deploy raises no alarm.
        if (!(await isConfigured())) return recordResult(emptyReconcileResult());
        const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
        const remaining = lambdaContext(context)?.getRemainingTimeInMillis();
        const result = await reconcile(rt, {
          ...reconcileOptionsFrom(env),
          ...(remaining !== undefined ? { deadline: Date.now() + remaining - SAFETY_MS } : {}),
        });
        return recordResult(result);
      }),
  );

function recordResult(result: ReconcileResult): ReconcileResult {
  metrics.addMetric('ReconciledMissed', MetricUnit.Count, result.enqueued);
  metrics.addMetric('ReconcileChangesRead', MetricUnit.Count, result.changesRead);
  metrics.addMetric('ReconcileApiCalls', MetricUnit.Count, result.apiCalls);
  metrics.addMetric('ReconcileFailedLinks', MetricUnit.Count, result.failed);
  return result;
}
