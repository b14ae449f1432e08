// SyncEvent: the normalised, platform-neutral event that travels from an ingress handler through the queue
// to the worker. Its schema is checked again when dequeued, so a message from an older deployment or a
// hand-made redrive cannot reach the sync flows malformed.
import { z } from 'zod';

const Person = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  /** Zendesk: author is an agent/admin. Unknown for trigger bodies. */
  isStaff: z.boolean().optional(),
});

const Base = {
  /** Idempotency key of the source event: the same comment/message always yields the same key. */
  eventKey: z.string().min(1).max(512),
  /** When the platform says it happened (epoch ms), for end-to-end lag. */
  occurredAt: z.number().optional(),
  /** When the ingress received it (epoch ms). */
  receivedAt: z.number(),
  /** Per-delivery id from the platform (X-Chatwoot-Delivery, x-zendesk-webhook-invocation-id), for tracing. */
  deliveryId: z.string().optional(),
};

export const ZendeskCommentEvent = z.object({
  ...Base,
  kind: z.literal('zendesk.comment'),
  /** How it reached us: an event webhook, a legacy trigger body, or the reconciler. */
  via: z.enum(['event', 'trigger', 'reconcile']),
  ticketId: z.string().regex(/^\d+$/),
  /** Absent for trigger bodies, which carry only the comment text. */
  commentId: z.string().regex(/^\d+$/).optional(),
  body: z.string(),
  public: z.boolean(),
  author: Person,
  requester: Person.optional(),
});

export const ChatwootMessageEvent = z.object({
  ...Base,
  kind: z.literal('chatwoot.message'),
  via: z.enum(['webhook', 'reconcile']),
  conversationId: z.string().regex(/^\d+$/),
  messageId: z.string().regex(/^\d+$/),
  inboxId: z.number().optional(),
  content: z.string(),
  messageType: z.enum(['incoming', 'outgoing', 'template', 'activity']),
  private: z.boolean(),
  sender: Person.extend({ type: z.string().optional() }),
  sourceId: z.string().nullable().optional(),
  contentAttributes: z.record(z.string(), z.unknown()).optional(),
  /** Ticket id the conversation says it belongs to (custom attribute / contact-inbox source id), if any. */
  ticketHint: z.string().regex(/^\d+$/).optional(),
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
