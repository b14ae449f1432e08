// What happens to a Chatwoot agent reply: it becomes a public comment on the linked Zendesk ticket (a private
// note becomes an internal note), with one PUT that never sends `tags`. Markdown goes as `html_body`, files are
// uploaded first and attached by their tokens, and the author is the matching Zendesk agent when there is one.

import { DOWNLOADS_BUDGET_MS } from '../budgets.ts';
import type { Attachment, ChatwootMessageEvent } from '../events/sync-event.ts';
import { ledgerKeys, writeIds } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import type { TicketUpdate } from '../zendesk/client.ts';
import {
  afterMainWrite,
  fetchFile,
  isMissing,
  type Missing,
  missingFilesNote,
  postBridgeNote,
} from './attachments.ts';
import { authorshipOf } from './authorship.ts';
import type { SyncDeps } from './deps.ts';
import type { SyncOutcome } from './outcome.ts';
import { skipped } from './outcome.ts';
import { writeToTicket } from './ticket-writer.ts';

/** How long "this conversation has no ticket" is remembered, so its messages do not each cost a lookup. */
const NO_LINK_TTL_MS = 60 * 60 * 1000;

export async function syncChatwootMessage(e: ChatwootMessageEvent, deps: SyncDeps): Promise<SyncOutcome> {
  const link = await resolveLink(e, deps);
  if (!link) return skipped('no-link');
  const author = await authorshipOf(e, deps);
  const { tokens, missing } = await uploadFiles(e.attachments ?? [], deps);

  let text = e.content.trim() === '' ? '' : e.content;
  const header = author.header ? `${author.header} (Chatwoot):` : undefined;
  // Zendesk wants some text on a comment; a reply of files alone is described by their names.
  if (!header && text === '') text = (e.attachments ?? []).map((a) => a.fileName).join(', ');
  // The converters (marked, turndown) load with the first message, not at cold start.
  const { zendeskCommentText } = await import('./richtext.ts');
  const comment: NonNullable<TicketUpdate['comment']> = {
    ...zendeskCommentText(text, header),
    public: !e.private,
    ...(author.authorId !== undefined ? { author_id: author.authorId } : {}),
    ...(tokens.length > 0 ? { uploads: tokens } : {}),
  };
  const { ticketId, commentId } = await writeToTicket(link, { comment }, deps);
  if (missing.length > 0) {
    const where = `to Zendesk ticket #${ticketId}`;
    const text = missingFilesNote(missing, deps.config.ATTACHMENT_MAX_BYTES, where);
    await afterMainWrite(
      () => postBridgeNote(link.conversationId, text, `cw-message:${e.messageId}`, deps),
      deps,
      {
        conversationId: link.conversationId,
        messageId: e.messageId,
      },
    );
  }
  return {
    status: 'synced',
    action: e.private ? 'zendesk-internal-note-created' : 'zendesk-comment-created',
    ownWrites: commentId !== undefined ? [writeIds.zendeskComment(commentId)] : [],
    ids: {
      ticketId,
      ...(commentId !== undefined ? { commentId: String(commentId) } : {}),
      ...(author.authorId !== undefined ? { zendeskAuthorId: String(author.authorId) } : {}),
      ...(tokens.length > 0 ? { uploads: String(tokens.length) } : {}),
    },
  };
}

/**
 * Copies the reply's files to Zendesk one at a time (download, upload, let go), so memory holds one file at
 * most, and collects the upload tokens for the comment.
 */
async function uploadFiles(
  files: Attachment[],
  deps: SyncDeps,
): Promise<{ tokens: string[]; missing: Missing[] }> {
  const tokens: string[] = [];
  const missing: Missing[] = [];
  const limit = deps.config.ATTACHMENT_MAX_BYTES;
  // The record's downloads share one budget (shared/budgets.ts): a slow file fails this record, not the batch.
  const deadline = Date.now() + DOWNLOADS_BUDGET_MS;
  for (const ref of files) {
    const got = await fetchFile(ref, limit, (url, max) => deps.chatwoot.download(url, max, deadline));
    if (isMissing(got)) missing.push(got);
    else tokens.push(await deps.zendesk.upload(got.fileName, got.data, got.contentType));
  }
  return { tokens, missing };
}

/**
 * The conversation's ticket: from the links table, else from the marks the bridge put on the conversation,
 * read once through the Chatwoot API (not from the webhook body) and then linked. `fresh` asks the table past
 * the per-container cache, which may predate a relink to a follow-up ticket made by another container.
 */
export async function resolveLink(
  e: { conversationId: string },
  deps: SyncDeps,
  o: { fresh?: boolean } = {},
): Promise<Link | undefined> {
  const known = o.fresh
    ? await deps.links.latestForConversation(e.conversationId)
    : await deps.links.getByConversation(e.conversationId);
  if (known) return known;
  const negativeKey = ledgerKeys.noLink(e.conversationId);
  if (await deps.ledger.get(negativeKey)) return undefined;
  const conversation = await deps.chatwoot.conversation(e.conversationId);
  // What no agent can change: the contact inbox's source id, which the API shows only on messages.
  const ticketId = await deps.chatwoot.ticketIdOf(conversation);
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
