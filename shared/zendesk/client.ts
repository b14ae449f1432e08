// Zendesk Support API client: the few endpoints the bridge uses, typed by the fields it reads.
// Contract: contracts/zendesk/support-api.yaml (ShowTicket, UpdateTicket, CreateTicket, ShowUser,
// ListTicketComments, CurrentUser, SearchUsers, UploadFiles, IncrementalTicketEvents,
// IncrementalTicketExportCursor; for the history import ExportSearchResults and CountSearchResults). Every call
// the sync flows and reconciliation make to Zendesk is here.
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
interface ZendeskAttachment {
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
  /** The closed ticket it follows; absent for a ticket continued because it is full (5,000 comments). */
  via_followup_source_id?: number;
  requester_id: number;
  /** Authors the first comment. */
  submitter_id: number;
  subject?: string;
  comment: NonNullable<TicketUpdate['comment']>;
}
/** A comment as the ticket event export carries it (a child event with `include=comment_events`). */
export interface ExportedComment extends ZendeskComment {
  event_type: 'Comment';
  audit_id?: number;
}
/** One ticket update in the Incremental Ticket Event Export: the changes it made are its child events. */
export interface ZendeskTicketEvent {
  id: number;
  ticket_id: number;
  /** Epoch seconds. */
  timestamp: number;
  created_at?: string;
  /** Who made the update (the bridge's user for its own writes). */
  updater_id?: number;
  event_type?: string;
  child_events?: Array<{ id?: number; event_type?: string; [field: string]: unknown }>;
}
/** One page of a time-based export: continue from `end_time` (inclusive) until `end_of_stream`. */
export interface TicketEventsPage {
  ticket_events: ZendeskTicketEvent[];
  /** Epoch seconds of the last item; null on an empty page (keep your own start then). */
  end_time: number | null;
  end_of_stream: boolean;
  count?: number;
}
/** One page of the cursor-based ticket export: continue with `after_cursor` until `end_of_stream`. */
export interface TicketExportPage {
  tickets: Array<ZendeskTicket & { generated_timestamp?: number }>;
  after_cursor: string | null;
  end_of_stream: boolean;
}

export interface TicketUpdate {
  comment?: { body?: string; html_body?: string; public: boolean; author_id?: number; uploads?: string[] };
  status?: string;
}
export interface UpdateResult {
  ticket: ZendeskTicket;
  /** Id of the comment the update created, from `audit.events` (how the bridge recognises its own writes). */
  commentId?: number | undefined;
}

/** A ticket as Export Search Results lists it. */
export interface ListedTicket extends ZendeskTicket {
  created_at?: string;
}
export interface TicketPage {
  tickets: ListedTicket[];
  /** `meta.after_cursor` when `meta.has_more`; it expires after one hour (ExportSearchResults). */
  after?: string;
}
export interface TicketHistory {
  comments: ZendeskComment[];
  /** Authors side-loaded with the comments (`include=users`). */
  users: Map<number, ZendeskUser>;
}

/**
 * Why Export Search Results and not List Tickets or the incremental export: it filters by status and date on
 * Zendesk's side (the import wants the unsolved tickets, usually a small share of an account's history), has no
 * 1,000-result cap like Search, and is ordered by `created_at` (so a run can resume from the last ticket's
 * creation time when a cursor has expired). Limit: 100 requests a minute. Pages of 100, as the endpoint's
 * documentation recommends (up to 1,000 are allowed): one request per 100 tickets is still cheap beside a
 * comment listing per ticket, and a smaller page keeps the feeder's bursts on the sync queue short.
 * Pagination: https://developer.zendesk.com/api-reference/introduction/pagination/ (`page[size]`,
 * `page[after]`, `meta.has_more`, `meta.after_cursor`, `links.next`).
 */
const EXPORT_PAGE_SIZE = 100;

export interface ZendeskClientConfig {
  baseUrl: string;
  email: string;
  apiToken: string;
  timeoutMs?: number | undefined;
  onRequest?: ApiClientOptions['onRequest'];
  /** The account's request budget, shared across containers (shared/http/rate-limits.ts). */
  limiter?: ApiClientOptions['limiter'];
}

export class ZendeskClient {
  private readonly http: ApiClient;
  /** Scheme, host and port of the account: the only place its credentials are ever sent. */
  readonly origin: string;
  private me?: Promise<ZendeskUser> | undefined;
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

  /**
   * How many comments the ticket holds (Count Ticket Comments; exact below 100,000): a ticket takes at most 5,000,
   * and refuses the next with 422 (docs/platforms.md, "5,000 comments").
   */
  async commentCount(ticketId: number | string): Promise<number> {
    const res = await this.http.json<{ count?: { value?: number } }>(
      'GET',
      `tickets/${ticketId}/comments/count`,
    );
    return res.count?.value ?? 0;
  }

  /**
   * One page of the Incremental Ticket Event Export from `startTime` (epoch seconds, at least a minute ago), with
   * each update's comments as child events. Time-based only: the next page starts at `end_time`, so the items
   * of that second come again (deduplicate by id). Shares the account's 10 requests a minute with every other
   * incremental export; a 429 says when to come back (UpstreamError.retryAfterMs).
   */
  async ticketEvents(startTime: number): Promise<TicketEventsPage> {
    return this.http.json<TicketEventsPage>('GET', 'incremental/ticket_events', {
      searchParams: { start_time: String(startTime), include: 'comment_events' },
    });
  }

  /**
   * One page of the Incremental Ticket Export, cursor-based (Zendesk's recommended method): from `startTime`
   * (epoch seconds) for the first page, then from the page's `after_cursor`. Same 10-a-minute budget.
   */
  async exportTickets(from: { startTime: number } | { cursor: string }): Promise<TicketExportPage> {
    return this.http.json<TicketExportPage>('GET', 'incremental/tickets/cursor', {
      searchParams: 'cursor' in from ? { cursor: from.cursor } : { start_time: String(from.startTime) },
    });
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

  /** One page of Export Search Results for tickets (the history import's listing). */
  async searchTickets(query: string, o: { after?: string; size?: number } = {}): Promise<TicketPage> {
    const res = await this.http.json<{
      results: ListedTicket[];
      meta?: { has_more?: boolean; after_cursor?: string | null };
    }>('GET', 'search/export', {
      searchParams: {
        query,
        'filter[type]': 'ticket',
        'page[size]': String(o.size ?? EXPORT_PAGE_SIZE),
        ...(o.after ? { 'page[after]': o.after } : {}),
      },
    });
    const after = res.meta?.has_more && res.meta.after_cursor ? res.meta.after_cursor : undefined;
    return { tickets: res.results, ...(after ? { after } : {}) };
  }

  /** How many tickets match (progress and ETA only: the export itself has no count). */
  async countTickets(query: string): Promise<number> {
    const res = await this.http.json<{ count: number }>('GET', 'search/count', {
      searchParams: { query: `type:ticket ${query}` },
    });
    return res.count;
  }

  /** Every comment of a ticket, oldest first, 100 a page (the endpoint's maximum), authors side-loaded. */
  async allComments(ticketId: number | string): Promise<TicketHistory> {
    const comments: ZendeskComment[] = [];
    const users = new Map<number, ZendeskUser>();
    let after: string | undefined;
    // 5,000 comments is Zendesk's cap per ticket: 50 pages bound the loop.
    for (let page = 0; page < 50; page++) {
      const res = await this.http.json<{
        comments: ZendeskComment[];
        users?: ZendeskUser[];
        meta?: { has_more?: boolean; after_cursor?: string | null };
      }>('GET', `tickets/${ticketId}/comments`, {
        searchParams: {
          'page[size]': '100',
          sort: 'created_at',
          include: 'users',
          include_inline_images: 'true',
          ...(after ? { 'page[after]': after } : {}),
        },
      });
      comments.push(...res.comments);
      for (const u of res.users ?? []) users.set(u.id, u);
      if (!res.meta?.has_more || !res.meta.after_cursor) break;
      after = res.meta.after_cursor;
    }
    return { comments, users };
  }
}
