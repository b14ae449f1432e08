// Zendesk simulator state types and their wire shapes: REST JSON (numeric ids) and event webhooks (string ids).
import { randomBytes, randomUUID } from 'node:crypto';

export type ZendeskRole = 'end-user' | 'agent' | 'admin';
export type ZendeskTicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
export const TICKET_STATUSES: readonly ZendeskTicketStatus[] = [
  'new',
  'open',
  'pending',
  'hold',
  'solved',
  'closed',
];

export interface ZendeskUser {
  id: number;
  name: string;
  email: string | null;
  role: ZendeskRole;
  created_at: string;
  updated_at: string;
}

/** An attachment as the REST API shows it (on comments and in upload responses). */
export interface ZendeskAttachment {
  id: number;
  file_name: string;
  content_url: string;
  mapped_content_url: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  inline: boolean;
  deleted: boolean;
  thumbnails: unknown[];
}

export interface ZendeskVia {
  channel: string;
  source: { from: Record<string, unknown>; to: Record<string, unknown>; rel: string | null };
}

/** Stored in the REST shape of the Ticket Comments API. */
export interface ZendeskComment {
  id: number;
  type: 'Comment';
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  attachments: ZendeskAttachment[];
  audit_id: number;
  via: ZendeskVia;
  created_at: string;
  metadata: { system: Record<string, unknown>; custom: Record<string, unknown> };
}

export interface ZendeskTicket {
  id: number;
  subject: string;
  description: string;
  status: ZendeskTicketStatus;
  priority: string | null;
  type: string | null;
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  external_id: string | null;
  is_public: boolean;
  tags: string[];
  via: ZendeskVia;
  created_at: string;
  updated_at: string;
  followup_ids: number[];
  via_followup_source_id: number | null;
  comments: ZendeskComment[];
}

export interface ZendeskAudit {
  id: number;
  ticket_id: number;
  created_at: string;
  author_id: number;
  via: ZendeskVia;
  metadata: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
}

/** Fixed ids the simulated account reports in webhooks (the fixtures carry ids of the same kind). */
export const ZENDESK_ACCOUNT = {
  accountId: 10293847,
  brandId: 36000123456789,
  formId: 36000111222333,
  webhookId: '01JSIMULATORWEBHOOK0000001',
  subdomain: 'simulated',
} as const;

export function via(
  channel: string,
  rel: string | null = null,
  from: Record<string, unknown> = {},
): ZendeskVia {
  return { channel, source: { from, to: {}, rel } };
}

export function userJson(user: ZendeskUser, baseUrl: string): Record<string, unknown> {
  return {
    id: user.id,
    url: `${baseUrl}/api/v2/users/${user.id}.json`,
    name: user.name,
    email: user.email,
    role: user.role,
    role_type: null,
    active: true,
    verified: true,
    suspended: false,
    shared: false,
    time_zone: 'UTC',
    iana_time_zone: 'Etc/UTC',
    locale: 'en-US',
    organization_id: null,
    external_id: null,
    tags: [],
    user_fields: {},
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

export function ticketJson(ticket: ZendeskTicket, baseUrl: string): Record<string, unknown> {
  return {
    id: ticket.id,
    url: `${baseUrl}/api/v2/tickets/${ticket.id}.json`,
    external_id: ticket.external_id,
    via: ticket.via,
    created_at: ticket.created_at,
    updated_at: ticket.updated_at,
    type: ticket.type,
    subject: ticket.subject,
    raw_subject: ticket.subject,
    description: ticket.description,
    priority: ticket.priority,
    status: ticket.status,
    recipient: null,
    requester_id: ticket.requester_id,
    submitter_id: ticket.submitter_id,
    assignee_id: ticket.assignee_id,
    organization_id: null,
    group_id: null,
    collaborator_ids: [],
    follower_ids: [],
    email_cc_ids: [],
    forum_topic_id: null,
    problem_id: null,
    has_incidents: false,
    is_public: ticket.is_public,
    due_at: null,
    tags: [...ticket.tags],
    custom_fields: [],
    satisfaction_rating: null,
    sharing_agreement_ids: [],
    custom_status_id: null,
    followup_ids: [...ticket.followup_ids],
    ticket_form_id: ZENDESK_ACCOUNT.formId,
    brand_id: ZENDESK_ACCOUNT.brandId,
    allow_channelback: false,
    allow_attachments: true,
    from_messaging_channel: false,
  };
}

export type ZendeskEventType =
  | 'ticket.comment_added'
  | 'ticket.status_changed'
  | 'ticket.attachment_linked_to_comment'
  | 'messaging_ticket.message_added';

/**
 * Statuses that ticket events report beyond the six a ticket can be set to (Ticket events; the enum also lists
 * DELETED, ARCHIVED and SCRUBBED): a closed ticket archived after 120 days, a deleted one, one deleted for good.
 */
export type ZendeskLifecycleStatus = 'archived' | 'deleted' | 'scrubbed';

/** The system's actor id: updates made by automations and Zendesk's own jobs carry `-1`. */
export const SYSTEM_ACTOR = -1;

export interface ZendeskWebhookBody {
  account_id: number;
  detail: Record<string, unknown>;
  event: Record<string, unknown>;
  id: string;
  subject: string;
  time: string;
  type: string;
  zendesk_event_version: string;
}

const idString = (id: number | null): string | null => (id === null ? null : String(id));
const upper = (v: string | null): string | null => (v === null ? null : v.toUpperCase());

/** A fresh `event.meta.sequence.id`: events caused by one update share it, as on the real platform. */
export function sequenceId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/**
 * Builds a Zendesk event-webhook body (envelope + `detail` + `event`) shaped like the fixtures in
 * contracts/zendesk/webhooks: string ids, UPPERCASE enums, `detail.via.channel` of the ticket.
 */
export function webhookBody(input: {
  type: ZendeskEventType;
  ticket: ZendeskTicket;
  actorId: number;
  event: Record<string, unknown>;
  sequence?: { id: string; position: number };
  accountId?: number;
  time?: Date;
  /** The status `detail.status` shows, when it is one a ticket cannot be set to (archived, deleted, scrubbed). */
  status?: string;
}): ZendeskWebhookBody {
  const { ticket } = input;
  return {
    account_id: input.accountId ?? ZENDESK_ACCOUNT.accountId,
    detail: {
      actor_id: String(input.actorId),
      assignee_id: idString(ticket.assignee_id),
      brand_id: String(ZENDESK_ACCOUNT.brandId),
      created_at: ticket.created_at,
      custom_status: null,
      description: ticket.description,
      external_id: ticket.external_id,
      form_id: String(ZENDESK_ACCOUNT.formId),
      group_id: null,
      id: String(ticket.id),
      is_public: ticket.is_public,
      organization_id: null,
      priority: upper(ticket.priority),
      requester_id: String(ticket.requester_id),
      status: (input.status ?? ticket.status).toUpperCase(),
      subject: ticket.subject,
      submitter_id: String(ticket.submitter_id),
      tags: [...ticket.tags],
      type: upper(ticket.type),
      updated_at: ticket.updated_at,
      via: { channel: ticket.via.channel },
    },
    event: { ...input.event, meta: { sequence: input.sequence ?? { id: sequenceId(), position: 1 } } },
    id: randomUUID(),
    subject: `zen:ticket:${ticket.id}`,
    time: (input.time ?? new Date()).toISOString(),
    type: `zen:event-type:${input.type}`,
    zendesk_event_version: '2022-11-06',
  };
}

export function commentAddedEvent(comment: ZendeskComment, author: ZendeskUser): Record<string, unknown> {
  return {
    comment: {
      author: { id: String(author.id), is_staff: author.role !== 'end-user', name: author.name },
      body: comment.body,
      id: String(comment.id),
      is_public: comment.public,
    },
  };
}

/**
 * `ticket.attachment_linked_to_comment`. Its `is_public` is the attachment's own flag, not the comment's: Zendesk's
 * documented example shows `is_public: false` on a file of a public e-mail comment (Ticket events, "Attachment
 * linked to comment"). The simulator sends false unless told otherwise, so a bridge reading it as the comment's
 * visibility is caught.
 */
export function attachmentLinkedEvent(
  comment: ZendeskComment,
  attachment: ZendeskAttachment,
  attachmentIsPublic = false,
): Record<string, unknown> {
  return {
    comment: {
      attachment: {
        content_type: attachment.content_type,
        content_url: attachment.content_url,
        filename: attachment.file_name,
        id: String(attachment.id),
        is_public: attachmentIsPublic,
      },
      id: String(comment.id),
    },
  };
}

export function statusChangedEvent(
  previous: ZendeskTicketStatus | ZendeskLifecycleStatus,
  current: ZendeskTicketStatus | ZendeskLifecycleStatus,
): Record<string, unknown> {
  return { current: current.toUpperCase(), previous: previous.toUpperCase() };
}

/**
 * `messaging_ticket.message_added` (Messaging events, "Message added"): `actor` {id, name, type: end_user | agent |
 * trigger | system}, the messaging conversation id and `message` {id, body}; the message id is not a comment id.
 */
export function messageAddedEvent(input: {
  actor: { id: string; name: string; type: 'end_user' | 'agent' | 'trigger' | 'system' };
  conversationId: string;
  message: { id: string; body: string };
}): Record<string, unknown> {
  return { actor: input.actor, conversation_id: input.conversationId, message: input.message };
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Zendesk keeps both renderings of every comment; derive the missing one the way its UI roughly does. */
export function commentBodies(input: { body?: string; html_body?: string }): {
  body: string;
  html_body: string;
} {
  if (input.html_body !== undefined && input.body === undefined) {
    const text = input.html_body
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .trim();
    return { body: text, html_body: input.html_body };
  }
  const body = input.body ?? '';
  const paragraphs = body
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
  return { body, html_body: input.html_body ?? `<div class="zd-comment" dir="auto">${paragraphs}</div>` };
}
