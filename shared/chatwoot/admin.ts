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
  /** Built with url_for on FRONTEND_URL when the user has an avatar (a place where doctor can see that host). */
  avatar_url?: string | null;
  accounts?: Array<{ id: number; role?: string }>;
}

export interface ChatwootInbox {
  id: number;
  name?: string;
  channel_type?: string;
  avatar_url?: string | null;
}

/** The first release whose account webhooks carry a signing secret (commit c218eff5e, 4.11; docs/platforms.md). */
export const FIRST_SIGNING_VERSION = '4.11.0';

/** Whether `version` (e.g. "4.16.2") is at least `floor`. */
export function versionAtLeast(version: string, floor: string): boolean {
  const a = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const b = floor.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
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
  /**
   * Stored by Chatwoot but not used to filter: WebhookListener#deliver_account_webhooks sends every inbox's events to
   * every account webhook (docs/platforms.md, "Inbox scoping"); the ingress drops other inboxes' events.
   */
  inbox_id?: number;
}

export class ChatwootAdmin {
  private readonly http: ApiClient;
  private readonly root: ApiClient;
  /** Path prefix of the account's endpoints. */
  private readonly account: string;

  constructor(c: { baseUrl: string; accountId: number; apiToken: string; fetch?: typeof fetch }) {
    const common = {
      platform: 'chatwoot' as const,
      headers: { api_access_token: c.apiToken, accept: 'application/json' },
      ...(c.fetch ? { fetch: c.fetch } : {}),
    };
    this.http = createApiClient({ ...common, prefix: `${c.baseUrl}/api/v1/` });
    this.root = createApiClient({ ...common, prefix: `${c.baseUrl}/` });
    this.account = `accounts/${c.accountId}`;
  }

  /** The running version (`GET /api`, ApiController#index), or undefined when it does not say. */
  async version(): Promise<string | undefined> {
    const info = await this.root.json<{ version?: unknown }>('GET', 'api');
    return typeof info.version === 'string' ? info.version : undefined;
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
