// Load benchmark: drives the local bridge (same handlers, embedded DynamoDB API, in-process FIFO queue) with a
// bounded mix of customer comments and agent replies over many conversations, with duplicate deliveries and
// injected 429/5xx, then checks the simulators' final state for lost, duplicated and out-of-order messages.

import { type LocalBridge, startLocalBridge } from '../bin/local-bridge.ts';
import { ChatwootSimulator } from '../simulators/chatwoot.ts';
import { signedHeaders } from '../simulators/webhook-signing.ts';
import { ZendeskSimulator } from '../simulators/zendesk.ts';
import { benchBridgeEnv, benchSecrets } from './bridge-env.ts';
import { percentile, round } from './stats.ts';

export interface LoadOptions {
  events: number;
  conversations: number;
  /** Share of events delivered a second time (a platform retry or a replayed webhook). */
  duplicateShare: number;
  /** Share of outbound writes answered with an injected 429 or 503 first. */
  faultShare: number;
  /** Conversations driven at once (events within one conversation are sent one after another). */
  concurrency: number;
  /** Target arrival rate in events/s (0: as fast as acknowledgements allow, to find the saturation point). */
  rate: number;
  progress: (line: string) => void;
  /** Called when the measured phase starts and ends (the log-volume run counts output bytes in between). */
  onMeasured?: (phase: 'start' | 'end') => void;
  /** Latency the simulators add to every API answer (the cost run: a real platform is not on loopback). */
  platformLatencyMs?: number;
}

/** Per synced message, what AWS would bill for (see bench/cost.ts). */
export interface WorkPerMessage {
  deliveries: number;
  ingressMsPerDelivery: number;
  workerInvocations: number;
  workerMs: number;
  apiCalls: number;
  sqs: { sends: number; receives: number; deletes: number; visibilityChanges: number };
  dynamo: { wru: number; rru: number; requests: Record<string, number> };
}

export interface LoadResult {
  events: number;
  targetRate: number;
  conversations: number;
  zendeskToChatwoot: number;
  chatwootToZendesk: number;
  duplicatesSent: number;
  faultsInjected: number;
  durationMs: number;
  eventsPerSecond: number;
  endToEndMs: { p50: number; p95: number; p99: number };
  ingressAckMs: { p50: number; p99: number };
  apiCallsPerMessage: number;
  apiCallsPerMessageExcludingFaultRetries: number;
  dynamoRequestsPerMessage: number;
  legacyCallsPerMessage: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  deadLettered: number;
  work: WorkPerMessage;
}

interface Planned {
  seq: number;
  direction: 'z2c' | 'c2z';
  conversationIndex: number;
  content: string;
  body: unknown;
  duplicate: boolean;
  sentAt?: number;
}

const EVENT_TEXT = /bench event \d+ \(conversation \d+\)/;

/** The system this replaces: 3 calls per Zendesk→Chatwoot message, 2 per Chatwoot→Zendesk. */
export const LEGACY_CALLS = { z2c: 3, c2z: 2 } as const;

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const s = benchSecrets();
  // Contract validation off: the benchmark measures the bridge, not the simulators' spec checks.
  const zendesk = await ZendeskSimulator.start({
    email: 'bench@bridge.example',
    apiToken: s.zt,
    webhookSecret: s.zw,
    validate: false,
  });
  const chatwoot = await ChatwootSimulator.start({
    apiToken: s.ct,
    accountId: 1,
    inboxId: 7,
    webhookSecret: s.cw,
    validate: false,
  });
  zendesk.latencyMs = o.platformLatencyMs ?? 0;
  chatwoot.latencyMs = o.platformLatencyMs ?? 0;
  let calls = 0;
  let dynamo = 0;
  const dynamoOps = new Map<string, number>();
  const units = { wru: 0, rru: 0 };
  const handled: number[] = [];
  let bridge: LocalBridge | undefined;
  try {
    bridge = await startLocalBridge({
      env: {
        ...benchBridgeEnv(zendesk, chatwoot, s),
        // Chatwoot limits requests per IP (3000 a minute by default); deployed, the worker runs as up to five
        // containers with an address each, which this one process stands in for.
        CHATWOOT_RATE_LIMIT: '15000',
        // This run measures the bridge's own throughput: the simulator enforces no account limits here, so the
        // budgets are set past the offered load (the backlog run measures pacing against Zendesk's limits).
        ZENDESK_RATE_LIMIT: '100000',
        ZENDESK_TICKET_UPDATE_LIMIT: '100000',
      },
      // Five batches at once, like the deployed event source's maxConcurrency.
      queue: { visibilityTimeoutMs: 200, concurrency: 5 },
      onHttpRequest: () => {
        calls++;
      },
      onWebhookHandled: (ms) => {
        handled.push(ms);
      },
      onDynamoRequest: (op, input) => {
        dynamo++;
        dynamoOps.set(op, (dynamoOps.get(op) ?? 0) + 1);
        const u = requestUnits(op, input);
        units.wru += u.wru;
        units.rru += u.rru;
      },
    });
    const b = bridge;
    zendesk.setWebhookUrl(`${b.url}/webhooks/zendesk`);
    chatwoot.setWebhookUrl(`${b.url}/webhooks/chatwoot`);

    const quiet = async () => {
      for (let i = 0; i < 3; i++) {
        await zendesk.idle();
        await chatwoot.idle();
        await b.queue.drained(120_000);
      }
    };

    // Set-up (not measured): one ticket per conversation, its first comment synced, so the run is steady state.
    o.progress(`setting up ${o.conversations} tickets and conversations…`);
    const tickets = [];
    for (let i = 0; i < o.conversations; i++) {
      const customer = zendesk.createUser({
        name: `Bench Customer ${i}`,
        email: `bench${i}@customer.example`,
        role: 'end-user',
      });
      tickets.push(
        zendesk.createTicket({ requester: customer, subject: `Bench ${i}`, body: `opening ${i}` }),
      );
    }
    await quiet();
    const conversationOf = new Map<number, number>();
    for (const c of chatwoot.conversations())
      conversationOf.set(Number(c.custom_attributes?.zendesk_ticket_id), c.id);
    if (conversationOf.size !== o.conversations) throw new Error('set-up did not create every conversation');
    // One agent reply too, so one-time lookups (the agent's Zendesk account, for authorship) happen here.
    chatwoot.agentReply(conversationOf.get(tickets[0]!.id)!, { content: 'warm-up reply' });
    await quiet();

    // Plan the run: the platforms create the comments/messages now (webhooks held back), bodies are kept.
    zendesk.setWebhookUrl(undefined);
    chatwoot.setWebhookUrl(undefined);
    const plan: Planned[] = [];
    let rng = 0x2545f491;
    const random = () => {
      // xorshift32: a fixed seed keeps runs comparable.
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return (rng >>> 0) / 2 ** 32;
    };
    for (let seq = 0; seq < o.events; seq++) {
      const conversationIndex = Math.floor(random() * o.conversations);
      const ticket = tickets[conversationIndex]!;
      const direction = random() < 0.5 ? 'z2c' : 'c2z';
      const content = `bench event ${seq} (conversation ${conversationIndex})`;
      const before = (direction === 'z2c' ? zendesk : chatwoot).deliveries.length;
      if (direction === 'z2c') zendesk.customerComment(ticket.id, content);
      else chatwoot.agentReply(conversationOf.get(ticket.id)!, { content });
      await (direction === 'z2c' ? zendesk : chatwoot).idle();
      const delivery = (direction === 'z2c' ? zendesk : chatwoot).deliveries
        .slice(before)
        .find((d) => JSON.stringify(d.body).includes(content));
      if (!delivery) throw new Error(`no webhook body for event ${seq}`);
      plan.push({
        seq,
        direction,
        conversationIndex,
        content,
        body: delivery.body,
        duplicate: random() < o.duplicateShare,
      });
    }
    zendesk.setWebhookUrl(`${b.url}/webhooks/zendesk`);
    chatwoot.setWebhookUrl(`${b.url}/webhooks/chatwoot`);
    zendesk.requests.length = 0;
    chatwoot.requests.length = 0;

    // Faults, spread over the run: each rule answers one matching write with 429 or 503 before it succeeds.
    const faults = Math.round(o.events * o.faultShare);
    const injectFault = (n: number) => {
      const status = n % 2 === 0 ? 429 : 503;
      if (n % 4 < 2)
        zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status, retryAfter: 0 });
      else chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, times: 1, status });
    };

    const ack: number[] = [];
    const post = async (p: Planned) => {
      const raw = JSON.stringify(p.body);
      const platform = p.direction === 'z2c' ? 'zendesk' : 'chatwoot';
      const headers = {
        'content-type': 'application/json',
        ...signedHeaders(platform, platform === 'zendesk' ? s.zw : s.cw, raw, Date.now()),
      };
      const started = performance.now();
      posts++;
      const res = await fetch(`${b.url}/webhooks/${platform}`, {
        method: 'POST',
        headers,
        body: raw,
      });
      await res.arrayBuffer();
      ack.push(performance.now() - started);
      if (res.status !== 202) throw new Error(`webhook for event ${p.seq} answered ${res.status}`);
    };

    const byConversation = new Map<number, Planned[]>();
    for (const p of plan)
      byConversation.set(p.conversationIndex, [...(byConversation.get(p.conversationIndex) ?? []), p]);
    const lanes = [...byConversation.values()];
    const calls0 = calls;
    const dynamo0 = dynamo;
    dynamoOps.clear();
    units.wru = 0;
    units.rru = 0;
    handled.length = 0;
    const usage0 = { ...b.queue.usage, sent: b.queue.sent };
    const hooks0 = zendesk.deliveries.length + chatwoot.deliveries.length;
    let posts = 0;
    o.onMeasured?.('start');
    const startedAt = Date.now();
    let sent = 0;
    let faultsInjected = 0;
    let duplicatesSent = 0;
    let next = 0;
    let paced = 0;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++]!;
        for (const p of lane) {
          if (o.rate > 0) {
            // Open-loop pacing: the k-th event leaves no earlier than k/rate seconds after the start.
            const due = startedAt + (paced++ * 1000) / o.rate;
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
          p.sentAt = Date.now();
          await post(p);
          if (p.duplicate) {
            await post(p);
            duplicatesSent++;
          }
          sent++;
          if (
            faultsInjected < faults &&
            sent % Math.max(1, Math.floor(o.events / Math.max(1, faults))) === 0
          ) {
            injectFault(faultsInjected++);
          }
          if (sent % 250 === 0) o.progress(`  sent ${sent}/${o.events} events`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    await quiet();
    const durationMs = Date.now() - startedAt;
    o.onMeasured?.('end');

    // Verify the final state, and measure end-to-end latency from the simulators' request log.
    // Find each event's text in what was written, whatever wraps it (an authorship line, HTML).
    const eventText = (text: string) => EVENT_TEXT.exec(text)?.[0] ?? '';
    const writes = [
      ...zendesk.requests.filter((r) => r.method === 'PUT' && r.status === 200),
      ...chatwoot.requests.filter(
        (r) => r.method === 'POST' && r.path.endsWith('/messages') && r.status === 200,
      ),
    ].map((r) => ({ at: Date.parse(r.at), text: eventText(JSON.stringify(r.body)) }));
    const firstWrite = new Map<string, number>();
    for (const w of writes) if (!firstWrite.has(w.text)) firstWrite.set(w.text, w.at);
    const e2e = plan
      .filter((p) => firstWrite.has(p.content))
      .map((p) => firstWrite.get(p.content)! - p.sentAt!);

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const [index, lane] of byConversation) {
      const ticket = tickets[index]!;
      const conversationId = conversationOf.get(ticket.id)!;
      const inChatwoot = chatwoot.messages(conversationId).map((m) => m.content ?? '');
      const inZendesk = zendesk.comments(ticket.id).map((c) => c.body);
      for (const [direction, target] of [
        ['z2c', inChatwoot],
        ['c2z', inZendesk],
      ] as const) {
        const expected = lane.filter((p) => p.direction === direction).map((p) => p.content);
        const seen = target.map(eventText).filter((t) => t !== '');
        for (const e of expected) {
          const n = seen.filter((t) => t === e).length;
          if (n === 0) lost++;
          if (n > 1) duplicated += n - 1;
        }
        // Compare the order they arrived in with the order they were sent in, over the ones that arrived.
        const arrived = [...new Set(seen)].filter((t) => expected.includes(t));
        const sentOrder = expected.filter((e) => arrived.includes(e));
        outOfOrder += arrived.filter((t, i) => t !== sentOrder[i]).length;
      }
    }

    const z2c = plan.filter((p) => p.direction === 'z2c').length;
    const c2z = plan.length - z2c;
    // Attempts as the platforms saw them, faulted ones included (the client's hook does not see ky's retries).
    const attempts = [...zendesk.requests, ...chatwoot.requests];
    const runCalls = attempts.length;
    const faultRetries = attempts.filter((r) => r.status === 429 || r.status === 503).length;
    if (calls - calls0 > runCalls) throw new Error('the bridge made calls the simulators did not see');
    const n = plan.length;
    const batches = b.queue.usage.batches - usage0.batches;
    const deliveries = posts + zendesk.deliveries.length + chatwoot.deliveries.length - hooks0;
    const work: WorkPerMessage = {
      deliveries: deliveries / n,
      // Time inside the webhook handlers (what Lambda bills), not the HTTP round trip around them.
      ingressMsPerDelivery: handled.reduce((a, x) => a + x, 0) / Math.max(1, handled.length),
      workerInvocations: batches / n,
      workerMs: (b.queue.usage.workerMs - usage0.workerMs) / n,
      apiCalls: runCalls / n,
      sqs: {
        sends: (b.queue.sent - usage0.sent) / n,
        // The event source receives a batch with one ReceiveMessage and deletes its successes with one
        // DeleteMessageBatch.
        receives: batches / n,
        deletes: batches / n,
        visibilityChanges: (b.queue.usage.visibilityChanges - usage0.visibilityChanges) / n,
      },
      dynamo: { wru: units.wru / n, rru: units.rru / n, requests: Object.fromEntries(dynamoOps) },
    };
    return {
      events: plan.length,
      targetRate: o.rate,
      conversations: o.conversations,
      zendeskToChatwoot: z2c,
      chatwootToZendesk: c2z,
      duplicatesSent,
      faultsInjected: faultRetries,
      durationMs,
      eventsPerSecond: round(plan.length / (durationMs / 1000)),
      endToEndMs: { p50: percentile(e2e, 50), p95: percentile(e2e, 95), p99: percentile(e2e, 99) },
      ingressAckMs: { p50: round(percentile(ack, 50), 2), p99: round(percentile(ack, 99), 2) },
      apiCallsPerMessage: round(runCalls / plan.length, 3),
      apiCallsPerMessageExcludingFaultRetries: round((runCalls - faultRetries) / plan.length, 3),
      dynamoRequestsPerMessage: round((dynamo - dynamo0) / plan.length, 3),
      legacyCallsPerMessage: round((z2c * LEGACY_CALLS.z2c + c2z * LEGACY_CALLS.c2z) / plan.length, 3),
      lost,
      duplicated,
      outOfOrder,
      deadLettered: b.queue.deadLetters.length,
      work,
    };
  } finally {
    await bridge?.close();
    await Promise.all([zendesk.close(), chatwoot.close()]);
  }
}

type Item = Record<string, unknown>;

/**
 * An item's size as DynamoDB bills it (developer guide, "Item sizes and formats"), from the document client's plain
 * values: each attribute's name in UTF-8 bytes plus its value — a string its UTF-8 bytes, a number about one byte
 * per two digits plus one, a boolean or null one byte, binary its length, a map or list 3 bytes plus one per
 * element plus its elements, a set its elements.
 */
export function itemBytes(item: Item | undefined): number {
  let n = 0;
  for (const [name, v] of Object.entries(item ?? {})) n += Buffer.byteLength(name) + valueBytes(v);
  return n;
}

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint')
    return Math.ceil(String(v).replace(/[-.e+]/g, '').length / 2) + 1;
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((a: number, x) => a + valueBytes(x), 0);
  if (Array.isArray(v)) return 3 + v.length + v.reduce((a: number, x) => a + valueBytes(x), 0);
  if (typeof v === 'object') return 3 + Object.keys(v).length + itemBytes(v as Item);
  return 0;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * On-demand request units of one DynamoDB request, from what it sends (the document client's input): a write is 1 WRU per
 * started KB of the item written (a failed conditional write still costs its unit), a strongly consistent read 1 RRU
 * per 4 KB. An UpdateItem is billed on the larger of the item before and after, which the request does not show:
 * it is sized by the values it sets (every item updated in the measured paths is small: a rate bucket, an
 * attention list), so a lower bound.
 */
export function requestUnits(op: string, input: unknown): { wru: number; rru: number } {
  const i = (input ?? {}) as {
    Item?: Item;
    ExpressionAttributeValues?: Item;
    RequestItems?: Record<string, Array<{ PutRequest?: { Item: Item } }> | { Keys?: unknown[] }>;
  };
  switch (op) {
    case 'PutItemCommand':
      return { wru: writeUnits(itemBytes(i.Item)), rru: 0 };
    case 'UpdateItemCommand':
      return { wru: writeUnits(itemBytes(i.ExpressionAttributeValues)), rru: 0 };
    case 'DeleteItemCommand':
      return { wru: 1, rru: 0 };
    case 'BatchWriteItemCommand': {
      const requests = Object.values(i.RequestItems ?? {}).flatMap((r) => (Array.isArray(r) ? r : []));
      return {
        wru: requests.reduce((a, r) => a + (r.PutRequest ? writeUnits(itemBytes(r.PutRequest.Item)) : 1), 0),
        rru: 0,
      };
    }
    case 'BatchGetItemCommand': {
      const keys = Object.values(i.RequestItems ?? {}).reduce(
        (a, r) => a + (Array.isArray(r) ? 0 : (r.Keys?.length ?? 0)),
        0,
      );
      return { wru: 0, rru: keys };
    }
    case 'GetItemCommand':
    case 'QueryCommand':
      return { wru: 0, rru: 1 };
    default:
      return { wru: 0, rru: 0 };
  }
}
