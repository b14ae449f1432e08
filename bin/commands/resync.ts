// `bridge resync --ticket N`: offers every comment of a ticket and every message of its conversation to the
// queue again; the worker's ledger claims drop what was already synced, so only what is missing gets posted.
import { resyncTicket } from '../../shared/sync/reconcile.ts';
import { getWorkerDeps } from '../../shared/worker-deps.ts';
import { callLocal, TARGET_HELP, targetOf } from './queue-target.ts';
import { CliError, type Command } from './types.ts';

export const resync: Command = {
  name: 'resync',
  summary: 'Re-sync one ticket: enqueue what is missing on either side (nothing is posted twice)',
  usage: `resync --ticket <id> [--local [url]]\n\n${TARGET_HELP}\nDeployed, it also needs the bridge's configuration (SECRET_ARN or the variables) and table names.`,
  async run(ctx) {
    const ticket = ctx.options.ticket;
    if (typeof ticket !== 'string' || !/^\d+$/.test(ticket)) {
      throw new CliError('--ticket <id> is required: the Zendesk ticket number');
    }
    const target = targetOf(ctx);
    const enqueued =
      target.kind === 'local'
        ? (await callLocal<{ enqueued: number }>(target.url, 'POST', `/_local/reconcile?ticket=${ticket}`))
            .enqueued
        : await resyncTicket(await getWorkerDeps(), ticket).catch((err: unknown) => {
            throw new CliError(err instanceof Error ? err.message : 'resync failed');
          });
    ctx.print(`ticket ${ticket}: ${enqueued} missing comment(s)/message(s) enqueued`);
  },
};
