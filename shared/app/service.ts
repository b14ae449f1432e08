// What the Chatwoot dashboard app shows and does for one conversation: the linked Zendesk ticket, when each
// direction last synced, the events held for a retry or dead-lettered, and the retry and resync actions. The
// conversation id comes from an unsigned browser message, so every answer starts from the bridge's own records:
// the conversation must be in the configured account and inbox (asked of Chatwoot), and the link is re-read.
import { createHash } from 'node:crypto';
import type { ChatwootClient } from '../chatwoot/client.ts';
import type { BridgeConfig } from '../config.ts';
import { UpstreamError } from '../errors.ts';
import { SyncEventSchema } from '../events/sync-event.ts';
import type { EventQueue } from '../queue/types.ts';
import { type AttentionEntry, type AttentionStore, entriesOf } from '../store/attention.ts';
import type { Ledger } from '../store/ledger.ts';
import { ledgerKeys } from '../store/ledger-keys.ts';
import type { Link, LinkStore } from '../store/links.ts';
import type { ZendeskClient, ZendeskUser } from '../zendesk/client.ts';

export interface AppDeps {
  config: BridgeConfig;
  zendesk: ZendeskClient;
  chatwoot: ChatwootClient;
  links: LinkStore;
  ledger: Ledger;
  attention: AttentionStore;
  queue: EventQueue;
  /** Makes held queue messages visible now; returns how many it released. */
  releaseHeld: (entries: AttentionEntry[]) => Promise<number>;
  /** The ops CLI's resync of one ticket: enqueues what is missing on either side (idempotent). */
  resync: (ticketId: string) => Promise<number>;
  now: () => number;
}

type NotLinkedReason = 'not-linked' | 'other-inbox' | 'not-found';

interface Problem {
  eventKey: string;
  /** What the event is, in words (`Zendesk comment 123`). */
  label: string;
  state: AttentionEntry['state'];
  reason: string;
  at: number;
}

interface TicketView {
  id: number;
  url: string;
  subject: string;
  status: string;
  priority: string | null;
  requester: { name: string; email: string | null } | null;
  assignee: { name: string } | null;
  tags: string[];
}

export type StatusView =
  | { linked: false; reason: NotLinkedReason; now: number }
  | {
      linked: true;
      now: number;
      ticket: TicketView;
      lastSynced: { zendeskToChatwoot: number | null; chatwootToZendesk: number | null };
      problems: Problem[];
    };

/** An answer for the person at the desk: a status code and a sentence (never an upstream body or a secret). */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

type Owned = { linked: false; reason: NotLinkedReason } | { linked: true; link: Link };

/** The conversation's link, only when Chatwoot says the conversation is in the bridge's account and inbox. */
async function ownedLink(deps: AppDeps, conversationId: string): Promise<Owned> {
  const [conversation, link] = await Promise.all([
    // The client is scoped to the configured account: another account's conversation is a 404 there.
    deps.chatwoot.conversation(conversationId).catch((err: unknown) => {
      if (err instanceof UpstreamError && err.status === 404) return undefined;
      throw err;
    }),
    // Past the per-container cache, so a relink to a follow-up ticket shows at once.
    deps.links.latestForConversation(conversationId),
  ]);
  if (!conversation) return { linked: false, reason: 'not-found' };
  if (conversation.inbox_id !== deps.config.CHATWOOT_INBOX_ID)
    return { linked: false, reason: 'other-inbox' };
  if (!link) return { linked: false, reason: 'not-linked' };
  return { linked: true, link };
}

const groupsOf = (link: Link) => [`ticket-${link.ticketId}`, `conversation-${link.conversationId}`];

export function labelOf(eventKey: string): string {
  const m = /^(zd|cw):([a-z_-]+):(.+)$/.exec(eventKey);
  if (!m) return 'Sync event';
  const side = m[1] === 'zd' ? 'Zendesk' : 'Chatwoot';
  const id = /^\d+$/.test(m[3] ?? '') ? ` ${m[3]}` : '';
  return `${side} ${(m[2] ?? 'event').replace(/[_-]/g, ' ')}${id}`;
}

/** Attention entries of the link's groups whose event has not synced since (the ledger's claim says so). */
async function openProblems(
  deps: AppDeps,
  items: Map<string, Record<string, unknown>>,
  link: Link,
): Promise<Array<AttentionEntry & { groupId: string }>> {
  const entries = groupsOf(link).flatMap((groupId) =>
    entriesOf(items.get(ledgerKeys.attention(groupId))).map((e) => ({ ...e, groupId })),
  );
  if (entries.length === 0) return [];
  const claims = await deps.ledger.getMany(entries.map((e) => ledgerKeys.event(e.eventKey)));
  return entries.filter((e) => claims.get(ledgerKeys.event(e.eventKey))?.status !== 'done');
}

function person(users: ZendeskUser[], id: number | null | undefined): ZendeskUser | undefined {
  return id == null ? undefined : users.find((u) => u.id === id);
}

export async function conversationStatus(deps: AppDeps, conversationId: string): Promise<StatusView> {
  const owned = await ownedLink(deps, conversationId);
  if (!owned.linked) return { linked: false, reason: owned.reason, now: deps.now() };
  const { link } = owned;
  const [{ ticket, users }, items] = await Promise.all([
    deps.zendesk.ticketWithUsers(link.ticketId),
    deps.ledger.getMany([
      ledgerKeys.lastSynced(link.ticketId, 'zd'),
      ledgerKeys.lastSynced(link.ticketId, 'cw'),
      ...groupsOf(link).map(ledgerKeys.attention),
    ]),
  ]);
  const problems = await openProblems(deps, items, link);
  const requester = person(users, ticket.requester_id);
  const assignee = person(users, ticket.assignee_id);
  const at = (key: string) => {
    const v = items.get(key)?.at;
    return typeof v === 'number' ? v : null;
  };
  // Built field by field: nothing the platforms return beyond these reaches the browser.
  return {
    linked: true,
    now: deps.now(),
    ticket: {
      id: ticket.id,
      url: `${deps.config.ZENDESK_BASE_URL}/agent/tickets/${ticket.id}`,
      subject: ticket.subject ?? '',
      status: ticket.status,
      priority: ticket.priority ?? null,
      requester: requester ? { name: requester.name, email: requester.email ?? null } : null,
      assignee: assignee ? { name: assignee.name } : null,
      tags: ticket.tags ?? [],
    },
    lastSynced: {
      zendeskToChatwoot: at(ledgerKeys.lastSynced(link.ticketId, 'zd')),
      chatwootToZendesk: at(ledgerKeys.lastSynced(link.ticketId, 'cw')),
    },
    problems: problems.map((p) => ({
      eventKey: p.eventKey,
      label: labelOf(p.eventKey),
      state: p.state,
      reason: p.reason,
      at: p.at,
    })),
  };
}

async function requireLink(deps: AppDeps, conversationId: string): Promise<Link> {
  const owned = await ownedLink(deps, conversationId);
  if (!owned.linked)
    throw new AppError(404, 'not_linked', 'This conversation is not linked to a Zendesk ticket.');
  return owned.link;
}

/** Re-syncs the conversation's ticket: the ops CLI's resync (idempotent: nothing is posted twice). */
export async function resyncConversation(
  deps: AppDeps,
  conversationId: string,
): Promise<{ ticketId: string; enqueued: number }> {
  const link = await requireLink(deps, conversationId);
  return { ticketId: link.ticketId, enqueued: await deps.resync(link.ticketId) };
}

/**
 * Retries one event of this conversation. Held for a retry: its group's held messages become visible now (they
 * wait behind one another, so all of them), and the worker takes them through its usual claim. Dead-lettered:
 * its queued body goes back on the queue with a fresh deduplication id; the ledger lets a dead-lettered claim be
 * taken again, and one that was applied meanwhile (a redrive) is skipped as a duplicate.
 */
export async function retryEvent(
  deps: AppDeps,
  conversationId: string,
  eventKey: string,
): Promise<{ eventKey: string; action: 'released' | 'requeued'; count: number }> {
  const link = await requireLink(deps, conversationId);
  const items = await deps.ledger.getMany(groupsOf(link).map(ledgerKeys.attention));
  const open = await openProblems(deps, items, link);
  const entry = open.find((e) => e.eventKey === eventKey);
  if (!entry) {
    throw new AppError(404, 'not_waiting', 'That event is no longer waiting: it may have synced meanwhile.');
  }
  if (entry.state === 'retrying') {
    const held = open.filter((e) => e.groupId === entry.groupId && e.state === 'retrying');
    return { eventKey, action: 'released', count: await deps.releaseHeld(held) };
  }
  const stored = await deps.ledger.get(ledgerKeys.deadLetterBody(eventKey));
  const body = typeof stored?.body === 'string' ? stored.body : undefined;
  let parsed: ReturnType<typeof SyncEventSchema.safeParse> | undefined;
  try {
    parsed = body === undefined ? undefined : SyncEventSchema.safeParse(JSON.parse(body));
  } catch {
    parsed = undefined;
  }
  if (!body || !parsed?.success || parsed.data.eventKey !== eventKey) {
    throw new AppError(
      410,
      'not_retryable_here',
      'This dead letter cannot be sent again from here; an operator can redrive the dead-letter queue.',
    );
  }
  await deps.queue.send({
    body,
    groupId: entry.groupId,
    dedupId: createHash('sha256').update(`app-retry:${eventKey}:${deps.now()}`).digest('hex'),
  });
  // If it fails again, the worker lists it again.
  await deps.attention.clear(entry.groupId, [eventKey]);
  return { eventKey, action: 'requeued', count: 1 };
}
