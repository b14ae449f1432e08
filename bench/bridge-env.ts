// The local bridge's settings every benchmark shares: both simulators' addresses, the run's secrets, memory storage.
import { randomBytes } from 'node:crypto';

export interface BenchSecrets {
  zt: string;
  zw: string;
  ct: string;
  cw: string;
}

/** Fresh random API tokens (`zt`, `ct`) and webhook secrets (`zw`, `cw`) for one run. */
export function benchSecrets(): BenchSecrets {
  const secret = () => randomBytes(18).toString('base64url');
  return { zt: secret(), zw: secret(), ct: secret(), cw: secret() };
}

/**
 * The bridge pointed at the two simulators, with in-memory storage. A Zendesk simulator that enforces no account
 * limit announces none (no X-Rate-Limit header), so the bridge's budget is set past any load there; one that does
 * announces it on every answer, and the bridge paces to that from the first answer on.
 */
export function benchBridgeEnv(
  zendesk: { baseUrl: string; accountRateLimit?: number | undefined },
  chatwoot: { baseUrl: string },
  s: BenchSecrets,
): Record<string, string> {
  return {
    ZENDESK_BASE_URL: zendesk.baseUrl,
    ZENDESK_EMAIL: 'bench@bridge.example',
    ZENDESK_API_TOKEN: s.zt,
    ZENDESK_WEBHOOK_SECRET: s.zw,
    CHATWOOT_BASE_URL: chatwoot.baseUrl,
    CHATWOOT_ACCOUNT_ID: '1',
    CHATWOOT_INBOX_ID: '7',
    CHATWOOT_API_TOKEN: s.ct,
    CHATWOOT_WEBHOOK_SECRET: s.cw,
    LOCAL_DATA_DIR: ':memory:',
    // CI's second pass points every benchmark at DynamoDB Local; otherwise the bridge embeds its own.
    ...(process.env.DYNAMODB_ENDPOINT ? { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT } : {}),
    ...(zendesk.accountRateLimit === undefined ? { ZENDESK_RATE_LIMIT: '100000' } : {}),
  };
}
