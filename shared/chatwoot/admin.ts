// Chatwoot administration calls of `bridge setup` and `bridge doctor`: the token's profile, the bridge's inbox and
// the account webhook that delivers messages to the bridge. Contract: contracts/chatwoot/swagger.json
// (fetchProfile, GetInbox, list-all-webhooks, create-a-webhook, update-a-webhook); responses are wrapped in
// `payload` as Chatwoot's jbuilder views render them (see simulators/webhook-admin.ts).
import { type ApiClient, createApiClient } from '../http/client.ts';

/** Events the bridge subscribes to: new messages (replies, notes) and conversation status changes. */
export const CHATWOOT_WEBHOOK_EVENTS = ['message_created', 'conversation_status_changed'] as const;

/** The inbox type that lets an API client create conversations and incoming messages. */
export const API_CHANNEL = 'Channel::Api';

export interface ChatwootProfile {
  id: number;
  email?: string;
  accounts?: Array<{ id: number; role?: string }>;
}

export interface ChatwootInbox {
  id: number;
  name?: string;
  channel_type?: string;
}

export interface ChatwootWebhook {
  id: number;
  url: string;
  name?: string | null;
  subscriptions?: string[];
  /** Signing secret; absent on Chatwoot versions that do not sign webhooks. */
  secret?: string | null;
  inbox?: { id: number } | null;
}

export interface ChatwootWebhookInput {
  url: string;
  name?: string;
  subscriptions: string[];
  /** Limits deliveries to the bridge's inbox. */
  inbox_id?: number;
}

export class ChatwootAdmin {
  private readonly http: ApiClient;
  /** Path prefix of the account's endpoints. */
  private readonly account: string;

  constructor(c: { baseUrl: string; accountId: number; apiToken: string; fetch?: typeof fetch }) {
    this.http = createApiClient({
      platform: 'chatwoot',
      prefix: `${c.baseUrl}/api/v1/`,
      headers: { api_access_token: c.apiToken, accept: 'application/json' },
      ...(c.fetch ? { fetch: c.fetch } : {}),
    });
    this.account = `accounts/${c.accountId}`;
  }

  async profile(): Promise<ChatwootProfile> {
    return this.http.json<ChatwootProfile>('GET', 'profile');
  }

  async inbox(id: number): Promise<ChatwootInbox> {
    return this.http.json<ChatwootInbox>('GET', `${this.account}/inboxes/${id}`);
  }

  async webhooks(): Promise<ChatwootWebhook[]> {
    const res = await this.http.json<{ payload?: { webhooks?: ChatwootWebhook[] } }>(
      'GET',
      `${this.account}/webhooks`,
    );
    return res.payload?.webhooks ?? [];
  }

  async createWebhook(input: ChatwootWebhookInput): Promise<ChatwootWebhook> {
    const res = await this.http.json<{ payload: { webhook: ChatwootWebhook } }>(
      'POST',
      `${this.account}/webhooks`,
      { json: input },
    );
    return res.payload.webhook;
  }

  async updateWebhook(id: number, input: ChatwootWebhookInput): Promise<ChatwootWebhook> {
    const res = await this.http.json<{ payload: { webhook: ChatwootWebhook } }>(
      'PATCH',
      `${this.account}/webhooks/${id}`,
      { json: input },
    );
    return res.payload.webhook;
  }
}
