// HMAC signing and verification for both platforms' webhooks, on the raw body bytes, timing-safe.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Largest clock difference accepted between a webhook's signed timestamp and now (replay window). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

/** Zendesk: base64(HMAC-SHA256(secret, timestamp + rawBody)); the secret's UTF-8 bytes are the key. */
export function zendeskSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(rawBody).digest('base64');
}

/** Chatwoot (2026+): 'sha256=' + hex(HMAC-SHA256(secret, `${timestamp}.${rawBody}`)). */
export function chatwootSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/** Constant-time string comparison that does not leak the expected length through an early return. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    // Compare against itself so the time spent does not depend on where the strings differ.
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export type SignatureFailure = 'missing' | 'stale' | 'mismatch';

/**
 * Parses a signature timestamp: Zendesk sends ISO-8601, Chatwoot epoch seconds. Returns epoch ms or undefined.
 */
function parseSignatureTimestamp(value: string): number | undefined {
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  if (/^\d{12,14}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface VerifyInput {
  secrets: readonly string[];
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: Buffer;
  now: number;
  sign: (secret: string, timestamp: string, rawBody: Buffer) => string;
}

/** Verifies against every configured secret (current and previous, for rotation). */
export function verifySignature(input: VerifyInput): { ok: true } | { ok: false; reason: SignatureFailure } {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'missing' };
  const at = parseSignatureTimestamp(timestamp);
  if (at === undefined || Math.abs(input.now - at) > MAX_SIGNATURE_AGE_MS)
    return { ok: false, reason: 'stale' };
  let matched = false;
  for (const secret of input.secrets) {
    // No early exit: every secret is tried so timing does not reveal which one matched.
    if (safeEqual(input.sign(secret, timestamp, input.rawBody), signature)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
