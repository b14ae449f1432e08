// `import --dry-run`: what a run would do, from the listing the import reads anyway (one export request per page of
// up to 100 tickets) plus at most COMMENT_SAMPLE comment counts, and writing nothing (no job, no queue message).

import type { ListedTicket } from '../zendesk/client.ts';
import type { FeederDeps } from './feeder.ts';
import { queriesOf } from './feeder.ts';
import type { ImportFilter } from './state.ts';

/**
 * Tickets whose comments are counted (Count Ticket Comments, one request each): the whole history would cost a
 * comment listing per ticket — the import itself. Ten keep a dry run of 50,000 tickets at ~510 requests.
 */
export const COMMENT_SAMPLE = 10;

export interface ImportPlan {
  queries: string[];
  /** Tickets the import would bring, and those it would leave because live sync linked them already. */
  tickets: number;
  alreadyLinked: number;
  /** Tickets to import per Zendesk status (from the listing: no extra request). */
  byStatus: Record<string, number>;
  /** Distinct requesters of those tickets: a Chatwoot contact each, reused when one exists. */
  requesters: number;
  /**
   * Comments on those tickets, counted on the first `sampled` of them: exact when every ticket was counted, else
   * `estimate` = their mean × tickets. Internal notes are among them (posted only with SYNC_INTERNAL_NOTES on), and
   * so are the bridge's own replies (never brought back): an upper bound of the messages to post.
   */
  comments: { sampled: number; counted: number; estimate: number; exact: boolean };
  /** SYNC_INTERNAL_NOTES of the bridge that would run it (internal notes become private notes), when known. */
  internalNotes?: boolean;
  /** Export pages read (one request each). */
  pages: number;
  /** Zendesk requests the dry run made. */
  requests: number;
  firstTicketIds: string[];
}

/** Lists what a run would import and what it would write to Chatwoot; writes nothing anywhere. */
export async function planImport(
  deps: Pick<FeederDeps, 'zendesk' | 'links'> & Partial<Pick<FeederDeps, 'config'>>,
  filter: ImportFilter,
): Promise<ImportPlan> {
  const queries = queriesOf(filter);
  const plan: ImportPlan = {
    queries,
    tickets: 0,
    alreadyLinked: 0,
    byStatus: {},
    requesters: 0,
    comments: { sampled: 0, counted: 0, estimate: 0, exact: true },
    pages: 0,
    requests: 0,
    firstTicketIds: [],
    ...(deps.config ? { internalNotes: deps.config.SYNC_INTERNAL_NOTES } : {}),
  };
  const requesters = new Set<number>();
  const sample: string[] = [];
  const consider = async (t: ListedTicket) => {
    if (await deps.links.getByTicket(String(t.id))) {
      plan.alreadyLinked++;
      return;
    }
    plan.tickets++;
    plan.byStatus[t.status] = (plan.byStatus[t.status] ?? 0) + 1;
    requesters.add(t.requester_id);
    if (plan.firstTicketIds.length < 10) plan.firstTicketIds.push(String(t.id));
    if (sample.length < COMMENT_SAMPLE) sample.push(String(t.id));
  };
  if (filter.ticket) {
    plan.requests++;
    await consider(await deps.zendesk.ticket(filter.ticket));
  } else {
    for (const q of queries) {
      let after: string | undefined;
      do {
        const page = await deps.zendesk.searchTickets(q, after ? { after } : {});
        plan.pages++;
        plan.requests++;
        for (const t of page.tickets) await consider(t);
        after = page.after;
      } while (after);
    }
  }
  plan.requesters = requesters.size;
  for (const id of sample) {
    plan.comments.counted += await deps.zendesk.commentCount(id);
    plan.requests++;
  }
  plan.comments.sampled = sample.length;
  plan.comments.exact = sample.length === plan.tickets;
  plan.comments.estimate = plan.comments.exact
    ? plan.comments.counted
    : Math.round((plan.comments.counted / Math.max(1, sample.length)) * plan.tickets);
  return plan;
}

const n = (x: number) => x.toLocaleString('en-US');

/** The dry run as a person reads it: what is read, what would be written, and that nothing was. */
export function planLines(plan: ImportPlan): string[] {
  const lines = [
    `dry run: would import ${n(plan.tickets)} ticket(s)` +
      (plan.alreadyLinked
        ? `; ${n(plan.alreadyLinked)} already linked by live sync would be left as they are`
        : '') +
      ` (${plan.queries.length ? `queries: ${plan.queries.join(' | ')}; ` : ''}${n(plan.pages)} export page(s) read)`,
  ];
  const statuses = Object.entries(plan.byStatus);
  if (statuses.length > 0) lines.push(`  by status: ${statuses.map(([s, c]) => `${s} ${n(c)}`).join(', ')}`);
  if (plan.tickets > 0) {
    const c = plan.comments;
    const messages = c.exact
      ? `${n(c.estimate)} comment(s)`
      : `about ${n(c.estimate)} comment(s) (${n(c.counted)} on ${n(c.sampled)} sampled tickets, scaled to all)`;
    const notes =
      plan.internalNotes === undefined
        ? 'internal notes among them only if SYNC_INTERNAL_NOTES is on'
        : plan.internalNotes
          ? 'internal notes among them as private notes'
          : 'less the internal notes (SYNC_INTERNAL_NOTES is off)';
    lines.push(
      `  would write to Chatwoot: ${n(plan.tickets)} conversation(s), a contact for each of ${n(plan.requesters)} requester(s) (reused when it exists), up to ${messages} as messages (${notes})`,
    );
  }
  if (plan.firstTicketIds.length > 0) lines.push(`  first tickets: ${plan.firstTicketIds.join(', ')}`);
  lines.push(
    `  nothing was written (${n(plan.requests)} Zendesk request(s) read); an import never writes to Zendesk`,
  );
  return lines;
}
