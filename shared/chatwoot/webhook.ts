// Chatwoot webhook bodies → SyncEvent. Read the message from the top level, never from
// `conversation.messages[0]` (the last public message, not necessarily this one).
// Shapes: ../shared/contracts/chatwoot/webhooks/*.json and SOURCE.md there.

import * as z from 'zod/mini';
import { describeIssues } from '../schema.ts';
import type { ChatwootMessage } from '../sync/events.ts';
import type { ParseResult } from '../zendesk/webhook.ts';

const Id = z.number().check(z.int(), z.nonnegative());

const MessageCreated = z.object({
  event: z.literal('message_created'),
  id: Id,
  content: z.nullish(z.string()),
  message_type: z.enum(['incoming', 'outgoing', 'template', 'activity']),
  private: z.boolean(),
  created_at: z.optional(z.union([z.string(), z.number()])),
  source_id: z.nullish(z.string()),
  content_attributes: z.nullish(z.record(z.string(), z.unknown())),
  sender: z.nullish(
    z.looseObject({
      id: z.optional(Id),
      name: z.nullish(z.string()),
      email: z.nullish(z.string()),
      type: z.optional(z.string()),
    }),
  ),
  inbox: z.optional(z.looseObject({ id: Id })),
  conversation: z.looseObject({
    id: Id,
    inbox_id: z.optional(Id),
    custom_attributes: z.nullish(z.record(z.string(), z.unknown())),
    contact_inbox: z.nullish(z.looseObject({ source_id: z.nullish(z.string()) })),
  }),
});

/** The ticket a conversation was created for, from the marks the bridge put on it. */
export function ticketHintOf(conversation: {
  custom_attributes?: Record<string, unknown> | null;
  contact_inbox?: { source_id?: string | null } | null;
}): string | undefined {
  const attr = conversation.custom_attributes?.zendesk_ticket_id;
  if (
    (typeof attr === 'number' && Number.isInteger(attr)) ||
    (typeof attr === 'string' && /^\d+$/.test(attr))
  ) {
    return String(attr);
  }
  return /^zendesk:ticket:(\d+)$/.exec(conversation.contact_inbox?.source_id ?? '')?.[1];
}

function epochMs(v: string | number | undefined): number | undefined {
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function parseChatwootWebhook(
  body: unknown,
  receivedAt: number,
  deliveryId?: string,
): ParseResult<ChatwootMessage> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'invalid', message: 'body must be a JSON object' };
  }
  const event = (body as Record<string, unknown>).event;
  if (typeof event !== 'string') return { kind: 'invalid', message: 'event: required string' };
  if (event !== 'message_created')
    return { kind: 'ignore', reason: `unsupported-event:${event.slice(0, 60)}` };
  const parsed = MessageCreated.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', message: describeIssues(parsed.error) };
  const m = parsed.data;
  return {
    kind: 'event',
    event: {
      kind: 'chatwoot.message',
      via: 'webhook',
      eventKey: `cw:message:${m.id}`,
      conversationId: String(m.conversation.id),
      messageId: String(m.id),
      inboxId: m.inbox?.id ?? m.conversation.inbox_id,
      content: m.content ?? '',
      messageType: m.message_type,
      private: m.private,
      sender: {
        id: m.sender?.id !== undefined ? String(m.sender.id) : undefined,
        name: m.sender?.name ?? undefined,
        email: m.sender?.email ?? undefined,
        // Contacts' webhook data has no `type` key; users say "user", bots "agent_bot".
        type: m.sender?.type ?? (m.sender ? 'contact' : undefined),
      },
      sourceId: m.source_id ?? null,
      contentAttributes: m.content_attributes ?? undefined,
      ticketHint: ticketHintOf(m.conversation),
      occurredAt: epochMs(m.created_at),
      receivedAt,
      deliveryId,
    },
  };
}
