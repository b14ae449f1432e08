// Cold start as deployed: bundles each function with the stack's esbuild settings (lib/bundling.ts: ESM, minified,
// source maps, the same externals) and loads it in fresh Node 24 processes started with the functions'
// NODE_OPTIONS (source maps enabled) and Lambda's environment markers, beside an empty handler bundled and started
// the same way as the floor. Rounds interleave the floor and the functions, so load on a shared machine drifts
// into every row alike.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { ENTRY_FILE, esbuildOptions, FUNCTION_NODE_OPTIONS } from '../lib/bundling.ts';
import { chatwootSignature, zendeskSignature } from '../shared/http/signature.ts';
import { median, round } from './stats.ts';

export const FUNCTIONS = [
  'zendesk-webhook',
  'chatwoot-webhook',
  'sync-worker',
  'reconcile',
  'dashboard-app',
] as const;

export interface ColdStartRow {
  name: string;
  /** JavaScript that module load reads: the entry and the chunks it imports statically. */
  bundleBytes: number;
  /** Their source maps (Node reads them at load with --enable-source-maps). */
  sourceMapBytes: number;
  /** All of the function's JavaScript, chunks imported only when needed included. */
  totalBytes: number;
  /** Median time to import the bundle in a fresh process (module init), ms. */
  initMs: number;
  /** Median wall time of a fresh `node` process that imports the bundle and exits, ms. */
  processMs: number;
  /**
   * Median CPU time (user + system) of that process from its start until the bundle is loaded, ms. Unlike wall
   * time it barely moves when other processes share the cores, so its ratio is the one to compare across runs.
   */
  cpuMs: number;
  initRatio: number;
  processRatio: number;
  cpuRatio: number;
}

/** Bytes of a function's files that its module load reads: the entry, the chunks it imports statically, their maps. */
interface BundleSize {
  /** JavaScript loaded at module load (entry + static imports). */
  loadedBytes: number;
  /** Their source maps, which Node reads with --enable-source-maps. */
  loadedMapBytes: number;
  /** All JavaScript of the function, chunks imported later (`import()`) included. */
  totalBytes: number;
}

/** Bundles one entry exactly as the stack does (lib/bundling.ts) into `outdir`; returns what module load reads. */
function bundle(entry: string, outdir: string): BundleSize {
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = buildSync({ ...esbuildOptions(entry, outdir), metafile: true });
  const outputs = metafile?.outputs ?? {};
  const loaded = new Set<string>();
  const pending = Object.keys(outputs).filter((f) => f.endsWith(`/${ENTRY_FILE}`));
  for (let f = pending.pop(); f !== undefined; f = pending.pop()) {
    if (loaded.has(f)) continue;
    loaded.add(f);
    for (const i of outputs[f]?.imports ?? [])
      if (i.kind === 'import-statement' && outputs[i.path]) pending.push(i.path);
  }
  const size = (f: string) => statSync(f).size;
  const js = Object.keys(outputs).filter((f) => f.endsWith('.mjs'));
  return {
    loadedBytes: [...loaded].reduce((n, f) => n + size(f), 0),
    loadedMapBytes: [...loaded].reduce((n, f) => n + size(`${f}.map`), 0),
    totalBytes: js.reduce((n, f) => n + size(f), 0),
  };
}

/** What Lambda sets that the code reads at import (Powertools decides on tracing and log format from these). */
const LAMBDA_ENV = {
  NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'coldstart-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_SERVICE_NAME: 'zendesk-chatwoot-bridge',
  POWERTOOLS_METRICS_NAMESPACE: 'ZendeskChatwootBridge',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

function once(file: string): { initMs: number; processMs: number; cpuMs: number } {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});const i=performance.now()-t;const c=process.cpuUsage();console.log(JSON.stringify([i,(c.user+c.system)/1000]))`;
  const started = performance.now();
  // process.execPath is Node 24 here (npm scripts put node_modules/.bin first on PATH).
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    // Only what Lambda sets: not the benchmark's own settings (bin/bench-env.ts silences metrics, for one).
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV },
  });
  const processMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr.split('\n')[0]}`);
  const [initMs, cpuMs] = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as [number, number];
  return { initMs, processMs, cpuMs };
}

/**
 * A configuration the worker accepts, pointing nowhere: an empty batch builds its dependencies (clients, stores)
 * and calls nothing. Tracing is on with a sampled trace id, as on Lambda, so the first batch loads the X-Ray SDK;
 * its segments go by UDP to 127.0.0.1:2000, where nothing listens.
 */
const FIRST_BATCH_ENV = {
  SECRET_ARN: '',
  ZENDESK_BASE_URL: 'https://bench.zendesk.invalid',
  ZENDESK_EMAIL: 'bench@example.invalid',
  ZENDESK_API_TOKEN: 'bench-zendesk-api-token',
  ZENDESK_WEBHOOK_SECRET: 'bench-zendesk-webhook-secret',
  CHATWOOT_BASE_URL: 'https://bench.chatwoot.invalid',
  CHATWOOT_ACCOUNT_ID: '1',
  CHATWOOT_INBOX_ID: '1',
  CHATWOOT_API_TOKEN: 'bench-chatwoot-api-token',
  CHATWOOT_WEBHOOK_SECRET: 'bench-chatwoot-webhook-secret',
  LINKS_TABLE_NAME: 'links',
  LEDGER_TABLE_NAME: 'ledger',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench.fifo',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench-dlq.fifo',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
  LAMBDA_TASK_ROOT: '/var/task',
  _HANDLER: 'index.handler',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

/**
 * CPU time (ms, median) of a fresh process that loads the worker and handles one empty batch: what deferring
 * modules to the first batch leaves of the cold start, so a lazy import cannot hide cost from the table.
 */
export function workerFirstBatchCpuMs(file: string, runs: number): number {
  const script = `const m=await import(${JSON.stringify(file)});const r=await m.handler({Records:[]},{getRemainingTimeInMillis:()=>30000,awsRequestId:'bench',functionName:'coldstart-bench'});if(r.batchItemFailures.length)throw new Error('batch failed');const c=process.cpuUsage();console.log((c.user+c.system)/1000)`;
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...FIRST_BATCH_ENV },
    });
    if (r.status !== 0) throw new Error(`first batch of ${file} failed: ${r.stderr.split('\n')[0]}`);
    cpu.push(Number(r.stdout.trim().split('\n').pop()));
  }
  return round(median(cpu), 1);
}

/**
 * An authentic delivery of an event the bridge does not sync, signed with FIRST_BATCH_ENV's secret: it goes
 * through the whole request path — configuration, signature, the platform's schemas — and is answered 200
 * without a call to the queue (nothing listens anywhere).
 */
function unsyncedDelivery(platform: 'zendesk' | 'chatwoot'): unknown {
  const now = new Date();
  const body =
    platform === 'zendesk'
      ? JSON.stringify({ type: 'zen:event-type:user.created', id: 'bench', detail: {} })
      : JSON.stringify({ event: 'conversation_updated', id: 1 });
  const headers =
    platform === 'zendesk'
      ? {
          'content-type': 'application/json',
          'x-zendesk-webhook-signature-timestamp': now.toISOString(),
          'x-zendesk-webhook-signature': zendeskSignature(
            FIRST_BATCH_ENV.ZENDESK_WEBHOOK_SECRET,
            now.toISOString(),
            body,
          ),
        }
      : {
          'content-type': 'application/json',
          'x-chatwoot-timestamp': String(Math.floor(now.getTime() / 1000)),
          'x-chatwoot-signature': chatwootSignature(
            FIRST_BATCH_ENV.CHATWOOT_WEBHOOK_SECRET,
            String(Math.floor(now.getTime() / 1000)),
            body,
          ),
        };
  return {
    version: '2.0',
    rawPath: `/webhooks/${platform}`,
    headers,
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', http: { method: 'POST', path: `/webhooks/${platform}` } },
  };
}

/**
 * CPU time (ms, median) of a fresh process that loads a webhook function and answers one authentic delivery
 * (unsyncedDelivery): what the ingress defers to its first request, shown beside its module load.
 */
export function ingressFirstRequestCpuMs(
  file: string,
  platform: 'zendesk' | 'chatwoot',
  runs: number,
): number {
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const event = JSON.stringify(unsyncedDelivery(platform));
    const script = `const m=await import(${JSON.stringify(file)});const r=await m.handler(${event},{getRemainingTimeInMillis:()=>30000,awsRequestId:'bench',functionName:'coldstart-bench'});if(r.statusCode!==200)throw new Error('answered '+r.statusCode+' '+r.body);const c=process.cpuUsage();console.log((c.user+c.system)/1000)`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...FIRST_BATCH_ENV },
    });
    if (r.status !== 0) throw new Error(`first request of ${file} failed: ${r.stderr.split('\n')[0]}`);
    cpu.push(Number(r.stdout.trim().split('\n').pop()));
  }
  return round(median(cpu), 1);
}

/** The file Lambda would load of a function bundled by runColdStart into `outDir`. */
export function bundleFile(outDir: string, name: string): string {
  return resolve(outDir, 'bundles', name, ENTRY_FILE);
}

export function runColdStart(outDir: string, runs: number, progress: (l: string) => void): ColdStartRow[] {
  // Inside the project, so a left-out `@aws-sdk/*` would resolve from node_modules as the runtime provides it.
  const dir = resolve(outDir, 'bundles');
  mkdirSync(dir, { recursive: true });
  const emptyEntry = join(dir, 'empty-handler.ts');
  writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  const entries: Array<{ name: string; out: string; size: BundleSize }> = [
    {
      name: '(empty handler)',
      out: bundleFile(outDir, 'empty'),
      size: bundle(emptyEntry, join(dir, 'empty')),
    },
  ];
  for (const name of FUNCTIONS) {
    const size = bundle(`functions/${name}.ts`, join(dir, name));
    entries.push({ name, out: bundleFile(outDir, name), size });
  }
  progress(`measuring ${entries.length} bundles, ${runs} fresh processes each (interleaved)…`);
  const samples = entries.map(() => ({ init: [] as number[], proc: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    for (const [k, e] of entries.entries()) {
      const m = once(e.out);
      samples[k]!.init.push(m.initMs);
      samples[k]!.proc.push(m.processMs);
      samples[k]!.cpu.push(m.cpuMs);
    }
  }
  const floorInit = median(samples[0]!.init);
  const floorProc = median(samples[0]!.proc);
  const floorCpu = median(samples[0]!.cpu);
  return entries.map((e, k) => {
    const initMs = median(samples[k]!.init);
    const processMs = median(samples[k]!.proc);
    const cpuMs = median(samples[k]!.cpu);
    return {
      name: e.name,
      bundleBytes: e.size.loadedBytes,
      sourceMapBytes: e.size.loadedMapBytes,
      totalBytes: e.size.totalBytes,
      initMs: round(initMs, 2),
      processMs: round(processMs, 1),
      cpuMs: round(cpuMs, 1),
      initRatio: round(initMs / floorInit, 1),
      processRatio: round(processMs / floorProc, 2),
      cpuRatio: round(cpuMs / floorCpu, 2),
    };
  });
}
