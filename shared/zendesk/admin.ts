// Zendesk administration calls of `bridge setup` and `bridge doctor`: who the API token is, and the webhook that
// delivers ticket events to the bridge. Webhooks API shapes and their sources: simulators/webhook-admin.ts.
import { type ApiClient, createApiClient } from '../http/client.ts';

/** Ticket events the bridge subscribes to: comments, status changes and attachments (which arrive separately). */
export const ZENDESK_WEBHOOK_EVENTS = [
  'zen:event-type:ticket.comment_added',
  'zen:event-type:ticket.status_changed',
  'zen:event-type:ticket.attachment_linked_to_comment',
] as const;

export interface ZendeskApiUser {
  id: number;
  email?: string | null;
  role?: string;
}

export interface ZendeskWebhook {
  id: string;
  name: string;
  status: string;
  endpoint: string;
  http_method: string;
  request_format: string;
  subscriptions?: string[];
}

export type ZendeskWebhookInput = Omit<ZendeskWebhook, 'id'>;

interface WebhookPage {
  webhooks?: ZendeskWebhook[];
  meta?: { has_more?: boolean; after_cursor?: string | null };
}

/** Zendesk lists at most 100 webhooks a page; an account has at most a few hundred. */
const MAX_PAGES = 20;

export class ZendeskAdmin {
  private readonly http: ApiClient;

  constructor(c: { baseUrl: string; email: string; apiToken: string; fetch?: typeof fetch }) {
    const auth = Buffer.from(`${c.email}/token:${c.apiToken}`).toString('base64');
    this.http = createApiClient({
      platform: 'zendesk',
      prefix: `${c.baseUrl}/api/v2/`,
      headers: { authorization: `Basic ${auth}`, accept: 'application/json' },
      ...(c.fetch ? { fetch: c.fetch } : {}),
    });
  }

  async me(): Promise<ZendeskApiUser> {
    return (await this.http.json<{ user: ZendeskApiUser }>('GET', 'users/me')).user;
  }

  async webhooks(): Promise<ZendeskWebhook[]> {
    const all: ZendeskWebhook[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.http.json<WebhookPage>('GET', 'webhooks', {
        searchParams: { 'page[size]': '100', ...(after ? { 'page[after]': after } : {}) },
      });
      all.push(...(res.webhooks ?? []));
      if (!res.meta?.has_more || !res.meta.after_cursor) break;
      after = res.meta.after_cursor;
    }
    return all;
  }

  async createWebhook(webhook: ZendeskWebhookInput): Promise<ZendeskWebhook> {
    return (await this.http.json<{ webhook: ZendeskWebhook }>('POST', 'webhooks', { json: { webhook } }))
      .webhook;
  }

  async updateWebhook(id: string, changes: Partial<ZendeskWebhookInput>): Promise<void> {
    await this.http.json('PATCH', `webhooks/${encodeURIComponent(id)}`, { json: { webhook: changes } });
  }

  async signingSecret(id: string): Promise<string | undefined> {
    const res = await this.http.json<{ signing_secret?: { secret?: string } }>(
      'GET',
      `webhooks/${encodeURIComponent(id)}/signing_secret`,
    );
    return res.signing_secret?.secret || undefined;
  }
}
