// `npm run bench`: measures throughput, latency, cost per message and exactness under a bounded load on the
// local bridge, and cold start per function; prints tables and writes bench-results/bench.json.
// Options: --events N (2000) --conversations N (200) --duplicates 0.1 --faults 0.05 --concurrency N (20)
//          --rate N (target events/s, 100; 0 = as fast as acknowledgements allow, i.e. saturation)
//          --runs N (cold-start processes per function, 15) --backlog N (agent replies, 100) --backlog-tickets N (20)
//          --account-limit N (Zendesk requests a minute, 200) --fault-trials N (5)
//          --skip-load --skip-coldstart --skip-backlog --skip-faults --skip-cost --out DIR
// `npm run bench -- --import`: the history import instead (bench/import.ts), writing bench-results/import.json.
// Options: --tickets N (50000) --comments N (10) --restart-at 0.5 (share fed when the feeder is killed; 0 = none)
//          --rate-limit N (Zendesk requests/min, 0 = none) --page-size N (export page, 100)
import './bench-env.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  bundleFile,
  ingressFirstRequestCpuMs,
  runColdStart,
  workerFirstBatchCpuMs,
} from '../bench/coldstart.ts';
import {
  architectureFloor,
  costPerMillion,
  DEFAULT_ASSUMPTIONS,
  PRICES,
  readTemplate,
} from '../bench/cost.ts';
import { runImportBench } from '../bench/import.ts';
import { type LoadResult, runLoad } from '../bench/load.ts';
import { runBacklog, runFaultLatency, runNewTicketCalls } from '../bench/platform-limits.ts';
import { round, table } from '../bench/stats.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} must be a non-negative number`);
    process.exit(2);
  }
  return v;
};
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'bench-results';

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${round(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
const progress = (line: string) => console.error(line);
const report: Record<string, unknown> = { at: new Date().toISOString(), machine };

if (args.includes('--import')) {
  const r = await runImportBench({
    tickets: opt('tickets', 50_000),
    comments: Math.max(1, opt('comments', 10)),
    restartAt: Math.min(1, opt('restart-at', 0.5)),
    rateLimitPerMinute: opt('rate-limit', 0),
    pageSize: Math.min(1000, Math.max(1, opt('page-size', 100))),
    progress,
  });
  console.log(
    table(`\nImport: ${r.tickets} tickets × ${r.commentsPerTicket} comments (${machine})`, [
      ['duration', `${round(r.durationMs / 1000, 1)} s`],
      ['tickets per second', `${r.ticketsPerSecond} (${r.messagesPerSecond} messages/s)`],
      [
        'API calls per ticket',
        `${r.apiCallsPerTicket.total} (Zendesk ${r.apiCallsPerTicket.zendesk}, Chatwoot ${r.apiCallsPerTicket.chatwoot})`,
      ],
      ['DynamoDB requests per ticket', r.dynamoRequestsPerTicket],
      ['CPU per ticket', `${r.cpuMsPerTicket.process} ms (main thread ${r.cpuMsPerTicket.mainThread} ms)`],
      ['resident memory at the end', `${r.rssMb} MB`],
      [
        'feeder killed mid-run',
        r.restarted ? `yes (${r.refedTickets} tickets of the unrecorded page re-fed)` : 'no',
      ],
      ['lost / duplicated / out of order', `${r.lost} / ${r.duplicated} / ${r.outOfOrder}`],
      ['dead-lettered', r.deadLettered],
    ]),
  );
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'import.json'),
    `${JSON.stringify({ at: new Date().toISOString(), machine, import: r }, null, 2)}\n`,
  );
  console.log(`\nwritten: ${join(outDir, 'import.json')}`);
  if (r.lost + r.duplicated + r.outOfOrder + r.deadLettered > 0) {
    console.error('exactness check failed: lost, duplicated or out-of-order messages (see above)');
    process.exitCode = 1;
  }
  process.exit();
}

if (!args.includes('--skip-load')) {
  const events = opt('events', 2000);
  const conversations = opt('conversations', 200);
  const load = await runLoad({
    events,
    conversations,
    duplicateShare: opt('duplicates', 0.1),
    faultShare: opt('faults', 0.05),
    concurrency: opt('concurrency', 20),
    rate: opt('rate', 100),
    progress,
  });
  report.load = load;
  const oldCalls = load.legacyCallsPerMessage;
  console.log(
    table(`\nLoad: ${load.events} events over ${load.conversations} conversations (${machine})`, [
      [
        'directions',
        `${load.zendeskToChatwoot} Zendesk→Chatwoot, ${load.chatwootToZendesk} Chatwoot→Zendesk`,
      ],
      ['duplicates sent / faults injected', `${load.duplicatesSent} / ${load.faultsInjected} (429 and 503)`],
      [
        'throughput',
        `${load.eventsPerSecond} events/s (${round(load.durationMs / 1000, 1)} s; offered ${load.targetRate > 0 ? `${load.targetRate}/s` : 'as fast as acknowledged'})`,
      ],
      [
        'end-to-end p50 / p95 / p99',
        `${load.endToEndMs.p50} / ${load.endToEndMs.p95} / ${load.endToEndMs.p99} ms`,
      ],
      ['ingress ack p50 / p99', `${load.ingressAckMs.p50} / ${load.ingressAckMs.p99} ms`],
      [
        'API calls per message',
        `${load.apiCallsPerMessage} (${load.apiCallsPerMessageExcludingFaultRetries} without fault retries)`,
      ],
      [
        '  replaced system',
        `${oldCalls} → ratio ${round(load.apiCallsPerMessageExcludingFaultRetries / oldCalls, 2)}`,
      ],
      ['DynamoDB requests per message', load.dynamoRequestsPerMessage],
      ['lost / duplicated / out of order', `${load.lost} / ${load.duplicated} / ${load.outOfOrder}`],
      ['dead-lettered', load.deadLettered],
    ]),
  );
}

if (!args.includes('--skip-load')) {
  const calls = await runNewTicketCalls({ tickets: 20, progress });
  report.newTicket = calls;
  console.log(
    table('\nAPI calls for a new ticket (Zendesk → Chatwoot)', [
      [
        'first comment (contact, conversation, message)',
        `${calls.firstMessage} (replaced service: ${calls.replaced.firstMessage})`,
      ],
      ['each later comment', `${calls.later} (replaced service: ${calls.replaced.later})`],
    ]),
  );
}

if (!args.includes('--skip-backlog')) {
  const backlog = await runBacklog({
    replies: opt('backlog', 100),
    tickets: opt('backlog-tickets', 20),
    accountLimit: opt('account-limit', 200),
    progress,
  });
  report.backlog = backlog;
  console.log(
    table(
      `\nBacklog drain: ${backlog.replies} agent replies across ${backlog.tickets} tickets at once (Zendesk account ${backlog.accountLimit}/min, Update Ticket ${backlog.ticketUpdateLimit}/min)`,
      [
        [
          'drained in',
          `${round(backlog.drainMs / 1000, 1)} s (the limit allows ${round(backlog.idealMs / 1000, 1)} s)`,
        ],
        ['utilisation of the limit', `${backlog.utilisationPct} %`],
        ['429 answers', backlog.tooManyRequests],
        [
          'lost / duplicated / out of order / dead-lettered',
          `${backlog.lost} / ${backlog.duplicated} / ${backlog.outOfOrder} / ${backlog.deadLettered}`,
        ],
      ],
    ),
  );
}

if (!args.includes('--skip-faults')) {
  const faults = await runFaultLatency({ trials: opt('fault-trials', 5), progress });
  report.faultLatency = faults;
  console.log(
    table(
      '\nExtra delay one passing failure adds to its message (vs fault-free median)',
      faults.map((f) => [
        f.fault,
        `p50 ${round(f.extraMs.p50 / 1000, 2)} s, p99 ${round(f.extraMs.p99 / 1000, 2)} s, duplicates ${f.duplicated} (${f.trials} trials)`,
      ]),
    ),
  );
}

// The cost run measures its own work in a child process, so it runs with or without the load run.
if (!args.includes('--skip-cost')) {
  progress('cost: log volume at INFO with metrics on (child process), template synthesis…');
  const file = join(outDir, 'log-volume.json');
  mkdirSync(outDir, { recursive: true });
  const latency = String(DEFAULT_ASSUMPTIONS.platformLatencyMs);
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/log-volume.ts',
      file,
      '400',
      latency,
      String(DEFAULT_ASSUMPTIONS.messagesPerSecond),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (child.status !== 0) throw new Error('log-volume run failed');
  const logs = JSON.parse(readFileSync(file, 'utf8')) as {
    events: number;
    bytes: number;
    lines: number;
    metricNames: string[];
    work: LoadResult['work'];
    processCpuMsPerMessage: number;
  };
  const shape = readTemplate();
  const work = {
    // The cost run's work: measured with the platforms a round trip away, so worker time is what Lambda bills.
    ...logs.work,
    logBytes: logs.bytes / logs.events,
    metricNames: logs.metricNames.length,
  };
  const lines = costPerMillion(shape, work);
  const total = lines.reduce((a, l) => a + l.usd, 0);
  const floor = architectureFloor(work);
  const floorTotal = floor.reduce((a, l) => a + l.usd, 0);
  report.cost = {
    prices: PRICES,
    assumptions: DEFAULT_ASSUMPTIONS,
    shape,
    lines,
    total,
    floor,
    floorTotal,
    logs,
  };
  console.log(
    `\nCost per million synced messages (AWS list prices ${PRICES.region}, read ${PRICES.date}; assumptions: ${DEFAULT_ASSUMPTIONS.platformLatencyMs} ms per platform call, ${DEFAULT_ASSUMPTIONS.messagesPerSecond} messages/s sustained)`,
  );
  for (const l of lines)
    console.log(`  ${l.item.padEnd(28)} $${l.usd.toFixed(3).padStart(7)}   ${l.quantity}`);
  console.log(`  ${'total'.padEnd(28)} $${total.toFixed(3).padStart(7)}`);
  console.log(
    `  floor of the architecture    $${floorTotal.toFixed(3).padStart(7)}   before any code runs: ${floor.map((l) => `${l.item} $${l.usd.toFixed(2)} (${l.quantity})`).join(', ')}`,
  );
  console.log(
    `  (logs: ${round(logs.bytes / logs.events, 0)} bytes and ${round(logs.lines / logs.events, 2)} lines per message at INFO, metrics on; CPU of the whole bench process ${round(logs.processCpuMsPerMessage, 1)} ms per message, an upper bound of the worker's)`,
  );
}

if (!args.includes('--skip-coldstart')) {
  const rows = runColdStart(outDir, opt('runs', 15), progress);
  progress('measuring the worker up to the end of its first (empty) batch…');
  const firstBatchCpuMs = workerFirstBatchCpuMs(bundleFile(outDir, 'sync-worker'), opt('runs', 15));
  progress('measuring the webhook functions up to the end of their first request…');
  const firstRequestCpuMs = {
    zendesk: ingressFirstRequestCpuMs(bundleFile(outDir, 'zendesk-webhook'), 'zendesk', opt('runs', 15)),
    chatwoot: ingressFirstRequestCpuMs(bundleFile(outDir, 'chatwoot-webhook'), 'chatwoot', opt('runs', 15)),
  };
  report.coldStart = rows;
  report.workerFirstBatchCpuMs = firstBatchCpuMs;
  report.ingressFirstRequestCpuMs = firstRequestCpuMs;
  console.log(
    '\nCold start as deployed (stack bundling, NODE_OPTIONS with source maps; fresh process per run; median)',
  );
  console.log(
    '  function          loaded KB   map KB   all KB   import ms   × floor   process ms   × floor   process CPU ms   × floor',
  );
  for (const r of rows) {
    console.log(
      `  ${r.name.padEnd(16)}  ${String(round(r.bundleBytes / 1024, 1)).padStart(9)}   ${String(round(r.sourceMapBytes / 1024, 0)).padStart(6)}   ${String(round(r.totalBytes / 1024, 0)).padStart(6)}   ${String(r.initMs).padStart(9)}   ${String(r.initRatio).padStart(7)}   ${String(r.processMs).padStart(10)}   ${String(r.processRatio).padStart(7)}   ${String(r.cpuMs).padStart(14)}   ${String(r.cpuRatio).padStart(7)}`,
    );
  }
  const floorCpu = rows[0]?.cpuMs ?? Number.NaN;
  console.log(
    `  sync-worker, loaded and through its first (empty) batch, X-Ray on: ${firstBatchCpuMs} ms CPU (${round(firstBatchCpuMs / floorCpu, 2)} × floor)`,
  );
  for (const [platform, ms] of Object.entries(firstRequestCpuMs))
    console.log(
      `  ${platform}-webhook, loaded and through its first (authentic, unsynced) delivery: ${ms} ms CPU (${round(ms / floorCpu, 2)} × floor)`,
    );
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten: ${join(outDir, 'bench.json')}`);
const load = report.load as { lost: number; duplicated: number; outOfOrder: number } | undefined;
if (load && load.lost + load.duplicated + load.outOfOrder > 0) {
  console.error('exactness check failed: lost, duplicated or out-of-order messages (see above)');
  process.exitCode = 1;
}
