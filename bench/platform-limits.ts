// Two benchmark runs against the platforms' unkind side: a backlog of agent replies draining against Zendesk's
// simulated account limits (utilisation, 429s, exactness, order), and the extra delay one passing failure (an
// answered 500, or a timeout whose write lands late) adds to its message.

import { type LocalBridge, startLocalBridge } from '../bin/local-bridge.ts';
import { ChatwootSimulator } from '../simulators/chatwoot.ts';
import { signedHeaders } from '../simulators/webhook-signing.ts';
import { ZendeskSimulator } from '../simulators/zendesk.ts';
import { benchBridgeEnv, benchSecrets } from './bridge-env.ts';
import { percentile, round } from './stats.ts';

interface Rig {
  zendesk: ZendeskSimulator;
  chatwoot: ChatwootSimulator;
  bridge: LocalBridge;
  s: { zt: string; zw: string; ct: string; cw: string };
  quiet(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function rig(o: {
  zendesk?: Partial<Parameters<typeof ZendeskSimulator.start>[0]>;
  env?: Record<string, string>;
}): Promise<Rig> {
  const s = benchSecrets();
  const zendesk = await ZendeskSimulator.start({
    email: 'bench@bridge.example',
    apiToken: s.zt,
    webhookSecret: s.zw,
    validate: false,
    ...o.zendesk,
  });
  const chatwoot = await ChatwootSimulator.start({
    apiToken: s.ct,
    accountId: 1,
    inboxId: 7,
    webhookSecret: s.cw,
    validate: false,
  });
  const bridge = await startLocalBridge({
    env: {
      ...benchBridgeEnv(zendesk, chatwoot, s),
      ...o.env,
    },
    // As deployed: five batches at once, the queue's own visibility timeout after a crash.
    queue: { visibilityTimeoutMs: 180_000, concurrency: 5 },
  });
  zendesk.setWebhookUrl(`${bridge.url}/webhooks/zendesk`);
  chatwoot.setWebhookUrl(`${bridge.url}/webhooks/chatwoot`);
  return {
    zendesk,
    chatwoot,
    bridge,
    s,
    async quiet(timeoutMs = 300_000) {
      for (let i = 0; i < 3; i++) {
        await zendesk.idle();
        await chatwoot.idle();
        await bridge.queue.drained(timeoutMs);
      }
    },
    async close() {
      await bridge.close();
      await Promise.all([zendesk.close(), chatwoot.close()]);
    },
  };
}

/** Links `n` tickets to conversations (their first customer comment synced) and warms the agent lookup. */
async function linkTickets(r: Rig, n: number): Promise<Array<{ ticketId: number; conversationId: number }>> {
  const tickets = [];
  for (let i = 0; i < n; i++) {
    const customer = r.zendesk.createUser({
      name: `Backlog ${i}`,
      email: `backlog${i}@customer.example`,
      role: 'end-user',
    });
    tickets.push(
      r.zendesk.createTicket({ requester: customer, subject: `Backlog ${i}`, body: `opening ${i}` }),
    );
    // Set-up traffic stays well inside the account's budget: a little pause between tickets.
    await r.quiet();
  }
  const byTicket = new Map<number, number>();
  for (const c of r.chatwoot.conversations())
    byTicket.set(Number(c.custom_attributes?.zendesk_ticket_id), c.id);
  const links = tickets.map((t) => ({ ticketId: t.id, conversationId: byTicket.get(t.id) ?? -1 }));
  if (links.some((l) => l.conversationId < 0)) throw new Error('set-up did not link every ticket');
  r.chatwoot.agentReply(links[0]!.conversationId, { content: 'warm-up reply' });
  await r.quiet();
  return links;
}

async function post(r: Rig, platform: 'zendesk' | 'chatwoot', body: unknown): Promise<void> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${r.bridge.url}/webhooks/${platform}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(platform, platform === 'zendesk' ? r.s.zw : r.s.cw, raw, Date.now()),
    },
    body: raw,
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
}

export interface BacklogResult {
  replies: number;
  tickets: number;
  accountLimit: number;
  ticketUpdateLimit: number;
  drainMs: number;
  /** What the binding limit allowed for this many updates: (replies − burst) / limit, the minute being 60 s. */
  idealMs: number;
  utilisationPct: number;
  tooManyRequests: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  deadLettered: number;
}

/**
 * A backlog: `replies` agent replies across `tickets` conversations reach the bridge at once (their webhooks were
 * held back), against a Zendesk account of `accountLimit` requests a minute whose Update Ticket limit is 100.
 */
export async function runBacklog(o: {
  replies: number;
  tickets: number;
  accountLimit: number;
  progress: (line: string) => void;
}): Promise<BacklogResult> {
  const ticketUpdateLimit = 100;
  const r = await rig({
    zendesk: { accountRateLimit: o.accountLimit, ticketUpdateRateLimit: ticketUpdateLimit },
    env: { ZENDESK_RATE_LIMIT: String(o.accountLimit), ZENDESK_RATE_SHARE: '1' },
  });
  try {
    o.progress(`backlog: linking ${o.tickets} tickets…`);
    const links = await linkTickets(r, o.tickets);
    // The replies are written in Chatwoot now with their webhooks held back, then delivered together.
    r.chatwoot.setWebhookUrl(undefined);
    const planned: Array<{ link: (typeof links)[number]; content: string; body: unknown }> = [];
    for (let i = 0; i < o.replies; i++) {
      const link = links[i % links.length]!;
      const content = `backlog reply ${i} (ticket ${link.ticketId})`;
      const before = r.chatwoot.deliveries.length;
      r.chatwoot.agentReply(link.conversationId, { content });
      await r.chatwoot.idle();
      const delivery = r.chatwoot.deliveries
        .slice(before)
        .find((d) => JSON.stringify(d.body).includes(content));
      if (!delivery) throw new Error('no webhook body for a backlog reply');
      planned.push({ link, content, body: delivery.body });
    }
    r.chatwoot.setWebhookUrl(`${r.bridge.url}/webhooks/chatwoot`);
    const refused0 = r.zendesk.rateLimited.tooManyRequests;
    r.zendesk.requests.length = 0;
    o.progress(`backlog: delivering ${o.replies} replies at once…`);
    const started = Date.now();
    // Each conversation's webhooks in order (as Chatwoot sends them), all conversations at once.
    await Promise.all(
      links.map(async (link) => {
        for (const p of planned.filter((x) => x.link === link)) await post(r, 'chatwoot', p.body);
      }),
    );
    await r.quiet(600_000);
    const puts = r.zendesk.requests.filter((q) => q.method === 'PUT' && q.status === 200);
    const last = Math.max(...puts.map((q) => Date.parse(q.at)));
    const drainMs = last - started;
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const link of links) {
      const expected = planned.filter((p) => p.link === link).map((p) => p.content);
      const seen = r.zendesk
        .comments(link.ticketId)
        .map((c) => expected.find((e) => c.body.includes(e)))
        .filter((x): x is string => x !== undefined);
      for (const e of expected) {
        const n = seen.filter((x) => x === e).length;
        if (n === 0) lost++;
        if (n > 1) duplicated += n - 1;
      }
      const arrived = [...new Set(seen)];
      const order = expected.filter((e) => arrived.includes(e));
      outOfOrder += arrived.filter((t, i) => t !== order[i]).length;
    }
    // Update Ticket's 100 a minute binds (the account's budget is larger): ideally the first burst goes at once
    // and the rest at the limit's rate.
    const binding = Math.min(ticketUpdateLimit, o.accountLimit);
    const idealMs = ((o.replies - 1) / binding) * 60_000;
    return {
      replies: o.replies,
      tickets: o.tickets,
      accountLimit: o.accountLimit,
      ticketUpdateLimit,
      drainMs,
      idealMs: Math.round(idealMs),
      utilisationPct: round((idealMs / drainMs) * 100, 1),
      tooManyRequests: r.zendesk.rateLimited.tooManyRequests - refused0,
      lost,
      duplicated,
      outOfOrder,
      deadLettered: r.bridge.queue.deadLetters.length,
    };
  } finally {
    await r.close();
  }
}

export interface FaultLatency {
  fault: string;
  trials: number;
  extraMs: { p50: number; p99: number };
  duplicated: number;
}

/**
 * The extra delay one passing failure adds to its message: for each trial one agent reply whose Zendesk update
 * (or one customer comment whose Chatwoot message) fails once — an answered 500, or a timeout whose write lands
 * after the client gave up — against the median of fault-free trials.
 */
export async function runFaultLatency(o: {
  trials: number;
  progress: (line: string) => void;
}): Promise<FaultLatency[]> {
  // A short client timeout keeps the run short; the "late" write lands half a second after the client gave up.
  const timeoutMs = 1_000;
  const r = await rig({ env: { HTTP_TIMEOUT_MS: String(timeoutMs) } });
  try {
    o.progress('fault latency: linking a ticket…');
    const [link] = await linkTickets(r, 1);
    if (!link) throw new Error('no link');
    let seq = 0;
    const trial = async (
      direction: 'c2z' | 'z2c',
      inject: () => void,
    ): Promise<{ ms: number; copies: number }> => {
      const content = `fault trial ${seq++}`;
      inject();
      const started = Date.now();
      if (direction === 'c2z') r.chatwoot.agentReply(link.conversationId, { content });
      else r.zendesk.customerComment(link.ticketId, content);
      const landed = () =>
        direction === 'c2z'
          ? r.zendesk.comments(link.ticketId).filter((c) => c.body.includes(content)).length
          : r.chatwoot.messages(link.conversationId).filter((m) => (m.content ?? '').includes(content))
              .length;
      for (const deadline = Date.now() + 600_000; landed() === 0 && Date.now() < deadline; )
        await new Promise((res) => setTimeout(res, 20));
      const ms = Date.now() - started;
      await r.quiet();
      return { ms, copies: landed() };
    };
    const series: Array<{ fault: string; direction: 'c2z' | 'z2c'; inject: () => void }> = [
      { fault: 'none (Chatwoot → Zendesk)', direction: 'c2z', inject: () => undefined },
      {
        fault: 'one 500 on the Zendesk update',
        direction: 'c2z',
        inject: () =>
          r.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+$/, times: 1, status: 500 }),
      },
      {
        fault: 'one timeout on the Zendesk update (it lands late)',
        direction: 'c2z',
        inject: () =>
          r.zendesk.injectFaults({
            method: 'PUT',
            path: /\/tickets\/\d+$/,
            times: 1,
            delayMs: timeoutMs + 500,
          }),
      },
      { fault: 'none (Zendesk → Chatwoot)', direction: 'z2c', inject: () => undefined },
      {
        fault: 'one 500 on the Chatwoot message',
        direction: 'z2c',
        inject: () => r.chatwoot.injectFaults({ method: 'POST', path: /\/messages$/, times: 1, status: 500 }),
      },
      {
        fault: 'one timeout on the Chatwoot message (it lands late)',
        direction: 'z2c',
        inject: () =>
          r.chatwoot.injectFaults({
            method: 'POST',
            path: /\/messages$/,
            times: 1,
            delayMs: timeoutMs + 500,
          }),
      },
    ];
    const results: FaultLatency[] = [];
    let baseline = 0;
    for (const s of series) {
      o.progress(`fault latency: ${s.fault}…`);
      const runs = [];
      for (let i = 0; i < o.trials; i++) runs.push(await trial(s.direction, s.inject));
      const times = runs.map((x) => x.ms);
      if (s.fault.startsWith('none')) baseline = percentile(times, 50);
      results.push({
        fault: s.fault,
        trials: o.trials,
        extraMs: {
          p50: Math.max(0, percentile(times, 50) - baseline),
          p99: Math.max(0, percentile(times, 99) - baseline),
        },
        duplicated: runs.reduce((a, x) => a + Math.max(0, x.copies - 1), 0),
      });
    }
    return results.filter((x) => !x.fault.startsWith('none'));
  } finally {
    await r.close();
  }
}

export interface NewTicketCalls {
  tickets: number;
  /** API calls (both platforms) for a new ticket's first comment: contact, conversation and message. */
  firstMessage: number;
  /** API calls for each later comment of the same ticket. */
  later: number;
  /** What the replaced service made for the same (the measurement: 5, then 3). */
  replaced: { firstMessage: number; later: number };
}

/** Calls the first comment of a new ticket costs, and each comment after it. */
export async function runNewTicketCalls(o: {
  tickets: number;
  progress: (line: string) => void;
}): Promise<NewTicketCalls> {
  const r = await rig({});
  try {
    o.progress(`new tickets: ${o.tickets} tickets, first and second comment…`);
    const calls = () => r.zendesk.requests.length + r.chatwoot.requests.length;
    // One-time lookups (the bridge's own Zendesk user) belong to a container's first event, not to a ticket.
    const warm = r.zendesk.createUser({ name: 'Warm', email: 'warm@customer.example', role: 'end-user' });
    r.zendesk.createTicket({ requester: warm, subject: 'warm', body: 'warm' });
    await r.quiet();
    let first = 0;
    let later = 0;
    for (let i = 0; i < o.tickets; i++) {
      const customer = r.zendesk.createUser({
        name: `New ${i}`,
        email: `new${i}@customer.example`,
        role: 'end-user',
      });
      const before = calls();
      const ticket = r.zendesk.createTicket({ requester: customer, subject: `New ${i}`, body: `first ${i}` });
      await r.quiet();
      first += calls() - before;
      const mid = calls();
      r.zendesk.customerComment(ticket.id, `second ${i}`);
      await r.quiet();
      later += calls() - mid;
    }
    return {
      tickets: o.tickets,
      firstMessage: round(first / o.tickets, 2),
      later: round(later / o.tickets, 2),
      replaced: { firstMessage: 5, later: 3 },
    };
  } finally {
    await r.close();
  }
}
