// Chatwoot simulator state types and their wire shapes: API JSON (jbuilder partials) and webhook bodies (webhook_data).
export type ConversationStatus = 'open' | 'resolved' | 'pending' | 'snoozed';
export const CONVERSATION_STATUSES: readonly ConversationStatus[] = [
  'open',
  'resolved',
  'pending',
  'snoozed',
];

/** Message types as stored (integers); webhooks name them. */
const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;

export interface ChatwootAgent {
  id: number;
  name: string;
  email: string;
}

export interface ChatwootContact {
  id: number;
  name: string;
  email: string | null;
  identifier: string | null;
  phone_number: string | null;
  custom_attributes: Record<string, unknown>;
  additional_attributes: Record<string, unknown>;
  blocked: boolean;
  /** Epoch seconds. */
  created_at: number;
  last_activity_at: number | null;
}

export interface ChatwootContactInbox {
  id: number;
  contact_id: number;
  inbox_id: number;
  source_id: string;
  hmac_verified: boolean;
  pubsub_token: string;
  created_at: string;
  updated_at: string;
}

export interface ChatwootConversation {
  id: number;
  uuid: string;
  account_id: number;
  inbox_id: number;
  contact_id: number;
  contact_inbox_id: number;
  status: ConversationStatus;
  custom_attributes: Record<string, unknown>;
  additional_attributes: Record<string, unknown>;
  labels: string[];
  assignee_id: number | null;
  unread_count: number;
  first_reply_created_at: string | null;
  waiting_since: number;
  agent_last_seen_at: number;
  contact_last_seen_at: number;
  status_changed_at: string;
  /** Epoch milliseconds (webhooks show seconds, `updated_at` with a fraction). */
  created_at: number;
  updated_at: number;
  last_activity_at: number;
}

export interface ChatwootAttachment {
  id: number;
  message_id: number;
  file_type: 'image' | 'audio' | 'video' | 'file';
  account_id: number;
  extension: string | null;
  content_type: string;
  data_url: string;
  thumb_url: string;
  file_size: number;
  width: number | null;
  height: number | null;
}

export interface ChatwootMessage {
  id: number;
  conversation_id: number;
  account_id: number;
  inbox_id: number;
  content: string | null;
  /** 0 incoming, 1 outgoing, 2 activity, 3 template. */
  message_type: 0 | 1 | 2 | 3;
  private: boolean;
  source_id: string | null;
  content_type: string;
  content_attributes: Record<string, unknown>;
  sender_type: 'Contact' | 'User' | null;
  sender_id: number | null;
  attachments: ChatwootAttachment[];
  /** Attachments holding no file (location, contact card) or nil, as Attachment#push_event_data renders them. */
  odd_attachments?: Array<Record<string, unknown> | null>;
  status: 'sent';
  /** Epoch milliseconds. */
  created_at: number;
}

/** What the serializers need to look up around one record. */
export interface ChatwootWorld {
  account: { id: number; name: string };
  inbox: { id: number; name: string };
  contact(id: number): ChatwootContact;
  contactInbox(id: number): ChatwootContactInbox;
  agent(id: number): ChatwootAgent | undefined;
  messagesOf(conversationId: number): ChatwootMessage[];
}

const seconds = (ms: number): number => Math.floor(ms / 1000);
const iso = (ms: number): string => new Date(ms).toISOString();

export function inboxJson(world: ChatwootWorld): Record<string, unknown> {
  return {
    id: world.inbox.id,
    avatar_url: '',
    channel_id: world.inbox.id,
    name: world.inbox.name,
    channel_type: 'Channel::Api',
    provider: null,
  };
}

/** `Contact#webhook_data`: note there is no `type` key here, unlike the push data. */
function contactWebhookData(contact: ChatwootContact, world: ChatwootWorld): Record<string, unknown> {
  return {
    account: world.account,
    additional_attributes: contact.additional_attributes,
    avatar: '',
    custom_attributes: contact.custom_attributes,
    email: contact.email,
    id: contact.id,
    identifier: contact.identifier,
    name: contact.name,
    phone_number: contact.phone_number,
    thumbnail: '',
    blocked: contact.blocked,
  };
}

function contactPushData(contact: ChatwootContact): Record<string, unknown> {
  return {
    additional_attributes: contact.additional_attributes,
    custom_attributes: contact.custom_attributes,
    email: contact.email,
    id: contact.id,
    identifier: contact.identifier,
    name: contact.name,
    phone_number: contact.phone_number,
    thumbnail: '',
    blocked: contact.blocked,
    type: 'contact',
  };
}

function userPushData(agent: ChatwootAgent): Record<string, unknown> {
  return {
    id: agent.id,
    name: agent.name,
    available_name: agent.name.split(' ')[0] ?? agent.name,
    avatar_url: '',
    type: 'user',
    availability_status: 'online',
    thumbnail: '',
  };
}

/** The contact as the Contacts API shows it (list item / show / create). */
export function contactJson(
  contact: ChatwootContact,
  contactInboxes: ChatwootContactInbox[],
  world: ChatwootWorld,
): Record<string, unknown> {
  return {
    additional_attributes: contact.additional_attributes,
    availability_status: 'offline',
    email: contact.email,
    id: contact.id,
    name: contact.name,
    phone_number: contact.phone_number,
    blocked: contact.blocked,
    identifier: contact.identifier,
    thumbnail: '',
    custom_attributes: contact.custom_attributes,
    last_activity_at: contact.last_activity_at,
    created_at: contact.created_at,
    contact_inboxes: contactInboxes.map((ci) => ({ source_id: ci.source_id, inbox: inboxJson(world) })),
  };
}

function senderPushData(message: ChatwootMessage, world: ChatwootWorld): Record<string, unknown> | undefined {
  if (message.sender_id === null) return undefined;
  if (message.sender_type === 'Contact') return contactPushData(world.contact(message.sender_id));
  const agent = world.agent(message.sender_id);
  return agent ? userPushData(agent) : undefined;
}

/** `Message#push_event_data`: integer message_type, epoch `created_at`; also the API's message shape. */
export function messagePushData(
  message: ChatwootMessage,
  conversation: ChatwootConversation,
  world: ChatwootWorld,
): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: message.id,
    content: message.content,
    account_id: message.account_id,
    inbox_id: message.inbox_id,
    conversation_id: message.conversation_id,
    message_type: message.message_type,
    created_at: seconds(message.created_at),
    updated_at: iso(message.created_at),
    private: message.private,
    status: message.status,
    source_id: message.source_id,
    content_type: message.content_type,
    content_attributes: message.content_attributes,
    sender_type: message.sender_type,
    sender_id: message.sender_id,
    external_source_ids: {},
    additional_attributes: {},
    processed_message_content: message.content,
    sentiment: {},
    conversation: {
      assignee_id: conversation.assignee_id,
      unread_count: conversation.unread_count,
      last_activity_at: seconds(conversation.last_activity_at),
      contact_inbox: { source_id: world.contactInbox(conversation.contact_inbox_id).source_id },
    },
  };
  const attachments = allAttachments(message);
  if (attachments.length > 0) data.attachments = attachments;
  const sender = senderPushData(message, world);
  if (sender) data.sender = sender;
  return data;
}

/** The last public, non-activity message: what Chatwoot puts in `conversation.messages`. */
function lastChatMessage(
  conversation: ChatwootConversation,
  world: ChatwootWorld,
): ChatwootMessage | undefined {
  return world
    .messagesOf(conversation.id)
    .filter((m) => !m.private && m.message_type !== 2)
    .at(-1);
}

function conversationMeta(conversation: ChatwootConversation, world: ChatwootWorld): Record<string, unknown> {
  const assignee = conversation.assignee_id === null ? undefined : world.agent(conversation.assignee_id);
  return {
    sender: contactPushData(world.contact(conversation.contact_id)),
    assignee: assignee ? userPushData(assignee) : null,
    assignee_type: assignee ? 'User' : null,
    team: null,
    hmac_verified: false,
  };
}

/** `Conversation#webhook_data` (EventDataPresenter push data plus account). */
export function conversationWebhookData(
  conversation: ChatwootConversation,
  world: ChatwootWorld,
): Record<string, unknown> {
  const contactInbox = world.contactInbox(conversation.contact_inbox_id);
  const last = lastChatMessage(conversation, world);
  return {
    additional_attributes: conversation.additional_attributes,
    can_reply: true,
    channel: 'Channel::Api',
    contact_inbox: { ...contactInbox },
    id: conversation.id,
    inbox_id: conversation.inbox_id,
    messages: last ? [messagePushData(last, conversation, world)] : [],
    labels: [...conversation.labels],
    meta: conversationMeta(conversation, world),
    status: conversation.status,
    custom_attributes: conversation.custom_attributes,
    snoozed_until: null,
    unread_count: conversation.unread_count,
    first_reply_created_at: conversation.first_reply_created_at,
    priority: null,
    waiting_since: conversation.waiting_since,
    agent_last_seen_at: conversation.agent_last_seen_at,
    contact_last_seen_at: conversation.contact_last_seen_at,
    last_activity_at: seconds(conversation.last_activity_at),
    timestamp: seconds(conversation.last_activity_at),
    created_at: seconds(conversation.created_at),
    updated_at: conversation.updated_at / 1000,
    account: world.account,
  };
}

/** The Conversations API partial (show, create, filter, contact conversations). */
export function conversationJson(
  conversation: ChatwootConversation,
  world: ChatwootWorld,
): Record<string, unknown> {
  const last = lastChatMessage(conversation, world);
  return {
    meta: { ...conversationMeta(conversation, world), channel: 'Channel::Api' },
    id: conversation.id,
    messages: last ? [messagePushData(last, conversation, world)] : [],
    account_id: conversation.account_id,
    uuid: conversation.uuid,
    additional_attributes: conversation.additional_attributes,
    agent_last_seen_at: conversation.agent_last_seen_at,
    assignee_last_seen_at: 0,
    can_reply: true,
    contact_last_seen_at: conversation.contact_last_seen_at,
    custom_attributes: conversation.custom_attributes,
    inbox_id: conversation.inbox_id,
    labels: [...conversation.labels],
    muted: false,
    snoozed_until: null,
    status: conversation.status,
    created_at: seconds(conversation.created_at),
    updated_at: conversation.updated_at / 1000,
    timestamp: seconds(conversation.last_activity_at),
    first_reply_created_at: conversation.first_reply_created_at
      ? seconds(Date.parse(conversation.first_reply_created_at))
      : null,
    unread_count: conversation.unread_count,
    last_non_activity_message: last ? messagePushData(last, conversation, world) : null,
    last_activity_at: seconds(conversation.last_activity_at),
    priority: null,
    waiting_since: conversation.waiting_since,
    sla_policy_id: null,
  };
}

/** `Message#webhook_data` merged with `event: 'message_created'`, as the webhook listener sends it. */
export function messageWebhookBody(
  message: ChatwootMessage,
  conversation: ChatwootConversation,
  world: ChatwootWorld,
): Record<string, unknown> {
  let sender: Record<string, unknown> | null = null;
  if (message.sender_id !== null && message.sender_type === 'Contact') {
    sender = contactWebhookData(world.contact(message.sender_id), world);
  } else if (message.sender_id !== null) {
    const agent = world.agent(message.sender_id);
    if (agent) sender = { id: agent.id, name: agent.name, email: agent.email, type: 'user' };
  }
  const body: Record<string, unknown> = {
    account: world.account,
    additional_attributes: {},
    content_attributes: message.content_attributes,
    content_type: message.content_type,
    content: message.content,
    conversation: conversationWebhookData(conversation, world),
    created_at: iso(message.created_at),
    id: message.id,
    // The message's own inbox: account webhooks carry every inbox's events (no inbox filter).
    inbox:
      message.inbox_id === world.inbox.id
        ? world.inbox
        : { id: message.inbox_id, name: `Inbox ${message.inbox_id}` },
    message_type: MESSAGE_TYPES[message.message_type],
    private: message.private,
    sender,
    source_id: message.source_id,
  };
  const attachments = allAttachments(message);
  if (attachments.length > 0) body.attachments = attachments;
  body.event = 'message_created';
  return body;
}

/** `attachments.map(&:push_event_data)`: files first, then entries holding no file (in creation order). */
function allAttachments(
  message: ChatwootMessage,
): Array<ChatwootAttachment | Record<string, unknown> | null> {
  return [...message.attachments, ...(message.odd_attachments ?? [])];
}

export function fileTypeOf(contentType: string): ChatwootAttachment['file_type'] {
  const major = contentType.split('/')[0];
  return major === 'image' || major === 'audio' || major === 'video' ? major : 'file';
}
