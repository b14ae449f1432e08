// Reads of a ticket's recent comments and a conversation's recent messages, oldest first: what the replay guard
// and reconciliation compare with what the bridge has recorded. Only these paths read history; the steady state
// never does.
import type { ChatwootClient, ChatwootMessage } from '../chatwoot/client.ts';
import type { ZendeskCommentEvent } from '../events/sync-event.ts';
import { eventKeys } from '../store/ledger-keys.ts';
import type { ZendeskClient, ZendeskComment, ZendeskUser } from '../zendesk/client.ts';

/** Chatwoot pages: `after` gives up to 100 newer messages, `before` 20 older; bounded so a run cannot spin. */
const MAX_PAGES = 10;

/**
 * The ticket's latest comments (one page: Zendesk's 100 newest), oldest first, only those with an id above
 * `afterId` when given.
 */
export async function recentComments(
  zendesk: ZendeskClient,
  ticketId: string,
  afterId?: number,
): Promise<ZendeskComment[]> {
  const comments = await zendesk.comments(ticketId);
  return comments.filter((c) => afterId === undefined || c.id > afterId).sort((a, b) => a.id - b.id);
}

/** When the API says a comment was made (epoch ms; 0 when it does not say). */
export function commentMs(c: ZendeskComment): number {
  const ms = c.created_at ? Date.parse(c.created_at) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * An API comment as the worker's event: the shape an event webhook gives, plus what only the API shows (HTML,
 * every file, the author's role).
 */
export function apiCommentEvent(
  c: ZendeskComment,
  ticketId: string,
  author: ZendeskUser,
  o: { receivedAt: number; actorId?: string; via?: 'reconcile' | 'import' },
): ZendeskCommentEvent {
  const occurredAt = commentMs(c);
  return {
    kind: 'zendesk.comment',
    via: o.via ?? 'reconcile',
    eventKey: eventKeys.zendeskComment(c.id),
    ticketId,
    commentId: String(c.id),
    body: c.plain_body ?? c.body,
    ...(c.html_body ? { htmlBody: c.html_body } : {}),
    attachments: (c.attachments ?? []).map((a) => ({
      id: String(a.id),
      fileName: a.file_name,
      url: a.content_url,
      contentType: a.content_type,
      size: a.size,
    })),
    public: c.public,
    author: { id: String(author.id), name: author.name, isStaff: author.role !== 'end-user' },
    ...(o.actorId ? { actorId: o.actorId } : {}),
    ...(occurredAt ? { occurredAt } : {}),
    receivedAt: o.receivedAt,
  };
}

/**
 * The conversation's messages oldest first: after `afterId` when given (paging forwards), otherwise the newest
 * ones back to `sinceMs` (paging backwards).
 */
export async function recentMessages(
  chatwoot: ChatwootClient,
  conversationId: string,
  o: { afterId?: number; sinceMs?: number },
): Promise<ChatwootMessage[]> {
  const all = new Map<number, ChatwootMessage>();
  if (o.afterId !== undefined) {
    let after = o.afterId;
    for (let i = 0; i < MAX_PAGES; i++) {
      const batch = await chatwoot.messages(conversationId, { after });
      for (const m of batch) all.set(m.id, m);
      if (batch.length < 100) break;
      after = Math.max(...batch.map((m) => m.id));
    }
  } else {
    let before: number | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const batch = await chatwoot.messages(conversationId, before !== undefined ? { before } : {});
      for (const m of batch) all.set(m.id, m);
      if (batch.length === 0) break;
      const oldest = batch.reduce((a, b) => (a.id < b.id ? a : b));
      if (o.sinceMs === undefined || createdMs(oldest) < o.sinceMs) break;
      before = oldest.id;
    }
  }
  return [...all.values()].sort((a, b) => a.id - b.id);
}

/** Chatwoot's `created_at` is epoch seconds in the API (a string date in some payloads). */
export function createdMs(m: { created_at?: number | string }): number {
  const v = m.created_at;
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  const parsed = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(parsed) ? 0 : parsed;
}
