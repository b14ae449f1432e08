// Loop guard: decides from the event alone (no I/O) whether it is ours to sync. Used by the ingress to drop
// early and by the worker again, since reconciliation and redrives enqueue without passing the ingress.
import type { BridgeConfig } from '../config.ts';
import type {
  ChatwootMessageEvent,
  ChatwootStatusEvent,
  SyncEvent,
  ZendeskCommentEvent,
} from './sync-event.ts';

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
  | 'no-link'
  | 'comment-not-synced'
  | 'status-unchanged';

/** The sync switches the guard reads; absent ones take the configuration's defaults. */
export type SyncSwitches = Partial<Pick<BridgeConfig, 'SYNC_INTERNAL_NOTES' | 'SYNC_AGENT_COMMENTS'>>;

function screenChatwoot(
  e: ChatwootMessageEvent | ChatwootStatusEvent,
  inboxId: number,
): SkipReason | undefined {
  if (e.inboxId !== undefined && e.inboxId !== inboxId) return 'other-inbox';
  if (e.kind === 'chatwoot.status') return undefined;
  if (
    e.sourceId?.startsWith(SOURCE_ID_PREFIX) ||
    (e.contentAttributes && MARKER_KEY in e.contentAttributes)
  ) {
    return 'echo';
  }
  // On an API inbox only API clients (the bridge) create incoming messages; templates/activities are not replies.
  if (e.messageType !== 'outgoing') return 'not-agent-reply';
  if (e.sender.type !== 'user') return 'not-human-agent';
  // A text too large for the queue was left at the platform (readBack): the worker reads it before it decides.
  if (e.content.trim() === '' && !e.attachments?.length && !e.readBack) return 'empty';
  return undefined;
}

export function screenZendesk(e: ZendeskCommentEvent, sync: SyncSwitches = {}): SkipReason | undefined {
  if (!e.public) {
    // Only an agent's internal note is mirrored (as a Chatwoot private note), and only when switched on.
    if (sync.SYNC_INTERNAL_NOTES === false || e.author.isStaff !== true) return 'internal-note';
  } else if (e.author.isStaff === true && sync.SYNC_AGENT_COMMENTS !== true && e.via !== 'import') {
    // Live, Zendesk already mailed an agent's public reply to the customer; imported, it is part of the history.
    return 'not-end-user';
  }
  // Trigger bodies do not say who is staff: a comment by someone other than the requester is not the customer's.
  if (e.via === 'trigger' && e.author.id && e.requester?.id && e.author.id !== e.requester.id)
    return 'not-end-user';
  if (e.body.trim() === '' && !e.htmlBody?.trim() && !e.attachments?.length && !e.readBack) return 'empty';
  return undefined;
}

export function screen(e: SyncEvent, inboxId: number, sync: SyncSwitches = {}): SkipReason | undefined {
  switch (e.kind) {
    case 'zendesk.comment':
      return screenZendesk(e, sync);
    case 'zendesk.attachment':
      // Whether its comment is synced, and how, is known only to the worker: the event names neither the author
      // nor the comment's visibility (its `is_public` is the file's own; docs/platforms.md).
      return e.public === false && sync.SYNC_INTERNAL_NOTES === false ? 'internal-note' : undefined;
    case 'zendesk.status':
      return undefined;
    default:
      return screenChatwoot(e, inboxId);
  }
}
