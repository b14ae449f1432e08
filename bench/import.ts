// Import benchmark: a backlog of simulated Zendesk tickets (no webhook will ever mention them) imported through
// the local bridge (the same feeder, queue path, worker and ledger as deployed), with the feeder killed in the
// middle between enqueueing a page and recording it and then started again. Counts tickets per second, API
// calls per ticket, and checks Chatwoot's final state: every comment once, in order (duplicates must be 0).

import { randomBytes } from 'node:crypto';
import { type LocalBridge, startLocalBridge } from '../bin/local-bridge.ts';
import { PermanentError } from '../shared/errors.ts';
import { runImport } from '../shared/import/feeder.ts';
import { feederDeps } from '../shared/import/import-deps.ts';
import { UNSOLVED } from '../shared/import/state.ts';
import { forgetCachedLinks, getWorkerDeps } from '../shared/worker-deps.ts';
import { ZendeskSimulator } from '../simulators/zendesk.ts';
import { benchBridgeEnv, benchSecrets } from './bridge-env.ts';
import { startChatwootThread } from './chatwoot-thread.ts';
import { startDynaliteThread } from './dynalite-thread.ts';
import { round } from './stats.ts';

export interface ImportBenchOptions {
  tickets: number;
  /** Comments per ticket (the first opens it). One in ten is an internal note, one in three an agent's reply. */
  comments: number;
  /** Share of tickets fed when the feeder is killed (0 = no restart). */
  restartAt: number;
  /** Zendesk account limit per minute (0 = none); the import keeps half for live sync. */
  rateLimitPerMinute: number;
  /** Export page size (Zendesk allows up to 1,000). */
  pageSize: number;
  progress: (line: string) => void;
}

export interface ImportBenchResult {
  tickets: number;
  commentsPerTicket: number;
  durationMs: number;
  ticketsPerSecond: number;
  messagesPerSecond: number;
  apiCallsPerTicket: { zendesk: number; chatwoot: number; total: number };
  dynamoRequestsPerTicket: number;
  /**
   * CPU time per ticket of the whole process (bridge, simulators, DynamoDB's thread) and of the main thread alone
   * (the bridge and the simulators): what the machine's load does not inflate as it does wall time.
   */
  cpuMsPerTicket: { process: number; mainThread: number };
  /** The process's resident memory at the end (all threads). */
  rssMb: number;
  restarted: boolean;
  refedTickets: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  deadLettered: number;
}

export async function runImportBench(o: ImportBenchOptions): Promise<ImportBenchResult> {
  const runId = randomBytes(4).toString('hex');
  const s = benchSecrets();
  // Contract validation off: the benchmark measures the bridge, not the simulators' spec checks.
  const zendesk = await ZendeskSimulator.start({
    email: 'bench@bridge.example',
    apiToken: s.zt,
    webhookSecret: s.zw,
    validate: false,
    ...(o.rateLimitPerMinute > 0 ? { rateLimitPerMinute: o.rateLimitPerMinute } : {}),
  });
  // Chatwoot and DynamoDB on threads of their own: other services when deployed (see their files).
  const chatwoot = await startChatwootThread({
    apiToken: s.ct,
    accountId: 1,
    inboxId: 7,
    webhookSecret: s.cw,
    validate: false,
  });
  const calls = { zendesk: 0, chatwoot: 0 };
  let dynamo = 0;
  let bridge: LocalBridge | undefined;
  // DynamoDB Local when CI names one, else dynalite on a thread.
  const dynamoThread = process.env.DYNAMODB_ENDPOINT ? undefined : await startDynaliteThread();
  const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT ?? dynamoThread?.endpoint;
  // The simulators keep every request and delivery; the run counts them itself instead.
  const trim = setInterval(() => {
    zendesk.requests.length = 0;
  }, 2_000);
  try {
    o.progress(`seeding ${o.tickets} tickets × ${o.comments} comments…`);
    zendesk.muteWebhooks = true;
    const agent = zendesk.defaultAgent;
    const seeded: number[] = [];
    for (let i = 0; i < o.tickets; i++) {
      const customer = zendesk.createUser({
        name: `Backlog Customer ${i}`,
        email: `backlog${i}@customer.example`,
        role: 'end-user',
      });
      const t = zendesk.createTicket({ requester: customer, subject: `Backlog ${i}`, body: `t${i} c0` });
      for (let c = 1; c < o.comments; c++) {
        const text = `t${i} c${c}`;
        if (c % 10 === 5) zendesk.agentComment(t.id, agent.id, text, { public: false });
        else if (c % 3 === 1) zendesk.agentComment(t.id, agent.id, text);
        else zendesk.customerComment(t.id, text);
      }
      // Every unsolved status, as a real backlog has (a customer's reply reopens a ticket, so set it last).
      zendesk.setStatus(t.id, UNSOLVED[i % UNSOLVED.length]!);
      seeded.push(t.id);
    }
    zendesk.muteWebhooks = false;

    bridge = await startLocalBridge({
      env: {
        ...benchBridgeEnv(zendesk, chatwoot, s),
        // Chatwoot limits requests per IP (3000 a minute by default); deployed, the worker runs as up to five
        // containers with an address each, which this one process stands in for (as in the throughput run).
        CHATWOOT_RATE_LIMIT: '15000',
        // Tables of this run only: on a shared DynamoDB (CI's DynamoDB Local) another run's import job would be
        // found in the ledger's one job item.
        LINKS_TABLE_NAME: `bench-links-${runId}`,
        LEDGER_TABLE_NAME: `bench-ledger-${runId}`,
        RECONCILE_INTERVAL_MS: '0',
        ...(dynamoEndpoint ? { DYNAMODB_ENDPOINT: dynamoEndpoint } : {}),
      },
      // Five batches at once, like the deployed event source's maxConcurrency.
      queue: { visibilityTimeoutMs: 200, concurrency: 5 },
      onHttpRequest: (platform) => {
        calls[platform]++;
      },
      onDynamoRequest: () => {
        dynamo++;
      },
    });
    const b = bridge;
    // Chatwoot echoes every message the import posts: the bridge must drop each one.
    await chatwoot.setWebhookUrl(`${b.url}/webhooks/chatwoot`);
    zendesk.setWebhookUrl(`${b.url}/webhooks/zendesk`);

    const rt = await getWorkerDeps();
    const deps = feederDeps(rt, {
      dynamoEndpoint: b.dynamoEndpoint,
      backlog: async () => b.queue.depth(),
      onHttpRequest: () => {
        calls.zendesk++;
      },
    });
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const mainAtStart = process.threadCpuUsage();
    let lastLine = 0;
    const report = (fed: number) => {
      const now = performance.now();
      if (now - lastLine < 5_000) return;
      lastLine = now;
      const rate = fed / ((now - started) / 1000);
      o.progress(
        `  ${fed}/${o.tickets} tickets fed, ${round(rate, 1)}/s, queue ${b.queue.depth()}, ETA ${Math.round((o.tickets - fed) / Math.max(rate, 0.001))} s`,
      );
    };

    await deps.store.start({ statuses: [...UNSOLVED] }, 'bench');
    let restarted = false;
    let refedTickets = 0;
    if (o.restartAt > 0) {
      // The feeder dies after enqueueing a page but before recording it: the worst moment.
      const advance = deps.store.advance.bind(deps.store);
      deps.store.advance = async (from, next) => {
        if (!restarted && next.tickets >= o.tickets * o.restartAt) {
          restarted = true;
          refedTickets = next.tickets - from.tickets;
          throw new PermanentError('killed', 'killed');
        }
        return advance(from, next);
      };
      await runImport(deps, {
        pageSize: o.pageSize,
        onPage: (r) => 'job' in r && r.job && report(r.job.tickets),
      });
      deps.store.advance = advance;
      o.progress(`  feeder killed at ${round(o.restartAt * 100, 0)} %; starting it again`);
      // A fresh container: no cached links.
      forgetCachedLinks();
      await deps.store.start({ statuses: [...UNSOLVED] }, 'bench-again');
    }
    const job = await runImport(deps, {
      pageSize: o.pageSize,
      onPage: (r) => 'job' in r && r.job && report(r.job.tickets),
    });
    if (job?.status !== 'done') throw new Error(`import ended ${job?.status}: ${job?.error ?? ''}`);
    for (let i = 0; i < 3; i++) {
      await chatwoot.idle();
      await b.queue.drained(600_000);
    }
    const durationMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    const main = process.threadCpuUsage(mainAtStart);

    // Chatwoot's final state against Zendesk's: each comment once (by its marker), in Zendesk's order.
    o.progress('checking every conversation…');
    const sourceIdsOf = await chatwoot.sourceIds();
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const ticketId of seeded) {
      const expected = zendesk.comments(ticketId).map((c) => `zendesk:comment:${c.id}`);
      const got = (sourceIdsOf.get(ticketId) ?? []).filter((id) => id.startsWith('zendesk:comment:'));
      const seen = new Set<string>();
      for (const id of got) {
        if (seen.has(id)) duplicated++;
        seen.add(id);
      }
      lost += expected.filter((id) => !seen.has(id)).length;
      const order = [...new Set(got)];
      const want = expected.filter((id) => seen.has(id));
      if (order.join() !== want.join()) outOfOrder++;
    }
    const total = calls.zendesk + calls.chatwoot;
    return {
      tickets: o.tickets,
      commentsPerTicket: o.comments,
      durationMs: Math.round(durationMs),
      ticketsPerSecond: round(o.tickets / (durationMs / 1000), 1),
      messagesPerSecond: round((o.tickets * o.comments) / (durationMs / 1000), 1),
      apiCallsPerTicket: {
        zendesk: round(calls.zendesk / o.tickets, 2),
        chatwoot: round(calls.chatwoot / o.tickets, 2),
        total: round(total / o.tickets, 2),
      },
      dynamoRequestsPerTicket: round(dynamo / o.tickets, 2),
      cpuMsPerTicket: {
        process: round((cpu.user + cpu.system) / 1000 / o.tickets, 1),
        mainThread: round((main.user + main.system) / 1000 / o.tickets, 1),
      },
      rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      restarted,
      refedTickets,
      lost,
      duplicated,
      outOfOrder,
      deadLettered: b.queue.deadLetters.length,
    };
  } finally {
    clearInterval(trim);
    await bridge?.close();
    await Promise.all([zendesk.close(), chatwoot.close(), dynamoThread?.close()]);
  }
}
