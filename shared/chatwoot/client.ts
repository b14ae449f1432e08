// Chatwoot Application API client: contacts, conversations and messages in one account and inbox.
// Contract: contracts/chatwoot/swagger.json (paths under /api/v1/accounts/{account_id}).
import { randomUUID } from 'node:crypto';
import { UpstreamError } from '../errors.ts';
import { type ApiClient, type ApiClientOptions, createApiClient } from '../http/client.ts';
import { type Download, download } from '../http/download.ts';
import { classifyChatwootError } from './errors.ts';
import { ticketHintOf } from './webhook.ts';

export interface ChatwootContact {
  id: number;
  name?: string | null;
  email?: string | null;
  identifier?: string | null;
}
export interface ChatwootConversation {
  id: number;
  /** Epoch seconds of the conversation's newest message (any message, activity included). */
  last_activity_at?: number;
  inbox_id?: number;
  status?: string;
  custom_attributes?: Record<string, unknown>;
  additional_attributes?: Record<string, unknown>;
  contact_inbox?: { source_id?: string | null } | null;
  meta?: { sender?: { id?: number }; assignee?: { id?: number } | null; assignee_type?: string | null };
}
export interface ChatwootMessage {
  id: number;
  content?: string | null;
  message_type?: number | string;
  private?: boolean;
  source_id?: string | null;
  created_at?: number | string;
  content_attributes?: Record<string, unknown>;
  sender?: { id?: number; type?: string } | null;
  /** `Message#conversation_push_event_data`: the contact inbox's source id, which no agent can change. */
  conversation?: { contact_inbox?: { source_id?: string | null } | null; assignee_id?: number | null } | null;
  attachments?: Array<Record<string, unknown> | null>;
}
export interface NewMessage {
  content: string;
  message_type: 'incoming' | 'outgoing';
  private: boolean;
  /** The bridge's marker: echoes of what it posted carry it back in the webhook. */
  source_id?: string;
  content_attributes?: Record<string, unknown>;
}
/** A file to attach to a new message (sent as multipart `attachments[]`). */
export interface OutgoingFile {
  fileName: string;
  contentType: string;
  data: Buffer;
}

/**
 * A multipart/form-data body built by hand: FormData would rewrite every newline in the text to CRLF (as the
 * HTML form encoding rules say), and the message would no longer be the text the customer wrote.
 */
function multipart(fields: Record<string, string>, files: OutgoingFile[]): Blob {
  const boundary = `----bridge${randomUUID().replaceAll('-', '')}`;
  const quote = (s: string) => s.replace(/["\\\r\n]/g, (c) => encodeURIComponent(c));
  const parts: Array<string | Uint8Array> = [];
  for (const [name, value] of Object.entries(fields))
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  for (const f of files) {
    parts.push(
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename="${quote(f.fileName)}"\r\n` +
        `Content-Type: ${f.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
      new Uint8Array(f.data),
      '\r\n',
    );
  }
  parts.push(`--${boundary}--\r\n`);
  // A Blob's type becomes the request's Content-Type, boundary included.
  return new Blob(parts, { type: `multipart/form-data; boundary=${boundary}` });
}

export interface ChatwootClientConfig {
  baseUrl: string;
  accountId: number;
  inboxId: number;
  apiToken: string;
  timeoutMs?: number | undefined;
  onRequest?: ApiClientOptions['onRequest'];
  /** Chatwoot's per-IP and per-conversation limits (shared/http/rate-limits.ts). */
  limiter?: ApiClientOptions['limiter'];
  /**
   * Origins attachment `data_url`s may be on besides the API's: Chatwoot builds them on its public FRONTEND_URL
   * (docs/platforms.md, "Attachment hosts"). No credential is sent to any of them.
   */
  attachmentOrigins?: string[];
}

export class ChatwootClient {
  private readonly http: ApiClient;
  readonly inboxId: number;
  readonly accountId: number;
  /** The API's origin. */
  readonly origin: string;
  /** Attachment URLs (`data_url`) must start on one of these: the bridge fetches nothing else it is sent. */
  readonly attachmentOrigins: string[];
  private readonly onRequest: ChatwootClientConfig['onRequest'];
  private readonly root: ApiClient;

  constructor(c: ChatwootClientConfig) {
    this.inboxId = c.inboxId;
    this.accountId = c.accountId;
    this.origin = new URL(c.baseUrl).origin;
    this.attachmentOrigins = [
      ...new Set([this.origin, ...(c.attachmentOrigins ?? []).map((o) => new URL(o).origin)]),
    ];
    this.onRequest = c.onRequest;
    const common = {
      platform: 'chatwoot' as const,
      headers: { api_access_token: c.apiToken, accept: 'application/json' },
      timeoutMs: c.timeoutMs,
      onRequest: c.onRequest,
      ...(c.limiter ? { limiter: c.limiter } : {}),
      classify: classifyChatwootError,
    };
    this.http = createApiClient({ ...common, prefix: `${c.baseUrl}/api/v1/accounts/${c.accountId}/` });
    this.root = createApiClient({ ...common, prefix: `${c.baseUrl}/` });
  }

  /** Creates a contact in the bridge inbox. Chatwoot answers 422 when the email or identifier is taken. */
  async createContact(c: { name: string; email?: string; identifier: string; custom_attributes?: object }) {
    const res = await this.http.json<{ payload: { contact: ChatwootContact } }>('POST', 'contacts', {
      json: { inbox_id: this.inboxId, ...c },
    });
    return res.payload.contact;
  }

  async searchContacts(q: string): Promise<ChatwootContact[]> {
    const res = await this.http.json<{ payload: ChatwootContact[] }>('GET', 'contacts/search', {
      searchParams: { q },
    });
    return res.payload;
  }

  async contactConversations(contactId: number): Promise<ChatwootConversation[]> {
    return (
      await this.http.json<{ payload: ChatwootConversation[] }>('GET', `contacts/${contactId}/conversations`)
    ).payload;
  }

  async createConversation(c: {
    sourceId: string;
    contactId: number;
    customAttributes: Record<string, unknown>;
    /** Set once at creation; no endpoint changes them afterwards (unlike custom attributes). */
    additionalAttributes?: Record<string, unknown>;
  }): Promise<ChatwootConversation> {
    return this.http.json<ChatwootConversation>('POST', 'conversations', {
      json: {
        source_id: c.sourceId,
        inbox_id: this.inboxId,
        contact_id: c.contactId,
        custom_attributes: c.customAttributes,
        ...(c.additionalAttributes ? { additional_attributes: c.additionalAttributes } : {}),
        status: 'open',
      },
    });
  }

  /**
   * Creates the conversation together with its first message, in one request: ConversationsController#create
   * builds the message with Messages::MessageBuilder inside the same transaction (app/controllers/api/v1/accounts/
   * conversations_controller.rb at the commit in contracts/chatwoot/SOURCE.md), so either both exist or neither.
   * The answer's `messages` holds the conversation's last message (its partial renders `messages.last`): this one,
   * found by its `source_id`; if Chatwoot added an activity message in between, one read finds it. Never throws
   * after the conversation exists: a retry would create a second one.
   */
  async createConversationWithMessage(c: {
    sourceId: string;
    contactId: number;
    customAttributes: Record<string, unknown>;
    /** Set once at creation; no endpoint changes them afterwards (unlike custom attributes). */
    additionalAttributes?: Record<string, unknown>;
    message: NewMessage & { source_id: string };
  }): Promise<{ conversation: ChatwootConversation; message: ChatwootMessage | undefined }> {
    const conversation = await this.http.json<ChatwootConversation & { messages?: ChatwootMessage[] }>(
      'POST',
      'conversations',
      {
        json: {
          source_id: c.sourceId,
          inbox_id: this.inboxId,
          contact_id: c.contactId,
          custom_attributes: c.customAttributes,
          ...(c.additionalAttributes ? { additional_attributes: c.additionalAttributes } : {}),
          status: 'open',
          message: c.message,
        },
      },
    );
    const wanted = (m: ChatwootMessage) => m.source_id === c.message.source_id;
    const message =
      conversation.messages?.find(wanted) ??
      (await this.messages(conversation.id).catch(() => [] as ChatwootMessage[])).find(wanted);
    return { conversation, message };
  }

  async conversation(id: number | string): Promise<ChatwootConversation> {
    return this.http.json<ChatwootConversation>('GET', `conversations/${id}`);
  }

  /** One message; with files it is one multipart request carrying them as `attachments[]`. */
  async createMessage(
    conversationId: number | string,
    m: NewMessage,
    files: OutgoingFile[] = [],
  ): Promise<ChatwootMessage> {
    const path = `conversations/${conversationId}/messages`;
    if (files.length === 0) return this.http.json<ChatwootMessage>('POST', path, { json: m });
    const fields: Record<string, string> = {
      content: m.content,
      message_type: m.message_type,
      private: String(m.private),
      ...(m.source_id ? { source_id: m.source_id } : {}),
      // Multipart values are strings: Chatwoot parses a JSON string here into the attributes hash.
      ...(m.content_attributes ? { content_attributes: JSON.stringify(m.content_attributes) } : {}),
    };
    const form = multipart(fields, files);
    return this.http.json<ChatwootMessage>('POST', path, { body: form });
  }

  /**
   * Sets the conversation's status (`open` reopens, `resolved` resolves). Opening keeps the conversation with its
   * assignee: `toggle_status` assigns a conversation it opens to the calling user when that user is an agent
   * (ConversationsController#handle_human_open), so with an agent's token the previous human assignee (or nobody)
   * is put back. An administrator's token is not assigned and costs nothing extra; `doctor` asks for one.
   */
  async toggleStatus(conversationId: number | string, status: 'open' | 'resolved'): Promise<void> {
    const agent = status === 'open' && (await this.tokenIsAgent());
    const before = agent ? await this.conversation(conversationId) : undefined;
    await this.http.json('POST', `conversations/${conversationId}/toggle_status`, { json: { status } });
    if (!before) return;
    const me = (await this.profileOnce()).id;
    // An agent bot's ownership is not restored: assigning a bot makes the conversation pending again.
    const previous = before.meta?.assignee_type === 'AgentBot' ? undefined : before.meta?.assignee?.id;
    if (previous === me) return;
    await this.assign(conversationId, previous ?? null);
  }

  private profileRead?:
    | Promise<{
        id: number;
        role?: string;
        accounts?: Array<{ id: number; role?: string }>;
      }>
    | undefined;

  /** The token's profile, read once per container (a role change takes a new container or a redeploy). */
  private profileOnce() {
    this.profileRead ??= this.profile().catch((err: unknown) => {
      this.profileRead = undefined;
      throw err;
    });
    return this.profileRead;
  }

  private async tokenIsAgent(): Promise<boolean> {
    let profile: Awaited<ReturnType<ChatwootClient['profile']>>;
    try {
      profile = await this.profileOnce();
    } catch (err) {
      // An agent bot's token has no profile (ProfilesController needs a user), and toggle_status assigns only
      // users: nothing to put back.
      if (err instanceof UpstreamError && (err.status === 401 || err.status === 403)) return false;
      throw err;
    }
    const role = profile.accounts?.find((a) => a.id === this.accountId)?.role ?? profile.role;
    return role !== 'administrator';
  }

  /**
   * Downloads an attachment from its `data_url`. No credentials: the URL itself authorises (Active Storage),
   * and only URLs on the Chatwoot origin are fetched, so a webhook cannot point the bridge elsewhere.
   */
  download(url: string, limitBytes: number, deadline?: number): Promise<Download> {
    return download(url, {
      platform: 'chatwoot',
      limitBytes,
      ...(deadline !== undefined ? { deadline } : {}),
      allowedOrigins: this.attachmentOrigins,
      onRequest: this.onRequest,
    });
  }

  /**
   * Conversations of the bridge's inbox whose last activity was on `since`'s UTC date or later, newest activity
   * first, 25 a page (`page` from 1). Chatwoot compares dates only (`last_activity_at::date`), so the caller
   * filters by the exact `last_activity_at`. Source: Conversations::FilterService and Filters::FilterHelper at the
   * commit in contracts/chatwoot/SOURCE.md.
   */
  async conversationsActiveSince(sinceMs: number, page: number): Promise<ChatwootConversation[]> {
    // `is_greater_than D` means "the date is after D": ask for the day before since's date.
    const dayBefore = new Date(sinceMs - 24 * 3600 * 1000).toISOString().slice(0, 10);
    const res = await this.http.json<{ payload: ChatwootConversation[] }>('POST', 'conversations/filter', {
      searchParams: { page: String(page) },
      json: {
        payload: [
          {
            attribute_key: 'inbox_id',
            filter_operator: 'equal_to',
            values: [String(this.inboxId)],
            query_operator: 'AND',
          },
          { attribute_key: 'last_activity_at', filter_operator: 'is_greater_than', values: [dayBefore] },
        ],
      },
    });
    return res.payload;
  }

  /**
   * One page of the conversation's messages: the newest 20 without a cursor, up to 100 newer than `after`, or
   * 20 older than `before`.
   */
  async messages(
    conversationId: number | string,
    page: { after?: number; before?: number } = {},
  ): Promise<ChatwootMessage[]> {
    const searchParams: Record<string, string> = {
      ...(page.after !== undefined ? { after: String(page.after) } : {}),
      ...(page.before !== undefined ? { before: String(page.before) } : {}),
    };
    return (
      await this.http.json<{ payload: ChatwootMessage[] }>(
        'GET',
        `conversations/${conversationId}/messages`,
        Object.keys(searchParams).length > 0 ? { searchParams } : {},
      )
    ).payload;
  }

  /** One message as the API shows it (MessageFinder: `after` returns the newer ones, ascending), or undefined. */
  async message(
    conversationId: number | string,
    messageId: number | string,
  ): Promise<ChatwootMessage | undefined> {
    const page = await this.http.json<{ payload: ChatwootMessage[] }>(
      'GET',
      `conversations/${conversationId}/messages`,
      { searchParams: { after: String(Number(messageId) - 1) } },
    );
    return page.payload.find((m) => String(m.id) === String(messageId));
  }

  /**
   * The contact inbox's `source_id` of a conversation, which no agent can change: the conversation API does not
   * show it, but every message does (`conversation.contact_inbox.source_id`). Undefined for a conversation with no
   * message yet.
   */
  async contactInboxSourceId(conversationId: number | string): Promise<string | undefined> {
    const messages = await this.messages(conversationId);
    for (const m of messages) {
      const sourceId = m.conversation?.contact_inbox?.source_id;
      if (sourceId) return sourceId;
    }
    return undefined;
  }

  /**
   * The ticket a conversation was made for, from marks no agent can edit (docs/platforms.md, "Recovery"): its
   * `additional_attributes` (set at creation), else the contact inbox's `source_id` (`zendesk:ticket:<id>`), read
   * from its messages since the conversation API does not show it. Never `custom_attributes`, which agents edit.
   */
  async ticketIdOf(conversation: ChatwootConversation): Promise<string | undefined> {
    return (
      ticketHintOf(conversation) ??
      ticketHintOf({ contact_inbox: { source_id: await this.contactInboxSourceId(conversation.id) } })
    );
  }

  /**
   * Assigns the conversation to an agent, or unassigns it with null. The spec types `assignee_id` as a number, and
   * Conversations::AssignmentService looks it up with `find_by(id:)`, so 0 (no user) is how "nobody" is sent.
   */
  async assign(conversationId: number | string, assigneeId: number | null): Promise<void> {
    await this.http.json('POST', `conversations/${conversationId}/assignments`, {
      json: { assignee_id: assigneeId ?? 0 },
    });
  }

  /** The token's user and its role in each account (`GET /api/v1/profile`). */
  async profile(): Promise<{ id: number; role?: string; accounts?: Array<{ id: number; role?: string }> }> {
    return this.root.json('GET', 'api/v1/profile');
  }
}
