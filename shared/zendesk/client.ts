// Zendesk Support API client: the few endpoints the bridge uses, typed by the fields it reads.
// Contract: contracts/zendesk/support-api.yaml (ShowTicket, UpdateTicket, CreateTicket, ShowUser,
// ListTicketComments, CurrentUser, SearchUsers, UploadFiles). Every call the sync flows make to Zendesk is here.
import { type ApiClient, type ApiClientOptions, createApiClient } from '../http/client.ts';
import { type Download, download } from '../http/download.ts';

export interface ZendeskUser {
  id: number;
  name: string;
  email?: string | null;
  role?: string;
}
export interface ZendeskComment {
  id: number;
  type?: string;
  author_id: number;
  body: string;
  html_body?: string;
  plain_body?: string;
  public: boolean;
  created_at?: string;
  attachments?: ZendeskAttachment[];
}
export interface ZendeskAttachment {
  id: number;
  file_name: string;
  content_url: string;
  content_type: string;
  size: number;
  inline?: boolean;
}
export interface ZendeskTicket {
  id: number;
  status: string;
  requester_id: number;
  subject?: string | null;
  tags?: string[];
  updated_at?: string;
  priority?: string | null;
  assignee_id?: number | null;
  /** Follow-up tickets made of this one once it was closed. */
  followup_ids?: number[];
  submitter_id?: number;
  via_followup_source_id?: number | null;
}
/** A follow-up of a closed ticket (`via_followup_source_id`), with its first comment. */
export interface NewFollowUp {
  via_followup_source_id: number;
  requester_id: number;
  /** Authors the first comment. */
  submitter_id: number;
  subject?: string;
  comment: NonNullable<TicketUpdate['comment']>;
}
export interface TicketUpdate {
  comment?: { body?: string; html_body?: string; public: boolean; author_id?: number; uploads?: string[] };
  status?: string;
}
export interface UpdateResult {
  ticket: ZendeskTicket;
  /** Id of the comment the update created, from `audit.events` (how the bridge recognises its own writes). */
  commentId?: number;
}

export interface ZendeskClientConfig {
  baseUrl: string;
  email: string;
  apiToken: string;
  timeoutMs?: number;
  onRequest?: ApiClientOptions['onRequest'];
  /** The account's request budget, shared across containers (shared/http/rate-limits.ts). */
  limiter?: ApiClientOptions['limiter'];
}

export class ZendeskClient {
  private readonly http: ApiClient;
  /** Scheme, host and port of the account: the only place its credentials are ever sent. */
  readonly origin: string;
  private me?: Promise<ZendeskUser>;
  private readonly authorization: string;
  private readonly onRequest: ZendeskClientConfig['onRequest'];

  constructor(c: ZendeskClientConfig) {
    const auth = Buffer.from(`${c.email}/token:${c.apiToken}`).toString('base64');
    this.authorization = `Basic ${auth}`;
    this.origin = new URL(c.baseUrl).origin;
    this.onRequest = c.onRequest;
    this.http = createApiClient({
      platform: 'zendesk',
      prefix: `${c.baseUrl}/api/v2/`,
      headers: { authorization: `Basic ${auth}`, accept: 'application/json' },
      timeoutMs: c.timeoutMs,
      onRequest: c.onRequest,
      ...(c.limiter ? { limiter: c.limiter } : {}),
    });
  }

  /** The bridge's own API user; cached for the life of the container (it never changes). */
  currentUser(): Promise<ZendeskUser> {
    this.me ??= this.http.json<{ user: ZendeskUser }>('GET', 'users/me').then((r) => r.user);
    // A failed lookup must not be cached, or one blip would poison the container.
    this.me.catch(() => {
      this.me = undefined;
    });
    return this.me;
  }

  async user(id: number | string): Promise<ZendeskUser> {
    return (await this.http.json<{ user: ZendeskUser }>('GET', `users/${id}`)).user;
  }

  async ticket(id: number | string): Promise<ZendeskTicket> {
    return (await this.http.json<{ ticket: ZendeskTicket }>('GET', `tickets/${id}`)).ticket;
  }

  /**
   * The ticket with its requester and assignee in one request: `include=users` side-loads the ticket's users as a
   * top-level `users` array (https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/).
   */
  async ticketWithUsers(id: number | string): Promise<{ ticket: ZendeskTicket; users: ZendeskUser[] }> {
    const res = await this.http.json<{ ticket: ZendeskTicket; users?: ZendeskUser[] }>(
      'GET',
      `tickets/${id}`,
      {
        searchParams: { include: 'users' },
      },
    );
    return { ticket: res.ticket, users: res.users ?? [] };
  }

  /** One PUT: adds the comment (and/or status). Never sends `tags`, which would replace every tag on the ticket. */
  async updateTicket(id: number | string, update: TicketUpdate): Promise<UpdateResult> {
    const res = await this.http.json<{
      ticket: ZendeskTicket;
      audit?: { events?: Array<{ id: number; type: string }> };
    }>('PUT', `tickets/${id}`, { json: { ticket: update } });
    const comment = res.audit?.events?.find((e) => e.type === 'Comment');
    return { ticket: res.ticket, commentId: comment?.id };
  }

  /** One POST: creates a follow-up of a closed ticket (which Zendesk no longer lets anyone update). */
  async createFollowUp(ticket: NewFollowUp): Promise<UpdateResult> {
    const res = await this.http.json<{
      ticket: ZendeskTicket;
      audit?: { events?: Array<{ id: number; type: string }> };
    }>('POST', 'tickets', { json: { ticket } });
    const comment = res.audit?.events?.find((e) => e.type === 'Comment');
    return { ticket: res.ticket, commentId: comment?.id };
  }

  async comments(ticketId: number | string): Promise<ZendeskComment[]> {
    // Inline images are left out of `attachments` unless asked for; the bridge copies them too.
    const res = await this.http.json<{ comments: ZendeskComment[] }>('GET', `tickets/${ticketId}/comments`, {
      // Newest first: the comment an event names is recent, and a long ticket's first page is its oldest.
      searchParams: { include_inline_images: 'true', sort_order: 'desc' },
    });
    return res.comments;
  }

  /** Agents and admins whose email is exactly this one (search is fuzzy; the filter is not). */
  async agentsByEmail(email: string): Promise<ZendeskUser[]> {
    const res = await this.http.json<{ users: ZendeskUser[] }>('GET', 'users/search', {
      searchParams: { query: `email:${email}` },
    });
    const wanted = email.toLowerCase();
    return res.users.filter(
      (u) => u.email?.toLowerCase() === wanted && (u.role === 'agent' || u.role === 'admin'),
    );
  }

  /** Uploads one file; the token goes into `comment.uploads` of the next ticket update. */
  async upload(fileName: string, data: Buffer, contentType: string): Promise<string> {
    const res = await this.http.json<{ upload: { token: string } }>('POST', 'uploads', {
      searchParams: { filename: fileName },
      // A Blob body makes fetch send its type as the Content-Type, which Zendesk stores with the file.
      body: new Blob([new Uint8Array(data)], { type: contentType }),
    });
    return res.upload.token;
  }

  /** Downloads an attachment; the API credentials go along only when the URL is on the account's origin. */
  download(url: string, limitBytes: number, deadline?: number): Promise<Download> {
    return download(url, {
      platform: 'zendesk',
      limitBytes,
      ...(deadline !== undefined ? { deadline } : {}),
      credentials: { origin: this.origin, headers: { authorization: this.authorization } },
      onRequest: this.onRequest,
    });
  }
}
