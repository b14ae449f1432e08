// Shared plumbing for the platform simulators: loopback server, routing, recording, contract checks, faults, webhooks.
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { preloadContracts, validateRequest } from './contracts.ts';

/** One request as the simulator saw it; `status` 0 means the socket was reset by a fault rule. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  at: string;
}

/**
 * A fault to inject into the next `times` matching requests. Rules apply in order and are consumed.
 * `delayMs` alone delays and then handles the request normally (the write still happens, as when a client
 * times out on a slow platform); with `status` or `reset` it delays and then fails.
 */
export interface FaultRule {
  method?: string;
  path?: RegExp;
  times: number;
  status?: number;
  /** Seconds, sent as Retry-After (Zendesk only: Chatwoot's 429 never carries it). */
  retryAfter?: number;
  delayMs?: number;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** The JSON body of the injected answer, when the platform's own words matter (Chatwoot's catch-all 422). */
  body?: unknown;
}

/** A webhook the simulator sent (or tried to); `status` 0 means no URL was configured or the POST failed. */
export interface Delivery {
  type: string;
  status: number;
  body: unknown;
  error?: string;
}

/** A file part of a multipart request. */
export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  contentType: string;
  raw: Buffer;
  /** Parsed JSON body, when the request declared JSON. */
  body: unknown;
  /** Multipart fields and files, when the request was multipart/form-data. */
  form?: { fields: Record<string, string>; files: UploadedFile[] } | undefined;
}

export interface SimResponse {
  status: number;
  json?: unknown;
  bytes?: Buffer;
  text?: string;
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return headers ? { status, json: body, headers } : { status, json: body };
}

/** Thrown by handlers to answer with an error without threading it back through every return. */
class HttpError extends Error {
  constructor(readonly response: SimResponse) {
    super(`HTTP ${response.status}`);
  }
}

export function fail(status: number, body: unknown, headers?: Record<string, string>): never {
  throw new HttpError(json(status, body, headers));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nowIso(): string {
  return new Date().toISOString();
}

type Handler = (req: SimRequest, params: Record<string, string>) => SimResponse | Promise<SimResponse>;

/** Minimal router: `:name` segments capture; the first registered match wins (register literals first). */
export class Router {
  private readonly routes: Array<{ method: string; segments: string[]; handler: Handler }> = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: pattern.split('/'), handler });
    return this;
  }

  dispatch(req: SimRequest): SimResponse | Promise<SimResponse> | undefined {
    const parts = req.path.replace(/\/+$/, '').split('/');
    for (const route of this.routes) {
      if (route.method !== req.method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((seg, i) => {
        const part = parts[i] ?? '';
        if (seg.startsWith(':')) {
          params[seg.slice(1)] = decodeURIComponent(part);
          return part.length > 0;
        }
        return seg === part;
      });
      if (ok) return route.handler(req, params);
    }
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<SimRequest['form']> {
  // Undici's Response parses multipart for us; copying into a fresh ArrayBuffer keeps the types exact.
  const form = await new Response(new Uint8Array(raw), {
    headers: { 'content-type': contentType },
  }).formData();
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') fields[field] = value;
    else {
      files.push({
        field,
        filename: value.name,
        contentType: value.type || 'application/octet-stream',
        data: Buffer.from(await value.arrayBuffer()),
      });
    }
  }
  return { fields, files };
}

/** What to keep of a body in `requests`: JSON as is, multipart fields with file summaries, raw bytes by size. */
function describeBody(req: SimRequest): unknown {
  if (req.form) {
    return {
      ...req.form.fields,
      files: req.form.files.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length })),
    };
  }
  if (req.body !== undefined) return req.body;
  return req.raw.length > 0 ? { bytes: req.raw.length, contentType: req.contentType } : undefined;
}

export interface WebhookRequest {
  type: string;
  body: unknown;
  /** The exact text to send, when it is not `body` as JSON (a trigger's rendered template need not be JSON). */
  raw?: string;
  /** Builds the signing headers over the exact bytes that will be sent. */
  headers: (rawBody: string) => Record<string, string>;
  timeoutMs: number;
}

/**
 * Base for both simulators: owns the server, the request log, contract checks, fault rules and the webhook
 * queue. Subclasses only implement `route` (auth + endpoints) and platform-specific error shapes.
 */
export abstract class SimulatorServer {
  readonly requests: RecordedRequest[] = [];
  readonly contractViolations: string[] = [];
  readonly deliveries: Delivery[] = [];
  baseUrl = '';
  /** Added to every API answer: a real platform is a network round trip and a database away (benchmarks). */
  latencyMs = 0;
  protected webhookUrl: string | undefined;
  private readonly faults: FaultRule[] = [];
  private server: Server | undefined;
  // Webhooks go out one at a time in event order, so tests are deterministic; real platforms do not
  // promise order, which the bridge must cope with anyway.
  private deliveryChain: Promise<void> = Promise.resolve();
  private pendingDeliveries = 0;

  protected constructor(
    private readonly api: 'zendesk' | 'chatwoot',
    private readonly validate: boolean,
    webhookUrl: string | undefined,
  ) {
    this.webhookUrl = webhookUrl;
  }

  /** Authenticate and answer one request; undefined means no such route (404). */
  protected abstract route(req: SimRequest): SimResponse | Promise<SimResponse> | undefined;

  /** Paths that belong to the documented REST API and are therefore checked against the spec. */
  protected abstract isApiPath(path: string): boolean;

  /** The platform's answer to an injected error status. */
  protected abstract faultResponse(rule: FaultRule, status: number): SimResponse;

  protected abstract notFound(): SimResponse;

  /**
   * The platform's rate limiting (subclasses; none by default): called for every request after fault rules and
   * before routing. `reject` answers instead of the route (a 429); `headers` go on whatever the answer is.
   */
  protected rateLimit(
    _req: SimRequest,
  ): { reject?: SimResponse; headers?: Record<string, string> } | undefined {
    return undefined;
  }

  protected async listen(): Promise<void> {
    if (this.validate) preloadContracts(this.api);
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        // A bug in the simulator must surface as a 500, never as a hung test.
        if (!res.headersSent) this.send(res, json(500, { error: String(err) }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setWebhookUrl(url: string | undefined): void {
    this.webhookUrl = url;
  }

  injectFaults(rule: FaultRule): void {
    this.faults.push({ ...rule });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Resolves once no webhook delivery is queued or in flight (including ones queued meanwhile). */
  async idle(): Promise<void> {
    while (this.pendingDeliveries > 0) await this.deliveryChain;
  }

  protected resetLogs(): void {
    this.requests.length = 0;
    this.contractViolations.length = 0;
    this.deliveries.length = 0;
    this.faults.length = 0;
  }

  /** Queues a webhook; the body is built by the caller now, so it reflects state at the time of the event. */
  protected enqueueWebhook(hook: WebhookRequest): void {
    this.pendingDeliveries++;
    this.deliveryChain = this.deliveryChain
      .then(() => this.deliver(hook))
      .finally(() => {
        this.pendingDeliveries--;
      });
  }

  private async deliver(hook: WebhookRequest): Promise<void> {
    const url = this.webhookUrl;
    if (!url) {
      this.deliveries.push({
        type: hook.type,
        status: 0,
        body: hook.body,
        error: 'no webhook URL configured',
      });
      return;
    }
    const raw = hook.raw ?? JSON.stringify(hook.body);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: hook.headers(raw),
        body: raw,
        signal: AbortSignal.timeout(hook.timeoutMs),
      });
      await res.arrayBuffer();
      this.deliveries.push({ type: hook.type, status: res.status, body: hook.body });
    } catch (err) {
      // Neither platform retries a failed delivery in a way the bridge can count on, so neither do we.
      this.deliveries.push({ type: hook.type, status: 0, body: hook.body, error: String(err) });
    }
  }

  private takeFault(method: string, path: string): FaultRule | undefined {
    const index = this.faults.findIndex(
      (r) =>
        r.times > 0 && (!r.method || r.method.toUpperCase() === method) && (!r.path || r.path.test(path)),
    );
    if (index < 0) return undefined;
    const rule = this.faults[index]!;
    rule.times--;
    if (rule.times <= 0) this.faults.splice(index, 1);
    return rule;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const sim: SimRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      contentType,
      raw,
      body: undefined,
    };
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      status: 0,
      at: nowIso(),
    };
    this.requests.push(recorded);

    let parseError: SimResponse | undefined;
    try {
      if (/json/i.test(contentType) && raw.length > 0) sim.body = JSON.parse(raw.toString('utf8'));
      else if (/multipart\/form-data/i.test(contentType)) sim.form = await parseMultipart(raw, contentType);
    } catch {
      parseError = json(400, { error: 'Bad Request', description: 'The request body could not be parsed' });
    }
    recorded.body = parseError ? raw.toString('utf8') : describeBody(sim);

    if (this.validate && this.isApiPath(sim.path)) {
      const body = sim.form ? undefined : sim.body;
      for (const v of validateRequest(this.api, method, sim.path, body, contentType || undefined)) {
        this.contractViolations.push(v);
      }
    }

    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const fault = this.takeFault(method, sim.path);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    let response: SimResponse;
    const limited = fault?.status ? undefined : this.rateLimit(sim);
    if (fault?.status)
      response =
        fault.body !== undefined ? json(fault.status, fault.body) : this.faultResponse(fault, fault.status);
    else if (limited?.reject) response = limited.reject;
    else if (parseError) response = parseError;
    else {
      try {
        response = (await this.route(sim)) ?? this.notFound();
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        response = err.response;
      }
    }
    if (limited?.headers) response = { ...response, headers: { ...limited.headers, ...response.headers } };
    recorded.status = response.status;
    this.send(res, response);
  }

  private send(res: ServerResponse, response: SimResponse): void {
    const headers: Record<string, string> = { ...response.headers };
    let payload: Buffer | string = '';
    if (response.bytes) payload = response.bytes;
    else if (response.text !== undefined) {
      payload = response.text;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (response.json !== undefined) {
      payload = JSON.stringify(response.json);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    headers['x-request-id'] = randomUUID();
    res.writeHead(response.status, headers);
    res.end(payload);
  }
}
