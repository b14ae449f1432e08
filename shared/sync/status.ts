// Status both ways: Zendesk solved/closed ⇄ Chatwoot resolved, any reopening ⇄ open. Status webhooks do not say
// who made the change, so the last state the bridge synced is kept per link and an event bringing that same
// state is dropped: that is the echo of the bridge's own write, or no change at all. No ping-pong.

import type { SkipReason } from '../events/loop-guard.ts';
import type { ChatwootStatusEvent, State, ZendeskStatusEvent } from '../events/sync-event.ts';
import { ledgerKeys } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import { resolveLink } from './chatwoot-to-zendesk.ts';
import type { SyncDeps } from './deps.ts';
import type { SyncOutcome } from './outcome.ts';
import { skipped } from './outcome.ts';
import { writeToTicket } from './ticket-writer.ts';

/** Kept as long as a link is likely to see activity; an expired item reads as "open", the state of a new link. */
const STATE_TTL_MS = 365 * 24 * 3600 * 1000;

/**
 * What the bridge last synced for a link: the state, when it recorded it (`at`, its own clock), and when the change
 * it synced happened on its platform (`sourceAt`, that platform's clock; older records lack it). Reconciliation
 * applies a status it reads from a feed only if it changed after `sourceAt`, so a change already synced (or older
 * than one synced since) is never applied again or over a newer one.
 */
export interface LinkStateRecord {
  state: State;
  at: number;
  sourceAt: number;
}

type StateLedger = Pick<SyncDeps['ledger'], 'get' | 'put'>;

async function readLinkState(ledger: StateLedger, ticketId: string): Promise<LinkStateRecord> {
  return linkStateOf(await ledger.get(ledgerKeys.ticketState(ticketId)));
}

/** A `state#<ticket>` item as a record; an absent or expired one is "open", the state of a new link. */
export function linkStateOf(item: Record<string, unknown> | undefined): LinkStateRecord {
  const at = typeof item?.at === 'number' ? item.at : 0;
  return {
    state: item?.state === 'resolved' ? 'resolved' : 'open',
    at,
    sourceAt: typeof item?.sourceAt === 'number' ? item.sourceAt : at,
  };
}

/** Records the state both sides now hold (after a write, or when reconciliation finds both sides agree). */
export async function recordLinkState(
  ledger: StateLedger,
  ticketId: string,
  state: State,
  sourceAt: number,
  now: number,
): Promise<void> {
  await ledger.put(ledgerKeys.ticketState(ticketId), { state, at: now, sourceAt }, STATE_TTL_MS);
}

async function linkOf(
  e: ZendeskStatusEvent | ChatwootStatusEvent,
  deps: SyncDeps,
): Promise<Link | undefined> {
  // Status events are rare: a fresh read of the conversation's newest link (a relink to a follow-up made in
  // another container) is worth it, since the state compared is kept per ticket.
  return e.kind === 'zendesk.status'
    ? deps.links.getByTicket(e.ticketId)
    : resolveLink(e, deps, { fresh: true });
}

/** Checks before the claim, so an echo costs one read and no write. */
export async function screenStatus(
  e: ZendeskStatusEvent | ChatwootStatusEvent,
  deps: SyncDeps,
): Promise<SkipReason | undefined> {
  // Zendesk does say who made the update: the bridge's own status write is an echo without any lookup.
  if (e.kind === 'zendesk.status' && e.actorId && e.actorId === String((await deps.zendesk.currentUser()).id))
    return 'echo';
  const link = await linkOf(e, deps);
  if (!link) return 'no-link';
  const last = await readLinkState(deps.ledger, link.ticketId);
  // Reconciliation's repair: stale once anything was synced after its decision; otherwise it is applied.
  if (e.basedOn !== undefined) return last.at === e.basedOn ? undefined : 'status-unchanged';
  return last.state === e.state ? 'status-unchanged' : undefined;
}

export async function syncStatus(
  e: ZendeskStatusEvent | ChatwootStatusEvent,
  deps: SyncDeps,
): Promise<SyncOutcome> {
  const link = await linkOf(e, deps);
  if (!link) return skipped('no-link');
  let action: string;
  let ticketId = link.ticketId;
  if (e.kind === 'zendesk.status') {
    await deps.chatwoot.toggleStatus(link.conversationId, e.state);
    action = e.state === 'resolved' ? 'chatwoot-resolved' : 'chatwoot-reopened';
  } else {
    // The write may land on a follow-up ticket (the linked one was closed): its state is the one to record.
    ({ ticketId } = await writeToTicket(link, { status: e.state === 'resolved' ? 'solved' : 'open' }, deps));
    action = e.state === 'resolved' ? 'zendesk-solved' : 'zendesk-reopened';
  }
  // Recorded after the write: were it recorded first and the write failed, the retry would look like an echo.
  const now = deps.now();
  await recordLinkState(deps.ledger, ticketId, e.state, e.occurredAt ?? now, now);
  return {
    status: 'synced',
    action,
    ownWrites: [],
    ids: { ticketId, conversationId: link.conversationId },
  };
}
