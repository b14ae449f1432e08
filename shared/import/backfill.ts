// Order between a history import and live sync: while an import runs, the first live comment of a ticket the
// import has not reached yet would start the conversation, and the ticket's history, imported later, would land
// after it. So the worker first posts the ticket's earlier comments, through the same pipeline and claims as the
// import's own events (which then find them done), and only then the live comment.

import type { ZendeskCommentEvent } from '../events/sync-event.ts';
import type { SyncDeps } from '../sync/deps.ts';
import { processEvent } from '../sync/engine.ts';
import { ticketEvents } from './feeder.ts';
import { IMPORT_PK, type ImportJob } from './state.ts';

/**
 * Read once per conversation about to be created (a new ticket already costs a contact, a conversation and half a
 * dozen ledger requests), never per message; not cached, so an import's start and end count at once.
 */
export function importBackfill(): (e: ZendeskCommentEvent, deps: SyncDeps) => Promise<void> {
  return async (e, deps) => {
    const item = (await deps.ledger.get(IMPORT_PK)) as ImportJob | undefined;
    const job = item?.status === 'running' ? item : undefined;
    // A trigger body whose comment was not found has no id to order by: nothing is known to be earlier.
    if (!job || e.commentId === undefined) return;
    if (job.filter.ticket !== undefined && job.filter.ticket !== e.ticketId) return;
    const ticket = await deps.zendesk.ticket(e.ticketId);
    // Only tickets the import would bring (its statuses; a live comment has just updated it, so --since holds).
    if (!job.filter.statuses.includes(ticket.status)) return;
    const before = BigInt(e.commentId);
    const earlier = (await ticketEvents(deps, ticket)).filter((c) => BigInt(c.commentId ?? '0') < before);
    if (earlier.length > 0)
      deps.logger.info('backfilling history before a live comment', {
        ticketId: e.ticketId,
        comments: earlier.length,
      });
    for (const c of earlier) {
      // Without the hook: an earlier comment must not recurse into another backfill.
      const { backfill: _b, ...inner } = deps;
      await processEvent(c, inner);
    }
  };
}
