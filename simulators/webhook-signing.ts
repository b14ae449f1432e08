// The signature headers each platform puts on a webhook, for replaying a delivery (tests, the benchmark) with a
// chosen secret and time. The simulators' own deliveries add the platforms' other headers around the same signing.
import { randomUUID } from 'node:crypto';
import type { Platform } from '../shared/http/ingress.ts';
import { chatwootSignature, zendeskSignature } from '../shared/http/signature.ts';

/** The signature headers each platform would send for these exact bytes at time `at` (epoch ms). */
export function signedHeaders(
  platform: Platform,
  secret: string,
  raw: string | Buffer,
  at: number,
): Record<string, string> {
  if (platform === 'zendesk') {
    const ts = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      'x-zendesk-webhook-signature-timestamp': ts,
      'x-zendesk-webhook-signature': zendeskSignature(secret, ts, raw),
      'x-zendesk-webhook-invocation-id': String(at),
    };
  }
  const ts = String(Math.floor(at / 1000));
  return {
    'x-chatwoot-timestamp': ts,
    'x-chatwoot-signature': chatwootSignature(secret, ts, raw),
    'x-chatwoot-delivery': randomUUID(),
  };
}
