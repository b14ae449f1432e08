// Child process of `npm run bench` (the cost run): a load run as deployed — INFO logs, EMF metrics on, platforms a
// round trip away (the simulators add PLATFORM_LATENCY_MS to every answer), offered below saturation — measuring
// the work per message (deliveries, Lambda time, SQS, DynamoDB) and the bytes and lines the functions print to
// stdout and stderr during the measured phase (what CloudWatch Logs would ingest), and the distinct custom
// metric names. Writes its result as JSON to the file named by the first argument.
import './log-env.ts';
import { writeFileSync } from 'node:fs';
import { runLoad } from './load.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: log-volume.ts <result.json>');
const events = Number(process.argv[3] ?? 400);
const latencyMs = Number(process.argv[4] ?? 200);
// Offered at the rate the cost model assumes for sampling and the month (bench/cost.ts DEFAULT_ASSUMPTIONS).
const rate = Number(process.argv[5] ?? 10);
let counting = false;
let bytes = 0;
let lines = 0;
const metricNames = new Set<string>();
const progress = process.stderr.write.bind(process.stderr);
// LOG_VOLUME_DUMP=<file>: also keep the counted lines there, to see which lines the bytes are.
const dump: string[] | undefined = process.env.LOG_VOLUME_DUMP ? [] : undefined;
function count(text: string): void {
  bytes += Buffer.byteLength(text);
  dump?.push(text);
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    lines++;
    if (line.includes('"_aws"')) {
      const emf = JSON.parse(line) as {
        _aws?: { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string }> }> };
      };
      for (const m of emf._aws?.CloudWatchMetrics?.[0]?.Metrics ?? []) metricNames.add(m.Name);
    }
  }
}
// Lambda sends both streams to CloudWatch Logs (WARN and ERROR lines go to stderr).
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (!counting) return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    count(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof stream.write;
}

// CPU time of this whole process (simulators, load generator, ingress and worker) during the measured phase: an
// upper bound of the worker's CPU per message, which Lambda at a small memory size runs on a fraction of a vCPU.
let cpuStart = process.cpuUsage();
let cpu = { user: 0, system: 0 };
const load = await runLoad({
  events,
  conversations: Math.max(10, Math.round(events / 10)),
  duplicateShare: 0.1,
  faultShare: 0.05,
  concurrency: 20,
  rate,
  platformLatencyMs: latencyMs,
  progress: (line) => progress(`${line}\n`),
  onMeasured: (phase) => {
    counting = phase === 'start';
    if (phase === 'start') cpuStart = process.cpuUsage();
    else cpu = process.cpuUsage(cpuStart);
  },
});
if (dump && process.env.LOG_VOLUME_DUMP) writeFileSync(process.env.LOG_VOLUME_DUMP, dump.join(''));
writeFileSync(
  out,
  JSON.stringify({
    events: load.events,
    bytes,
    lines,
    metricNames: [...metricNames].sort(),
    work: load.work,
    processCpuMsPerMessage: (cpu.user + cpu.system) / 1000 / load.events,
    // The cost run must be a correct run too: its work is only meaningful if every message synced once, in order.
    exactness: {
      lost: load.lost,
      duplicated: load.duplicated,
      outOfOrder: load.outOfOrder,
      deadLettered: load.deadLettered,
    },
  }),
);
