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

const Envelope = z.object({
  type: z.string().check(z.startsWith('zen:event-type:')),
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  time: z.optional(z.string()),
  subject: z.optional(z.string()),
  detail: z.looseObject({ id: Id, requester_id: z.nullish(Id), actor_id: z.nullish(Id) }),
  event: z.looseObject({}),
});

const CommentAdded = z.object({
  comment: z.object({
    id: Id,
    body: z.string(),
    html_body: z.optional(z.string()),
    is_public: z.boolean(),
    author: z.object({ id: Id, is_staff: z.optional(z.boolean()), name: z.optional(z.string()) }),
  }),
});

const AttachmentLinked = z.object({
  comment: z.object({
    id: Id,
    attachment: z.object({
      id: Id,
      filename: z.string(),
      content_url: z.url({ protocol: /^https?$/ }),
      content_type: z.optional(z.string()),
      is_public: z.optional(z.boolean()),
    }),
  }),
});

const StatusChanged = z.object({
  current: z.string().check(z.minLength(1), z.maxLength(40)),
  previous: z.nullish(z.string()),
});

/** Zendesk statuses that mean "done" for the customer; every other status is open on the Chatwoot side. */
const RESOLVED = new Set(['solved', 'closed']);

export const EVENT_TYPES = {
  commentAdded: 'zen:event-type:ticket.comment_added',
  attachmentLinked: 'zen:event-type:ticket.attachment_linked_to_comment',
  statusChanged: 'zen:event-type:ticket.status_changed',
} as const;
const SUPPORTED = new Set<string>(Object.values(EVENT_TYPES));

export { describeIssues };

function epochMs(time: string | undefined): number | undefined {
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
        // The event carries the attachment's visibility, which is its comment's.
        public: a.is_public !== false,
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
    return {
      kind: 'event',
      event: {
        kind: 'zendesk.status',
        via: 'event',
        // The envelope id names this one change; a redelivery of it carries the same id.
        eventKey: eventKeys.zendeskStatus(d.id, env.data.id),
        status,
        state: RESOLVED.has(status) ? 'resolved' : 'open',
        ...common,
      },
    };
  }
  const ev = CommentAdded.safeParse(env.data.event);
  if (!ev.success) return { kind: 'invalid', message: describeIssues(ev.error, 'event') };
  const c = ev.data.comment;
  const requesterId = d.requester_id ?? undefined;
  return {
    kind: 'event',
    event: {
      kind: 'zendesk.comment',
      via: 'event',
      eventKey: eventKeys.zendeskComment(c.id),
      commentId: c.id,
      body: c.body,
      ...(c.html_body ? { htmlBody: c.html_body } : {}),
      public: c.is_public,
      author: { id: c.author.id, name: c.author.name, isStaff: c.author.is_staff },
      requester: requesterId
        ? { id: requesterId, ...(requesterId === c.author.id ? { name: c.author.name } : {}) }
        : undefined,
      ...common,
    },
  };
}

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
export function parseTriggerBody(
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
