// `bridge resync --ticket N`: offers every comment of a ticket and every message of its conversation to the
// queue again; the worker's ledger claims drop what was already synced, so only what is missing gets posted.
import { resyncTicket } from '../../shared/sync/reconcile.ts';
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
import { type Command, UsageError } from './types.ts';

export const resync: Command = {
  name: 'resync',
  summary: 'Re-sync one ticket: enqueue what is missing on either side (nothing is posted twice)',
  usage: `resync --ticket <id> [--local | --local-url <url>]\n\n${TARGET_HELP}\nDeployed, it also needs SECRET_ARN, LINKS_TABLE_NAME and LEDGER_TABLE_NAME (stack outputs SecretArn, LinksTableName, LedgerTableName).`,
  options: { ...TARGET_OPTIONS, ticket: { type: 'string' } },
  async run(ctx) {
    const ticket = ctx.options.ticket;
    if (typeof ticket !== 'string' || !/^\d+$/.test(ticket)) {
      throw new UsageError('--ticket <id> is required: the Zendesk ticket number');
    }
    const target = targetOf(ctx);
    ctx.print(describeTarget(target));
    let enqueued: number;
    if (target.kind === 'local') {
      ({ enqueued } = await callLocal<{ enqueued: number }>(
        target.url,
        'POST',
        `/_local/reconcile?ticket=${ticket}`,
      ));
    } else {
      await prepareDeployed(ctx, target);
      enqueued = await resyncTicket(await getWorkerDeps(), ticket).catch((err: unknown) => {
        throw explainAws(err, `re-syncing ticket ${ticket}`, OPERATOR_PERMISSIONS.reconcile);
      });
    }
    ctx.print(`ticket ${ticket}: ${enqueued} missing comment(s)/message(s) enqueued`);
  },
};
