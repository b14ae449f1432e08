// In-process Chatwoot Application API simulator (contacts, conversations, messages, signed webhooks) for one API inbox.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatwootSignature } from '../shared/http/signature.ts';
import {
  type ChatwootAgent,
  type ChatwootAttachment,
  type ChatwootContact,
  type ChatwootContactInbox,
  type ChatwootConversation,
  type ChatwootMessage,
  type ChatwootWorld,
  CONVERSATION_STATUSES,
  type ConversationStatus,
  contactJson,
  conversationJson,
  conversationWebhookData,
  fileTypeOf,
  inboxJson,
  messagePushData,
  messageWebhookBody,
} from './chatwoot-payloads.ts';
import {
  type FaultRule,
  fail,
  isRecord,
  json,
  nowIso,
  Router,
  type SimRequest,
  type SimResponse,
  SimulatorServer,
  type UploadedFile,
} from './http.ts';
import { ChatwootWebhookAdmin } from './webhook-admin.ts';

export * from './chatwoot-payloads.ts';

export type ChatwootWebhookEvent =
  | 'conversation_created'
  | 'conversation_status_changed'
  | 'conversation_updated'
  | 'message_created';

export interface ChatwootSimulatorOptions {
  apiToken: string;
  accountId: number;
  inboxId: number;
  webhookSecret: string;
  webhookUrl?: string;
  /** Check every API request against swagger.json (default true). */
  validate?: boolean;
  accountName?: string;
  inboxName?: string;
  /** Events the account webhook subscribes to (default: all four the simulator emits). */
  subscriptions?: ChatwootWebhookEvent[];
  /**
   * rack-attack's `req/ip` throttle (config/initializers/rack_attack.rb: `RACK_ATTACK_LIMIT`, default 3000 a
   * minute). Unset: off — Chatwoot safelists 127.0.0.1 itself, and a simulator on loopback stands for a remote one
   * only where a test asks for it.
   */
  perIpRateLimit?: number;
  /** Length of rack-attack's window (a minute; tests may shorten it). */
  rateWindowMs?: number;
  /**
   * `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` (lib/limits.rb, default 200): messages of every kind created in a
   * conversation within the last minute before `Message#prevent_message_flooding` refuses the next with 422.
   */
  messagesPerMinute?: number;
  /** The flood limit's window (one minute in Chatwoot); shorten it in tests rather than waiting a minute. */
  floodWindowMs?: number;
  /**
   * The role of the user whose token the bridge holds (default `agent`, the unkind case): `toggle_status` assigns a
   * conversation it opens to an agent-role caller (ConversationsController#handle_human_open), not to an admin.
   */
  tokenRole?: 'agent' | 'administrator';
  /**
   * Serve files from a second origin, as Chatwoot does when its public FRONTEND_URL differs from the URL the API is
   * called on (`data_url` is `url_for(file)` on `default_url_options[:host] = FRONTEND_URL`).
   */
  separateFrontendOrigin?: boolean;
  /** Chatwoot's version (`GET /api`); below 4.11 account webhooks carry no signature headers at all. */
  version?: string;
}

export interface AttachmentInput {
  filename: string;
  contentType: string;
  data: Buffer;
}

const NOT_FOUND = { error: 'Resource could not be found' };
/** Conversation lists page by Kaminari's default, 25 (ConversationFinder reads CONVERSATION_RESULTS_PER_PAGE, also 25). */
const FILTER_PAGE_SIZE = 25;
const PREFIX = '/api/v1/accounts/:account_id';
/** `validates :content, length: { maximum: 150_000 }` (app/models/message.rb). */
export const MESSAGE_MAX_CHARACTERS = 150_000;
/** The release that gave account webhooks a signing secret (commit c218eff5e, 4.11). */
const FIRST_SIGNING_VERSION = [4, 11];

function taken(attribute: string, label: string): never {
  // ActiveRecord::RecordInvalid is rendered as {message, attributes} by Chatwoot's exception handler.
  fail(422, { message: `${label} has already been taken`, attributes: [attribute] });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (isRecord(v) ? { ...v } : {});
function pushTo<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

export class ChatwootSimulator extends SimulatorServer {
  /** The agent whose access token the bridge uses; outgoing API messages are sent as this user. */
  readonly bridgeAgent: ChatwootAgent;
  /** A human agent that exists from the start, the default author of `agentReply`. */
  readonly defaultAgent: ChatwootAgent;

  private readonly agents = new Map<number, ChatwootAgent>();
  private readonly contactMap = new Map<number, ChatwootContact>();
  private readonly contactInboxes = new Map<number, ChatwootContactInbox>();
  private readonly conversationMap = new Map<number, ChatwootConversation>();
  private readonly messageMap = new Map<number, ChatwootMessage>();
  // Indexes over the maps above, so a request costs the same with 50,000 conversations as with ten (the import
  // benchmark): each conversation's messages in creation order, contacts by their unique attributes (email,
  // identifier, phone number: Contact's uniqueness validations), contact inboxes by contact and by source id.
  private readonly messagesByConversation = new Map<number, ChatwootMessage[]>();
  private readonly contactByUnique = new Map<string, ChatwootContact>();
  private readonly contactInboxesByContact = new Map<number, ChatwootContactInbox[]>();
  private readonly contactInboxesBySource = new Map<string, ChatwootContactInbox[]>();
  private readonly files = new Map<string, { data: Buffer; contentType: string }>();
  private readonly router = new Router();
  private readonly world: ChatwootWorld;
  private readonly subscriptions: Set<string>;
  /** Account webhooks and inboxes as the admin API shows them (`bridge setup`/`doctor`); deliveries still go to `setWebhookUrl`. */
  readonly webhookAdmin: ChatwootWebhookAdmin;
  // Distinct id ranges per kind make a mixed-up id obvious in a failing test.
  private nextAgentId = 1;
  private nextContactId = 1001;
  private nextContactInboxId = 3001;
  private nextConversationId = 101;
  private nextMessageId = 5001;
  private nextAttachmentId = 9001;
  /** The public FRONTEND_URL origin files are served on, when it differs from `baseUrl` (else `baseUrl`). */
  frontendUrl = '';
  private frontendServer: Server | undefined;

  /** Requests rack-attack counted per window, and how many it refused. */
  private readonly perIpWindows = new Map<number, number>();
  tooManyRequests = 0;

  private constructor(private readonly opts: ChatwootSimulatorOptions) {
    super('chatwoot', opts.validate !== false, opts.webhookUrl);
    this.subscriptions = new Set(
      opts.subscriptions ?? [
        'conversation_created',
        'conversation_status_changed',
        'conversation_updated',
        'message_created',
      ],
    );
    this.bridgeAgent = this.createAgent({ name: 'Zendesk Bridge', email: 'bridge@simulated.example' });
    this.defaultAgent = this.createAgent({ name: 'Sam Agent', email: 'sam@simulated.example' });
    this.world = {
      account: { id: opts.accountId, name: opts.accountName ?? 'Simulated Support' },
      inbox: { id: opts.inboxId, name: opts.inboxName ?? 'Zendesk Bridge' },
      contact: (id) => this.mustFind(this.contactMap, id, 'contact'),
      contactInbox: (id) => this.mustFind(this.contactInboxes, id, 'contact inbox'),
      agent: (id) => this.agents.get(id),
      messagesOf: (conversationId) => this.messages(conversationId),
    };
    this.webhookAdmin = new ChatwootWebhookAdmin(opts.accountId, opts.webhookSecret, [
      { id: opts.inboxId, name: this.world.inbox.name, channel_type: 'Channel::Api' },
    ]);
    this.routes();
  }

  static async start(opts: ChatwootSimulatorOptions): Promise<ChatwootSimulator> {
    const sim = new ChatwootSimulator(opts);
    await sim.listen();
    sim.frontendUrl = opts.separateFrontendOrigin ? await sim.listenFrontend() : sim.baseUrl;
    return sim;
  }

  override async close(): Promise<void> {
    const frontend = this.frontendServer;
    this.frontendServer = undefined;
    if (frontend) {
      frontend.closeAllConnections();
      await new Promise<void>((resolve) => frontend.close(() => resolve()));
    }
    await super.close();
  }

  // ---------------------------------------------------------------- test-side helpers

  createAgent(input: { name: string; email: string }): ChatwootAgent {
    const agent = { id: this.nextAgentId++, name: input.name, email: input.email };
    this.agents.set(agent.id, agent);
    return agent;
  }

  /** A human agent replies in the dashboard: outgoing, sender type user, no source_id; delivers message_created. */
  agentReply(
    conversationId: number,
    input: { content: string; agentId?: number; private?: boolean; attachments?: AttachmentInput[] },
  ): ChatwootMessage {
    const conversation = this.mustConversation(conversationId);
    return this.createMessage(conversation, {
      content: input.content,
      messageType: 1,
      private: input.private ?? false,
      sourceId: null,
      contentAttributes: {},
      contentType: 'text',
      senderAgentId: input.agentId ?? this.defaultAgent.id,
      files: (input.attachments ?? []).map((a) => ({ field: 'attachments[]', ...a })),
    });
  }

  privateNote(conversationId: number, content: string, agentId?: number): ChatwootMessage {
    return this.agentReply(conversationId, { content, private: true, ...(agentId ? { agentId } : {}) });
  }

  resolve(conversationId: number, agentId = this.defaultAgent.id): void {
    this.changeStatus(this.mustConversation(conversationId), 'resolved', agentId);
  }

  reopen(conversationId: number, agentId = this.defaultAgent.id): void {
    this.changeStatus(this.mustConversation(conversationId), 'open', agentId);
  }

  contacts(): ChatwootContact[] {
    return [...this.contactMap.values()];
  }

  contact(id: number): ChatwootContact | undefined {
    return this.contactMap.get(id);
  }

  conversations(): ChatwootConversation[] {
    return [...this.conversationMap.values()];
  }

  conversation(id: number): ChatwootConversation | undefined {
    return this.conversationMap.get(id);
  }

  /** All messages of a conversation, oldest first, including private notes and activity messages. */
  messages(conversationId: number): ChatwootMessage[] {
    return [...(this.messagesByConversation.get(conversationId) ?? [])];
  }

  /**
   * Moves everything that has happened so far this far into the past (messages' `created_at`, conversations'
   * activity and creation times), as if the account had been quiet that long since.
   */
  backdate(ms: number): void {
    for (const m of this.messageMap.values()) m.created_at -= ms;
    for (const c of this.conversationMap.values()) {
      c.last_activity_at -= ms;
      c.created_at -= ms;
      c.updated_at -= ms;
    }
  }

  /** Forgets contacts, conversations, messages, files, logs and fault rules; agents (and id counters) survive. */
  reset(): void {
    this.contactMap.clear();
    this.contactInboxes.clear();
    this.conversationMap.clear();
    this.messageMap.clear();
    this.messagesByConversation.clear();
    this.contactByUnique.clear();
    this.contactInboxesByContact.clear();
    this.contactInboxesBySource.clear();
    this.files.clear();
    this.resetLogs();
  }

  // ---------------------------------------------------------------- HTTP

  protected isApiPath(path: string): boolean {
    return path.startsWith('/api/v1/');
  }

  protected notFound(): SimResponse {
    return json(404, NOT_FOUND);
  }

  protected faultResponse(_rule: FaultRule, status: number): SimResponse {
    // Rack::Attack's throttled response: plain text and, unlike Zendesk, no Retry-After header.
    if (status === 429) return { status, text: 'Retry later\n' };
    return json(status, { status, error: status >= 500 ? 'Internal Server Error' : 'Simulated failure' });
  }

  protected route(req: SimRequest): SimResponse | Promise<SimResponse> | undefined {
    if (req.path.startsWith('/api/v1/')) {
      if (req.headers.api_access_token !== this.opts.apiToken) {
        return json(401, { error: 'You need to sign in or sign up before continuing.' });
      }
      const account = /^\/api\/v1\/accounts\/([^/]+)/.exec(req.path)?.[1];
      // The simulator hosts one account; any other id does not exist for this user.
      if (account !== undefined && account !== String(this.opts.accountId)) return json(404, NOT_FOUND);
    }
    return this.router.dispatch(req);
  }

  private routes(): void {
    const num = (raw: string | undefined): number => (/^\d+$/.test(raw ?? '') ? Number(raw) : -1);
    this.webhookAdmin.addRoutes(this.router, PREFIX);
    this.router
      .add('GET', '/api/v1/profile', () => this.profile())
      .add('GET', '/api', () => this.apiInfo())
      .add('POST', `${PREFIX}/conversations/:id/assignments`, (req, p) => this.assign(req, num(p.id)))
      .add('POST', `${PREFIX}/contacts`, (req) => this.postContact(req))
      .add('GET', `${PREFIX}/contacts/search`, (req) => this.searchContacts(req))
      .add('GET', `${PREFIX}/contacts/:id`, (_req, p) =>
        json(200, { payload: this.contactView(this.mustContact(num(p.id))) }),
      )
      .add('GET', `${PREFIX}/contacts/:id/conversations`, (_req, p) => {
        const contact = this.mustContact(num(p.id));
        const list = this.conversations().filter((c) => c.contact_id === contact.id);
        return json(200, { payload: list.map((c) => conversationJson(c, this.world)) });
      })
      .add('POST', `${PREFIX}/contacts/:id/contact_inboxes`, (req, p) =>
        this.postContactInbox(req, num(p.id)),
      )
      .add('POST', `${PREFIX}/conversations/filter`, (req) => this.filterConversations(req))
      .add('POST', `${PREFIX}/conversations`, (req) => this.postConversation(req))
      .add('GET', `${PREFIX}/conversations/:id`, (_req, p) =>
        json(200, conversationJson(this.mustConversationHttp(num(p.id)), this.world)),
      )
      .add('POST', `${PREFIX}/conversations/:id/toggle_status`, (req, p) => this.toggleStatus(req, num(p.id)))
      .add('POST', `${PREFIX}/conversations/:id/custom_attributes`, (req, p) =>
        this.setCustomAttributes(req, num(p.id)),
      )
      .add('GET', `${PREFIX}/conversations/:id/messages`, (req, p) => this.listMessages(req, num(p.id)))
      .add('POST', `${PREFIX}/conversations/:id/messages`, (req, p) => this.postMessage(req, num(p.id)))
      .add('GET', '/rails/active_storage/blobs/redirect/:token/:filename', (_req, p) => {
        // Like Active Storage redirect links: possession of the URL is the authorisation.
        const file = this.files.get(p.token ?? '');
        return file
          ? { status: 200, bytes: file.data, headers: { 'content-type': file.contentType } }
          : json(404, NOT_FOUND);
      });
  }

  private contactView(contact: ChatwootContact): Record<string, unknown> {
    return contactJson(contact, this.contactInboxesByContact.get(contact.id) ?? [], this.world);
  }

  private postContact(req: SimRequest): SimResponse {
    const body = obj(req.body);
    const inboxId = body.inbox_id;
    if (inboxId !== undefined && inboxId !== null && Number(inboxId) !== this.opts.inboxId)
      return json(404, NOT_FOUND);
    const email = str(body.email)?.trim().toLowerCase() || null;
    const identifier = str(body.identifier) || null;
    const phone = str(body.phone_number) || null;
    if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      fail(422, { message: 'Email Invalid email', attributes: ['email'] });
    }
    if (email && this.contactByUnique.has(`email:${email}`)) taken('email', 'Email');
    if (identifier && this.contactByUnique.has(`identifier:${identifier}`)) taken('identifier', 'Identifier');
    if (phone && this.contactByUnique.has(`phone_number:${phone}`)) taken('phone_number', 'Phone number');
    const contact: ChatwootContact = {
      id: this.nextContactId++,
      name: str(body.name) ?? '',
      email,
      identifier,
      phone_number: phone,
      custom_attributes: obj(body.custom_attributes),
      additional_attributes: obj(body.additional_attributes),
      blocked: body.blocked === true,
      created_at: Math.floor(Date.now() / 1000),
      last_activity_at: null,
    };
    this.contactMap.set(contact.id, contact);
    if (email) this.contactByUnique.set(`email:${email}`, contact);
    if (identifier) this.contactByUnique.set(`identifier:${identifier}`, contact);
    if (phone) this.contactByUnique.set(`phone_number:${phone}`, contact);
    const contactInbox =
      inboxId === undefined || inboxId === null ? undefined : this.addContactInbox(contact.id, randomUUID());
    return json(200, {
      payload: {
        contact: this.contactView(contact),
        contact_inbox: {
          inbox: contactInbox ? inboxJson(this.world) : null,
          source_id: contactInbox?.source_id ?? null,
        },
      },
    });
  }

  private searchContacts(req: SimRequest): SimResponse {
    const q = (req.query.get('q') ?? '').toLowerCase();
    const found = this.contacts().filter((c) =>
      [c.name, c.email, c.identifier, c.phone_number].some((v) => v?.toLowerCase().includes(q)),
    );
    // Chatwoot pages contact lists by 15.
    const page = Math.max(1, Number(req.query.get('page') ?? '1') || 1);
    const slice = found.slice((page - 1) * 15, page * 15);
    return json(200, {
      meta: { count: found.length, current_page: page },
      payload: slice.map((c) => this.contactView(c)),
    });
  }

  private postContactInbox(req: SimRequest, contactId: number): SimResponse {
    this.mustContact(contactId);
    const body = obj(req.body);
    if (Number(body.inbox_id) !== this.opts.inboxId) return json(404, NOT_FOUND);
    const contactInbox = this.addContactInbox(contactId, str(body.source_id) ?? randomUUID());
    return json(200, { source_id: contactInbox.source_id, inbox: inboxJson(this.world) });
  }

  private addContactInbox(
    contactId: number,
    sourceId: string,
    inboxId = this.opts.inboxId,
  ): ChatwootContactInbox {
    // A source id is unique within an inbox (database index on inbox_id + source_id).
    if ((this.contactInboxesBySource.get(sourceId) ?? []).some((ci) => ci.inbox_id === inboxId))
      taken('source_id', 'Source');
    const at = nowIso();
    const contactInbox: ChatwootContactInbox = {
      id: this.nextContactInboxId++,
      contact_id: contactId,
      inbox_id: inboxId,
      source_id: sourceId,
      hmac_verified: false,
      pubsub_token: randomBytes(12).toString('base64url'),
      created_at: at,
      updated_at: at,
    };
    this.contactInboxes.set(contactInbox.id, contactInbox);
    pushTo(this.contactInboxesByContact, contactId, contactInbox);
    pushTo(this.contactInboxesBySource, sourceId, contactInbox);
    return contactInbox;
  }

  /**
   * Mirrors ConversationsController#create: with contact_id + inbox_id the contact inbox is found or built
   * for that source_id; otherwise source_id alone must name an existing one. It never reuses a conversation
   * (API inboxes are not locked to a single conversation), so a repeated POST makes a second one.
   */
  private postConversation(req: SimRequest): SimResponse {
    const body = obj(req.body);
    const sourceId = str(body.source_id);
    if (!sourceId) return json(404, NOT_FOUND);
    let contactInbox: ChatwootContactInbox | undefined;
    if (body.contact_id !== undefined && body.inbox_id !== undefined) {
      const contact = this.mustContact(Number(body.contact_id));
      if (Number(body.inbox_id) !== this.opts.inboxId) return json(404, NOT_FOUND);
      contactInbox =
        this.contactInboxesByContact.get(contact.id)?.find((ci) => ci.source_id === sourceId) ??
        this.addContactInbox(contact.id, sourceId);
    } else {
      contactInbox = this.contactInboxesBySource.get(sourceId)?.[0];
      if (!contactInbox) return json(404, NOT_FOUND);
    }
    const first = isRecord(body.message) ? body.message : undefined;
    const firstType = str(first?.message_type) ?? 'outgoing';
    // Validated before anything is created: the controller's transaction would roll the conversation back.
    if (first && firstType !== 'incoming' && firstType !== 'outgoing')
      return json(422, { error: `'${firstType}' is not a valid message_type` });
    const status = CONVERSATION_STATUSES.find((s) => s === body.status) ?? 'open';
    const now = Date.now();
    const conversation: ChatwootConversation = {
      ...this.blankConversation(now),
      contact_id: contactInbox.contact_id,
      contact_inbox_id: contactInbox.id,
      status,
      custom_attributes: obj(body.custom_attributes),
      additional_attributes: obj(body.additional_attributes),
      assignee_id:
        typeof body.assignee_id === 'number' && this.agents.has(body.assignee_id) ? body.assignee_id : null,
    };
    this.conversationMap.set(conversation.id, conversation);
    this.emit('conversation_created', {
      ...conversationWebhookData(conversation, this.world),
      event: 'conversation_created',
    });
    // ConversationsController#create builds the first message in the same transaction with
    // Messages::MessageBuilder (app/builders/messages/message_builder.rb): message_type defaults to outgoing,
    // `private`, `source_id`, `content_attributes` and `content_type` are taken as on the messages endpoint; an
    // outgoing message's sender is the API user, an incoming one's the contact.
    if (first) {
      const m = first;
      this.createMessage(conversation, {
        content: str(m.content) ?? null,
        messageType: firstType === 'incoming' ? 0 : 1,
        private: m.private === true || m.private === 'true',
        sourceId: str(m.source_id) ?? null,
        contentAttributes: this.contentAttributes(m),
        contentType: str(m.content_type) ?? 'text',
        senderAgentId: firstType === 'incoming' ? undefined : this.bridgeAgent.id,
        files: [],
      });
    }
    return json(200, conversationJson(conversation, this.world));
  }

  /** A new open conversation in the bridge's inbox, to be given its contact. */
  private blankConversation(now: number): ChatwootConversation {
    return {
      id: this.nextConversationId++,
      uuid: randomUUID(),
      account_id: this.opts.accountId,
      inbox_id: this.opts.inboxId,
      contact_id: 0,
      contact_inbox_id: 0,
      status: 'open',
      custom_attributes: {},
      additional_attributes: {},
      labels: [],
      assignee_id: null,
      unread_count: 0,
      first_reply_created_at: null,
      waiting_since: 0,
      agent_last_seen_at: 0,
      contact_last_seen_at: 0,
      status_changed_at: new Date(now).toISOString(),
      created_at: now,
      updated_at: now,
      last_activity_at: now,
    };
  }

  /** A contact made outside the API (another channel), for test-side helpers. */
  private postContactDirect(name: string): ChatwootContact {
    const contact: ChatwootContact = {
      id: this.nextContactId++,
      name,
      email: null,
      identifier: null,
      phone_number: null,
      custom_attributes: {},
      additional_attributes: {},
      blocked: false,
      created_at: Math.floor(Date.now() / 1000),
      last_activity_at: null,
    };
    this.contactMap.set(contact.id, contact);
    return contact;
  }

  /**
   * POST conversations/filter, as Conversations::FilterService builds it at the pinned commit: conditions joined
   * left to right by each one's `query_operator` (none allowed on the last: InvalidQueryOperator); a standard
   * attribute only takes the operators lib/filters/filter_keys.yml lists for it (InvalidOperator); date attributes
   * (`created_at`, `last_activity_at`) compare as `(column)::date` with a date value, so `is_greater_than
   * 2026-11-29` means "on 2026-11-30 or later" (Filters::FilterHelper#date_filter, FilterService#
   * coerce_lt_gt_value); `days_before N` is `is_less_than today - N` for N in 1..998. Errors are rendered by
   * render_could_not_create_error: 422 `{error}`. Results are sorted by last_activity_at, newest first, 25 a page
   * (`sort_on_last_activity_at.page(page)`, Kaminari's default page size); `meta` counts all matches.
   */
  private filterConversations(req: SimRequest): SimResponse {
    const conditions = Array.isArray(obj(req.body).payload) ? (obj(req.body).payload as unknown[]) : [];
    const dateKeys = new Set(['created_at', 'last_activity_at']);
    const operatorsOf: Record<string, string[]> = {
      status: ['equal_to', 'not_equal_to'],
      assignee_id: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
      inbox_id: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
      created_at: ['is_greater_than', 'is_less_than', 'days_before'],
      last_activity_at: ['is_greater_than', 'is_less_than', 'days_before'],
    };
    conditions.forEach((condition, i) => {
      const c = obj(condition);
      const key = String(c.attribute_key ?? '');
      const operator = String(c.filter_operator ?? '');
      if (i === conditions.length - 1 && c.query_operator) fail(422, { error: 'Invalid query operator' });
      const allowed = operatorsOf[key];
      if (allowed && !allowed.includes(operator)) {
        fail(422, {
          error: `Invalid operator. The allowed operators for ${key} are [${allowed.join(',')}].`,
        });
      }
      const values = Array.isArray(c.values) ? c.values : [];
      if (!['is_present', 'is_not_present'].includes(operator) && values.length === 0) {
        fail(422, { error: `Invalid value. The values provided for ${key} are invalid` });
      }
      if (dateKeys.has(key)) {
        const raw = String(values[0]);
        const ok =
          operator === 'days_before'
            ? /^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 998
            : /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw.slice(0, 10)));
        if (!ok) fail(422, { error: `Invalid value. The values provided for ${key} are invalid` });
      }
    });
    const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const test = (conversation: ChatwootConversation, condition: unknown): boolean => {
      const c = obj(condition);
      const key = String(c.attribute_key ?? '');
      const values = Array.isArray(c.values) ? c.values.map(String) : [];
      if (dateKeys.has(key)) {
        const column = utcDate(
          key === 'created_at' ? conversation.created_at : conversation.last_activity_at,
        );
        if (c.filter_operator === 'days_before') {
          const cutoff = utcDate(Date.now() - Number(values[0]) * 24 * 3600 * 1000);
          return column < cutoff;
        }
        const value = values[0]!.slice(0, 10);
        return c.filter_operator === 'is_less_than' ? column < value : column > value;
      }
      let actual: unknown;
      if (key === 'status') actual = conversation.status;
      else if (key === 'inbox_id') actual = conversation.inbox_id;
      else if (key === 'assignee_id') actual = conversation.assignee_id;
      else actual = conversation.custom_attributes[key] ?? conversation.additional_attributes[key];
      const value = actual === undefined || actual === null ? '' : String(actual);
      switch (c.filter_operator) {
        case 'not_equal_to':
          return !values.includes(value);
        case 'contains':
          return values.some((v) => value.toLowerCase().includes(v.toLowerCase()));
        case 'does_not_contain':
          return !values.some((v) => value.toLowerCase().includes(v.toLowerCase()));
        case 'is_present':
          return value !== '';
        case 'is_not_present':
          return value === '';
        default:
          return values.includes(value);
      }
    };
    const matches = this.conversations()
      .filter((conversation) => {
        // query_operator on a condition joins it to the next one, evaluated left to right as Chatwoot builds SQL.
        let result = conditions.length === 0 ? true : test(conversation, conditions[0]);
        for (let i = 1; i < conditions.length; i++) {
          const next = test(conversation, conditions[i]);
          result = obj(conditions[i - 1]).query_operator === 'OR' ? result || next : result && next;
        }
        return result;
      })
      .sort((a, b) => b.last_activity_at - a.last_activity_at);
    const page = Math.max(1, Math.floor(Number(req.query.get('page') ?? '1')) || 1);
    const slice = matches.slice((page - 1) * FILTER_PAGE_SIZE, page * FILTER_PAGE_SIZE);
    const assigned = matches.filter((c) => c.assignee_id !== null).length;
    return json(200, {
      meta: {
        mine_count: matches.filter((c) => c.assignee_id === this.bridgeAgent.id).length,
        assigned_count: assigned,
        unassigned_count: matches.length - assigned,
        all_count: matches.length,
      },
      payload: slice.map((c) => conversationJson(c, this.world)),
    });
  }

  private toggleStatus(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const status = CONVERSATION_STATUSES.find((s) => s === obj(req.body).status);
    if (!status) return json(422, { error: 'Invalid status' });
    this.changeStatus(conversation, status, this.bridgeAgent.id);
    if (conversation.status === 'open') this.handleHumanOpen(conversation);
    return json(200, {
      meta: {},
      payload: { success: true, current_status: conversation.status, conversation_id: conversation.id },
    });
  }

  /** Chatwoot replaces (not merges) custom attributes here, much like Zendesk's `tags`. */
  private setCustomAttributes(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const previous = conversation.custom_attributes;
    conversation.custom_attributes = obj(obj(req.body).custom_attributes);
    conversation.updated_at = Date.now();
    this.emitUpdated(conversation, [
      { custom_attributes: { previous_value: previous, current_value: conversation.custom_attributes } },
    ]);
    return json(200, { custom_attributes: conversation.custom_attributes });
  }

  private listMessages(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const all = this.messages(conversationId);
    const after = req.query.get('after');
    const before = req.query.get('before');
    let page: ChatwootMessage[];
    // MessageFinder at the pinned commit: `after` → up to 100 newer ascending; `before` → the 20 before it; both
    // → from `after` (inclusive) up to `before`, at most 1,000; neither → the latest 20.
    if (after !== null && before !== null)
      page = all.filter((m) => m.id >= Number(after) && m.id < Number(before)).slice(0, 1000);
    else if (after !== null) page = all.filter((m) => m.id > Number(after)).slice(0, 100);
    else if (before !== null) page = all.filter((m) => m.id < Number(before)).slice(-20);
    else page = all.slice(-20);
    const contact = this.world.contact(conversation.contact_id);
    return json(200, {
      meta: {
        labels: conversation.labels,
        additional_attributes: conversation.additional_attributes,
        contact: this.contactView(contact),
        assignee: null,
        agent_last_seen_at: null,
        assignee_last_seen_at: null,
      },
      payload: page.map((m) => messagePushData(m, conversation, this.world)),
    });
  }

  /**
   * rack-attack (config/initializers/rack_attack.rb): `throttle('req/ip', limit: RACK_ATTACK_LIMIT || 3000, period:
   * 1.minute)`, counted per fixed period; a throttled request gets rack-attack's default answer, 429 with the body
   * "Retry later" and no Retry-After.
   */
  protected override rateLimit(
    _req: SimRequest,
  ): { reject?: SimResponse; headers?: Record<string, string> } | undefined {
    const limit = this.opts.perIpRateLimit;
    if (limit === undefined) return undefined;
    const window = Math.floor(Date.now() / (this.opts.rateWindowMs ?? 60_000));
    const used = this.perIpWindows.get(window) ?? 0;
    this.perIpWindows.set(window, used + 1);
    if (used >= limit) {
      this.tooManyRequests++;
      return { reject: { status: 429, text: 'Retry later\n' } };
    }
    return undefined;
  }

  private postMessage(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    // JSON and multipart carry the same fields; multipart values are strings.
    const fields: Record<string, unknown> = req.form ? { ...req.form.fields } : obj(req.body);
    const files: UploadedFile[] = req.form?.files.filter((f) => f.field.startsWith('attachments')) ?? [];
    const typeName = str(fields.message_type) ?? 'outgoing';
    if (typeName !== 'incoming' && typeName !== 'outgoing') {
      return json(422, { error: `'${typeName}' is not a valid message_type` });
    }
    const content = str(fields.content) ?? null;
    if ((content === null || content === '') && files.length === 0) {
      return json(422, { message: "Content can't be blank", attributes: ['content'] });
    }
    const refused = this.refuseMessage(conversation, content);
    if (refused) return refused;
    const message = this.createMessage(conversation, {
      content,
      messageType: typeName === 'incoming' ? 0 : 1,
      private: fields.private === true || fields.private === 'true',
      sourceId: str(fields.source_id) ?? null,
      contentAttributes: this.contentAttributes(fields),
      contentType: str(fields.content_type) ?? 'text',
      senderAgentId: typeName === 'incoming' ? undefined : this.bridgeAgent.id,
      files,
    });
    return json(200, messagePushData(message, conversation, this.world));
  }

  /** content_attributes as a JSON object, a JSON string (multipart), or `content_attributes[key]` fields. */
  private contentAttributes(fields: Record<string, unknown>): Record<string, unknown> {
    const raw = fields.content_attributes;
    if (isRecord(raw)) return { ...raw };
    if (typeof raw === 'string') {
      try {
        return obj(JSON.parse(raw));
      } catch {
        return {};
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      const m = /^content_attributes\[([^\]]+)\]$/.exec(key);
      if (m?.[1]) out[m[1]] = value;
    }
    return out;
  }

  // ---------------------------------------------------------------- state changes

  private createMessage(
    conversation: ChatwootConversation,
    input: {
      content: string | null;
      messageType: 0 | 1 | 2;
      private: boolean;
      sourceId: string | null;
      contentAttributes: Record<string, unknown>;
      contentType: string;
      /** undefined: the conversation's contact (incoming); null: no sender (activity). */
      senderAgentId: number | null | undefined;
      files: UploadedFile[];
      /** Attachments without a file (locations, contact cards, nil entries), rendered after the files. */
      oddAttachments?: Array<Record<string, unknown> | null>;
    },
  ): ChatwootMessage {
    const now = Date.now();
    const id = this.nextMessageId++;
    const message: ChatwootMessage = {
      id,
      conversation_id: conversation.id,
      account_id: this.opts.accountId,
      inbox_id: conversation.inbox_id,
      content: input.content,
      message_type: input.messageType,
      private: input.private,
      source_id: input.sourceId,
      content_type: input.contentType,
      content_attributes: input.contentAttributes,
      sender_type:
        input.senderAgentId === undefined ? 'Contact' : input.senderAgentId === null ? null : 'User',
      sender_id: input.senderAgentId === undefined ? conversation.contact_id : input.senderAgentId,
      attachments: input.files.map((f) => this.storeAttachment(id, f)),
      ...(input.oddAttachments?.length ? { odd_attachments: input.oddAttachments } : {}),
      status: 'sent',
      created_at: now,
    };
    this.messageMap.set(id, message);
    pushTo(this.messagesByConversation, conversation.id, message);
    conversation.last_activity_at = now;
    conversation.updated_at = now;
    if (input.messageType === 0) {
      conversation.unread_count++;
      if (!conversation.waiting_since) conversation.waiting_since = Math.floor(now / 1000);
    } else if (input.messageType === 1 && !input.private && input.senderAgentId !== null) {
      conversation.first_reply_created_at ??= new Date(now).toISOString();
      conversation.waiting_since = 0;
    }
    if (input.messageType !== 2) {
      this.emit('message_created', messageWebhookBody(message, conversation, this.world));
    }
    // A customer message reopens a resolved or snoozed conversation.
    if (
      input.messageType === 0 &&
      (conversation.status === 'resolved' || conversation.status === 'snoozed')
    ) {
      this.changeStatus(conversation, 'open', null);
    }
    return message;
  }

  private changeStatus(
    conversation: ChatwootConversation,
    status: ConversationStatus,
    actorId: number | null,
  ): void {
    if (conversation.status === status) return;
    const previous = conversation.status;
    const previousChangedAt = conversation.status_changed_at;
    const previousUpdatedAt = new Date(conversation.updated_at).toISOString();
    const now = Date.now();
    conversation.status = status;
    conversation.status_changed_at = new Date(now).toISOString();
    conversation.updated_at = now;
    const actor = actorId === null ? undefined : this.agents.get(actorId);
    const by = actor ? ` by ${actor.name}` : '';
    const text: Record<ConversationStatus, string> = {
      open: `Conversation was reopened${by}`,
      resolved: `Conversation was marked resolved${by}`,
      pending: `Conversation was marked as pending${by}`,
      snoozed: `Conversation was snoozed${by}`,
    };
    // Chatwoot records status changes as activity messages (type 2); they never fire message_created.
    this.createMessage(conversation, {
      content: text[status],
      messageType: 2,
      private: false,
      sourceId: null,
      contentAttributes: {},
      contentType: 'text',
      senderAgentId: null,
      files: [],
    });
    conversation.updated_at = now;
    this.emit('conversation_status_changed', {
      ...conversationWebhookData(conversation, this.world),
      event: 'conversation_status_changed',
      // Evaluated after commit in Chatwoot, so always nil (see SOURCE.md).
      changed_attributes: null,
    });
    this.emitUpdated(conversation, [
      { status: { previous_value: previous, current_value: status } },
      {
        status_changed_at: {
          previous_value: previousChangedAt,
          current_value: conversation.status_changed_at,
        },
      },
      { updated_at: { previous_value: previousUpdatedAt, current_value: new Date(now).toISOString() } },
    ]);
  }

  private emitUpdated(conversation: ChatwootConversation, changed: Array<Record<string, unknown>>): void {
    this.emit('conversation_updated', {
      ...conversationWebhookData(conversation, this.world),
      event: 'conversation_updated',
      changed_attributes: changed,
    });
  }

  private emit(event: ChatwootWebhookEvent, body: Record<string, unknown>): void {
    if (!this.subscriptions.has(event)) return;
    this.enqueueWebhook({
      type: event,
      body,
      // Chatwoot's webhook job gives the receiver 5 seconds and never retries.
      timeoutMs: 5_000,
      headers: (raw) => {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const base = {
          'content-type': 'application/json',
          'user-agent': 'rest-client/2.1.0 (linux x86_64) ruby/3.4.4p34',
        };
        // Before 4.11 account webhooks had no secret: Webhooks::Trigger sent no signature headers at all.
        if (!this.signs()) return base;
        return {
          ...base,
          'x-chatwoot-signature': chatwootSignature(this.opts.webhookSecret, timestamp, raw),
          'x-chatwoot-timestamp': timestamp,
          'x-chatwoot-delivery': randomUUID(),
        };
      },
    });
  }

  private storeAttachment(messageId: number, file: AttachmentInput): ChatwootAttachment {
    const token = randomBytes(24).toString('base64url');
    this.files.set(token, { data: file.data, contentType: file.contentType });
    // Attachment#file_url is url_for(file): built on FRONTEND_URL, not on the host the API was called on.
    const dataUrl = `${this.frontendUrl || this.baseUrl}/rails/active_storage/blobs/redirect/${token}/${encodeURIComponent(file.filename)}`;
    const fileType = fileTypeOf(file.contentType);
    const dot = file.filename.lastIndexOf('.');
    return {
      id: this.nextAttachmentId++,
      message_id: messageId,
      file_type: fileType,
      account_id: this.opts.accountId,
      extension: dot > 0 ? file.filename.slice(dot + 1) : null,
      content_type: file.contentType,
      data_url: dataUrl,
      thumb_url: fileType === 'image' ? dataUrl : '',
      file_size: file.data.length,
      width: null,
      height: null,
    };
  }

  // ---------------------------------------------------------------- platform behaviours (issue #13)
  // Each one cites the Chatwoot code (commit 59442e57) it follows; docs/platforms.md has the details.

  /**
   * MessagesController#create rescues every exception into 422 `{"error": e.message}` (render_could_not_create_error):
   * a validation the model refuses reads `Validation failed: …`. Two of them: the content length
   * (`validates :content, length: { maximum: 150_000 }`) and the flood limit (Message#prevent_message_flooding:
   * `conversation.messages.where('created_at >= ?', 1.minute.ago).count >= limit` adds "Too many messages").
   */
  private refuseMessage(conversation: ChatwootConversation, content: string | null): SimResponse | undefined {
    // Ruby counts characters (code points), not UTF-16 units.
    if (content !== null && [...content].length > MESSAGE_MAX_CHARACTERS) {
      return json(422, {
        error: `Validation failed: Content is too long (maximum is ${MESSAGE_MAX_CHARACTERS} characters)`,
      });
    }
    const limit = this.opts.messagesPerMinute ?? 200;
    const since = Date.now() - (this.opts.floodWindowMs ?? 60_000);
    const recent = this.messages(conversation.id).filter((m) => m.created_at >= since).length;
    if (recent >= limit) return json(422, { error: 'Validation failed: Too many messages' });
    return undefined;
  }

  /**
   * ConversationsController#toggle_status → handle_human_open: when the conversation ends up open and the caller is
   * a User, `assignee_agent_bot` is cleared and `assignee = Current.user if Current.user.agent?`.
   */
  private handleHumanOpen(conversation: ChatwootConversation): void {
    if ((this.opts.tokenRole ?? 'agent') !== 'agent') return;
    if (conversation.assignee_id === this.bridgeAgent.id) return;
    const previous = conversation.assignee_id;
    conversation.assignee_id = this.bridgeAgent.id;
    conversation.updated_at = Date.now();
    this.emitUpdated(conversation, [
      { assignee_id: { previous_value: previous, current_value: this.bridgeAgent.id } },
    ]);
  }

  /**
   * AssignmentsController#create with `assignee_id`: Conversations::AssignmentService sets
   * `assignee = account.users.find_by(id: assignee_id)`, so an id that is no user (null, 0) unassigns.
   */
  private assign(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const body = obj(req.body);
    if (!('assignee_id' in body)) return json(200, null);
    const raw = body.assignee_id;
    const agent = raw === null || raw === undefined || raw === '' ? undefined : this.agents.get(Number(raw));
    const previous = conversation.assignee_id;
    conversation.assignee_id = agent?.id ?? null;
    conversation.updated_at = Date.now();
    if (previous !== conversation.assignee_id) {
      this.emitUpdated(conversation, [
        { assignee_id: { previous_value: previous, current_value: conversation.assignee_id } },
      ]);
    }
    return json(200, agent ? { id: agent.id, name: agent.name, email: agent.email } : null);
  }

  /** Test side: an agent takes (or drops) the conversation in the dashboard. */
  assignTo(conversationId: number, agentId: number | null): void {
    const conversation = this.mustConversation(conversationId);
    conversation.assignee_id = agentId;
    conversation.updated_at = Date.now();
  }

  /** Changes behaviour options of a running simulator. */
  configure(o: Pick<ChatwootSimulatorOptions, 'tokenRole' | 'version' | 'messagesPerMinute'>): void {
    Object.assign(this.opts, o);
  }

  /**
   * `GET /api/v1/profile` (_user.json.jbuilder): `role` and `accounts[].role` are the account user's role;
   * `avatar_url` is an Active Storage link built on FRONTEND_URL, like every file link.
   */
  private profile(): SimResponse {
    const role = this.opts.tokenRole ?? 'agent';
    const avatar = `${this.frontendUrl || this.baseUrl}/rails/active_storage/representations/redirect/avatar${this.bridgeAgent.id}/avatar.png`;
    return json(200, {
      ...this.bridgeAgent,
      role,
      avatar_url: avatar,
      accounts: [{ id: this.opts.accountId, role }],
    });
  }

  /** `GET /api` (ApiController#index), unauthenticated: the version the operator runs. */
  private apiInfo(): SimResponse {
    return json(200, {
      version: this.opts.version ?? '4.16.2',
      timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19),
      queue_services: 'ok',
      data_services: 'ok',
    });
  }

  private signs(): boolean {
    const [major = 0, minor = 0] = (this.opts.version ?? '4.16.2').split('.').map(Number);
    const [fMajor = 0, fMinor = 0] = FIRST_SIGNING_VERSION;
    return major > fMajor || (major === fMajor && minor >= fMinor);
  }

  /** A second origin for files (FRONTEND_URL), serving the same Active Storage redirect links. */
  private async listenFrontend(): Promise<string> {
    const server = createServer((req, res) => {
      const m = /^\/rails\/active_storage\/blobs\/redirect\/([^/]+)\/[^/]+$/.exec(
        new URL(req.url ?? '/', 'http://x').pathname,
      );
      const file = m ? this.files.get(m[1] ?? '') : undefined;
      if (req.method !== 'GET' || !file) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(NOT_FOUND));
        return;
      }
      res.writeHead(200, { 'content-type': file.contentType });
      res.end(file.data);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.frontendServer = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /**
   * An agent reply carrying attachments that hold no file on Chatwoot, as Attachment#push_event_data renders them:
   * a location (`data_url: external_url`, usually nil), a contact card (no `data_url`), or nil (no file_type).
   */
  agentReplyWithOddAttachments(
    conversationId: number,
    input: { content: string; attachments?: AttachmentInput[]; odd: Array<'location' | 'contact' | 'null'> },
  ): ChatwootMessage {
    const conversation = this.mustConversation(conversationId);
    const id = this.nextMessageId;
    const odd = input.odd.map((kind): Record<string, unknown> | null => {
      if (kind === 'null') return null;
      const base = {
        id: this.nextAttachmentId++,
        message_id: id,
        file_type: kind,
        account_id: this.opts.accountId,
      };
      return kind === 'location'
        ? {
            ...base,
            coordinates_lat: 52.52,
            coordinates_long: 13.405,
            fallback_title: 'Our office',
            data_url: null,
          }
        : { ...base, fallback_title: '+49 30 1234567', meta: {} };
    });
    return this.createMessage(conversation, {
      content: input.content,
      messageType: 1,
      private: false,
      sourceId: null,
      contentAttributes: {},
      contentType: 'text',
      senderAgentId: this.defaultAgent.id,
      files: (input.attachments ?? []).map((a) => ({ field: 'attachments[]', ...a })),
      oddAttachments: odd,
    });
  }

  /**
   * A contact message in another inbox of the account. Account webhooks have no inbox filter
   * (WebhookListener#deliver_account_webhooks ignores Webhook#inbox_id), so it reaches the bridge too.
   */
  otherInboxMessage(content: string): ChatwootMessage {
    const other = this.opts.inboxId + 1000;
    const contact = this.postContactDirect(`Other inbox contact ${this.nextContactId}`);
    const contactInbox = this.addContactInbox(contact.id, randomUUID(), other);
    const now = Date.now();
    const conversation: ChatwootConversation = {
      ...this.blankConversation(now),
      inbox_id: other,
      contact_id: contact.id,
      contact_inbox_id: contactInbox.id,
    };
    this.conversationMap.set(conversation.id, conversation);
    return this.createMessage(conversation, {
      content,
      messageType: 0,
      private: false,
      sourceId: null,
      contentAttributes: {},
      contentType: 'text',
      senderAgentId: undefined,
      files: [],
    });
  }

  private mustFind<T>(map: Map<number, T>, id: number, what: string): T {
    const found = map.get(id);
    if (!found) throw new Error(`ChatwootSimulator: no ${what} ${id}`);
    return found;
  }

  private mustContact(id: number): ChatwootContact {
    const contact = this.contactMap.get(id);
    if (!contact) fail(404, NOT_FOUND);
    return contact;
  }

  private mustConversationHttp(id: number): ChatwootConversation {
    const conversation = this.conversationMap.get(id);
    if (!conversation) fail(404, NOT_FOUND);
    return conversation;
  }

  private mustConversation(id: number): ChatwootConversation {
    return this.mustFind(this.conversationMap, id, 'conversation');
  }
}
