// Chatwoot webhook bodies → SyncEvent. Read the message from the top level, never from
// `conversation.messages[0]` (the last public message, not necessarily this one).
// Shapes: contracts/chatwoot/webhooks/*.json and SOURCE.md there.

import * as z from 'zod/mini';
import type { ParseResult } from '../events/parse-result.ts';
import type { Attachment, ChatwootEvent, ChatwootStatusEvent } from '../events/sync-event.ts';
import { describeIssues } from '../schema.ts';
import { eventKeys } from '../store/ledger-keys.ts';

const Id = z.number().check(z.int(), z.nonnegative());

/**
 * A file the bridge can copy. `Attachment#push_event_data` (app/models/attachment.rb) gives files (image, audio,
 * video, file) a `data_url` on Chatwoot; a location, contact card, fallback or embed carries an external URL or
 * none, an unattached file an empty one, and an attachment without a file type is `null` in the array.
 */
const WebhookAttachment = z.looseObject({
  id: Id,
  data_url: z.url({ protocol: /^https?$/ }),
  content_type: z.nullish(z.string()),
  extension: z.nullish(z.string()),
  file_type: z.nullish(z.string()),
  file_size: z.nullish(z.number()),
});

/** Attachment kinds that hold a file on Chatwoot (`Attachment#with_attached_file?`). */
const FILE_TYPES = new Set(['image', 'audio', 'video', 'file']);

const ConversationRef = z.looseObject({
  id: Id,
  inbox_id: z.optional(Id),
  custom_attributes: z.nullish(z.record(z.string(), z.unknown())),
  contact_inbox: z.nullish(z.looseObject({ source_id: z.nullish(z.string()) })),
  additional_attributes: z.nullish(z.record(z.string(), z.unknown())),
});

const StatusChanged = z.looseObject({
  event: z.literal('conversation_status_changed'),
  status: z.string(),
  updated_at: z.optional(z.union([z.number(), z.string()])),
  ...ConversationRef.shape,
});

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
  conversation: ConversationRef,
  // Read entry by entry (below): one unusable attachment must not cost the message its text or its other files.
  attachments: z.nullish(z.array(z.unknown())),
});

/** The files of a message that the bridge can copy, and a reason for each entry it leaves out. */
function usableAttachments(entries: unknown[]): { files: Attachment[]; skipped: string[] } {
  const files: Attachment[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') {
      skipped.push('attachment-null');
      continue;
    }
    const fileType = (entry as { file_type?: unknown }).file_type;
    if (typeof fileType === 'string' && !FILE_TYPES.has(fileType)) {
      skipped.push(`attachment-${fileType.replace(/[^\w-]/g, '?').slice(0, 20)}`);
      continue;
    }
    const parsed = WebhookAttachment.safeParse(entry);
    if (!parsed.success) {
      skipped.push('attachment-without-file');
      continue;
    }
    files.push(attachmentOf(parsed.data));
  }
  return { files, skipped };
}

/** Active Storage URLs end in the file name; fall back to the attachment id and its extension. */
function attachmentOf(a: z.infer<typeof WebhookAttachment>): Attachment {
  let fileName = '';
  try {
    fileName = decodeURIComponent(new URL(a.data_url).pathname.split('/').at(-1) ?? '');
  } catch {
    fileName = '';
  }
  if (!fileName) fileName = `attachment-${a.id}${a.extension ? `.${a.extension}` : ''}`;
  return {
    id: String(a.id),
    fileName,
    url: a.data_url,
    ...(a.content_type ? { contentType: a.content_type } : {}),
    ...(typeof a.file_size === 'number' ? { size: a.file_size } : {}),
  };
}

/**
 * The ticket a conversation was created for, from the marks the bridge put on it that no agent can change: the
 * contact inbox's `source_id` (`zendesk:ticket:<id>`), else `additional_attributes.zendesk_ticket_id` (set at
 * creation; no endpoint updates it). `custom_attributes` are left out: agents edit them in the sidebar
 * (docs/platforms.md, "Recovery").
 */
export function ticketHintOf(conversation: {
  additional_attributes?: Record<string, unknown> | null | undefined;
  contact_inbox?: { source_id?: string | null | undefined } | null | undefined;
}): string | undefined {
  const fromSource = /^zendesk:ticket:(\d+)$/.exec(conversation.contact_inbox?.source_id ?? '')?.[1];
  if (fromSource) return fromSource;
  const attr = conversation.additional_attributes?.zendesk_ticket_id;
  if (
    (typeof attr === 'number' && Number.isSafeInteger(attr) && attr >= 0) ||
    (typeof attr === 'string' && /^\d+$/.test(attr))
  ) {
    return String(attr);
  }
  return undefined;
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
): ParseResult<ChatwootEvent> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'invalid', message: 'body must be a JSON object' };
  }
  const event = (body as Record<string, unknown>).event;
  if (typeof event !== 'string') return { kind: 'invalid', message: 'event: required string' };
  if (event === 'conversation_status_changed') return parseStatusChanged(body, receivedAt, deliveryId);
  // `conversation_updated` repeats every status change (and more); the status event alone is enough.
  if (event !== 'message_created')
    return { kind: 'ignore', reason: `unsupported-event:${event.slice(0, 60)}` };
  const parsed = MessageCreated.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', message: describeIssues(parsed.error) };
  const m = parsed.data;
  const { files, skipped } = usableAttachments(m.attachments ?? []);
  return {
    kind: 'event',
    ...(skipped.length > 0 ? { skipped } : {}),
    event: {
      kind: 'chatwoot.message',
      via: 'webhook',
      eventKey: eventKeys.chatwootMessage(m.id),
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
      ...(files.length > 0 ? { attachments: files } : {}),
      occurredAt: epochMs(m.created_at),
      receivedAt,
      deliveryId,
    },
  };
}

/**
 * `conversation_status_changed`: its `changed_attributes` is always null (see SOURCE.md), so the top-level
 * `status` is the new one. Only open and resolved cross the bridge; pending and snoozed stay in Chatwoot.
 */
function parseStatusChanged(
  body: object,
  receivedAt: number,
  deliveryId?: string,
): ParseResult<ChatwootStatusEvent> {
  const parsed = StatusChanged.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', message: describeIssues(parsed.error) };
  const c = parsed.data;
  if (c.status !== 'open' && c.status !== 'resolved')
    return { kind: 'ignore', reason: `unsynced-status:${c.status.slice(0, 20)}` };
  const ticketHint = ticketHintOf(c);
  return {
    kind: 'event',
    event: {
      kind: 'chatwoot.status',
      via: 'webhook',
      eventKey: eventKeys.chatwootStatus(c.id, c.status, String(c.updated_at ?? receivedAt)),
      conversationId: String(c.id),
      ...(c.inbox_id !== undefined ? { inboxId: c.inbox_id } : {}),
      state: c.status,
      ...(ticketHint ? { ticketHint } : {}),
      occurredAt: epochMs(c.updated_at),
      receivedAt,
      deliveryId,
    },
  };
}
