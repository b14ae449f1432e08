// Every write the bridge makes to a Zendesk ticket goes through here, because two Zendesk rules need one place:
// - at most 30 updates per ticket per 10 minutes per user: a burst beyond it is delayed, never dropped or merged
//   (the 429's Retry-After travels with a RetryableError and the worker holds the message back that long, so the
//   conversation's later messages wait behind it in their FIFO group and order holds);
// - a closed ticket rejects updates (422): the write goes to a follow-up ticket (`via_followup_source_id`, same
//   requester), which becomes the conversation's ticket through a newer link item;
// - a ticket holds at most 5,000 comments and refuses the next with 422 (Ticket Comments): the same, with a new
//   ticket for the same requester (a follow-up link needs a closed source, and this one is not closed).

import { PermanentError, RetryableError, UpstreamError } from '../errors.ts';
import { lockNames } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import type { TicketUpdate, ZendeskTicket } from '../zendesk/client.ts';
import type { SyncDeps } from './deps.ts';

export interface TicketWrite {
  /** The ticket actually written (a follow-up ticket when the linked one was closed). */
  ticketId: string;
  commentId?: number | undefined;
}

/** When a 429 names no wait (it always should on Zendesk), hold the message back this long. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/** Serialises follow-up creation per closed ticket across containers. */
// Longer than one worker attempt can run (30 s), so a slow holder cannot lose the lease while still working.
const FOLLOWUP_LOCK_MS = 60_000;
/** A chain closed → follow-up → closed again … is followed this far in one attempt. */
const MAX_HOPS = 3;
/** Ticket Comments: "A ticket can contain up to 5000 comments in total, including both public and private". */
const MAX_TICKET_COMMENTS = 5000;

type Successor = { kind: 'link'; link: Link } | { kind: 'written'; write: TicketWrite } | { kind: 'skip' };

export async function writeToTicket(link: Link, update: TicketUpdate, deps: SyncDeps): Promise<TicketWrite> {
  let target = link;
  for (let hop = 0; ; hop++) {
    try {
      const { commentId } = await deps.zendesk.updateTicket(target.ticketId, update);
      return { ticketId: target.ticketId, commentId };
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.status === 429) {
        deps.logger.warn('ticket update rate-limited', {
          ticketId: target.ticketId,
          retryAfterMs: err.retryAfterMs,
        });
        throw new RetryableError(
          `ticket ${target.ticketId} is over Zendesk's per-ticket update limit`,
          'zendesk-ticket-rate-limited',
          err.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS,
        );
      }
      if (err.status !== 422 || hop >= MAX_HOPS) throw err;
      const next = await successorOf(target, update, deps);
      if (next.kind === 'skip') return { ticketId: target.ticketId };
      if (next.kind === 'written') return next.write;
      target = next.link;
    }
  }
}

/**
 * After a 422: the conversation's newer link if another container already relinked it; otherwise, if the ticket
 * is closed, a follow-up ticket (created here with the comment as its first one, or found again when an
 * earlier attempt made it). Any other 422 is a validation error: permanent.
 */
async function successorOf(link: Link, update: TicketUpdate, deps: SyncDeps): Promise<Successor> {
  const newer = await newerLink(link, deps);
  if (newer) return { kind: 'link', link: newer };
  const ticket = await ticketDetail(link.ticketId, deps);
  // A comment on a ticket that is not closed is refused when the ticket is full (5,000 comments): counted, since the
  // body of that 422 is not documented.
  const full =
    ticket.status !== 'closed' &&
    update.comment !== undefined &&
    (await deps.zendesk.commentCount(link.ticketId)) >= MAX_TICKET_COMMENTS;
  if (ticket.status !== 'closed' && !full) {
    throw new PermanentError(`ticket ${link.ticketId} rejected the update (422)`, 'zendesk-update-rejected');
  }
  if (!update.comment) {
    // A status change for a closed ticket has nowhere to go, and a follow-up just for it would be noise.
    deps.logger.info('closed ticket: status change dropped', { ticketId: link.ticketId });
    return { kind: 'skip' };
  }
  const lock = await deps.ledger.lock(lockNames.followUp(link.ticketId), FOLLOWUP_LOCK_MS);
  if (lock.state !== 'claimed') {
    throw new RetryableError(`follow-up of ticket ${link.ticketId} is being created`, 'followup-in-progress');
  }
  try {
    const raced = await newerLink(link, deps);
    if (raced) return { kind: 'link', link: raced };
    const earlier = full ? undefined : await bridgeFollowUp(ticket, deps);
    if (earlier) return { kind: 'link', link: await relink(link, String(earlier.id), deps) };
    return { kind: 'written', write: await createFollowUp(link, ticket, update.comment, deps, { full }) };
  } finally {
    await deps.ledger.unlock(lockNames.followUp(link.ticketId), lock.token).catch(() => undefined);
  }
}

async function newerLink(link: Link, deps: SyncDeps): Promise<Link | undefined> {
  const latest = await deps.links.latestForConversation(link.conversationId);
  return latest && latest.ticketId !== link.ticketId && latest.linkedAt > link.linkedAt ? latest : undefined;
}

function ticketDetail(ticketId: string, deps: SyncDeps): Promise<ZendeskTicket> {
  return deps.zendesk.ticket(ticketId);
}

/**
 * A follow-up of this ticket that the bridge itself created (an attempt that died before writing the link):
 * reused rather than made twice. Follow-ups that customers or agents created are not the bridge's to take over.
 */
async function bridgeFollowUp(ticket: ZendeskTicket, deps: SyncDeps): Promise<ZendeskTicket | undefined> {
  const ids = ticket.followup_ids ?? [];
  if (ids.length === 0) return undefined;
  const me = await deps.zendesk.currentUser();
  for (const id of [...ids].reverse()) {
    const candidate = await ticketDetail(String(id), deps);
    if (candidate.submitter_id === me.id && candidate.status !== 'closed') return candidate;
  }
  return undefined;
}

async function createFollowUp(
  link: Link,
  closed: ZendeskTicket,
  comment: NonNullable<TicketUpdate['comment']>,
  deps: SyncDeps,
  o: { full?: boolean } = {},
): Promise<TicketWrite> {
  const res = await deps.zendesk.createFollowUp({
    // Zendesk takes a follow-up only of a closed ticket; a full one is continued by a new ticket.
    ...(o.full ? {} : { via_followup_source_id: closed.id }),
    requester_id: closed.requester_id,
    // The submitter authors the first comment; left out, Zendesk may take the requester, and the agent's reply
    // would read as the customer's. The bridge as submitter is also how `bridgeFollowUp` finds it again.
    submitter_id: (await deps.zendesk.currentUser()).id,
    ...(closed.subject ? { subject: closed.subject } : {}),
    comment,
  });
  const followUp = String(res.ticket.id);
  await relink(link, followUp, deps);
  const commentId = res.commentId;
  deps.logger.info(
    o.full ? 'continuation ticket created (the ticket was full)' : 'follow-up ticket created',
    {
      ticketId: followUp,
      closedTicketId: link.ticketId,
      conversationId: link.conversationId,
    },
  );
  return { ticketId: followUp, ...(commentId !== undefined ? { commentId } : {}) };
}

/** A newer link item for the follow-up: the reverse index sorts by linkedAt, so it wins for the conversation. */
async function relink(link: Link, ticketId: string, deps: SyncDeps): Promise<Link> {
  const { link: made } = await deps.links.create({
    ticketId,
    conversationId: link.conversationId,
    ...(link.contactId ? { contactId: link.contactId } : {}),
    linkedAt: Math.max(deps.now(), link.linkedAt + 1),
  });
  return made;
}
