// Loop guard: decides from the event alone (no I/O) whether it is ours to sync. Used by the ingress to drop
// early and by the worker again, since reconciliation and redrives enqueue without passing the ingress.
import type { ChatwootMessage, SyncEvent, ZendeskComment } from './events.ts';

/** Prefix of the `source_id` the bridge puts on every Chatwoot message and conversation it creates. */
export const SOURCE_ID_PREFIX = 'zendesk:';
/** Key in `content_attributes` that marks a Chatwoot message as written by the bridge. */
export const MARKER_KEY = 'zendesk_bridge';

export type SkipReason =
  | 'echo'
  | 'other-inbox'
  | 'not-agent-reply'
  | 'not-human-agent'
  | 'internal-note'
  | 'not-end-user'
  | 'empty'
  | 'duplicate'
  | 'no-link';

export function screenChatwoot(e: ChatwootMessage, inboxId: number): SkipReason | undefined {
  if (
    e.sourceId?.startsWith(SOURCE_ID_PREFIX) ||
    (e.contentAttributes && MARKER_KEY in e.contentAttributes)
  ) {
    return 'echo';
  }
  if (e.inboxId !== undefined && e.inboxId !== inboxId) return 'other-inbox';
  // On an API inbox only API clients (the bridge) create incoming messages; templates/activities are not replies.
  if (e.messageType !== 'outgoing') return 'not-agent-reply';
  if (e.sender.type !== 'user') return 'not-human-agent';
  if (e.content.trim() === '') return 'empty';
  return undefined;
}

export function screenZendesk(e: ZendeskComment): SkipReason | undefined {
  if (!e.public) return 'internal-note';
  if (e.author.isStaff === true) return 'not-end-user';
  // Trigger bodies do not say who is staff: a comment by someone other than the requester is not the customer's.
  if (e.via === 'trigger' && e.author.id && e.requester?.id && e.author.id !== e.requester.id)
    return 'not-end-user';
  if (e.body.trim() === '') return 'empty';
  return undefined;
}

export function screen(e: SyncEvent, inboxId: number): SkipReason | undefined {
  return e.kind === 'zendesk.comment' ? screenZendesk(e) : screenChatwoot(e, inboxId);
}
