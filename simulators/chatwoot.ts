// In-process Chatwoot Application API simulator (contacts, conversations, messages, signed webhooks) for one API inbox.
import { randomBytes, randomUUID } from 'node:crypto';
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
  /** Messages per conversation per minute (lib/limits.rb `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT`, default 200). */
  messagesPerConversationPerMinute?: number;
  /** Length of rack-attack's window (a minute; tests may shorten it). */
  rateWindowMs?: number;
}

export interface AttachmentInput {
  filename: string;
  contentType: string;
  data: Buffer;
}

const NOT_FOUND = { error: 'Resource could not be found' };
const PREFIX = '/api/v1/accounts/:account_id';

function taken(attribute: string, label: string): never {
  // ActiveRecord::RecordInvalid is rendered as {message, attributes} by Chatwoot's exception handler.
  fail(422, { message: `${label} has already been taken`, attributes: [attribute] });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (isRecord(v) ? { ...v } : {});

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
    return sim;
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
    return [...this.messageMap.values()].filter((m) => m.conversation_id === conversationId);
  }

  /** Forgets contacts, conversations, messages, files, logs and fault rules; agents (and id counters) survive. */
  reset(): void {
    this.contactMap.clear();
    this.contactInboxes.clear();
    this.conversationMap.clear();
    this.messageMap.clear();
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
      .add('GET', '/api/v1/profile', () =>
        json(200, { ...this.bridgeAgent, accounts: [{ id: this.opts.accountId, role: 'administrator' }] }),
      )
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
    const inboxes = [...this.contactInboxes.values()].filter((ci) => ci.contact_id === contact.id);
    return contactJson(contact, inboxes, this.world);
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
    const existing = this.contacts();
    if (email && existing.some((c) => c.email === email)) taken('email', 'Email');
    if (identifier && existing.some((c) => c.identifier === identifier)) taken('identifier', 'Identifier');
    if (phone && existing.some((c) => c.phone_number === phone)) taken('phone_number', 'Phone number');
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

  private addContactInbox(contactId: number, sourceId: string): ChatwootContactInbox {
    // A source id is unique within an inbox (database index on inbox_id + source_id).
    if ([...this.contactInboxes.values()].some((ci) => ci.source_id === sourceId))
      taken('source_id', 'Source');
    const at = nowIso();
    const contactInbox: ChatwootContactInbox = {
      id: this.nextContactInboxId++,
      contact_id: contactId,
      inbox_id: this.opts.inboxId,
      source_id: sourceId,
      hmac_verified: false,
      pubsub_token: randomBytes(12).toString('base64url'),
      created_at: at,
      updated_at: at,
    };
    this.contactInboxes.set(contactInbox.id, contactInbox);
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
        [...this.contactInboxes.values()].find(
          (ci) => ci.contact_id === contact.id && ci.source_id === sourceId,
        ) ?? this.addContactInbox(contact.id, sourceId);
    } else {
      contactInbox = [...this.contactInboxes.values()].find((ci) => ci.source_id === sourceId);
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
      id: this.nextConversationId++,
      uuid: randomUUID(),
      account_id: this.opts.accountId,
      inbox_id: this.opts.inboxId,
      contact_id: contactInbox.contact_id,
      contact_inbox_id: contactInbox.id,
      status,
      custom_attributes: obj(body.custom_attributes),
      additional_attributes: obj(body.additional_attributes),
      labels: [],
      assignee_id:
        typeof body.assignee_id === 'number' && this.agents.has(body.assignee_id) ? body.assignee_id : null,
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

  private filterConversations(req: SimRequest): SimResponse {
    const conditions = Array.isArray(obj(req.body).payload) ? (obj(req.body).payload as unknown[]) : [];
    const test = (conversation: ChatwootConversation, condition: unknown): boolean => {
      const c = obj(condition);
      const key = String(c.attribute_key ?? '');
      const values = Array.isArray(c.values) ? c.values.map(String) : [];
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
        default:
          return values.includes(value);
      }
    };
    const matches = this.conversations().filter((conversation) => {
      // query_operator on a condition joins it to the next one, evaluated left to right as Chatwoot builds SQL.
      let result = conditions.length === 0 ? true : test(conversation, conditions[0]);
      for (let i = 1; i < conditions.length; i++) {
        const next = test(conversation, conditions[i]);
        result = obj(conditions[i - 1]).query_operator === 'OR' ? result || next : result && next;
      }
      return result;
    });
    const assigned = matches.filter((c) => c.assignee_id !== null).length;
    return json(200, {
      meta: {
        mine_count: matches.filter((c) => c.assignee_id === this.bridgeAgent.id).length,
        assigned_count: assigned,
        unassigned_count: matches.length - assigned,
        all_count: matches.length,
      },
      payload: matches.map((c) => conversationJson(c, this.world)),
    });
  }

  private toggleStatus(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const status = CONVERSATION_STATUSES.find((s) => s === obj(req.body).status);
    if (!status) return json(422, { error: 'Invalid status' });
    this.changeStatus(conversation, status, this.bridgeAgent.id);
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
    // Chatwoot: `after` → up to 100 newer ascending; `before` → 20 older; neither → the latest 20.
    if (after !== null) page = all.filter((m) => m.id > Number(after)).slice(0, 100);
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

  /**
   * Message#prevent_message_flooding (app/models/message.rb): a conversation holding CONVERSATION_MESSAGE_PER_MINUTE
   * _LIMIT (200) messages created within the last minute refuses the next one; MessagesController#create rescues
   * the validation error into `render_could_not_create_error` → 422 `{"error": "Validation failed: Too many
   * messages"}`. Only API-created messages are checked here (test helpers stand for Chatwoot's own UI).
   */
  private floodCheck(conversationId: number): SimResponse | undefined {
    const limit = this.opts.messagesPerConversationPerMinute ?? 200;
    const since = Date.now() - (this.opts.rateWindowMs ?? 60_000);
    const recent = this.messages(conversationId).filter((m) => m.created_at >= since).length;
    return recent >= limit ? json(422, { error: 'Validation failed: Too many messages' }) : undefined;
  }

  private postMessage(req: SimRequest, conversationId: number): SimResponse {
    const conversation = this.mustConversationHttp(conversationId);
    const flooded = this.floodCheck(conversationId);
    if (flooded) return flooded;
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
      status: 'sent',
      created_at: now,
    };
    this.messageMap.set(id, message);
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
        return {
          'content-type': 'application/json',
          'user-agent': 'rest-client/2.1.0 (linux x86_64) ruby/3.4.4p34',
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
    const dataUrl = `${this.baseUrl}/rails/active_storage/blobs/redirect/${token}/${encodeURIComponent(file.filename)}`;
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
