// Fuzz of a webhook handler, in-process: over 5,000 generated and mutated bodies per platform (10,000 for the two),
// signed and not. No 5xx, always JSON, nothing queued for anything invalid or unsigned, valid-but-odd bodies queued
// exactly once, and the handler still works afterwards. Reproduce a failure with FUZZ_SEED=<seed printed in the
// report>. One test file per platform (ingress-zendesk/-chatwoot.fuzz.test.ts), so the two run side by side: this
// is the suite's most CPU-bound work (~20 s of CPU a platform), and one file for both was its longest.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  handleWebhook,
  MAX_BODY_BYTES,
  MAX_BODY_DEPTH,
  MAX_QUEUE_MESSAGE_BYTES,
  type Platform,
} from '../../shared/http/ingress.ts';
import { fixture } from '../helpers/fixtures.ts';
import {
  apiEvent,
  captureOutput,
  depsOf,
  type LogCapture,
  RecordingQueue,
  testConfig,
} from '../helpers/webhooks.ts';
import {
  brokenBodies,
  byteMutatedFixtures,
  deeplyNestedBodies,
  type FuzzCase,
  mutatedFixtures,
  randomBodies,
  validBodies,
} from './arbitraries.ts';
import { expectSound, prepare } from './oracle.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20260818);
/** Multiplies every run count (FUZZ_SCALE=10 for a long local run). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const NOW = Date.parse('2026-08-18T10:10:00Z');

/** The whole fuzz of one platform's handler: its tests, its own configuration, queue and log capture. */
export function fuzzIngress(platform: Platform): void {
  // The runs are pure CPU and their number is fixed: on two cores shared with the other test files and other work
  // (load average 20) one property took 65 s, past the suite's 60 s. Nothing here is about latency, so a busy
  // machine gets more time, not fewer runs. Set here, not at import: a worker that runs both files imports once.
  vi.setConfig({ testTimeout: 60_000 * 5 * Math.max(1, SCALE) });
  const config = testConfig({ CHATWOOT_WEBHOOK_URL_TOKEN: `url-token-${crypto.randomUUID()}` });
  const queue = new RecordingQueue();
  const deps = depsOf(config, queue, NOW);
  const secretOf = (p: Platform) =>
    p === 'zendesk' ? config.ZENDESK_WEBHOOK_SECRET[0]! : config.CHATWOOT_WEBHOOK_SECRET![0]!;
  let calls = 0;
  let logs: LogCapture;
  const started = Date.now();

  async function send(platform: Platform, body: Buffer, headers: Record<string, string>, base64: boolean) {
    calls++;
    const before = queue.sent.length;
    const res = await handleWebhook(platform, apiEvent(platform, { body, headers, base64 }), deps);
    return {
      answer: {
        status: res.statusCode ?? 200,
        contentType: (res.headers as Record<string, string> | undefined)?.['content-type'],
        text: res.body ?? '',
      },
      queued: queue.sent.length - before,
      last: queue.sent.at(-1)?.body,
    };
  }

  async function check(c: FuzzCase): Promise<void> {
    const { body, headers, base64 } = prepare(c, secretOf(c.platform), NOW);
    const r = await send(c.platform, body, headers, base64);
    expectSound(c, body, r.answer, r.queued, r.last);
  }

  const params = (numRuns: number) => ({
    seed: SEED,
    numRuns: Math.ceil(numRuns * SCALE),
    endOnFailure: true,
  });

  beforeAll(() => {
    logs = captureOutput({ echo: false });
  });
  afterAll(() => {
    logs.stop();
    console.info(
      `${platform} ingress fuzz: ${calls} deliveries in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}, scale ${SCALE})`,
    );
  });

  describe(`${platform} ingress under fuzz`, () => {
    it('random JSON values, text and bytes: never a 5xx, nothing queued unless valid and signed', async () => {
      await fc.assert(fc.asyncProperty(randomBodies(platform), check), params(1500));
    });

    it('fixtures with structural mutations (deletions, type swaps, huge strings, deep nesting, prototype keys)', async () => {
      await fc.assert(fc.asyncProperty(mutatedFixtures(platform), check), params(1500));
    });

    it('fixtures with byte mutations (bit flips, truncation, insertions, injected keys)', async () => {
      await fc.assert(fc.asyncProperty(byteMutatedFixtures(platform), check), params(1000));
    });

    it('valid but unusual bodies are queued exactly once with their text intact; unsigned copies never', async () => {
      let expected = 0;
      const start = queue.sent.length;
      await fc.assert(
        fc.asyncProperty(
          validBodies(platform),
          fc.constantFrom('none', 'tampered', 'wrong-secret', 'stale'),
          async (v, bad) => {
            const raw = Buffer.from(JSON.stringify(v.body));
            const forged = prepare(
              { platform, body: raw, signing: bad, base64: v.base64 },
              secretOf(platform),
              NOW,
            );
            const refused = await send(platform, forged.body, forged.headers, v.base64);
            expect(refused.answer.status).toBe(raw.length > MAX_BODY_BYTES ? 413 : 401);
            expect(refused.queued).toBe(0);

            const good = prepare(
              { platform, body: raw, signing: 'valid', base64: v.base64 },
              secretOf(platform),
              NOW,
            );
            const r = await send(platform, good.body, good.headers, v.base64);
            if (raw.length > MAX_BODY_BYTES) {
              expect(r.answer.status).toBe(413);
              expect(r.queued).toBe(0);
              return;
            }
            expected++;
            expect(r.answer.status, r.answer.text).toBe(202);
            expect(r.queued).toBe(1);
            const event = JSON.parse(r.last!) as {
              eventKey: string;
              body?: string;
              content?: string;
              readBack?: boolean;
            };
            expect(event.eventKey).toBe(v.eventKey);
            // Text too large for a queue message stays at the platform; the worker reads it back.
            if (event.readBack) expect(raw.length).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES - 16_384);
            expect(platform === 'zendesk' ? event.body : event.content).toBe(event.readBack ? '' : v.text);
          },
        ),
        params(700),
      );
      expect(queue.sent.length - start).toBe(expected);
      expect(expected).toBeGreaterThan(0);
    });

    it('one required field missing or mistyped in an authentic event: 200 naming its path, nothing queued', async () => {
      await fc.assert(
        fc.asyncProperty(brokenBodies(platform), async ({ body, path }) => {
          const raw = Buffer.from(JSON.stringify(body));
          const good = prepare(
            { platform, body: raw, signing: 'valid', base64: false },
            secretOf(platform),
            NOW,
          );
          const r = await send(platform, good.body, good.headers, false);
          expect(r.queued).toBe(0);
          if (raw.length > MAX_BODY_BYTES) {
            expect(r.answer.status).toBe(413);
            return;
          }
          // Never refused for an odd value (Chatwoot never retries; Zendesk's circuit breaker counts failures).
          expect(r.answer.status, r.answer.text).toBe(200);
          const answer = JSON.parse(r.answer.text) as { status: string; reason: string; message: string };
          expect(answer).toMatchObject({ status: 'ignored', reason: 'unusable' });
          expect(answer.message).toContain(path);
        }),
        params(500),
      );
    });

    it('nesting added inside any object: within 64 levels still queued, deeper a 400 (never a 5xx)', async () => {
      await fc.assert(
        fc.asyncProperty(deeplyNestedBodies(platform), async ({ raw, depth, eventKey }) => {
          const good = prepare(
            { platform, body: raw, signing: 'valid', base64: false },
            secretOf(platform),
            NOW,
          );
          const r = await send(platform, good.body, good.headers, good.base64);
          if (raw.length > MAX_BODY_BYTES) {
            expect(r.answer.status).toBe(413);
          } else if (depth > MAX_BODY_DEPTH) {
            expect(r.answer.status, r.answer.text).toBe(400);
            expect(r.queued).toBe(0);
          } else {
            expect(r.answer.status, r.answer.text).toBe(202);
            expect(JSON.parse(r.last!)).toMatchObject({ eventKey });
          }
        }),
        params(300),
      );
    });

    it('still works afterwards: the contract fixture is queued', async () => {
      const raw = JSON.stringify(
        platform === 'zendesk'
          ? fixture('zendesk', 'ticket.comment_added-end-user-public.json')
          : fixture('chatwoot', 'message_created-outgoing-agent-reply.json'),
      );
      const c: FuzzCase = { platform, body: Buffer.from(raw), signing: 'valid', base64: true };
      const { body, headers } = prepare(c, secretOf(platform), NOW);
      const r = await send(platform, body, headers, true);
      expect(r.answer.status).toBe(202);
      expect(r.queued).toBe(1);
    });
  });

  describe('after the fuzz', () => {
    it('threw at least 5,000 deliveries, and every log line was JSON without a secret', () => {
      if (SCALE >= 1) expect(calls).toBeGreaterThanOrEqual(5_000);
      const lines = logs.lines();
      expect(lines.length).toBeGreaterThan(calls / 2);
      const secrets = [
        ...config.ZENDESK_WEBHOOK_SECRET,
        ...(config.CHATWOOT_WEBHOOK_SECRET ?? []),
        config.CHATWOOT_WEBHOOK_URL_TOKEN!,
        config.ZENDESK_API_TOKEN,
        config.CHATWOOT_API_TOKEN,
      ];
      for (const line of lines) {
        expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
        for (const s of secrets) expect(line.includes(s)).toBe(false);
      }
    });
  });
}
