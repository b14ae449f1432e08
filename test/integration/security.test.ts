// The webhook edge over real HTTP (local bridge, simulators, DynamoDB): a few hundred hostile deliveries never
// get a 5xx and queue nothing they should not; and across a full two-way sync plus rejected webhooks, no log
// line carries a secret, a token, the basic-auth header or a message's text, and every line is JSON.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, type Platform } from '../../shared/http/ingress.ts';
import { logger } from '../../shared/observability.ts';
import { byteMutatedFixtures, type FuzzCase, mutatedFixtures, randomBodies } from '../fuzz/arbitraries.ts';
import { expectSound, prepare } from '../fuzz/oracle.ts';
import { BRIDGE_EMAIL, type Harness, startHarness } from '../helpers/bridge.ts';
import { captureOutput, signedHeaders } from '../helpers/webhooks.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20260818);
const HTTP_RUNS = 300;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const secretOf = (p: Platform) => (p === 'zendesk' ? h.secrets.zendeskWebhook : h.secrets.chatwootWebhook);

async function post(platform: Platform, body: Buffer, headers: Record<string, string>, query = '') {
  const res = await fetch(`${h.bridge.url}/webhooks/${platform}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
    text: await res.text(),
  };
}

describe('hostile deliveries over HTTP', () => {
  it(`${HTTP_RUNS} generated and mutated bodies: no 5xx, JSON answers, queued only when accepted`, async () => {
    const cases: FuzzCase[] = [];
    for (const platform of ['zendesk', 'chatwoot'] as const) {
      for (const arb of [randomBodies(platform), mutatedFixtures(platform), byteMutatedFixtures(platform)]) {
        cases.push(...fc.sample(arb, { seed: SEED, numRuns: HTTP_RUNS / 6 }));
      }
    }
    let accepted = 0;
    const keys = new Set<string>();
    for (const [i, c] of cases.entries()) {
      const { body, headers } = prepare(c, secretOf(c.platform), Date.now());
      const before = h.bridge.queue.sent;
      const answer = await post(c.platform, body, headers);
      const delta = h.bridge.queue.sent - before;
      try {
        // Like SQS FIFO, the local queue drops a repeat of an event key it already holds: count it as sent once.
        const key = answer.status === 202 ? String(JSON.parse(answer.text).eventKey) : undefined;
        const repeat = key !== undefined && keys.has(key);
        if (key) keys.add(key);
        if (repeat) expect(delta).toBe(0);
        // Over HTTP the queued message itself is not visible; its count is.
        expectSound(c, body, answer, repeat ? 1 : delta, undefined);
      } catch (err) {
        throw new Error(`case ${i} (seed ${SEED}, ${c.platform}, ${c.signing}): ${(err as Error).message}`);
      }
      if (answer.status === 202) accepted++;
    }
    expect(cases).toHaveLength(HTTP_RUNS);
    await h.settle();
    // The bridge still syncs afterwards.
    const customer = h.zendesk.createUser({
      name: 'After Fuzz',
      email: 'after.fuzz@example.com',
      role: 'end-user',
    });
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'After', body: 'still working?' });
    await h.settle();
    const conversation = h.chatwoot
      .conversations()
      .find((x) => Number(x.custom_attributes?.zendesk_ticket_id) === ticket.id);
    expect(conversation && h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual([
      'still working?',
    ]);
    expect(accepted).toBeLessThan(HTTP_RUNS / 4);
  });
});

describe('what the logs hold', () => {
  it('a full round trip plus rejected webhooks: every line JSON, no secret, token, auth header or message text', async () => {
    const customerText = `Customer words ${crypto.randomUUID()} about the broken lid`;
    const agentText = `Agent words ${crypto.randomUUID()} about a replacement`;
    const basic = Buffer.from(`${BRIDGE_EMAIL}/token:${h.secrets.zendeskToken}`).toString('base64');
    const level = logger.getLevelName();
    logger.setLogLevel('DEBUG');
    const logs = captureOutput({ echo: false });
    try {
      const customer = h.zendesk.createUser({
        name: 'Log Check',
        email: 'log.check@example.com',
        role: 'end-user',
      });
      const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Lid', body: customerText });
      await h.settle();
      const conversation = h.chatwoot
        .conversations()
        .find((x) => Number(x.custom_attributes?.zendesk_ticket_id) === ticket.id);
      expect(conversation).toBeDefined();
      h.chatwoot.agentReply(conversation!.id, { content: agentText });
      await h.settle();
      // The body may start with the header line naming the Chatwoot agent (the default authorship).
      expect(h.zendesk.comments(ticket.id).some((c) => c.body.includes(agentText))).toBe(true);

      // Rejected: unsigned, signed with a wrong secret, oversized, a wrong URL token. Signed but unusable (no
      // conversation, no id): acknowledged, not queued, and its log line names paths, never the text.
      const raw = Buffer.from(JSON.stringify({ event: 'message_created', content: customerText }));
      const statuses = [
        (await post('chatwoot', raw, {})).status,
        (
          await post(
            'zendesk',
            raw,
            signedHeaders('zendesk', `${h.secrets.zendeskWebhook}x`, raw, Date.now()),
          )
        ).status,
        (await post('chatwoot', raw, signedHeaders('chatwoot', h.secrets.chatwootWebhook, raw, Date.now())))
          .status,
        (await post('zendesk', Buffer.alloc(MAX_BODY_BYTES + 1, 'a'), {})).status,
        (
          await post(
            'chatwoot',
            raw,
            { authorization: `Basic ${basic}` },
            `?token=${h.secrets.chatwootToken}`,
          )
        ).status,
      ];
      expect(statuses).toEqual([401, 401, 200, 413, 401]);
    } finally {
      logs.stop();
      logger.setLogLevel(level as Parameters<typeof logger.setLogLevel>[0]);
    }
    const lines = logs.lines();
    expect(lines.length).toBeGreaterThan(10);
    const forbidden = {
      ...h.secrets,
      basicAuth: basic,
      customerText,
      agentText,
      customerWords: customerText.split(' ')[2]!,
      agentWords: agentText.split(' ')[2]!,
    };
    for (const line of lines) {
      expect(() => JSON.parse(line), line.slice(0, 300)).not.toThrow();
      for (const [name, value] of Object.entries(forbidden)) {
        expect(line.includes(value), `${name} appears in: ${line.slice(0, 300)}`).toBe(false);
      }
    }
    // The ids that make the round trip traceable are there.
    expect(lines.some((l) => l.includes('zd:comment:'))).toBe(true);
    expect(lines.some((l) => l.includes('cw:message:'))).toBe(true);
  });
});
