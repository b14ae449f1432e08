// In-process Zendesk Support API simulator (tickets, comments, users, uploads, signed event webhooks).
import { randomBytes } from 'node:crypto';
import { zendeskSignature } from '../shared/http/signature.ts';
import {
  type FaultRule,
  fail,
  isRecord,
  json,
  Router,
  type SimRequest,
  type SimResponse,
  SimulatorServer,
} from './http.ts';
import { ZendeskWebhookAdmin } from './webhook-admin.ts';
import { type ExportedUpdate, ZendeskExport } from './zendesk-export.ts';
import { addListingRoutes, listComments, MinuteWindow, SEARCH_EXPORT_PER_MINUTE } from './zendesk-listing.ts';
import {
  attachmentLinkedEvent,
  commentAddedEvent,
  commentBodies,
  messageAddedEvent,
  SYSTEM_ACTOR,
  sequenceId,
  statusChangedEvent,
  TICKET_STATUSES,
  ticketJson,
  userJson,
  via,
  webhookBody,
  ZENDESK_ACCOUNT,
  type ZendeskAttachment,
  type ZendeskAudit,
  type ZendeskComment,
  type ZendeskEventType,
  type ZendeskLifecycleStatus,
  type ZendeskRole,
  type ZendeskTicket,
  type ZendeskTicketStatus,
  type ZendeskUser,
  type ZendeskVia,
  type ZendeskWebhookBody,
} from './zendesk-payloads.ts';

export * from './zendesk-payloads.ts';

export interface ZendeskSimulatorOptions {
  email: string;
  apiToken: string;
  webhookSecret: string;
  webhookUrl?: string;
  /** Check every API request against support-api.yaml (default true). */
  validate?: boolean;
  /** Zendesk allows 30 updates per ticket per 10 minutes per user; set to enforce a limit. */
  rateLimitPerTicket?: number;
  rateWindowMs?: number;
  /**
   * The account's API requests per minute (the plan's limit; Team 200 … Enterprise Plus 2,500). Every answer then
   * carries X-Rate-Limit / X-Rate-Limit-Remaining; beyond it, 429 with Retry-After. Unset: no account limit.
   */
  accountRateLimit?: number;
  /** Update Ticket's own account-wide limit (Zendesk: 100 a minute); enforced only with `accountRateLimit`. */
  ticketUpdateRateLimit?: number;
  /** Length of Zendesk's rate window (a minute; tests may shorten it). */
  accountWindowMs?: number;
  /**
   * Who authors the first comment of a ticket created through the API: its submitter (default), or the requester
   * whatever the request says, as Zendesk does when it creates a ticket on the requester's behalf.
   */
  apiTicketCommentAuthor?: 'submitter' | 'requester';
  /**
   * Comments a ticket may hold (Ticket Comments: "up to 5000 comments in total … any additional attempts to add
   * comments results in a 422 error"); lower it in tests rather than writing 5,000 comments.
   */
  maxComments?: number;
  /** The attachment's own `is_public` in `attachment_linked_to_comment` (default false, as in Zendesk's example). */
  attachmentsPublic?: boolean;
  /**
   * The same account limit under the name the history import's tests and benchmark use: one limit, enforced by
   * `rateLimit` below (`accountRateLimit` wins when both are set).
   */
  rateLimitPerMinute?: number;
}

export interface FileInput {
  filename: string;
  contentType: string;
  data: Buffer;
}

interface CommentInput {
  body?: string;
  html_body?: string;
  public: boolean;
  authorId: number;
  attachments: ZendeskAttachment[];
  channel: string;
}

interface Changes {
  status?: ZendeskTicketStatus;
  tags?: string[];
  subject?: string;
  priority?: string | null;
  type?: string | null;
  assignee_id?: number | null;
  external_id?: string | null;
}

const NOT_FOUND = { error: 'RecordNotFound', description: 'Not found' };
const CLOSED_ERROR = {
  error: 'RecordInvalid',
  description: 'Record validation errors',
  details: { status: [{ description: 'Status: closed prevents ticket update' }] },
};

function recordInvalid(field: string, description: string): never {
  fail(422, {
    error: 'RecordInvalid',
    description: 'Record validation errors',
    details: { [field]: [{ description }] },
  });
}

const randomToken = (): string => randomBytes(18).toString('base64url');

export class ZendeskSimulator extends SimulatorServer {
  /** The integration user the API token authenticates as. */
  readonly bridgeUser: ZendeskUser;
  /** A human agent that exists from the start, used as the default actor of test-side agent actions. */
  readonly defaultAgent: ZendeskUser;
  rateLimitPerTicket: number | undefined;
  rateWindowMs: number;
  accountRateLimit: number | undefined;
  ticketUpdateRateLimit: number;
  accountWindowMs: number;
  /** Requests the account rate limit counted per window, and the 429s it answered (benchmarks read these). */
  readonly rateLimited: { accountWindows: Map<number, number>; tooManyRequests: number } = {
    accountWindows: new Map(),
    tooManyRequests: 0,
  };
  private readonly ticketUpdateWindows = new Map<number, number>();
  apiTicketCommentAuthor: 'submitter' | 'requester';
  /** Webhooks registered through the Webhooks API (`bridge setup`); deliveries still go to `setWebhookUrl`. */
  readonly webhookAdmin: ZendeskWebhookAdmin;
  /** The Incremental Exports (ticket events, tickets); `exports.requestsPerMinute` is Zendesk's 10 by default. */
  readonly exports: ZendeskExport;
  /** Creates tickets and comments without sending their webhooks (seeding a benchmark's backlog). */
  muteWebhooks = false;

  /** Ticket updates in order, as the ticket event export streams them. */
  private readonly updateLog: ExportedUpdate[] = [];
  /** How far the simulator's clock runs ahead of the machine's (`advanceClock`). */
  private clockOffsetMs = 0;
  private readonly users = new Map<number, ZendeskUser>();
  private readonly tickets = new Map<number, ZendeskTicket>();
  private readonly uploads = new Map<string, { expires_at: string; attachments: ZendeskAttachment[] }>();
  private readonly files = new Map<string, { data: Buffer; contentType: string }>();
  private readonly ticketUpdates = new Map<number, number[]>();
  /** Tickets deleted or scrubbed: the API answers 404 for them. */
  private readonly gone = new Set<number>();
  private readonly router = new Router();
  private readonly expectedAuth: string;
  // Distinct, realistic-looking id ranges make an id mixed up between kinds easy to spot in a failing test.
  private nextUserId = 381234560001;
  private nextTicketId = 48001;
  private nextCommentId = 40000000000001;
  private nextAuditId = 50000000000001;
  private nextAttachmentId = 60000000000001;
  private invocation = 9182736450;

  private constructor(private readonly opts: ZendeskSimulatorOptions) {
    super('zendesk', opts.validate !== false, opts.webhookUrl);
    const sim = this;
    this.expectedAuth = `Basic ${Buffer.from(`${opts.email}/token:${opts.apiToken}`).toString('base64')}`;
    this.rateLimitPerTicket = opts.rateLimitPerTicket;
    this.apiTicketCommentAuthor = opts.apiTicketCommentAuthor ?? 'submitter';
    this.rateWindowMs = opts.rateWindowMs ?? 10 * 60 * 1000;
    this.accountRateLimit = opts.accountRateLimit ?? (opts.rateLimitPerMinute || undefined);
    this.ticketUpdateRateLimit = opts.ticketUpdateRateLimit ?? 100;
    this.accountWindowMs = opts.accountWindowMs ?? 60_000;
    this.bridgeUser = this.createUser({ name: 'Chatwoot Bridge', email: opts.email, role: 'admin' });
    this.defaultAgent = this.createUser({
      name: 'Sam Agent',
      email: 'sam.agent@simulated.example',
      role: 'agent',
    });
    this.webhookAdmin = new ZendeskWebhookAdmin(opts.webhookSecret, () => this.bridgeUser.id);
    this.exports = new ZendeskExport({
      now: () => this.now(),
      updates: () => this.updateLog,
      tickets: () =>
        [...this.tickets.values()].map((t) => ({
          id: t.id,
          generatedMs: Date.parse(t.updated_at),
          json: ticketJson(t, this.baseUrl),
        })),
      get baseUrl() {
        return sim.baseUrl;
      },
    });
    this.routes();
  }

  static async start(opts: ZendeskSimulatorOptions): Promise<ZendeskSimulator> {
    const sim = new ZendeskSimulator(opts);
    await sim.listen();
    return sim;
  }

  // ---------------------------------------------------------------- test-side helpers

  /** The simulated account's clock (epoch ms): the machine's, plus what `advanceClock` added. */
  now(): number {
    return this.heldAt ?? Date.now() + this.clockOffsetMs;
  }

  private heldAt: number | undefined;

  /**
   * Stops the clock until `releaseClock`: everything done meanwhile is stamped the same millisecond, as a bulk
   * update or an import stamps thousands of tickets in one second (the case where a time-based export page ends
   * on the second it started; zendesk/zendesk_api_client_rb #168).
   */
  holdClock(): void {
    this.heldAt = this.now();
  }

  releaseClock(): void {
    this.heldAt = undefined;
  }

  /**
   * Moves the account's clock forward: what happens from now on is stamped later, and the incremental exports'
   * last-minute exclusion is measured on this clock, so a test can make an update exportable without waiting.
   */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  createUser(input: { name: string; email?: string; role: ZendeskRole }): ZendeskUser {
    const at = this.nowIso();
    const user: ZendeskUser = {
      id: this.nextUserId++,
      name: input.name,
      email: input.email ?? null,
      role: input.role,
      created_at: at,
      updated_at: at,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(id: number): ZendeskUser | undefined {
    return this.users.get(id);
  }

  /** A customer opens a ticket (web form by default); delivers `ticket.comment_added` for its first comment. */
  createTicket(input: {
    requester: number | ZendeskUser;
    subject: string;
    body: string;
    tags?: string[];
    status?: ZendeskTicketStatus;
    public?: boolean;
    channel?: string;
    attachments?: FileInput[];
  }): ZendeskTicket {
    const requester = this.mustUser(
      typeof input.requester === 'number' ? input.requester : input.requester.id,
    );
    const channel = input.channel ?? 'web_form';
    const ticket = this.newTicket({
      subject: input.subject,
      requesterId: requester.id,
      submitterId: requester.id,
      status: input.status ?? 'new',
      tags: input.tags ?? [],
      via: via(channel),
    });
    this.addCommentAndNotify(ticket, {
      body: input.body,
      public: input.public ?? true,
      authorId: requester.id,
      attachments: (input.attachments ?? []).map((f) => this.storeFile(f)),
      channel,
    });
    return ticket;
  }

  /** The requester replies (by email/web); a reply to a pending/solved ticket reopens it, as on Zendesk. */
  customerComment(
    ticketId: number,
    body: string,
    options: { public?: boolean; attachments?: FileInput[] } = {},
  ): ZendeskComment {
    const ticket = this.mustOpenTicket(ticketId);
    const { comment } = this.update(
      ticket,
      {},
      {
        body,
        public: options.public ?? true,
        authorId: ticket.requester_id,
        attachments: (options.attachments ?? []).map((f) => this.storeFile(f)),
        channel: 'email',
      },
    );
    return comment!;
  }

  /** A human agent comments in the Zendesk agent workspace. */
  agentComment(
    ticketId: number,
    agentId: number,
    body: string,
    options: { public?: boolean } = {},
  ): ZendeskComment {
    const ticket = this.mustOpenTicket(ticketId);
    const { comment } = this.update(
      ticket,
      {},
      { body, public: options.public ?? true, authorId: agentId, attachments: [], channel: 'web' },
    );
    return comment!;
  }

  /** An agent changes the status (default actor: `defaultAgent`); delivers `ticket.status_changed`. */
  setStatus(ticketId: number, status: ZendeskTicketStatus, actorId = this.defaultAgent.id): void {
    const ticket = this.mustTicket(ticketId);
    this.update(ticket, { status }, undefined, actorId);
  }

  ticket(id: number): ZendeskTicket | undefined {
    return this.tickets.get(id);
  }

  comments(ticketId: number): ZendeskComment[] {
    return [...(this.tickets.get(ticketId)?.comments ?? [])];
  }

  allTickets(): ZendeskTicket[] {
    return [...this.tickets.values()];
  }

  /** Forgets tickets, uploads, logs and fault rules; users (and id counters) survive. */
  reset(): void {
    this.tickets.clear();
    this.uploads.clear();
    this.files.clear();
    this.ticketUpdates.clear();
    this.updateLog.length = 0;
    this.exports.reset();
    this.resetLogs();
  }

  // ---------------------------------------------------------------- HTTP

  protected isApiPath(path: string): boolean {
    // The Webhooks API is not in support-api.yaml; webhook-admin.ts validates those requests itself.
    return path.startsWith('/api/v2/') && !path.startsWith('/api/v2/webhooks');
  }

  protected notFound(): SimResponse {
    return json(404, { error: 'InvalidEndpoint', description: 'Not found' });
  }

  protected faultResponse(rule: FaultRule, status: number): SimResponse {
    // Zendesk always tells a throttled client when to come back; default to one second.
    const retryAfter = rule.retryAfter ?? (status === 429 ? 1 : undefined);
    const headers = retryAfter === undefined ? undefined : { 'retry-after': String(retryAfter) };
    const body =
      status === 429
        ? { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }
        : { error: 'ServiceUnavailable', description: `Simulated failure (${status})` };
    return json(status, body, headers);
  }

  protected route(req: SimRequest): SimResponse | Promise<SimResponse> | undefined {
    if (req.path.startsWith('/api/v2/') || req.path.startsWith('/attachments/')) {
      if (req.headers.authorization !== this.expectedAuth) {
        return json(401, { error: "Couldn't authenticate you" });
      }
    }
    if (!req.path.startsWith('/api/v2/')) return this.router.dispatch(req);
    return this.router.dispatch(req) ?? this.notFound();
  }

  private routes(): void {
    const id = (raw: string | undefined): number => {
      // Zendesk accepts `/tickets/12.json` as well as `/tickets/12`.
      const n = Number((raw ?? '').replace(/\.json$/, ''));
      return Number.isSafeInteger(n) ? n : -1;
    };
    this.webhookAdmin.addRoutes(this.router);
    addListingRoutes(this.router, this, { exportWindow: new MinuteWindow(SEARCH_EXPORT_PER_MINUTE) });
    this.router
      // Incremental Exports (zendesk-export.ts); `.json` suffixes as Zendesk's own next_page URLs carry them.
      .add('GET', '/api/v2/incremental/ticket_events', (req) => this.exports.ticketEvents(req))
      .add('GET', '/api/v2/incremental/ticket_events.json', (req) => this.exports.ticketEvents(req))
      .add('GET', '/api/v2/incremental/tickets/cursor', (req) => this.exports.ticketsCursor(req))
      .add('GET', '/api/v2/incremental/tickets/cursor.json', (req) => this.exports.ticketsCursor(req))
      .add('GET', '/api/v2/incremental/tickets', (req) => this.exports.ticketsTime(req))
      .add('GET', '/api/v2/incremental/tickets.json', (req) => this.exports.ticketsTime(req))
      .add('GET', '/api/v2/users/me', () => json(200, { user: userJson(this.bridgeUser, this.baseUrl) }))
      .add('GET', '/api/v2/users/search', (req) => this.searchUsers(req))
      .add('GET', '/api/v2/users/:id', (_req, p) => {
        const user = this.users.get(id(p.id));
        return user ? json(200, { user: userJson(user, this.baseUrl) }) : json(404, NOT_FOUND);
      })
      .add('GET', '/api/v2/tickets/:id', (req, p) => {
        const ticket = this.gone.has(id(p.id)) ? undefined : this.tickets.get(id(p.id));
        if (!ticket) return json(404, NOT_FOUND);
        const body: Record<string, unknown> = { ticket: ticketJson(ticket, this.baseUrl) };
        // Side-loading: `include=users` adds the ticket's users as a top-level `users` array
        // (https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/).
        if ((req.query.get('include') ?? '').split(',').includes('users')) {
          const ids = new Set([ticket.requester_id, ticket.submitter_id, ticket.assignee_id]);
          body.users = [...ids]
            .map((u) => (typeof u === 'number' ? this.users.get(u) : undefined))
            .filter((u) => u !== undefined)
            .map((u) => userJson(u, this.baseUrl));
        }
        return json(200, body);
      })
      .add('PUT', '/api/v2/tickets/:id', (req, p) => this.putTicket(req, id(p.id)))
      .add('POST', '/api/v2/tickets', (req) => this.postTicket(req))
      .add('GET', '/api/v2/tickets/:id/comments', (req, p) => {
        const ticket = this.tickets.get(id(p.id));
        return ticket ? listComments(req, ticket, this) : json(404, NOT_FOUND);
      })
      .add('GET', '/api/v2/tickets/:id/comments/count', (_req, p) => {
        // Count Ticket Comments: `{count: {value, refreshed_at}}`, exact below 100,000.
        const ticket = this.gone.has(id(p.id)) ? undefined : this.tickets.get(id(p.id));
        if (!ticket) return json(404, NOT_FOUND);
        return json(200, { count: { value: ticket.comments.length, refreshed_at: this.nowIso() } });
      })
      .add('POST', '/api/v2/uploads', (req) => this.upload(req))
      .add('GET', '/attachments/token/:token', (_req, p) => {
        const file = this.files.get(p.token ?? '');
        return file
          ? { status: 200, bytes: file.data, headers: { 'content-type': file.contentType } }
          : json(404, NOT_FOUND);
      });
  }

  private searchUsers(req: SimRequest): SimResponse {
    const query = (req.query.get('query') ?? '')
      .replace(/^(email|name):/i, '')
      .replace(/^"|"$/g, '')
      .trim()
      .toLowerCase();
    const users = [...this.users.values()].filter(
      (u) => query.length > 0 && (u.email?.toLowerCase() === query || u.name.toLowerCase().includes(query)),
    );
    return json(200, {
      users: users.map((u) => userJson(u, this.baseUrl)),
      next_page: null,
      previous_page: null,
      count: users.length,
    });
  }

  private putTicket(req: SimRequest, ticketId: number): SimResponse {
    const ticket = this.gone.has(ticketId) ? undefined : this.tickets.get(ticketId);
    if (!ticket) return json(404, NOT_FOUND);
    const input = isRecord(req.body) ? req.body.ticket : undefined;
    if (!isRecord(input))
      return json(400, { error: 'InvalidValue', description: 'ticket parameter is missing' });
    if (ticket.status === 'closed') return json(422, CLOSED_ERROR);
    const limited = this.checkRateLimit(ticketId);
    if (limited) return limited;

    const changes = this.parseChanges(input);
    const comment = this.parseComment(input.comment, this.bridgeUser.id);
    const full = comment ? this.refuseComment(ticket) : undefined;
    if (full) return full;
    const { audit } = this.update(ticket, changes, comment, this.bridgeUser.id);
    return json(200, { ticket: ticketJson(ticket, this.baseUrl), audit });
  }

  private postTicket(req: SimRequest): SimResponse {
    const input = isRecord(req.body) ? req.body.ticket : undefined;
    if (!isRecord(input))
      return json(400, { error: 'InvalidValue', description: 'ticket parameter is missing' });
    const changes = this.parseChanges(input);
    let source: ZendeskTicket | undefined;
    if (input.via_followup_source_id !== undefined) {
      source = this.tickets.get(Number(input.via_followup_source_id));
      if (!source) recordInvalid('via_followup_source_id', 'Follow-up source ticket not found');
      if (source.status !== 'closed') recordInvalid('via_followup_source_id', 'Source ticket must be closed');
    }
    const submitterId = typeof input.submitter_id === 'number' ? input.submitter_id : this.bridgeUser.id;
    const requesterId = this.requesterFor(input) ?? source?.requester_id ?? this.bridgeUser.id;
    this.mustUser(requesterId);
    const comment = this.parseComment(input.comment, submitterId);
    if (!comment) recordInvalid('description', 'Description: cannot be blank');
    if (this.apiTicketCommentAuthor === 'requester') comment.authorId = requesterId;

    const ticket = this.newTicket({
      subject: changes.subject ?? source?.subject ?? (comment.body ?? '').slice(0, 80),
      requesterId,
      submitterId,
      status: changes.status ?? 'new',
      tags: changes.tags ?? [],
      via: source ? via('api', 'follow_up', { ticket_id: source.id, subject: source.subject }) : via('api'),
    });
    ticket.priority = changes.priority ?? null;
    ticket.type = changes.type ?? null;
    ticket.assignee_id = changes.assignee_id ?? null;
    ticket.external_id = changes.external_id ?? null;
    if (source) {
      ticket.via_followup_source_id = source.id;
      source.followup_ids.push(ticket.id);
    }
    // The update's actor is the API user, whoever authors the first comment.
    const { audit } = this.addCommentAndNotify(ticket, comment, this.bridgeUser.id);
    audit.events.push(
      { id: this.nextAuditId++, type: 'Create', field_name: 'subject', value: ticket.subject },
      { id: this.nextAuditId++, type: 'Create', field_name: 'status', value: ticket.status },
      { id: this.nextAuditId++, type: 'Create', field_name: 'requester_id', value: String(requesterId) },
    );
    return json(201, { ticket: ticketJson(ticket, this.baseUrl), audit });
  }

  /** `requester_id`, or `requester: {name, email}` which finds or creates the end user by email. */
  private requesterFor(input: Record<string, unknown>): number | undefined {
    if (typeof input.requester_id === 'number') return input.requester_id;
    const requester = input.requester;
    if (!isRecord(requester) || typeof requester.email !== 'string') return undefined;
    const email = requester.email.toLowerCase();
    const existing = [...this.users.values()].find((u) => u.email?.toLowerCase() === email);
    if (existing) return existing.id;
    const name = typeof requester.name === 'string' ? requester.name : email;
    return this.createUser({ name, email, role: 'end-user' }).id;
  }

  private upload(req: SimRequest): SimResponse {
    const filename = req.query.get('filename');
    if (!filename) return json(400, { error: 'InvalidValue', description: 'filename parameter is missing' });
    const attachment = this.storeFile({
      filename,
      contentType: req.contentType.split(';')[0]?.trim() || 'application/octet-stream',
      data: req.raw,
    });
    // A token from an earlier upload collects several files into one upload, as documented.
    const token = req.query.get('token') ?? randomToken();
    const upload = this.uploads.get(token) ?? {
      expires_at: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString(),
      attachments: [],
    };
    upload.attachments.push(attachment);
    this.uploads.set(token, upload);
    return json(201, {
      upload: { token, expires_at: upload.expires_at, attachments: upload.attachments, attachment },
    });
  }

  /**
   * Zendesk's account-wide limit (developer.zendesk.com/api-reference/introduction/rate-limits): requests per
   * minute by plan, counted per minute. Every answer carries `X-Rate-Limit` and `X-Rate-Limit-Remaining`; Ticketing
   * APIs (tickets, users) also `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds until the
   * minute ends). Beyond the limit: 429 `APIRateLimitExceeded` with `Retry-After`. Update Ticket has its own
   * limit of 100 a minute per account ("Endpoint rate limits"), answered the same way. Refused requests are not
   * counted. Attachment downloads (`/attachments/…`) are outside the API budget.
   */
  protected override rateLimit(
    req: SimRequest,
  ): { reject?: SimResponse; headers?: Record<string, string> } | undefined {
    const limit = this.accountRateLimit;
    if (limit === undefined || !req.path.startsWith('/api/v2/')) return undefined;
    const now = Date.now();
    const window = Math.floor(now / this.accountWindowMs);
    const resetS = Math.max(1, Math.ceil(((window + 1) * this.accountWindowMs - now) / 1000));
    const used = this.rateLimited.accountWindows.get(window) ?? 0;
    const ticketing = /^\/api\/v2\/(tickets|users)\b/.test(req.path);
    const headers = (remaining: number): Record<string, string> => ({
      'x-rate-limit': String(limit),
      'x-rate-limit-remaining': String(Math.max(0, remaining)),
      ...(ticketing
        ? {
            'ratelimit-limit': String(limit),
            'ratelimit-remaining': String(Math.max(0, remaining)),
            'ratelimit-reset': String(resetS),
          }
        : {}),
    });
    const refuse = (description: string) => {
      this.rateLimited.tooManyRequests++;
      return {
        reject: json(429, { error: 'APIRateLimitExceeded', description }, { 'retry-after': String(resetS) }),
        headers: headers(limit - used),
      };
    };
    if (used >= limit) return refuse('Number of allowed API requests per minute exceeded');
    if (req.method === 'PUT' && /^\/api\/v2\/tickets\/[^/]+$/.test(req.path)) {
      const updates = this.ticketUpdateWindows.get(window) ?? 0;
      if (updates >= this.ticketUpdateRateLimit)
        return refuse('Number of allowed ticket updates per minute exceeded');
      this.ticketUpdateWindows.set(window, updates + 1);
    }
    this.rateLimited.accountWindows.set(window, used + 1);
    return { headers: headers(limit - used - 1) };
  }

  private checkRateLimit(ticketId: number): SimResponse | undefined {
    const limit = this.rateLimitPerTicket;
    if (limit === undefined) return undefined;
    const now = Date.now();
    const recent = (this.ticketUpdates.get(ticketId) ?? []).filter((t) => now - t < this.rateWindowMs);
    if (recent.length >= limit) {
      this.ticketUpdates.set(ticketId, recent);
      const retryAfter = Math.max(1, Math.ceil((recent[0]! + this.rateWindowMs - now) / 1000));
      return json(
        429,
        {
          error: 'TooManyRequests',
          description:
            'Rate limit for ticket updates exceeded, please wait before updating this ticket again',
        },
        { 'retry-after': String(retryAfter) },
      );
    }
    recent.push(now);
    this.ticketUpdates.set(ticketId, recent);
    return undefined;
  }

  private parseChanges(input: Record<string, unknown>): Changes {
    const changes: Changes = {};
    if (input.status !== undefined) {
      const status = TICKET_STATUSES.find((s) => s === input.status);
      if (!status) recordInvalid('status', `Status: ${String(input.status)} is not valid`);
      changes.status = status;
    }
    if (input.tags !== undefined) {
      if (!Array.isArray(input.tags)) recordInvalid('tags', 'Tags: must be an array');
      // Zendesk stores tags lower-case and de-duplicated.
      changes.tags = [...new Set(input.tags.map((t) => String(t).toLowerCase()))];
    }
    if (typeof input.subject === 'string') changes.subject = input.subject;
    if (input.priority !== undefined)
      changes.priority = input.priority === null ? null : String(input.priority);
    if (input.type !== undefined) changes.type = input.type === null ? null : String(input.type);
    if (input.assignee_id !== undefined)
      changes.assignee_id = input.assignee_id === null ? null : Number(input.assignee_id);
    if (input.external_id !== undefined)
      changes.external_id = input.external_id === null ? null : String(input.external_id);
    return changes;
  }

  private parseComment(raw: unknown, defaultAuthor: number): CommentInput | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (!isRecord(raw)) recordInvalid('comment', 'Comment: is invalid');
    const body = typeof raw.body === 'string' ? raw.body : undefined;
    const html = typeof raw.html_body === 'string' ? raw.html_body : undefined;
    const tokens = Array.isArray(raw.uploads) ? raw.uploads.map(String) : [];
    // Unknown or expired upload tokens are silently ignored by Zendesk.
    const attachments = tokens.flatMap((t) => this.uploads.get(t)?.attachments ?? []);
    if (!body?.trim() && !html?.trim() && attachments.length === 0) return undefined;
    const authorId = raw.author_id === undefined ? defaultAuthor : Number(raw.author_id);
    if (!this.users.has(authorId)) recordInvalid('author_id', 'Author: is invalid');
    return {
      ...(body !== undefined ? { body } : {}),
      ...(html !== undefined ? { html_body: html } : {}),
      public: raw.public !== false,
      authorId,
      attachments,
      channel: 'api',
    };
  }

  // ---------------------------------------------------------------- state changes

  private newTicket(input: {
    subject: string;
    requesterId: number;
    submitterId: number;
    status: ZendeskTicketStatus;
    tags: string[];
    via: ZendeskVia;
  }): ZendeskTicket {
    const at = this.nowIso();
    const ticket: ZendeskTicket = {
      id: this.nextTicketId++,
      subject: input.subject,
      description: '',
      status: input.status,
      priority: null,
      type: null,
      requester_id: input.requesterId,
      submitter_id: input.submitterId,
      assignee_id: null,
      external_id: null,
      is_public: true,
      tags: [...input.tags],
      via: input.via,
      created_at: at,
      updated_at: at,
      followup_ids: [],
      via_followup_source_id: null,
      comments: [],
    };
    this.tickets.set(ticket.id, ticket);
    return ticket;
  }

  /** The first comment of a new ticket: it becomes the description and decides `is_public`. */
  private addCommentAndNotify(
    ticket: ZendeskTicket,
    input: CommentInput,
    actorId = input.authorId,
  ): { audit: ZendeskAudit } {
    const result = this.update(ticket, {}, input, actorId);
    ticket.description = result.comment?.body ?? '';
    ticket.is_public = input.public;
    return result;
  }

  /** Applies one update as one audit and queues the webhooks it causes (sharing one sequence id). */
  private update(
    ticket: ZendeskTicket,
    changes: Changes,
    commentInput: CommentInput | undefined,
    actorId = commentInput?.authorId ?? this.bridgeUser.id,
    o: { silent?: boolean } = {},
  ): { audit: ZendeskAudit; comment?: ZendeskComment } {
    const at = this.nowIso();
    const audit: ZendeskAudit = {
      id: this.nextAuditId++,
      ticket_id: ticket.id,
      created_at: at,
      author_id: actorId,
      via: via(commentInput?.channel ?? 'api'),
      metadata: { system: {}, custom: {} },
      events: [],
    };
    const previousStatus = ticket.status;
    let comment: ZendeskComment | undefined;
    let author: ZendeskUser | undefined;
    if (commentInput) {
      author = this.mustUser(commentInput.authorId);
      const bodies = commentBodies(commentInput);
      comment = {
        id: this.nextCommentId++,
        type: 'Comment',
        author_id: author.id,
        body: bodies.body,
        html_body: bodies.html_body,
        plain_body: bodies.body,
        public: commentInput.public,
        attachments: commentInput.attachments,
        audit_id: audit.id,
        via: via(commentInput.channel),
        created_at: at,
        metadata: { system: {}, custom: {} },
      };
      ticket.comments.push(comment);
      audit.events.push({
        id: comment.id,
        type: 'Comment',
        author_id: comment.author_id,
        body: comment.body,
        html_body: comment.html_body,
        plain_body: comment.plain_body,
        public: comment.public,
        attachments: comment.attachments,
        audit_id: audit.id,
      });
      // A requester's reply reopens a ticket that was waiting on them or already solved.
      if (author.id === ticket.requester_id && author.role === 'end-user' && changes.status === undefined) {
        if (['pending', 'solved', 'hold'].includes(ticket.status)) changes = { ...changes, status: 'open' };
      }
    }
    if (changes.status !== undefined && changes.status !== ticket.status) {
      audit.events.push({
        id: this.nextAuditId++,
        type: 'Change',
        field_name: 'status',
        value: changes.status,
        previous_value: ticket.status,
      });
      ticket.status = changes.status;
    }
    if (changes.tags !== undefined) {
      // Setting `tags` replaces the whole list; that is why the bridge must not mark comments with tags.
      audit.events.push({
        id: this.nextAuditId++,
        type: 'Change',
        field_name: 'tags',
        value: changes.tags,
        previous_value: ticket.tags,
      });
      ticket.tags = [...changes.tags];
    }
    if (changes.subject !== undefined) ticket.subject = changes.subject;
    if (changes.priority !== undefined) ticket.priority = changes.priority;
    if (changes.type !== undefined) ticket.type = changes.type;
    if (changes.assignee_id !== undefined) ticket.assignee_id = changes.assignee_id;
    if (changes.external_id !== undefined) ticket.external_id = changes.external_id;
    ticket.updated_at = at;

    const sequence = sequenceId();
    let position = 1;
    const emit = (type: ZendeskEventType, event: Record<string, unknown>): void => {
      // A messaging message whose ticket events Zendesk does not send (only message_added arrives).
      if (o.silent) return;
      this.emitWebhook(
        webhookBody({ type, ticket, actorId, event, sequence: { id: sequence, position: position++ } }),
      );
    };
    if (comment && author) {
      emit('ticket.comment_added', commentAddedEvent(comment, author));
      for (const attachment of comment.attachments)
        emit(
          'ticket.attachment_linked_to_comment',
          attachmentLinkedEvent(comment, attachment, this.opts.attachmentsPublic ?? false),
        );
    }
    if (ticket.status !== previousStatus)
      emit('ticket.status_changed', statusChangedEvent(previousStatus, ticket.status));
    this.updateLog.push({
      audit,
      at: Date.parse(at),
      ...(ticket.status !== previousStatus
        ? { status: { previous: previousStatus, current: ticket.status } }
        : {}),
    });
    return comment ? { audit, comment } : { audit };
  }

  private emitWebhook(body: ZendeskWebhookBody): void {
    if (this.muteWebhooks) return;
    this.enqueueWebhook({
      type: body.type,
      body,
      timeoutMs: 10_000,
      headers: (raw) => this.signedHeaders(raw),
    });
  }

  /** A webhook whose body is exact text (a trigger's rendered template), signed like any other. */
  private emitRawWebhook(type: string, raw: string): void {
    if (this.muteWebhooks) return;
    this.enqueueWebhook({ type, body: raw, raw, timeoutMs: 10_000, headers: (r) => this.signedHeaders(r) });
  }

  private signedHeaders(raw: string): Record<string, string> {
    const invocation = String(this.invocation++);
    // Second precision, like the fixture's signed timestamp.
    const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      'content-type': 'application/json',
      'user-agent': 'Zendesk Webhook',
      'x-zendesk-account-id': String(ZENDESK_ACCOUNT.accountId),
      'x-zendesk-webhook-id': ZENDESK_ACCOUNT.webhookId,
      'x-zendesk-webhook-invocation-id': invocation,
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-signature': zendeskSignature(this.opts.webhookSecret, timestamp, raw),
    };
  }

  // ---------------------------------------------------------------- platform behaviours (issue #13)
  // Each one cites Zendesk's developer documentation; docs/platforms.md has the details.

  /**
   * Ticket Comments: "A ticket can contain up to 5000 comments in total … Once this limit is reached, any additional
   * attempts to add comments results in a 422 error. The ticket can still be updated in other ways." The body of
   * that 422 is not documented; a RecordInvalid like the others is assumed.
   */
  private refuseComment(ticket: ZendeskTicket): SimResponse | undefined {
    if (ticket.comments.length < (this.opts.maxComments ?? 5000)) return undefined;
    return json(422, {
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { base: [{ description: 'Ticket has reached the maximum number of comments' }] },
    });
  }

  /**
   * Test side: a long-lived ticket — `count` internal notes by the default agent, added without webhooks (as if they
   * had been synced long ago), so a test can bring a ticket to the 5,000-comment limit quickly.
   */
  fillWithNotes(ticketId: number, count: number): void {
    const ticket = this.mustOpenTicket(ticketId);
    for (let i = 0; i < count; i++) {
      this.update(
        ticket,
        {},
        {
          body: `note ${i + 1}`,
          public: false,
          authorId: this.defaultAgent.id,
          attachments: [],
          channel: 'web',
        },
        this.defaultAgent.id,
        { silent: true },
      );
    }
  }

  /**
   * What Zendesk's own jobs do to a ticket long after the conversation: archive a closed ticket, delete it, scrub it.
   * Ticket events report these as `status_changed` to ARCHIVED, DELETED or SCRUBBED (the documented enum), made by
   * the system (actor -1). A deleted or scrubbed ticket is gone from the API.
   */
  lifecycle(ticketId: number, status: ZendeskLifecycleStatus): void {
    const ticket = this.mustTicket(ticketId);
    const previous = ticket.status;
    if (status !== 'archived') this.gone.add(ticketId);
    this.emitWebhook(
      webhookBody({
        type: 'ticket.status_changed',
        ticket,
        actorId: SYSTEM_ACTOR,
        event: statusChangedEvent(previous, status),
        status,
      }),
    );
  }

  /** A status change made by the system (an automation closing solved tickets): `detail.actor_id` is "-1". */
  systemSetStatus(ticketId: number, status: ZendeskTicketStatus): void {
    this.update(this.mustTicket(ticketId), { status }, undefined, SYSTEM_ACTOR);
  }

  /**
   * A customer's message on a messaging ticket: it becomes a ticket comment (channel native_messaging) and Zendesk
   * may send `ticket.comment_added`, `messaging_ticket.message_added`, or both, in either order. Which of them
   * arrive is what `deliver` chooses; the comment exists either way.
   */
  messagingMessage(
    ticketId: number,
    body: string,
    options: { deliver?: 'both' | 'comment' | 'messaging'; messagingFirst?: boolean } = {},
  ): ZendeskComment {
    const ticket = this.mustOpenTicket(ticketId);
    const requester = this.mustUser(ticket.requester_id);
    const deliver = options.deliver ?? 'both';
    const messaging = webhookBody({
      type: 'messaging_ticket.message_added',
      ticket,
      actorId: requester.id,
      event: {},
    });
    const messageBody: ZendeskWebhookBody = {
      ...messaging,
      // Messaging events carry only the ticket id in `detail` and no sequence metadata (Messaging events).
      detail: { id: String(ticket.id) },
      event: messageAddedEvent({
        actor: { id: String(requester.id), name: requester.name, type: 'end_user' },
        conversationId: randomBytes(12).toString('hex'),
        message: { id: randomBytes(12).toString('hex'), body },
      }),
    };
    if (deliver !== 'comment' && options.messagingFirst) this.emitWebhook(messageBody);
    const { comment } = this.update(
      ticket,
      {},
      { body, public: true, authorId: requester.id, attachments: [], channel: 'native_messaging' },
      requester.id,
      { silent: deliver === 'messaging' },
    );
    if (deliver !== 'comment' && !options.messagingFirst) this.emitWebhook(messageBody);
    return comment!;
  }

  /**
   * A trigger's "Notify active webhook" action with a custom JSON body: placeholders are rendered as text, not
   * JSON-escaped (contracts/zendesk/SOURCE.md), so a quote or a line break in a comment breaks the JSON.
   * `{{ticket.latest_comment}}` is the newest public comment.
   */
  triggerWebhook(ticketId: number, template: string): void {
    const ticket = this.mustTicket(ticketId);
    const latest = [...ticket.comments].reverse().find((c) => c.public);
    const requester = this.users.get(ticket.requester_id);
    const values: Record<string, string> = {
      'ticket.id': String(ticket.id),
      'ticket.status': ticket.status,
      'ticket.requester.id': String(ticket.requester_id),
      'ticket.requester.email': requester?.email ?? '',
      'current_user.id': String(latest?.author_id ?? ticket.requester_id),
      'ticket.latest_comment': latest?.body ?? '',
      'ticket.latest_comment_html': latest?.html_body ?? '',
      'ticket.tags': ticket.tags.join(' '),
      'ticket.via': ticket.via.channel,
      'ticket.updated_at_with_timestamp': ticket.updated_at,
    };
    const raw = template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
    this.emitRawWebhook('trigger', raw);
  }

  private storeFile(file: FileInput): ZendeskAttachment {
    const token = randomToken();
    this.files.set(token, { data: file.data, contentType: file.contentType });
    const url = `${this.baseUrl}/attachments/token/${token}/?name=${encodeURIComponent(file.filename)}`;
    return {
      id: this.nextAttachmentId++,
      file_name: file.filename,
      content_url: url,
      mapped_content_url: url,
      content_type: file.contentType,
      size: file.data.length,
      width: null,
      height: null,
      inline: false,
      deleted: false,
      thumbnails: [],
    };
  }

  private mustUser(id: number): ZendeskUser {
    const user = this.users.get(id);
    if (!user) recordInvalid('requester_id', `User ${id} not found`);
    return user;
  }

  private mustTicket(id: number): ZendeskTicket {
    const ticket = this.tickets.get(id);
    if (!ticket) throw new Error(`ZendeskSimulator: no ticket ${id}`);
    return ticket;
  }

  private mustOpenTicket(id: number): ZendeskTicket {
    const ticket = this.mustTicket(id);
    if (ticket.status === 'closed') throw new Error(`ZendeskSimulator: ticket ${id} is closed`);
    return ticket;
  }
}
