// `bridge reconcile`: one reconciliation run now (what the 5-minute schedule does), with progress on long runs.
import { loadConfig } from '../../shared/config-loader.ts';
import {
  type ReconcileResult,
  reconcileOptionsFrom,
  reconcile as runReconcile,
} from '../../shared/sync/reconcile.ts';
import { getWorkerDeps } from '../../shared/worker-deps.ts';
import { explainAws, OPERATOR_PERMISSIONS } from './aws.ts';
import {
  callLocal,
  describeTarget,
  prepareDeployed,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOf,
} from './queue-target.ts';
import type { Command } from './types.ts';

export const reconcile: Command = {
  name: 'reconcile',
  summary: 'Run reconciliation now: enqueue comments and messages no webhook delivered',
  usage: `reconcile [--local | --local-url <url>]\n\n${TARGET_HELP}\nDeployed, it also needs SECRET_ARN, LINKS_TABLE_NAME and LEDGER_TABLE_NAME (stack outputs SecretArn, LinksTableName, LedgerTableName).`,
  options: TARGET_OPTIONS,
  async run(ctx) {
    const target = targetOf(ctx);
    ctx.print(describeTarget(target));
    let result: ReconcileResult;
    if (target.kind === 'local') {
      result = await callLocal<ReconcileResult>(target.url, 'POST', '/_local/reconcile');
    } else {
      await prepareDeployed(ctx, target);
      const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]).catch((err: unknown) => {
        throw explainAws(err, 'reading the bridge configuration', OPERATOR_PERMISSIONS.reconcile);
      });
      let last = 0;
      result = await runReconcile(rt, {
        ...reconcileOptionsFrom(env),
        onProgress: (message) => {
          if (rt.now() - last > 2_000) {
            last = rt.now();
            ctx.print(`  ${message}`);
          }
        },
      }).catch((err: unknown) => {
        throw explainAws(err, 'reconciling', OPERATOR_PERMISSIONS.reconcile);
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
