// Webhook signature verification for both platforms, against the contract fixture and rotation cases.
import { describe, expect, it } from 'vitest';
import {
  chatwootSignature,
  safeEqual,
  verifySignature,
  zendeskSignature,
} from '../../shared/http/signature.ts';
import { fixture } from '../helpers/fixtures.ts';

const signed = fixture<{ signing_secret: string; headers: Record<string, string>; raw_body: string }>(
  'zendesk',
  'signed-request.test-secret.example.json',
);
const signedAt = Date.parse(signed.headers['x-zendesk-webhook-signature-timestamp']!);

describe('Zendesk signature', () => {
  const base = {
    signature: signed.headers['x-zendesk-webhook-signature'],
    timestamp: signed.headers['x-zendesk-webhook-signature-timestamp'],
    rawBody: Buffer.from(signed.raw_body),
    now: signedAt + 1000,
    sign: zendeskSignature,
  };

  it('verifies the documented signed request fixture', () => {
    expect(zendeskSignature(signed.signing_secret, base.timestamp!, base.rawBody)).toBe(base.signature);
    expect(verifySignature({ ...base, secrets: [signed.signing_secret] })).toEqual({ ok: true });
  });

  it('accepts the previous secret during a rotation and refuses unknown ones', () => {
    expect(verifySignature({ ...base, secrets: ['new-secret-value', signed.signing_secret] }).ok).toBe(true);
    expect(verifySignature({ ...base, secrets: ['new-secret-value'] })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a body changed by one byte', () => {
    const rawBody = Buffer.from(signed.raw_body.replace('crushed', 'crushes'));
    expect(verifySignature({ ...base, rawBody, secrets: [signed.signing_secret] }).ok).toBe(false);
  });

  it('refuses a replay more than 5 minutes old or ahead', () => {
    const secrets = [signed.signing_secret];
    expect(verifySignature({ ...base, secrets, now: signedAt + 5 * 60_000 + 1 })).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifySignature({ ...base, secrets, now: signedAt - 5 * 60_000 - 1 }).ok).toBe(false);
  });

  it('reports missing headers', () => {
    expect(verifySignature({ ...base, signature: undefined, secrets: ['x'] })).toEqual({
      ok: false,
      reason: 'missing',
    });
  });
});

describe('Chatwoot signature', () => {
  it('is sha256= plus hex HMAC of "timestamp.body" and verifies with epoch-second timestamps', () => {
    const body = Buffer.from('{"event":"message_created"}');
    const ts = '1787047740';
    const sig = chatwootSignature('cw-secret-1234', ts, body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    const v = verifySignature({
      secrets: ['cw-secret-1234'],
      signature: sig,
      timestamp: ts,
      rawBody: body,
      now: 1787047740_000 + 10_000,
      sign: chatwootSignature,
    });
    expect(v).toEqual({ ok: true });
  });
});

describe('safeEqual', () => {
  it('compares strings of different lengths without throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', 'abc')).toBe(true);
  });
});
