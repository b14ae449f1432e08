// Webhook administration endpoints of both simulators (what `bridge setup` and `bridge doctor` call): Zendesk's
// Webhooks API and Chatwoot's account webhooks and inbox lookup, with the platforms' shapes and validation.
//
// Sources of the shapes (the Zendesk Webhooks API is not in contracts/zendesk/support-api.yaml):
// - Zendesk: developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks/ (JSON format table: id string,
//   name, status active|inactive, endpoint, http_method, request_format json|xml|form_encoded, subscriptions;
//   event subscriptions require POST + json), and the generated SDK botbrains-io/python-zendesk
//   docs/models/{webhooklistresponse,webhooksigningsecret,webhookpatchrequestwebhook}.md: list = {webhooks, meta,
//   links}, create = 201 {webhook}, PATCH {webhook: partial} = 204, GET …/signing_secret = {signing_secret:
//   {algorithm, secret}}. Errors are {errors: [{code, title, detail}]}.
// - Chatwoot: swagger.json `webhook` / `webhook_create_update_payload` (url, name, subscriptions enum) and, where
//   the code differs from the spec, app/views/api/v1/accounts/webhooks/{index,create}.json.jbuilder in
//   chatwoot/chatwoot: responses are wrapped as {payload: {webhooks: [...]}} and {payload: {webhook}}; the partial
//   renders id, name, url, account_id, subscriptions, secret and inbox. GET inboxes/{id} returns the `inbox` schema.
//   The webhook model validates the URL format and its uniqueness per account (422 {message, attributes}).
// Simplification: each simulator signs every delivery with its one configured secret, so every webhook registered
// here reports that secret; real platforms generate one per webhook.
import { randomBytes } from 'node:crypto';
import { fail, isRecord, json, nowIso, type Router, type SimRequest } from './http.ts';

export interface ZendeskWebhook {
  id: string;
  name: string;
  status: 'active' | 'inactive';
  endpoint: string;
  http_method: string;
  request_format: string;
  subscriptions: string[];
  created_at: string;
  created_by: string;
  updated_at: string;
}

const ZENDESK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ZENDESK_FORMATS = ['json', 'xml', 'form_encoded'];

function zendeskInvalid(detail: string): never {
  fail(400, { errors: [{ code: 'InvalidValue', title: 'Invalid value', detail }] });
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Zendesk's webhooks: `/api/v2/webhooks…`. */
export class ZendeskWebhookAdmin {
  readonly webhooks: ZendeskWebhook[] = [];

  constructor(
    private readonly signingSecret: string,
    private readonly createdBy: () => number,
  ) {}

  addRoutes(router: Router): void {
    router
      .add('GET', '/api/v2/webhooks', () =>
        json(200, {
          webhooks: this.webhooks,
          meta: { has_more: false, after_cursor: null, before_cursor: null },
          links: { next: null, prev: null },
        }),
      )
      .add('POST', '/api/v2/webhooks', (req) => this.create(req))
      .add('GET', '/api/v2/webhooks/:id', (_req, p) => json(200, { webhook: this.find(p.id) }))
      .add('PATCH', '/api/v2/webhooks/:id', (req, p) => this.patch(req, this.find(p.id)))
      .add('GET', '/api/v2/webhooks/:id/signing_secret', (_req, p) => {
        this.find(p.id);
        return json(200, { signing_secret: { algorithm: 'SHA256', secret: this.signingSecret } });
      });
  }

  private find(id: string | undefined): ZendeskWebhook {
    const found = this.webhooks.find((w) => w.id === id);
    if (!found) fail(404, { errors: [{ code: 'WebhookNotFound', title: 'Webhook not found' }] });
    return found;
  }

  private create(req: SimRequest): ReturnType<typeof json> {
    const input = isRecord(req.body) && isRecord(req.body.webhook) ? req.body.webhook : undefined;
    if (!input) zendeskInvalid('body must be {"webhook": {...}}');
    const at = nowIso();
    const webhook: ZendeskWebhook = {
      id: `01${randomBytes(12).toString('hex').toUpperCase()}`,
      name: '',
      status: 'active',
      endpoint: '',
      http_method: 'POST',
      request_format: 'json',
      subscriptions: [],
      created_at: at,
      created_by: String(this.createdBy()),
      updated_at: at,
    };
    this.apply(webhook, input, true);
    this.webhooks.push(webhook);
    return json(201, { webhook });
  }

  private patch(req: SimRequest, webhook: ZendeskWebhook): ReturnType<typeof json> {
    const input = isRecord(req.body) && isRecord(req.body.webhook) ? req.body.webhook : undefined;
    if (!input) zendeskInvalid('body must be {"webhook": {...}}');
    const next = { ...webhook };
    this.apply(next, input, false);
    Object.assign(webhook, next, { updated_at: nowIso() });
    return { status: 204 };
  }

  /** Validates (all fields on create, given fields on patch) and copies the writable fields. */
  private apply(target: ZendeskWebhook, input: Record<string, unknown>, creating: boolean): void {
    const given = (k: string) => creating || k in input;
    if (given('name') && (typeof input.name !== 'string' || input.name.trim() === '')) {
      zendeskInvalid('name is required');
    }
    if (given('endpoint') && !isHttpUrl(input.endpoint)) zendeskInvalid('endpoint must be an http(s) URL');
    if (given('http_method') && !ZENDESK_METHODS.includes(String(input.http_method))) {
      zendeskInvalid('http_method is invalid');
    }
    if (given('request_format') && !ZENDESK_FORMATS.includes(String(input.request_format))) {
      zendeskInvalid('request_format is invalid');
    }
    if (given('status') && input.status !== 'active' && input.status !== 'inactive') {
      zendeskInvalid('status must be active or inactive');
    }
    if ('subscriptions' in input) {
      const subs = input.subscriptions;
      if (!Array.isArray(subs) || subs.some((s) => typeof s !== 'string')) {
        zendeskInvalid('subscriptions must be an array of strings');
      }
    }
    for (const key of ['name', 'endpoint', 'http_method', 'request_format', 'status'] as const) {
      if (key in input) (target as unknown as Record<string, unknown>)[key] = input[key];
    }
    if (Array.isArray(input.subscriptions)) target.subscriptions = [...(input.subscriptions as string[])];
    const events = target.subscriptions.filter((s) => s.startsWith('zen:event-type:'));
    if (events.length > 0 && (target.http_method !== 'POST' || target.request_format !== 'json')) {
      zendeskInvalid('webhooks subscribed to Zendesk events must use POST and json');
    }
  }
}

const CHATWOOT_WEBHOOK_EVENTS = [
  'conversation_created',
  'conversation_status_changed',
  'conversation_updated',
  'contact_created',
  'contact_updated',
  'message_created',
  'message_updated',
  'webwidget_triggered',
  'conversation_typing_on',
  'conversation_typing_off',
];

export interface ChatwootWebhook {
  id: number;
  name: string | null;
  url: string;
  account_id: number;
  subscriptions: string[];
  inbox_id: number | null;
}

export interface ChatwootInboxView {
  id: number;
  name: string;
  channel_type: string;
}

function chatwootInvalid(message: string, attribute: string): never {
  fail(422, { message, attributes: [attribute] });
}

/** Chatwoot's account webhooks and inbox lookup: `/api/v1/accounts/{id}/webhooks…`, `…/inboxes/{id}`. */
export class ChatwootWebhookAdmin {
  readonly webhooks: ChatwootWebhook[] = [];
  private nextId = 71;

  constructor(
    private readonly accountId: number,
    private readonly secret: string,
    /** The inboxes that exist (tests change `channel_type` to simulate a non-API inbox). */
    readonly inboxes: ChatwootInboxView[],
  ) {}

  addRoutes(router: Router, prefix: string): void {
    router
      .add('GET', `${prefix}/webhooks`, () =>
        json(200, { payload: { webhooks: this.webhooks.map((w) => this.view(w)) } }),
      )
      .add('POST', `${prefix}/webhooks`, (req) => {
        const webhook: ChatwootWebhook = {
          id: this.nextId++,
          name: null,
          url: '',
          account_id: this.accountId,
          subscriptions: [],
          inbox_id: null,
        };
        this.apply(webhook, req.body);
        this.webhooks.push(webhook);
        return json(200, { payload: { webhook: this.view(webhook) } });
      })
      .add('PATCH', `${prefix}/webhooks/:id`, (req, p) => {
        const webhook = this.webhooks.find((w) => String(w.id) === p.id);
        if (!webhook) return json(404, { error: 'Resource could not be found' });
        const next = { ...webhook };
        this.apply(next, req.body);
        Object.assign(webhook, next);
        return json(200, { payload: { webhook: this.view(webhook) } });
      })
      .add('GET', `${prefix}/inboxes/:id`, (_req, p) => {
        const inbox = this.inboxes.find((i) => String(i.id) === p.id);
        if (!inbox) return json(404, { error: 'Resource could not be found' });
        return json(200, { ...inbox, channel_id: inbox.id, avatar_url: '', provider: null });
      });
  }

  private apply(target: ChatwootWebhook, body: unknown): void {
    // Rails wraps a JSON body under the controller's name, so both {url} and {webhook: {url}} are accepted.
    const input = isRecord(body) && isRecord(body.webhook) ? body.webhook : isRecord(body) ? body : {};
    if ('url' in input) target.url = String(input.url);
    if (typeof input.name === 'string') target.name = input.name;
    if ('inbox_id' in input) {
      const id = Number(input.inbox_id);
      if (!this.inboxes.some((i) => i.id === id)) chatwootInvalid('Inbox must exist', 'inbox');
      target.inbox_id = id;
    }
    if ('subscriptions' in input) {
      const subs = input.subscriptions;
      if (!Array.isArray(subs) || subs.some((s) => !CHATWOOT_WEBHOOK_EVENTS.includes(String(s)))) {
        chatwootInvalid('Subscriptions Invalid events', 'subscriptions');
      }
      target.subscriptions = subs.map(String);
    }
    if (!isHttpUrl(target.url)) chatwootInvalid('Url is invalid', 'url');
    if (this.webhooks.some((w) => w.id !== target.id && w.url === target.url)) {
      chatwootInvalid('Url has already been taken', 'url');
    }
  }

  private view(w: ChatwootWebhook): Record<string, unknown> {
    const inbox = this.inboxes.find((i) => i.id === w.inbox_id);
    return {
      id: w.id,
      name: w.name,
      url: w.url,
      account_id: w.account_id,
      subscriptions: w.subscriptions,
      secret: this.secret,
      ...(inbox ? { inbox: { id: inbox.id, name: inbox.name } } : {}),
    };
  }
}
