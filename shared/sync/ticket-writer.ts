// Every write the bridge makes to a Zendesk ticket goes through here: the one place that will also handle
// Zendesk's per-ticket update limit and closed tickets (which need a follow-up ticket).
import type { Link } from '../store/links.ts';
import type { TicketUpdate } from '../zendesk/client.ts';
import type { SyncDeps } from './deps.ts';

export interface TicketWrite {
  /** The ticket actually written (a follow-up ticket when the linked one was closed). */
  ticketId: string;
  commentId?: number;
}

export async function writeToTicket(link: Link, update: TicketUpdate, deps: SyncDeps): Promise<TicketWrite> {
  const { commentId } = await deps.zendesk.updateTicket(link.ticketId, update);
  return { ticketId: link.ticketId, commentId };
}
