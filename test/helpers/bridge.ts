// Starts a local bridge wired to fresh Zendesk and Chatwoot simulators (real HTTP on 127.0.0.1) and a real
// DynamoDB API (dynalite in-process, or DYNAMODB_ENDPOINT when CI points it at DynamoDB Local), with counters
// for outbound API calls and DynamoDB requests.
import { randomBytes, randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { type LocalBridge, startLocalBridge } from '../../bin/local-bridge.ts';
import type { LocalQueueOptions } from '../../shared/queue/local.ts';
import { ChatwootSimulator, type ChatwootSimulatorOptions } from '../../simulators/chatwoot.ts';
import { signedHeaders } from '../../simulators/webhook-signing.ts';
import { ZendeskSimulator, type ZendeskSimulatorOptions } from '../../simulators/zendesk.ts';

export interface Harness {
  bridge: LocalBridge;
  zendesk: ZendeskSimulator;
  chatwoot: ChatwootSimulator;
  secrets: { zendeskWebhook: string; chatwootWebhook: string; zendeskToken: string; chatwootToken: string };
  /** Outbound API calls the bridge made, in order. */
  calls: Array<{ platform: 'zendesk' | 'chatwoot'; method: string; path: string }>;
  /** DynamoDB operations the bridge sent, in order. */
  dynamo: string[];
  batches: SQSEvent[];
  /** Waits until simulators and queue are all quiet (webhooks delivered, queue drained), twice in a row. */
  settle(timeoutMs?: number): Promise<void>;
  /**
   * Makes everything done so far visible to the next reconciliation run: Zendesk's export leaves out the last
   * minute (its clock is moved a minute on), and Chatwoot's times are whole seconds (waits for the next second
   * after its newest message, at most one).
   */
  beforeReconcile(): Promise<void>;
  close(): Promise<void>;
}

export const ACCOUNT_ID = 1;
export const INBOX_ID = 7;
export const BRIDGE_EMAIL = 'bridge@acme.example';

export async function startHarness(
  o: {
    queue?: LocalQueueOptions;
    /** Bridge settings; a function sees the started simulators (e.g. to allow Chatwoot's file origin). */
    env?:
      | Record<string, string>
      | ((sims: { zendesk: ZendeskSimulator; chatwoot: ChatwootSimulator }) => Record<string, string>);
    /** Platform behaviours to switch on in the simulators (limits, roles, hosts, versions). */
    zendeskOptions?: Partial<ZendeskSimulatorOptions>;
    chatwootOptions?: Partial<ChatwootSimulatorOptions>;
  } = {},
): Promise<Harness> {
  const secrets = {
    zendeskWebhook: randomBytes(18).toString('base64url'),
    chatwootWebhook: randomBytes(18).toString('base64url'),
    zendeskToken: randomBytes(18).toString('base64url'),
    chatwootToken: randomBytes(18).toString('base64url'),
  };
  const zendesk = await ZendeskSimulator.start({
    email: BRIDGE_EMAIL,
    apiToken: secrets.zendeskToken,
    webhookSecret: secrets.zendeskWebhook,
    ...o.zendeskOptions,
  });
  const chatwoot = await ChatwootSimulator.start({
    apiToken: secrets.chatwootToken,
    accountId: ACCOUNT_ID,
    inboxId: INBOX_ID,
    webhookSecret: secrets.chatwootWebhook,
    ...o.chatwootOptions,
  });
  const calls: Harness['calls'] = [];
  const dynamo: string[] = [];
  const batches: SQSEvent[] = [];
  const suffix = randomUUID().slice(0, 8);
  const visibilityTimeoutMs = o.queue?.visibilityTimeoutMs ?? 100;
  const bridge = await startLocalBridge({
    env: {
      ZENDESK_BASE_URL: zendesk.baseUrl,
      ZENDESK_EMAIL: BRIDGE_EMAIL,
      ZENDESK_API_TOKEN: secrets.zendeskToken,
      ZENDESK_WEBHOOK_SECRET: secrets.zendeskWebhook,
      CHATWOOT_BASE_URL: chatwoot.baseUrl,
      CHATWOOT_ACCOUNT_ID: String(ACCOUNT_ID),
      CHATWOOT_INBOX_ID: String(INBOX_ID),
      CHATWOOT_API_TOKEN: secrets.chatwootToken,
      CHATWOOT_WEBHOOK_SECRET: secrets.chatwootWebhook,
      LOCAL_DATA_DIR: ':memory:',
      // Unique table names let suites share one DynamoDB Local in CI without seeing each other's items.
      LINKS_TABLE_NAME: `links-${suffix}`,
      LEDGER_TABLE_NAME: `ledger-${suffix}`,
      ...(process.env.DYNAMODB_ENDPOINT ? { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT } : {}),
      // The deployed ratio of the retry schedule's base to the visibility timeout (30 s : 180 s), so a test's
      // compressed clock keeps the deployed shape.
      RETRY_BACKOFF_BASE_MS: String(Math.max(1, Math.round(visibilityTimeoutMs / 6))),
      // Likewise the time a platform may still be finishing a write after a timeout or a reset (30 s for Zendesk,
      // the deployed retry base).
      UNKNOWN_OUTCOME_SETTLE_MS: String(Math.max(1, Math.round(visibilityTimeoutMs / 6))),
      ...(typeof o.env === 'function' ? o.env({ zendesk, chatwoot }) : o.env),
    },
    queue: { onBatch: (e) => batches.push(e), ...o.queue, visibilityTimeoutMs },
    onHttpRequest: (platform, method, path) => calls.push({ platform, method, path }),
    onDynamoRequest: (op) => dynamo.push(op),
  });
  zendesk.setWebhookUrl(`${bridge.url}/webhooks/zendesk`);
  chatwoot.setWebhookUrl(`${bridge.url}/webhooks/chatwoot`);

  const settle = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    let quietRounds = 0;
    while (quietRounds < 2) {
      if (Date.now() > deadline) throw new Error('harness did not settle in time');
      const before = bridge.queue.sent + calls.length;
      await zendesk.idle();
      await chatwoot.idle();
      await bridge.queue.drained(Math.max(1, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, 30));
      quietRounds = bridge.queue.sent + calls.length === before ? quietRounds + 1 : 0;
    }
  };

  const beforeReconcile = async () => {
    zendesk.advanceClock(61_000);
    const newest = Math.max(
      0,
      ...chatwoot.conversations().flatMap((c) => chatwoot.messages(c.id).map((m) => m.created_at)),
    );
    const wait = (Math.floor(newest / 1000) + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 5));
  };

  return {
    bridge,
    zendesk,
    chatwoot,
    secrets,
    calls,
    dynamo,
    batches,
    settle,
    beforeReconcile,
    close: async () => {
      await bridge.close();
      await Promise.all([zendesk.close(), chatwoot.close()]);
    },
  };
}

/**
 * Posts a webhook body (a string as it is, anything else as JSON) to the bridge as the platform would, signed
 * with the run's secret at the current time, and answers the response's status.
 */
export async function postSigned(
  h: Harness,
  platform: 'zendesk' | 'chatwoot',
  body: unknown,
): Promise<number> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const secret = platform === 'zendesk' ? h.secrets.zendeskWebhook : h.secrets.chatwootWebhook;
  const res = await fetch(`${h.bridge.url}/webhooks/${platform}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedHeaders(platform, secret, raw, Date.now()) },
    body: raw,
  });
  await res.body?.cancel();
  return res.status;
}

/** Runs `act` with Zendesk's webhooks held back and returns what it would have delivered, in order. */
export async function heldZendeskDeliveries(
  h: Harness,
  act: () => void,
): Promise<Array<{ type: string; body: unknown }>> {
  await h.settle();
  h.zendesk.setWebhookUrl(undefined);
  const before = h.zendesk.deliveries.length;
  act();
  await h.zendesk.idle();
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
  return h.zendesk.deliveries.slice(before).map((d) => ({ type: d.type, body: d.body }));
}
