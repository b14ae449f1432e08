// Chatwoot Application API client: contacts, conversations and messages in one account and inbox.
// Contract: contracts/chatwoot/swagger.json (paths under /api/v1/accounts/{account_id}).
import { randomUUID } from 'node:crypto';
import { type ApiClient, type ApiClientOptions, createApiClient } from '../http/client.ts';
import { type Download, download } from '../http/download.ts';

export interface ChatwootContact {
  id: number;
  name?: string | null;
  email?: string | null;
  identifier?: string | null;
}
export interface ChatwootConversation {
  id: number;
  inbox_id?: number;
  status?: string;
  custom_attributes?: Record<string, unknown>;
  contact_inbox?: { source_id?: string | null } | null;
  meta?: { sender?: { id?: number } };
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
  timeoutMs?: number;
  onRequest?: ApiClientOptions['onRequest'];
  /** Chatwoot's per-IP and per-conversation limits (shared/http/rate-limits.ts). */
  limiter?: ApiClientOptions['limiter'];
}

export class ChatwootClient {
  private readonly http: ApiClient;
  readonly inboxId: number;
  /** Attachment URLs (`data_url`) must start on this origin: the bridge fetches nothing else it is sent. */
  readonly origin: string;
  private readonly onRequest: ChatwootClientConfig['onRequest'];

  constructor(c: ChatwootClientConfig) {
    this.inboxId = c.inboxId;
    this.origin = new URL(c.baseUrl).origin;
    this.onRequest = c.onRequest;
    this.http = createApiClient({
      platform: 'chatwoot',
      prefix: `${c.baseUrl}/api/v1/accounts/${c.accountId}/`,
      headers: { api_access_token: c.apiToken, accept: 'application/json' },
      timeoutMs: c.timeoutMs,
      onRequest: c.onRequest,
      ...(c.limiter ? { limiter: c.limiter } : {}),
    });
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
  }): Promise<ChatwootConversation> {
    return this.http.json<ChatwootConversation>('POST', 'conversations', {
      json: {
        source_id: c.sourceId,
        inbox_id: this.inboxId,
        contact_id: c.contactId,
        custom_attributes: c.customAttributes,
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

  /** Sets the conversation's status (`open` reopens, `resolved` resolves). */
  async toggleStatus(conversationId: number | string, status: 'open' | 'resolved'): Promise<void> {
    await this.http.json('POST', `conversations/${conversationId}/toggle_status`, { json: { status } });
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
      allowedOrigins: [this.origin],
      onRequest: this.onRequest,
    });
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
}
