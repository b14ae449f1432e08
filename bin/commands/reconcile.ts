// `bridge reconcile`: one reconciliation run now (what the 5-minute schedule does), with progress on long runs.
import { loadConfig } from '../../shared/config-loader.ts';
import {
  type ReconcileResult,
  reconcileOptionsFrom,
  reconcile as runReconcile,
} from '../../shared/sync/reconcile.ts';
import { getWorkerDeps } from '../../shared/worker-deps.ts';
import { callLocal, TARGET_HELP, targetOf } from './queue-target.ts';
import type { Command } from './types.ts';

export const reconcile: Command = {
  name: 'reconcile',
  summary: 'Run reconciliation now: enqueue comments and messages no webhook delivered',
  usage: `reconcile [--local [url]]\n\n${TARGET_HELP}\nDeployed, it also needs the bridge's configuration (SECRET_ARN or the variables) and table names.`,
  async run(ctx) {
    const target = targetOf(ctx);
    let result: ReconcileResult;
    if (target.kind === 'local') {
      result = await callLocal<ReconcileResult>(target.url, 'POST', '/_local/reconcile');
    } else {
      const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
      let last = 0;
      result = await runReconcile(rt, {
        ...reconcileOptionsFrom(env),
        onProgress: (message) => {
          if (rt.now() - last > 2_000) {
            last = rt.now();
            ctx.print(`  ${message}`);
          }
        },
      });
    }
    const left = (['zendesk', 'chatwoot'] as const).filter((p) => result[p].deferred);
    const failed = (['zendesk', 'chatwoot'] as const).filter((p) => result[p].failed);
    ctx.print(
      `reconciled: ${result.changesRead} change(s) read with ${result.apiCalls} API call(s), ` +
        `${result.enqueued} missed event(s) enqueued` +
        (failed.length ? `; failed: ${failed.join(', ')} (see logs)` : '') +
        (left.length ? `; ${left.join(', ')} continues next run` : ''),
    );
  },
};
