// What happens to a Chatwoot agent reply: it becomes a public comment on the linked Zendesk ticket (a private
// note becomes an internal note), with one PUT that never sends `tags`.

import { ticketHintOf } from '../chatwoot/webhook.ts';
import type { Link } from '../store/links.ts';
import type { SyncDeps, SyncOutcome } from './deps.ts';
import { skipped } from './deps.ts';
import type { ChatwootMessage } from './events.ts';
import { writeToTicket } from './ticket-writer.ts';

/** How long "this conversation has no ticket" is remembered, so its messages do not each cost a lookup. */
const NO_LINK_TTL_MS = 60 * 60 * 1000;

export async function syncChatwootMessage(e: ChatwootMessage, deps: SyncDeps): Promise<SyncOutcome> {
  const link = await resolveLink(e, deps);
  if (!link) return skipped('no-link');
  const { ticketId, commentId } = await writeToTicket(
    link,
    { comment: { body: e.content, public: !e.private } },
    deps,
  );
  return {
    status: 'synced',
    action: e.private ? 'zendesk-internal-note-created' : 'zendesk-comment-created',
    ownWrites: commentId !== undefined ? [`zd:comment:${commentId}`] : [],
    ids: { ticketId, ...(commentId !== undefined ? { commentId: String(commentId) } : {}) },
  };
}

/**
 * The conversation's ticket: from the links table, else from the marks the bridge put on the conversation,
 * read once through the Chatwoot API (not from the webhook body) and then linked.
 */
async function resolveLink(e: ChatwootMessage, deps: SyncDeps): Promise<Link | undefined> {
  const known = await deps.links.getByConversation(e.conversationId);
  if (known) return known;
  const negativeKey = `nolink#cw:${e.conversationId}`;
  if (await deps.ledger.get(negativeKey)) return undefined;
  const conversation = await deps.chatwoot.conversation(e.conversationId);
  const ticketId = ticketHintOf(conversation);
  if (!ticketId || (conversation.inbox_id !== undefined && conversation.inbox_id !== deps.chatwoot.inboxId)) {
    await deps.ledger.put(negativeKey, { checkedAt: deps.now() }, NO_LINK_TTL_MS);
    deps.logger.warn('conversation has no Zendesk ticket', { conversationId: e.conversationId });
    return undefined;
  }
  const { link } = await deps.links.create({
    ticketId,
    conversationId: e.conversationId,
    linkedAt: deps.now(),
  });
  deps.logger.info('link recovered', { ticketId, conversationId: e.conversationId });
  return link;
}
