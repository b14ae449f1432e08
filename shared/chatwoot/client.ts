// Chatwoot Application API client: contacts, conversations and messages in one account and inbox.
// Contract: ../shared/contracts/chatwoot/swagger.json (paths under /api/v1/accounts/{account_id}).
import { type ApiClient, type ApiClientOptions, createApiClient } from '../http/client.ts';

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

export interface ChatwootClientConfig {
  baseUrl: string;
  accountId: number;
  inboxId: number;
  apiToken: string;
  timeoutMs?: number;
  onRequest?: ApiClientOptions['onRequest'];
}

export class ChatwootClient {
  readonly http: ApiClient;
  readonly inboxId: number;

  constructor(c: ChatwootClientConfig) {
    this.inboxId = c.inboxId;
    this.http = createApiClient({
      platform: 'chatwoot',
      prefix: `${c.baseUrl}/api/v1/accounts/${c.accountId}/`,
      headers: { api_access_token: c.apiToken, accept: 'application/json' },
      timeoutMs: c.timeoutMs,
      onRequest: c.onRequest,
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

  async conversation(id: number | string): Promise<ChatwootConversation> {
    return this.http.json<ChatwootConversation>('GET', `conversations/${id}`);
  }

  async createMessage(conversationId: number | string, m: NewMessage): Promise<ChatwootMessage> {
    return this.http.json<ChatwootMessage>('POST', `conversations/${conversationId}/messages`, { json: m });
  }

  async messages(conversationId: number | string): Promise<ChatwootMessage[]> {
    return (
      await this.http.json<{ payload: ChatwootMessage[] }>('GET', `conversations/${conversationId}/messages`)
    ).payload;
  }
}
