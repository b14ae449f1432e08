// Starts a local bridge wired to fresh Zendesk and Chatwoot simulators (real HTTP on 127.0.0.1) and a real
// DynamoDB API (dynalite in-process, or DYNAMODB_ENDPOINT when CI points it at DynamoDB Local), with counters
// for outbound API calls and DynamoDB requests.
import { randomBytes, randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { type LocalBridge, startLocalBridge } from '../../bin/local-bridge.ts';
import type { LocalQueueOptions } from '../../shared/queue/local.ts';
import { ChatwootSimulator } from '../../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../../simulators/zendesk.ts';

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
  close(): Promise<void>;
}

export const ACCOUNT_ID = 1;
export const INBOX_ID = 7;
export const BRIDGE_EMAIL = 'bridge@acme.example';

export async function startHarness(
  o: { queue?: LocalQueueOptions; env?: Record<string, string> } = {},
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
  });
  const chatwoot = await ChatwootSimulator.start({
    apiToken: secrets.chatwootToken,
    accountId: ACCOUNT_ID,
    inboxId: INBOX_ID,
    webhookSecret: secrets.chatwootWebhook,
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
      ...o.env,
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

  return {
    bridge,
    zendesk,
    chatwoot,
    secrets,
    calls,
    dynamo,
    batches,
    settle,
    close: async () => {
      await bridge.close();
      await Promise.all([zendesk.close(), chatwoot.close()]);
    },
  };
}
