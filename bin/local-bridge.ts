// The local bridge: the deployed handlers behind a small HTTP server, an embedded DynamoDB API (dynalite)
// with the stack's table definitions, and the in-process SQS FIFO emulation feeding the worker. With no
// Zendesk/Chatwoot configured it starts the simulators (sandbox mode). Used by `npm run dev` and by tests.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import dynalite from 'dynalite';
import { handler as chatwootWebhook } from '../functions/chatwoot-webhook.ts';
import { handler as reconcile } from '../functions/reconcile.ts';
import { handler as syncWorker } from '../functions/sync-worker.ts';
import { handler as zendeskWebhook } from '../functions/zendesk-webhook.ts';
import { appContext } from '../shared/app/deps.ts';
import { APP_API_PREFIX, APP_PATH, appUrl, handleAppRequest } from '../shared/app/http.ts';
import { PLATFORM_KEYS, parseConfig } from '../shared/config.ts';
import { setLocalMode } from '../shared/config-loader.ts';
import { MAX_BODY_BYTES } from '../shared/http/ingress.ts';
import { LocalFifoQueue, type LocalQueueOptions } from '../shared/queue/local.ts';
import { createTableInput, LEDGER_TABLE, LINKS_TABLE } from '../shared/store/tables.ts';
import { resyncTicket } from '../shared/sync/reconcile.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';
import { ChatwootSimulator } from '../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../simulators/zendesk.ts';
import { localImport } from './local-import.ts';
import { sandboxRoundTrip } from './sandbox-tour.ts';

export interface LocalBridgeOptions {
  env: Record<string, string | undefined>;
  port?: number;
  host?: string;
  queue?: LocalQueueOptions;
  /** Count outbound calls (benchmarks, tests that assert one API call per message). */
  onHttpRequest?: (platform: 'zendesk' | 'chatwoot', method: string, path: string) => void;
  /** Each DynamoDB request: its command name and input (benchmarks size the items they write). */
  onDynamoRequest?: (operation: string, input: unknown) => void;
  /** Time spent in a webhook function's handler, as Lambda would bill it (benchmarks). */
  onWebhookHandled?: (ms: number) => void;
}

export interface Sandbox {
  zendesk: ZendeskSimulator;
  chatwoot: ChatwootSimulator;
  env: Record<string, string>;
}

export interface LocalBridge {
  url: string;
  port: number;
  queue: LocalFifoQueue;
  dynamoEndpoint: string;
  env: Record<string, string | undefined>;
  sandbox?: Sandbox | undefined;
  close(): Promise<void>;
}

/** Sandbox simulators' fixed shape: the ids a real account would have. */
const SANDBOX = { email: 'bridge@sandbox.example', accountId: 1, inboxId: 7 };

export function isSandbox(env: Record<string, string | undefined>): boolean {
  // The dashboard app's key alone is not a platform: a fixed one may be kept across sandbox runs.
  return PLATFORM_KEYS.every((k) => k === 'DASHBOARD_APP_SECRET' || !env[k] || env[k]?.trim() === '');
}

export async function startSandbox(): Promise<Sandbox> {
  const secret = () => randomBytes(24).toString('base64url');
  const s = {
    zendeskToken: secret(),
    zendeskWebhookSecret: secret(),
    chatwootToken: secret(),
    chatwootWebhookSecret: secret(),
  };
  const zendesk = await ZendeskSimulator.start({
    email: SANDBOX.email,
    apiToken: s.zendeskToken,
    webhookSecret: s.zendeskWebhookSecret,
  });
  const chatwoot = await ChatwootSimulator.start({
    apiToken: s.chatwootToken,
    accountId: SANDBOX.accountId,
    inboxId: SANDBOX.inboxId,
    webhookSecret: s.chatwootWebhookSecret,
  });
  return {
    zendesk,
    chatwoot,
    env: {
      ZENDESK_BASE_URL: zendesk.baseUrl,
      ZENDESK_EMAIL: SANDBOX.email,
      ZENDESK_API_TOKEN: s.zendeskToken,
      ZENDESK_WEBHOOK_SECRET: s.zendeskWebhookSecret,
      CHATWOOT_BASE_URL: chatwoot.baseUrl,
      CHATWOOT_ACCOUNT_ID: String(SANDBOX.accountId),
      CHATWOOT_INBOX_ID: String(SANDBOX.inboxId),
      CHATWOOT_API_TOKEN: s.chatwootToken,
      CHATWOOT_WEBHOOK_SECRET: s.chatwootWebhookSecret,
    },
  };
}

async function startDynalite(
  dataDir: string | undefined,
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({
    ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Creates the stack's tables (same definitions as lib/) unless they exist. */
export async function ensureTables(
  endpoint: string,
  names: { links: string; ledger: string },
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const [def, name] of [
    [LINKS_TABLE, names.links],
    [LEDGER_TABLE, names.ledger],
  ] as const) {
    if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(def, name)));
  }
  client.destroy();
}

/** Like API Gateway, refuse a body above the ingress's limit before handing it over. */
const MAX_READ_BYTES = MAX_BODY_BYTES;

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_READ_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolveBody(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The same event shape API Gateway (HTTP API, payload 2.0) hands the ingress Lambdas; bodies base64-encoded. */
function toApiGatewayEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${req.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now}-${Math.random().toString(36).slice(2, 8)}`,
      routeKey: `${req.method} ${url.pathname}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/**
 * The admin routes (redrive, reconcile, queue contents) have no credentials, so they refuse what a web page could
 * send: any request with an Origin header (browsers add one to cross-site requests) and any Host that is not
 * loopback (DNS rebinding). curl and the bridge CLI send neither.
 */
function fromThisMachine(req: IncomingMessage): boolean {
  if (req.headers.origin !== undefined) return false;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startLocalBridge(o: LocalBridgeOptions): Promise<LocalBridge> {
  const sandbox = isSandbox(o.env) ? await startSandbox() : undefined;
  const closers: Array<() => Promise<void>> = [];
  try {
    const base: Record<string, string | undefined> = {
      ...o.env,
      ...(sandbox?.env ?? {}),
      // The dashboard app's key: one per run unless configured (`npm run bridge -- app-url --local` prints it).
      DASHBOARD_APP_SECRET: o.env.DASHBOARD_APP_SECRET?.trim() || randomBytes(24).toString('base64url'),
    };
    // Fail before anything listens: the message names variables, never their values.
    const config = parseConfig(base);
    let endpoint = base.DYNAMODB_ENDPOINT;
    if (!endpoint) {
      const root = base.LOCAL_DATA_DIR === ':memory:' ? undefined : resolve(base.LOCAL_DATA_DIR ?? '.local');
      // The sandbox's simulators start empty every run, so its store must too: links to tickets of an earlier
      // run would point at conversations that no longer exist. A configured bridge keeps its data.
      const dataDir = root && sandbox ? join(root, 'sandbox') : root;
      if (dataDir && sandbox) rmSync(dataDir, { recursive: true, force: true });
      const db = await startDynalite(dataDir);
      closers.push(db.close);
      endpoint = db.endpoint;
    }
    await ensureTables(endpoint, { links: config.LINKS_TABLE_NAME, ledger: config.LEDGER_TABLE_NAME });
    const env = { ...base, DYNAMODB_ENDPOINT: endpoint };

    const queue = new LocalFifoQueue((event) => syncWorker(event), o.queue);
    setLocalMode({
      queue,
      deadLetters: queue,
      redelivery: queue,
      releaseHeld: (ids) => queue.releaseNow(ids),
      env,
      onHttpRequest: o.onHttpRequest,
      onDynamoRequest: o.onDynamoRequest,
    });
    queue.start();
    closers.push(() => queue.stop());
    // The deployed schedule's twin: off unless RECONCILE_INTERVAL_MS is set (tests run it on demand instead).
    const interval = Number(base.RECONCILE_INTERVAL_MS ?? 0);
    if (interval > 0) {
      const timer = setInterval(() => void reconcile().catch(() => undefined), interval);
      closers.push(async () => clearInterval(timer));
    }

    let listening = '';
    const bridgeUrl = () => listening;
    const importRoutes = localImport(queue);
    closers.push(importRoutes.close);
    const server: Server = createServer((req, res) => {
      void route(req, res).catch(() =>
        send(res, 500, { error: 'internal_error', message: 'local server error' }),
      );
    });
    const route = async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://local');
      if (req.method === 'GET' && url.pathname === '/health') {
        return send(res, 200, {
          status: 'ok',
          mode: sandbox ? 'sandbox' : 'configured',
          queueDepth: queue.depth(),
        });
      }
      if (/^\/_(local|sandbox)\//.test(url.pathname) && !fromThisMachine(req)) {
        return send(res, 403, {
          error: 'forbidden',
          message:
            'the local admin routes answer only to tools on this machine (no browser Origin, loopback Host)',
        });
      }
      if (sandbox && req.method === 'POST' && url.pathname === '/_sandbox/round-trip') {
        const tour = await sandboxRoundTrip(sandbox, queue);
        return send(res, tour.ok ? 200 : 500, tour);
      }
      if (req.method === 'POST' && url.pathname === '/_local/reconcile') {
        // ?ticket=N re-syncs that one ticket (ops CLI `resync`); without it, one reconciliation run.
        const ticket = url.searchParams.get('ticket');
        if (ticket !== null && !/^\d+$/.test(ticket)) {
          return send(res, 400, { error: 'bad_request', message: 'ticket must be a Zendesk ticket id' });
        }
        try {
          if (ticket)
            return send(res, 200, { ticket, enqueued: await resyncTicket(await getWorkerDeps(), ticket) });
          return send(res, 200, await reconcile());
        } catch (err) {
          return send(res, 422, {
            error: 'reconcile_failed',
            message: err instanceof Error ? err.message : 'failed',
          });
        }
      }
      const imported = await importRoutes.handle(req, url);
      if (imported) return send(res, imported.status, imported.body);
      if (req.method === 'POST' && url.pathname === '/_local/redrive') {
        return send(res, 200, { redriven: await queue.redrive() });
      }
      if (req.method === 'GET' && url.pathname === '/_local/queue') {
        return send(res, 200, { depth: queue.depth(), deadLetters: queue.deadLetters });
      }
      if (req.method === 'GET' && url.pathname === '/_local/app-url') {
        return send(res, 200, { url: appUrl(bridgeUrl(), String(base.DASHBOARD_APP_SECRET)) });
      }
      if (url.pathname === APP_PATH || url.pathname.startsWith(APP_API_PREFIX)) {
        // The dashboard app: the same handler as its Lambda.
        const body = await readBody(req);
        if (body === 'too-large')
          return send(res, 413, { error: 'payload_too_large', message: 'body too large' });
        const result = await handleAppRequest(toApiGatewayEvent(req, url, body), appContext);
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? '');
        return;
      }
      const hook =
        url.pathname === '/webhooks/zendesk'
          ? zendeskWebhook
          : url.pathname === '/webhooks/chatwoot'
            ? chatwootWebhook
            : undefined;
      if (!hook)
        return send(res, 404, { error: 'not_found', message: `no route for ${req.method} ${url.pathname}` });
      if (req.method !== 'POST')
        return send(res, 405, { error: 'method_not_allowed', message: 'use POST' }, { allow: 'POST' });
      const body = await readBody(req);
      if (body === 'too-large')
        return send(res, 413, { error: 'payload_too_large', message: 'body too large' });
      const handlerStarted = performance.now();
      const result = await hook(toApiGatewayEvent(req, url, body));
      o.onWebhookHandled?.(performance.now() - handlerStarted);
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
    };
    await new Promise<void>((r, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => r());
    });
    closers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const url = `http://${o.host ?? '127.0.0.1'}:${port}`;
    listening = url;
    if (sandbox) {
      // Close the loop: the simulators deliver their signed webhooks (including echoes) to this bridge.
      sandbox.zendesk.setWebhookUrl(`${url}/webhooks/zendesk`);
      sandbox.chatwoot.setWebhookUrl(`${url}/webhooks/chatwoot`);
      closers.push(
        () => sandbox.zendesk.close(),
        () => sandbox.chatwoot.close(),
      );
    }
    return {
      url,
      port,
      queue,
      dynamoEndpoint: endpoint,
      env,
      sandbox,
      close: async () => {
        for (const c of closers.reverse()) await c().catch(() => undefined);
        setLocalMode(undefined);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    if (sandbox) await Promise.all([sandbox.zendesk.close(), sandbox.chatwoot.close()]);
    throw err;
  }
}
