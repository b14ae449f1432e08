// Which checks and which flow each kind of SyncEvent goes through in the worker, after the I/O-free guard.

import type { SkipReason } from '../events/loop-guard.ts';
import type { ChatwootMessageEvent, SyncEvent, ZendeskCommentEvent } from '../events/sync-event.ts';
import { syncChatwootMessage } from './chatwoot-to-zendesk.ts';
import type { SyncDeps } from './deps.ts';
import type { SyncOutcome } from './outcome.ts';
import { screenStatus, syncStatus } from './status.ts';
import {
  resolveTriggerComment,
  screenZendeskEcho,
  syncZendeskAttachment,
  syncZendeskComment,
} from './zendesk-to-chatwoot.ts';

/**
 * Checks that need I/O, run before the claim so that an echo costs no claim. They write nothing to either
 * platform; the status check may write what a lookup found (a recovered link, a "no link" cache entry), which
 * any later delivery would write the same.
 */
export async function screenWithLookups(e: SyncEvent, deps: SyncDeps): Promise<SkipReason | undefined> {
  switch (e.kind) {
    case 'zendesk.comment':
    case 'zendesk.attachment':
      return screenZendeskEcho(e, deps);
    case 'zendesk.status':
    case 'chatwoot.status':
      return screenStatus(e, deps);
    case 'chatwoot.message':
      return undefined;
  }
}

/**
 * The event whole and under the key its claim must use: text the ingress left at the platform (too large for a queue
 * message) is read back, and a trigger body's or messaging event's comment gets the key of its comment id.
 */
export async function resolveEvent(received: SyncEvent, deps: SyncDeps): Promise<SyncEvent> {
  const e =
    received.kind === 'zendesk.comment' || received.kind === 'chatwoot.message'
      ? await readBack(received, deps)
      : received;
  return e.kind === 'zendesk.comment' ? resolveTriggerComment(e, deps) : e;
}

/**
 * The message's text from the platform, for an event enqueued without it (shared/http/ingress.ts,
 * MAX_QUEUE_MESSAGE_BYTES). A message gone meanwhile (deleted) leaves the event empty: the flow skips it.
 */
async function readBack<T extends ZendeskCommentEvent | ChatwootMessageEvent>(
  e: T,
  deps: SyncDeps,
): Promise<T> {
  if (!e.readBack) return e;
  if (e.kind === 'chatwoot.message') {
    const m = await deps.chatwoot.message(e.conversationId, e.messageId);
    deps.logger.info('read back', { conversationId: e.conversationId, messageId: e.messageId, found: !!m });
    return { ...e, content: m?.content ?? '' };
  }
  const c = e.commentId
    ? (await deps.zendesk.comments(e.ticketId)).find((x) => String(x.id) === e.commentId)
    : undefined;
  deps.logger.info('read back', { ticketId: e.ticketId, commentId: e.commentId, found: !!c });
  return { ...e, body: c?.body ?? '', ...(c?.html_body ? { htmlBody: c.html_body } : {}) };
}

export function syncEvent(e: SyncEvent, deps: SyncDeps): Promise<SyncOutcome> {
  switch (e.kind) {
    case 'zendesk.comment':
      return syncZendeskComment(e, deps);
    case 'zendesk.attachment':
      return syncZendeskAttachment(e, deps);
    case 'zendesk.status':
    case 'chatwoot.status':
      return syncStatus(e, deps);
    case 'chatwoot.message':
      return syncChatwootMessage(e, deps);
  }
}
