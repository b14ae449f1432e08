// What one reconciliation run costs, against the local bridge and both simulators: for a number of linked
// tickets/conversations (quiet), a run that finds missed events and a quiet run, with platform API calls,
// changes read, DynamoDB requests and wall time. Shows the cost follows what changed, not how many links exist.

import { type LocalBridge, startLocalBridge } from '../bin/local-bridge.ts';
import type { ReconcileResult } from '../shared/sync/reconcile.ts';
import { ChatwootSimulator } from '../simulators/chatwoot.ts';
import { ZendeskSimulator } from '../simulators/zendesk.ts';
import { benchBridgeEnv, benchSecrets } from './bridge-env.ts';
import { round } from './stats.ts';

export interface ReconcileRunCost {
  links: number;
  /** `missed`: planted events; `echoes`: the next run, reading the bridge's own writes of those syncs; `quiet`. */
  run: 'missed' | 'echoes' | 'quiet';
  missedPlanted: number;
  missedFound: number;
  changesRead: number;
  apiCalls: number;
  /** Platform calls observed on the wire during the run (the queue held, so the run's own). */
  callsObserved: number;
  dynamoRequests: number;
  ms: number;
}

/** One fresh bridge per link count; `missed` events (half comments, half replies) planted before the first run. */
export async function measureReconcile(
  links: number,
  missed: number,
  progress: (line: string) => void,
): Promise<ReconcileRunCost[]> {
  const s = benchSecrets();
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
  // The export allows 10 requests a minute; this measures several runs a minute.
  zendesk.exports.requestsPerMinute = 1000;
  let calls = 0;
  let dynamo = 0;
  let bridge: LocalBridge | undefined;
  try {
    bridge = await startLocalBridge({
      env: {
        ...benchBridgeEnv(zendesk, chatwoot, s),
        RECONCILE_SETTLE_MS: '0',
        // Linking hundreds of tickets spends the bridge's Zendesk budget (the default 200 requests a minute), so a
        // run right after it would mostly wait for slots (about 11 s of its time, measured): the plan of an account
        // that size (High Volume, 2,500) keeps the run's own cost in view. Pacing has its own tests.
        ZENDESK_RATE_LIMIT: '2500',
      },
      queue: { visibilityTimeoutMs: 200, concurrency: 5 },
      onHttpRequest: () => {
        calls++;
      },
      onDynamoRequest: () => {
        dynamo++;
      },
    });
    const b = bridge;
    const hooksOn = () => {
      zendesk.setWebhookUrl(`${b.url}/webhooks/zendesk`);
      chatwoot.setWebhookUrl(`${b.url}/webhooks/chatwoot`);
    };
    hooksOn();
    const quiet = async () => {
      for (let i = 0; i < 3; i++) {
        await zendesk.idle();
        await chatwoot.idle();
        await b.queue.drained(300_000);
      }
    };
    const run = async (): Promise<{ result: ReconcileResult; calls: number; dynamo: number; ms: number }> => {
      // Zendesk's export leaves out the last minute; Chatwoot's times are whole seconds.
      zendesk.advanceClock(61_000);
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      // The queue is held during the run, so the counts are the run's own, not the syncs it causes.
      await b.queue.stop();
      const [c0, d0, t0] = [calls, dynamo, performance.now()];
      const res = await fetch(`${b.url}/_local/reconcile`, { method: 'POST' });
      const result = (await res.json()) as ReconcileResult;
      const ms = performance.now() - t0;
      const [c1, d1] = [calls, dynamo];
      b.queue.start();
      await quiet();
      return { result, calls: c1 - c0, dynamo: d1 - d0, ms };
    };

    progress(`reconcile: linking ${links} tickets…`);
    const tickets = [];
    for (let i = 0; i < links; i++) {
      const customer = zendesk.createUser({
        name: `Customer ${i}`,
        email: `c${i}@customer.example`,
        role: 'end-user',
      });
      tickets.push(zendesk.createTicket({ requester: customer, subject: `T${i}`, body: `opening ${i}` }));
    }
    await quiet();
    const conversations = new Map(
      chatwoot.conversations().map((c) => [Number(c.custom_attributes.zendesk_ticket_id), c.id]),
    );
    await run(); // sets the cursors past the set-up
    await run();

    // Webhooks that never arrive: spread over the links, half each way.
    zendesk.setWebhookUrl(undefined);
    chatwoot.setWebhookUrl(undefined);
    for (let i = 0; i < missed; i++) {
      const ticket = tickets[(i * 7) % tickets.length]!;
      if (i % 2 === 0) zendesk.customerComment(ticket.id, `lost comment ${i}`);
      else chatwoot.agentReply(conversations.get(ticket.id)!, { content: `lost reply ${i}` });
    }
    await zendesk.idle();
    await chatwoot.idle();
    hooksOn();

    const out: ReconcileRunCost[] = [];
    for (const kind of ['missed', 'echoes', 'quiet'] as const) {
      const r = await run();
      out.push({
        links,
        run: kind,
        missedPlanted: kind === 'missed' ? missed : 0,
        missedFound: r.result.enqueued,
        changesRead: r.result.changesRead,
        apiCalls: r.result.apiCalls,
        callsObserved: r.calls,
        dynamoRequests: r.dynamo,
        ms: round(r.ms, 0),
      });
    }
    return out;
  } finally {
    await bridge?.close();
    await Promise.all([zendesk.close(), chatwoot.close()]);
  }
}
