// What every ingress answer must satisfy whatever was sent, and how a fuzz case is signed. Shared by the
// in-process fuzz test and the run over HTTP.
import { isUtf8 } from 'node:buffer';
import { expect } from 'vitest';
import { MAX_BODY_BYTES, type Platform } from '../../shared/http/ingress.ts';
import { MAX_SIGNATURE_AGE_MS } from '../../shared/http/signature.ts';
import { signedHeaders } from '../helpers/webhooks.ts';
import type { FuzzCase } from './arbitraries.ts';

/** The headers (and the bytes actually sent, which differ for a tampered body) for a case's signing mode. */
export function prepare(
  c: FuzzCase,
  secret: string,
  now: number,
): { body: Buffer; headers: Record<string, string>; base64: boolean } {
  // API Gateway passes a body that is not UTF-8 text base64-encoded; as a plain string it could not exist.
  const base64 = c.base64 || !isUtf8(c.body);
  return { ...signFor(c, secret, now), base64 };
}

function signFor(
  c: FuzzCase,
  secret: string,
  now: number,
): { body: Buffer; headers: Record<string, string> } {
  const sign = (s: string, at = now) => signedHeaders(c.platform, s, c.body, at);
  switch (c.signing) {
    case 'valid':
      return { body: c.body, headers: sign(secret) };
    case 'none':
      return { body: c.body, headers: {} };
    case 'wrong-secret':
      return { body: c.body, headers: sign(`${secret}-old`) };
    case 'stale':
      return { body: c.body, headers: sign(secret, now - MAX_SIGNATURE_AGE_MS - 60_000) };
    case 'future':
      return { body: c.body, headers: sign(secret, now + MAX_SIGNATURE_AGE_MS + 60_000) };
    case 'tampered': {
      // Signed, then one byte changed in transit.
      const body = c.body.length === 0 ? Buffer.from(' ') : Buffer.from(c.body);
      if (c.body.length > 0) body[body.length - 1] = body[body.length - 1]! ^ 1;
      return { body, headers: sign(secret) };
    }
  }
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  text: string;
}

/**
 * The invariants: never a 5xx; always JSON; 4xx carry {error, message}; oversize → 413; anything not validly
 * signed → 401; not UTF-8 → 400; one message queued exactly when the answer is 202 (and it is the event the
 * answer names).
 */
export function expectSound(
  c: FuzzCase,
  sent: Buffer,
  answer: Answer,
  queuedDelta: number,
  lastQueuedBody: string | undefined,
  platform: Platform = c.platform,
): void {
  expect(answer.status).toBeLessThan(500);
  expect(answer.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (sent.length > MAX_BODY_BYTES) expect(answer.status).toBe(413);
  else if (c.signing !== 'valid') expect(answer.status).toBe(401);
  else if (!isUtf8(sent)) expect(answer.status).toBe(400);
  else expect([200, 202, 400]).toContain(answer.status);
  if (answer.status >= 400) {
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toEqual(expect.any(String));
    expect(body.message).toEqual(expect.stringMatching(/\S/));
  } else {
    expect(body.status).toBe(answer.status === 202 ? 'queued' : 'ignored');
  }
  expect(queuedDelta).toBe(answer.status === 202 ? 1 : 0);
  if (answer.status === 202 && lastQueuedBody !== undefined) {
    const queued = JSON.parse(lastQueuedBody ?? '{}') as { eventKey?: string; kind?: string };
    expect(queued.eventKey).toBe(body.eventKey);
    expect(queued.kind?.startsWith(platform)).toBe(true);
  }
  // No generated key may have reached Object.prototype.
  expect(Object.prototype).not.toHaveProperty('polluted');
}
