// Zendesk webhook bodies → SyncEvent. Event webhooks (`zen:event-type:*`, ids as strings) and, for teams
// migrating from the old service, trigger webhooks whose custom body has unescaped placeholders.
// Shapes: contracts/zendesk/webhooks/*.json and SOURCE.md there.
import * as z from 'zod/mini';
import type { ParseResult } from '../events/parse-result.ts';
import type { ZendeskCommentEvent, ZendeskEvent } from '../events/sync-event.ts';
import { describeIssues } from '../schema.ts';
import { eventKeys } from '../store/ledger-keys.ts';

/** Ids arrive as strings in event webhooks and as numbers elsewhere; both normalise to a digit string. */
const Id = z.pipe(
  z.union([
    z.string().check(z.regex(/^\d+$/, 'must be a numeric id')),
    z.number().check(z.int(), z.nonnegative()),
  ]),
  z.transform((v) => String(v)),
);

/**
 * An id the bridge can do without: a digit string when it is one, else absent. Authentic events carry odd ones:
 * `-1` is the system (updates by automations and Zendesk's own jobs), unset ids arrive empty or null
 * (docs/platforms.md, "Authentic events with odd values"). None of them may cost the event its 2xx.
 */
const LooseId = z.pipe(
  z.unknown(),
  z.transform((v): string | undefined => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    return typeof v === 'string' && /^\d+$/.test(v.trim()) ? v.trim() : undefined;
  }),
);

const Envelope = z.object({
  type: z.string().check(z.startsWith('zen:event-type:')),
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  time: z.nullish(z.string()),
  subject: z.nullish(z.string()),
  detail: z.looseObject({ id: Id, requester_id: z.optional(LooseId), actor_id: z.optional(LooseId) }),
  event: z.looseObject({}),
});

const CommentAdded = z.object({
  comment: z.looseObject({
    id: Id,
    body: z.nullish(z.string()),
    html_body: z.nullish(z.string()),
    is_public: z.boolean(),
    author: z.looseObject({
      id: z.optional(LooseId),
      is_staff: z.nullish(z.boolean()),
      name: z.nullish(z.string()),
    }),
  }),
});

const AttachmentLinked = z.object({
  comment: z.looseObject({
    id: Id,
    attachment: z.looseObject({
      id: Id,
      filename: z.string(),
      content_url: z.url({ protocol: /^https?$/ }),
      content_type: z.nullish(z.string()),
    }),
  }),
});

const StatusChanged = z.object({
  current: z.string().check(z.minLength(1), z.maxLength(40)),
  previous: z.nullish(z.string()),
});

/**
 * `messaging_ticket.message_added` (Messaging events): `event.actor.type` is end_user, agent, trigger or system, and
 * `actor.id` need not be numeric (the documented example is `zd:answerBot`); `message.id` is a messaging id, not a
 * comment id.
 */
const MessageAdded = z.object({
  actor: z.looseObject({
    id: z.nullish(z.union([z.string(), z.number()])),
    name: z.nullish(z.string()),
    type: z.string(),
  }),
  message: z.looseObject({
    id: z.union([z.string().check(z.minLength(1), z.maxLength(200)), z.number()]),
    body: z.nullish(z.string()),
  }),
});

/**
 * Every status Zendesk documents for ticket events (docs/platforms.md, "Zendesk ticket statuses in events") and what
 * it means for the conversation; `null` for the ones that are no decision about it (a closed ticket archived months
 * later, a deleted or scrubbed one): those never reopen or resolve a conversation.
 */
export const ZENDESK_STATUS_STATES: Readonly<Record<string, 'open' | 'resolved' | null>> = {
  new: 'open',
  open: 'open',
  pending: 'open',
  hold: 'open',
  solved: 'resolved',
  closed: 'resolved',
  archived: null,
  deleted: null,
  scrubbed: null,
};

const EVENT_TYPES = {
  commentAdded: 'zen:event-type:ticket.comment_added',
  attachmentLinked: 'zen:event-type:ticket.attachment_linked_to_comment',
  statusChanged: 'zen:event-type:ticket.status_changed',
  messageAdded: 'zen:event-type:messaging_ticket.message_added',
} as const;
const SUPPORTED = new Set<string>(Object.values(EVENT_TYPES));

function epochMs(time: string | null | undefined): number | undefined {
  if (!time) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Normalises a parsed Zendesk webhook body. `receivedAt` is the ingress clock. */
export function parseZendeskWebhook(
  body: unknown,
  receivedAt: number,
  deliveryId?: string,
): ParseResult<ZendeskEvent> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'invalid', message: 'body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  if (typeof record.type === 'string' && record.type.startsWith('zen:event-type:')) {
    return parseEventWebhook(record, receivedAt, deliveryId);
  }
  return parseTriggerBody(record, receivedAt, deliveryId);
}

function parseEventWebhook(
  body: Record<string, unknown>,
  receivedAt: number,
  deliveryId?: string,
): ParseResult<ZendeskEvent> {
  if (typeof body.type !== 'string' || !SUPPORTED.has(body.type)) {
    // Other event types are not ours to sync: acknowledge them so Zendesk does not retry.
    return {
      kind: 'ignore',
      reason: `unsupported-event:${String(body.type).slice('zen:event-type:'.length, 80)}`,
    };
  }
  const env = Envelope.safeParse(body);
  if (!env.success) return { kind: 'invalid', message: describeIssues(env.error) };
  const d = env.data.detail;
  const common = {
    ticketId: d.id,
    ...(d.actor_id ? { actorId: d.actor_id } : {}),
    occurredAt: epochMs(env.data.time),
    receivedAt,
    deliveryId,
  };
  if (body.type === EVENT_TYPES.attachmentLinked) {
    const ev = AttachmentLinked.safeParse(env.data.event);
    if (!ev.success) return { kind: 'invalid', message: describeIssues(ev.error, 'event') };
    const { id: commentId, attachment: a } = ev.data.comment;
    return {
      kind: 'event',
      event: {
        kind: 'zendesk.attachment',
        via: 'event',
        eventKey: eventKeys.zendeskAttachment(a.id),
        commentId,
        // No `public`: the event's `is_public` is the file's own flag, not its comment's (docs/platforms.md,
        // "Attachment visibility"); the worker takes the visibility from the comment.
        attachment: {
          id: a.id,
          fileName: a.filename,
          url: a.content_url,
          ...(a.content_type ? { contentType: a.content_type } : {}),
        },
        ...common,
      },
    };
  }
  if (body.type === EVENT_TYPES.statusChanged) {
    const ev = StatusChanged.safeParse(env.data.event);
    if (!ev.success) return { kind: 'invalid', message: describeIssues(ev.error, 'event') };
    const status = ev.data.current.toLowerCase();
    const state = ZENDESK_STATUS_STATES[status];
    if (state === undefined || !Object.hasOwn(ZENDESK_STATUS_STATES, status))
      return { kind: 'ignore', reason: `status-undocumented:${status.slice(0, 40)}` };
    if (state === null) return { kind: 'ignore', reason: `status-not-synced:${status}` };
    return {
      kind: 'event',
      event: {
        kind: 'zendesk.status',
        via: 'event',
        // The envelope id names this one change; a redelivery of it carries the same id.
        eventKey: eventKeys.zendeskStatus(d.id, env.data.id),
        status,
        state,
        ...common,
      },
    };
  }
  if (body.type === EVENT_TYPES.messageAdded) return parseMessageAdded(env.data, common);
  const ev = CommentAdded.safeParse(env.data.event);
  if (!ev.success) return { kind: 'invalid', message: describeIssues(ev.error, 'event') };
  const c = ev.data.comment;
  const requesterId = d.requester_id;
  const authorId = c.author.id;
  return {
    kind: 'event',
    event: {
      kind: 'zendesk.comment',
      via: 'event',
      eventKey: eventKeys.zendeskComment(c.id),
      commentId: c.id,
      body: c.body ?? '',
      ...(c.html_body ? { htmlBody: c.html_body } : {}),
      public: c.is_public,
      author: {
        ...(authorId ? { id: authorId } : {}),
        ...(c.author.name ? { name: c.author.name } : {}),
        ...(typeof c.author.is_staff === 'boolean' ? { isStaff: c.author.is_staff } : {}),
      },
      requester: requesterId
        ? {
            id: requesterId,
            ...(requesterId === authorId && c.author.name ? { name: c.author.name } : {}),
          }
        : undefined,
      ...common,
    },
  };
}

/**
 * A message on a messaging ticket. Only an end user's message is the customer's; it names no comment, so the
 * worker finds the ticket comment it became and claims that, whichever of this event and `ticket.comment_added`
 * comes first (docs/platforms.md, "Messaging tickets").
 */
function parseMessageAdded(
  env: { event: Record<string, unknown>; detail: { requester_id?: string | undefined } },
  common: {
    ticketId: string;
    actorId?: string;
    occurredAt?: number | undefined;
    receivedAt: number;
    deliveryId?: string | undefined;
  },
): ParseResult<ZendeskCommentEvent> {
  const ev = MessageAdded.safeParse(env.event);
  if (!ev.success) return { kind: 'invalid', message: describeIssues(ev.error, 'event') };
  const { actor, message } = ev.data;
  if (actor.type !== 'end_user') return { kind: 'ignore', reason: `messaging-actor:${label(actor.type)}` };
  const body = message.body ?? '';
  if (body.trim() === '') return { kind: 'ignore', reason: 'no-comment' };
  const actorUserId =
    typeof actor.id === 'number' ? String(actor.id) : /^\d+$/.test(actor.id ?? '') ? actor.id! : undefined;
  const requesterId = env.detail.requester_id;
  const { actorId: _actor, ...rest } = common;
  return {
    kind: 'event',
    event: {
      kind: 'zendesk.comment',
      via: 'messaging',
      eventKey: eventKeys.zendeskMessaging(common.ticketId, String(message.id)),
      body,
      public: true,
      author: {
        ...(actorUserId ? { id: actorUserId } : {}),
        ...(actor.name ? { name: actor.name } : {}),
        isStaff: false,
      },
      ...(requesterId ? { requester: { id: requesterId } } : {}),
      ...rest,
    },
  };
}

const label = (s: string): string => s.replace(/[^\w.:-]/g, '?').slice(0, 40);

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : undefined;
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const numericId = (v: unknown): string | undefined => {
  const s = str(v)?.trim();
  return s && /^\d+$/.test(s) ? s : undefined;
};

/**
 * Trigger ("Notify active webhook") bodies, as the old service accepted them. Ticket id: `ticket_id`, else
 * `detail.id`, else a `subject` of the form `zen:ticket:N`. Comment: `latest_comment`, else `event.comment.body`.
 * Requester: `event.comment.author`, else `requester`, else `detail.requester_id`.
 */
function parseTriggerBody(
  b: Record<string, unknown>,
  receivedAt: number,
  deliveryId?: string,
): ParseResult<ZendeskCommentEvent> {
  const detail = obj(b.detail);
  const event = obj(b.event);
  const eventComment = obj(event?.comment);
  const subjectId = /^zen:ticket:(\d+)$/.exec(str(b.subject) ?? '')?.[1];
  const ticketId = numericId(b.ticket_id) ?? numericId(detail?.id) ?? subjectId;
  if (!ticketId) {
    return {
      kind: 'invalid',
      message: 'ticket id missing: expected ticket_id, detail.id or subject "zen:ticket:N"',
    };
  }
  const body = str(b.latest_comment) ?? str(eventComment?.body);
  if (body === undefined) return { kind: 'ignore', reason: 'no-comment' };

  const author = obj(eventComment?.author);
  const requesterObj = obj(b.requester);
  const requesterId =
    numericId(author?.id) ??
    numericId(requesterObj?.id) ??
    numericId(b.requester) ??
    numericId(b.requester_id) ??
    numericId(detail?.requester_id);
  const requester = {
    id: requesterId,
    name:
      str(author?.name) ??
      str(requesterObj?.name) ??
      str(b.requester_name) ??
      (requesterId ? `User ${requesterId}` : undefined),
    email: str(requesterObj?.email) ?? str(b.requester_email),
  };
  // Who wrote the latest comment: the trigger's current user when the template carries it.
  const authorId = numericId(author?.id) ?? numericId(b.current_user_id) ?? requesterId;
  const updatedAt = str(b.updated_at) ?? str(detail?.updated_at) ?? '';
  return {
    kind: 'event',
    event: {
      kind: 'zendesk.comment',
      via: 'trigger',
      // Trigger bodies carry no comment id: the key is the ticket, the text and the update time together.
      eventKey: eventKeys.zendeskTrigger(ticketId, updatedAt, body),
      ticketId,
      body,
      public: true,
      author: {
        id: authorId,
        ...(authorId === requesterId ? { name: requester.name, email: requester.email } : {}),
        ...(author && typeof author.is_staff === 'boolean' ? { isStaff: author.is_staff } : {}),
      },
      requester,
      occurredAt: epochMs(updatedAt),
      receivedAt,
      deliveryId,
    },
  };
}

const TRIGGER_KEY_LINE = /^\s*"([A-Za-z_][\w.]*)"\s*:\s*/;

/**
 * Trigger placeholders are rendered without JSON escaping, so a comment with a quote or a newline breaks
 * JSON.parse. This reads a flat `{"key": "value", …}` template leniently: each value runs from its key to the
 * line where the next key starts. Returns undefined when the text does not look like such a template.
 */
export function parseLenientTriggerJson(raw: string): Record<string, unknown> | undefined {
  const text = raw.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  const lines = text.slice(1, -1).split(/\r?\n/);
  const out: Record<string, unknown> = {};
  let key: string | undefined;
  let value: string[] = [];
  const flush = () => {
    if (key === undefined) return;
    let v = value.join('\n').trim();
    if (v.endsWith(',')) v = v.slice(0, -1).trimEnd();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) out[key] = v.slice(1, -1);
    else if (/^-?\d+(\.\d+)?$/.test(v)) out[key] = Number(v);
    else if (v === 'true' || v === 'false') out[key] = v === 'true';
    else if (v === 'null') out[key] = null;
    else out[key] = v;
  };
  for (const line of lines) {
    const m = TRIGGER_KEY_LINE.exec(line);
    if (m) {
      flush();
      key = m[1];
      value = [line.slice(m[0].length)];
    } else if (key !== undefined) {
      value.push(line);
    } else if (line.trim() !== '') {
      return undefined;
    }
  }
  flush();
  return Object.keys(out).length > 0 ? out : undefined;
}
