// SyncEvent: the normalised, platform-neutral event that travels from an ingress handler through the queue
// to the worker. Its schema is checked again when dequeued, so a message from an older deployment or a
// hand-made redrive cannot reach the sync flows malformed.
import * as z from 'zod/mini';
import '../schema.ts';

const Digits = z.string().check(z.regex(/^\d+$/));
const PersonShape = {
  id: z.optional(z.string()),
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  /** Zendesk: author is an agent/admin. Unknown for trigger bodies. */
  isStaff: z.optional(z.boolean()),
};
const Person = z.object(PersonShape);

/** A file on either platform, by reference: the bytes are fetched by the worker, never carried in the queue. */
const AttachmentRef = z.object({
  id: Digits,
  fileName: z.string().check(z.maxLength(1000)),
  url: z.string().check(z.maxLength(4000)),
  contentType: z.optional(z.string()),
  size: z.optional(z.number()),
});

/** A ticket or conversation status reduced to what both platforms share. */
const LinkState = z.enum(['open', 'resolved']);

const Base = {
  /** Idempotency key of the source event: the same comment/message always yields the same key. */
  eventKey: z.string().check(z.minLength(1), z.maxLength(512)),
  /** When the platform says it happened (epoch ms), for end-to-end lag. */
  occurredAt: z.optional(z.number()),
  /** When the ingress received it (epoch ms). */
  receivedAt: z.number(),
  /** Per-delivery id from the platform (X-Chatwoot-Delivery, x-zendesk-webhook-invocation-id), for tracing. */
  deliveryId: z.optional(z.string()),
};

const ZendeskCommentEventSchema = z.object({
  ...Base,
  kind: z.literal('zendesk.comment'),
  /**
   * How it reached us: an event webhook, a legacy trigger body, a messaging event (`messaging_ticket.message_added`,
   * no comment id: the worker finds the comment, as for trigger bodies), the reconciler, or the history import
   * (which brings agents' public comments too, whatever SYNC_AGENT_COMMENTS says: they are the conversation's history).
   */
  via: z.enum(['event', 'trigger', 'messaging', 'reconcile', 'import']),
  ticketId: Digits,
  /** Absent for trigger bodies, which carry only the comment text. */
  commentId: z.optional(Digits),
  body: z.string(),
  /** The comment's HTML rendering, when the source had it (API-fetched comments; events that carry it). */
  htmlBody: z.optional(z.string()),
  /** Files on the comment, when known with it (API-fetched comments). */
  attachments: z.optional(z.array(AttachmentRef)),
  public: z.boolean(),
  author: Person,
  requester: z.optional(Person),
  /** Who made the update (`detail.actor_id`): the bridge's API user for its own writes, whoever the author is. */
  actorId: z.optional(Digits),
  /** The text was too large for a queue message and was left out: the worker reads the comment from Zendesk. */
  readBack: z.optional(z.boolean()),
});

/** One file linked to a Zendesk comment (`ticket.attachment_linked_to_comment`): one event per file. */
const ZendeskAttachmentEventSchema = z.object({
  ...Base,
  kind: z.literal('zendesk.attachment'),
  via: z.enum(['event', 'reconcile']),
  ticketId: Digits,
  commentId: Digits,
  /**
   * Absent from webhooks: `attachment_linked_to_comment`'s `is_public` is the file's own flag, not its comment's
   * (docs/platforms.md); the worker takes the comment's. Set when read with the comment from the API.
   */
  public: z.optional(z.boolean()),
  attachment: AttachmentRef,
  actorId: z.optional(Digits),
});

const ZendeskStatusEventSchema = z.object({
  ...Base,
  kind: z.literal('zendesk.status'),
  via: z.enum(['event', 'reconcile']),
  ticketId: Digits,
  /** Zendesk's status, lower-case (webhooks send it upper-case). */
  status: z.string(),
  state: LinkState,
  actorId: z.optional(Digits),
  /**
   * Set by reconciliation only: the `at` of the link's state record its decision was made against. The worker acts
   * only while the record is still that one (a newer sync makes the event stale) and then applies the state even if
   * it equals the record's, since reconciliation found the other side drifted from it.
   */
  basedOn: z.optional(z.number()),
});

const ChatwootMessageEventSchema = z.object({
  ...Base,
  kind: z.literal('chatwoot.message'),
  via: z.enum(['webhook', 'reconcile']),
  conversationId: Digits,
  messageId: Digits,
  inboxId: z.optional(z.number()),
  content: z.string(),
  messageType: z.enum(['incoming', 'outgoing', 'template', 'activity']),
  private: z.boolean(),
  sender: z.object({ ...PersonShape, type: z.optional(z.string()) }),
  sourceId: z.nullish(z.string()),
  contentAttributes: z.optional(z.record(z.string(), z.unknown())),
  /** Ticket id the conversation says it belongs to (custom attribute / contact-inbox source id), if any. */
  ticketHint: z.optional(Digits),
  attachments: z.optional(z.array(AttachmentRef)),
  /** The text was too large for a queue message and was left out: the worker reads the message from Chatwoot. */
  readBack: z.optional(z.boolean()),
});

const ChatwootStatusEventSchema = z.object({
  ...Base,
  kind: z.literal('chatwoot.status'),
  via: z.enum(['webhook', 'reconcile']),
  conversationId: Digits,
  inboxId: z.optional(z.number()),
  state: LinkState,
  ticketHint: z.optional(Digits),
  /**
   * Set by reconciliation only: the `at` of the link's state record its decision was made against. The worker acts
   * only while the record is still that one (a newer sync makes the event stale) and then applies the state even if
   * it equals the record's, since reconciliation found the other side drifted from it.
   */
  basedOn: z.optional(z.number()),
});

export const SyncEventSchema = z.discriminatedUnion('kind', [
  ZendeskCommentEventSchema,
  ZendeskAttachmentEventSchema,
  ZendeskStatusEventSchema,
  ChatwootMessageEventSchema,
  ChatwootStatusEventSchema,
]);

export type ZendeskCommentEvent = z.infer<typeof ZendeskCommentEventSchema>;
export type ZendeskAttachmentEvent = z.infer<typeof ZendeskAttachmentEventSchema>;
export type ZendeskStatusEvent = z.infer<typeof ZendeskStatusEventSchema>;
export type ChatwootMessageEvent = z.infer<typeof ChatwootMessageEventSchema>;
export type ChatwootStatusEvent = z.infer<typeof ChatwootStatusEventSchema>;
export type ZendeskEvent = ZendeskCommentEvent | ZendeskAttachmentEvent | ZendeskStatusEvent;
export type ChatwootEvent = ChatwootMessageEvent | ChatwootStatusEvent;
export type SyncEvent = z.infer<typeof SyncEventSchema>;
export type Attachment = z.infer<typeof AttachmentRef>;
export type State = z.infer<typeof LinkState>;

export const isZendeskEvent = (e: SyncEvent): e is ZendeskEvent => e.kind.startsWith('zendesk.');

/** The FIFO group: one per ticket when known, so both directions of one link are kept in order together. */
export function groupIdOf(e: SyncEvent): string {
  if (isZendeskEvent(e)) return `ticket-${e.ticketId}`;
  return e.ticketHint ? `ticket-${e.ticketHint}` : `conversation-${e.conversationId}`;
}

/** Log fields that identify an event: ids only, never bodies. */
export function eventIds(e: SyncEvent): Record<string, string | undefined> {
  const base = { eventKey: e.eventKey, deliveryId: e.deliveryId };
  switch (e.kind) {
    case 'zendesk.comment':
      return { ...base, ticketId: e.ticketId, commentId: e.commentId };
    case 'zendesk.attachment':
      return { ...base, ticketId: e.ticketId, commentId: e.commentId, attachmentId: e.attachment.id };
    case 'zendesk.status':
      return { ...base, ticketId: e.ticketId, status: e.status };
    case 'chatwoot.message':
      return { ...base, conversationId: e.conversationId, messageId: e.messageId, ticketId: e.ticketHint };
    case 'chatwoot.status':
      return { ...base, conversationId: e.conversationId, ticketId: e.ticketHint, status: e.state };
  }
}
