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

export const ZendeskCommentEvent = z.object({
  ...Base,
  kind: z.literal('zendesk.comment'),
  /** How it reached us: an event webhook, a legacy trigger body, or the reconciler. */
  via: z.enum(['event', 'trigger', 'reconcile']),
  ticketId: Digits,
  /** Absent for trigger bodies, which carry only the comment text. */
  commentId: z.optional(Digits),
  body: z.string(),
  public: z.boolean(),
  author: Person,
  requester: z.optional(Person),
});

export const ChatwootMessageEvent = z.object({
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
});

export const SyncEventSchema = z.discriminatedUnion('kind', [ZendeskCommentEvent, ChatwootMessageEvent]);

export type ZendeskComment = z.infer<typeof ZendeskCommentEvent>;
export type ChatwootMessage = z.infer<typeof ChatwootMessageEvent>;
export type SyncEvent = z.infer<typeof SyncEventSchema>;

/** The FIFO group: one per ticket when known, so both directions of one link are kept in order together. */
export function groupIdOf(e: SyncEvent): string {
  if (e.kind === 'zendesk.comment') return `ticket-${e.ticketId}`;
  return e.ticketHint ? `ticket-${e.ticketHint}` : `conversation-${e.conversationId}`;
}

/** Log fields that identify an event: ids only, never bodies. */
export function eventIds(e: SyncEvent): Record<string, string | undefined> {
  return e.kind === 'zendesk.comment'
    ? { eventKey: e.eventKey, ticketId: e.ticketId, commentId: e.commentId, deliveryId: e.deliveryId }
    : {
        eventKey: e.eventKey,
        conversationId: e.conversationId,
        messageId: e.messageId,
        ticketId: e.ticketHint,
        deliveryId: e.deliveryId,
      };
}
