// Cost per million synced messages on AWS: the deployed shape read from the synthesized template (memory, CPU
// architecture, tracing, which services), the work per message measured by the benchmark, and list prices.
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/bridge-stack.ts';

/**
 * List prices, us-east-1, as read on 2026-11-30 from the AWS pricing pages (free tiers ignored): Lambda, SQS, DynamoDB
 * (on-demand after its November 2024 reduction), API Gateway, CloudWatch, X-Ray, Secrets Manager. Check them
 * before relying on the totals; they change.
 */
export const PRICES = {
  date: '2026-11-30',
  region: 'us-east-1',
  lambdaGbSecondArm: 0.0000133334,
  lambdaGbSecondX86: 0.0000166667,
  lambdaRequest: 0.2 / 1e6,
  sqsFifoRequest: 0.5 / 1e6,
  dynamoWru: 0.625 / 1e6,
  dynamoRru: 0.125 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  logsIngestedGb: 0.5,
  customMetricMonth: 0.3,
  xrayTrace: 5.0 / 1e6,
  secretsManagerCall: 0.05 / 1e4,
} as const;

/** What the deployed stack is, from its synthesized template. */
export interface DeployedShape {
  /**
   * Per function, by its role in the stack: MemorySize (MB), architecture, X-Ray active tracing, and whether Lambda
   * writes its own START/REPORT lines (system log level INFO or DEBUG, Lambda's default INFO).
   */
  functions: Record<string, { memoryMb: number; arm: boolean; tracing: boolean; platformLogs: boolean }>;
  /** Seconds between scheduled reconciliation runs (the events rule's rate). */
  reconcileEverySeconds: number;
}

export function readTemplate(): DeployedShape {
  const { stack } = buildApp();
  const template = Template.fromStack(stack);
  const fns = template.findResources('AWS::Lambda::Function') as Record<
    string,
    {
      Properties: {
        MemorySize?: number;
        Architectures?: string[];
        TracingConfig?: { Mode?: string };
        LoggingConfig?: { SystemLogLevel?: string };
        Handler?: string;
      };
    }
  >;
  const byId: Record<string, string> = {
    zendeskWebhook: stack.getLogicalId(stack.zendeskWebhook.fn.node.defaultChild as never),
    chatwootWebhook: stack.getLogicalId(stack.chatwootWebhook.fn.node.defaultChild as never),
    worker: stack.getLogicalId(stack.worker.fn.node.defaultChild as never),
    reconcile: stack.getLogicalId(stack.reconcile.fn.node.defaultChild as never),
  };
  const functions: DeployedShape['functions'] = {};
  for (const [name, id] of Object.entries(byId)) {
    const p = fns[id]?.Properties;
    if (!p) throw new Error(`function ${name} not in the template`);
    functions[name] = {
      memoryMb: p.MemorySize ?? 128,
      arm: (p.Architectures ?? ['x86_64']).includes('arm64'),
      tracing: p.TracingConfig?.Mode === 'Active',
      platformLogs: (p.LoggingConfig?.SystemLogLevel ?? 'INFO') !== 'WARN',
    };
  }
  const rules = Object.values(
    template.findResources('AWS::Events::Rule') as Record<
      string,
      { Properties: { ScheduleExpression?: string } }
    >,
  );
  const rate = rules
    .map((r) => /^rate\((\d+) minutes?\)$/.exec(r.Properties.ScheduleExpression ?? ''))
    .find((m) => m !== null);
  if (!rate) throw new Error('no reconciliation schedule in the template');
  return { functions, reconcileEverySeconds: Number(rate[1]) * 60 };
}

/**
 * Traces Lambda records for a function invoked `perSecond` times a second on average (Poisson arrivals): its fixed
 * sampling takes the first invocation of each second (the reservoir: a second with at least one invocation) and
 * 5 % of the others. Lambda applies this per function and ignores the account's X-Ray sampling rules, which only
 * the X-Ray SDKs and a few services (API Gateway REST stages, AppSync, Step Functions) read.
 */
export function tracesPerSecond(perSecond: number): number {
  const reservoir = 1 - Math.exp(-perSecond);
  return reservoir + 0.05 * Math.max(0, perSecond - reservoir);
}

/** The work behind one synced message, measured by the benchmark (per message, averaged over the run). */
export interface MeasuredWork {
  /** Webhook deliveries the API received per synced message: the event, its duplicates, and the echoes. */
  deliveries: number;
  /** Ingress Lambda milliseconds per delivery (measured acknowledgement time: an upper bound). */
  ingressMsPerDelivery: number;
  /** Worker invocations (batches) per message, and their measured milliseconds per message. */
  workerInvocations: number;
  workerMs: number;
  /** Platform API calls per message (each adds the platform's latency to the worker's billed time). */
  apiCalls: number;
  sqs: { sends: number; receives: number; deletes: number; visibilityChanges: number };
  dynamo: { wru: number; rru: number };
  /** CloudWatch Logs bytes per message (all functions, logs and EMF metrics, INFO level). */
  logBytes: number;
  /** Distinct custom metric names the functions publish (a monthly charge each, whatever the volume). */
  metricNames: number;
}

export interface CostAssumptions {
  /** Latency a real platform adds to each call (the simulators answer on loopback in ~1 ms). */
  platformLatencyMs: number;
  /** Sustained messages per second: sets how many X-Ray traces the default sampling keeps, and the month. */
  messagesPerSecond: number;
  /** Lambda's own log lines per invocation (platform.start and platform.report in JSON format), bytes; none for a
   *  function whose system log level is WARN. */
  platformLogBytesPerInvocation: number;
  /** Containers that re-read the secret every 5 minutes (ingress ×2 and worker, at steady load). */
  containers: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  platformLatencyMs: 250,
  messagesPerSecond: 10,
  platformLogBytesPerInvocation: 700,
  containers: 8,
};

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

export function costPerMillion(shape: DeployedShape, w: MeasuredWork, a = DEFAULT_ASSUMPTIONS): CostLine[] {
  const M = 1e6;
  const fn = (name: string) => {
    const f = shape.functions[name];
    if (!f) throw new Error(`no function ${name}`);
    return {
      ...f,
      gb: f.memoryMb / 1024,
      price: f.arm ? PRICES.lambdaGbSecondArm : PRICES.lambdaGbSecondX86,
    };
  };
  const ingress = fn('zendeskWebhook');
  const worker = fn('worker');
  // Lambda bills each invocation rounded up to the millisecond.
  const ingressGbS = (M * w.deliveries * Math.ceil(w.ingressMsPerDelivery) * ingress.gb) / 1000;
  // Measured with the simulators answering after `platformLatencyMs`: waiting on the platforms is billed time.
  const workerMs = w.workerMs;
  const workerGbS = (M * workerMs * worker.gb) / 1000;
  const invocations = M * (w.deliveries + w.workerInvocations);
  const sqsRequests = M * (w.sqs.sends + w.sqs.receives + w.sqs.deletes + w.sqs.visibilityChanges);
  // The two webhook functions share the deliveries (the run mixes both directions evenly); each has its own
  // system log level and tracing in the template.
  const seconds = M / a.messagesPerSecond;
  const perFunction: Array<{ name: string; invocations: number }> = [
    { name: 'zendeskWebhook', invocations: (M * w.deliveries) / 2 },
    { name: 'chatwootWebhook', invocations: (M * w.deliveries) / 2 },
    { name: 'worker', invocations: M * w.workerInvocations },
    { name: 'reconcile', invocations: seconds / shape.reconcileEverySeconds },
  ];
  const platformLogInvocations = perFunction
    .filter((f) => fn(f.name).platformLogs)
    .reduce((sum, f) => sum + f.invocations, 0);
  const logGb = (M * w.logBytes + platformLogInvocations * a.platformLogBytesPerInvocation) / 2 ** 30;
  const traced = perFunction.filter((f) => fn(f.name).tracing);
  const traces = traced.reduce((sum, f) => sum + seconds * tracesPerSecond(f.invocations / seconds), 0);
  const month = 30 * 24 * 3600;
  // Metrics cost per month; a million messages at this rate take `seconds`, so that share of a month.
  const metricShare = Math.min(1, seconds / month);
  const secretReads = a.containers * (seconds / 300);
  return [
    {
      item: 'Lambda compute (ingress)',
      quantity: `${fmt(ingressGbS)} GB-s (${w.deliveries.toFixed(2)} deliveries × ${w.ingressMsPerDelivery.toFixed(1)} ms × ${ingress.memoryMb} MB)`,
      usd: ingressGbS * ingress.price,
    },
    {
      item: 'Lambda compute (worker)',
      quantity: `${fmt(workerGbS)} GB-s (${workerMs.toFixed(0)} ms/message with ${a.platformLatencyMs} ms per API call, ${w.apiCalls.toFixed(2)} calls × ${worker.memoryMb} MB)`,
      usd: workerGbS * worker.price,
    },
    {
      item: 'Lambda requests',
      quantity: `${fmt(invocations)} invocations`,
      usd: invocations * PRICES.lambdaRequest,
    },
    {
      item: 'SQS FIFO requests',
      quantity: `${fmt(sqsRequests)} (send ${w.sqs.sends.toFixed(2)}, receive ${w.sqs.receives.toFixed(2)}, delete ${w.sqs.deletes.toFixed(2)}, visibility ${w.sqs.visibilityChanges.toFixed(3)} per message)`,
      usd: sqsRequests * PRICES.sqsFifoRequest,
    },
    {
      item: 'DynamoDB on-demand writes',
      quantity: `${fmt(M * w.dynamo.wru)} WRU (${w.dynamo.wru.toFixed(2)} per message)`,
      usd: M * w.dynamo.wru * PRICES.dynamoWru,
    },
    {
      item: 'DynamoDB on-demand reads',
      quantity: `${fmt(M * w.dynamo.rru)} RRU`,
      usd: M * w.dynamo.rru * PRICES.dynamoRru,
    },
    {
      item: 'API Gateway HTTP API',
      quantity: `${fmt(M * w.deliveries)} requests`,
      usd: M * w.deliveries * PRICES.httpApiRequest,
    },
    {
      item: 'CloudWatch Logs ingestion',
      quantity: `${logGb.toFixed(2)} GB (${Math.round(w.logBytes)} B/message measured + ${a.platformLogBytesPerInvocation} B per invocation from Lambda where its system logs are on: ${(platformLogInvocations / M).toFixed(2)} per message)`,
      usd: logGb * PRICES.logsIngestedGb,
    },
    {
      item: 'CloudWatch custom metrics',
      quantity: `${w.metricNames} metrics × ${(metricShare * 100).toFixed(1)} % of a month`,
      usd: w.metricNames * metricShare * PRICES.customMetricMonth,
    },
    {
      item: 'X-Ray traces',
      quantity: `${fmt(traces)} traces (traced: ${traced.map((f) => f.name).join(', ') || 'none'})`,
      usd: traces * PRICES.xrayTrace,
    },
    {
      item: 'Secrets Manager API calls',
      quantity: `${fmt(secretReads)} reads (${a.containers} containers, every 5 min)`,
      usd: secretReads * PRICES.secretsManagerCall,
    },
  ];
}

/**
 * What this architecture costs per million messages before any code runs, at the measured deliveries and batch
 * size: every delivery is an API Gateway request and an ingress invocation, every message one SQS send, every
 * batch one worker invocation with one receive and one delete, and exactly-once needs at least two DynamoDB writes
 * per message (the claim before the downstream write, the done mark after it). Compute, logs, traces, metrics and
 * the rate budget's writes come on top.
 */
export function architectureFloor(w: MeasuredWork): CostLine[] {
  const M = 1e6;
  const invocations = w.deliveries + w.workerInvocations;
  const sqs = 1 + 2 * w.workerInvocations;
  return [
    {
      item: 'API Gateway HTTP API',
      quantity: `${w.deliveries.toFixed(2)} per message`,
      usd: M * w.deliveries * PRICES.httpApiRequest,
    },
    {
      item: 'Lambda requests',
      quantity: `${invocations.toFixed(2)} per message`,
      usd: M * invocations * PRICES.lambdaRequest,
    },
    {
      item: 'SQS FIFO requests',
      quantity: `${sqs.toFixed(2)} per message`,
      usd: M * sqs * PRICES.sqsFifoRequest,
    },
    { item: 'DynamoDB writes', quantity: '2 WRU per message', usd: M * 2 * PRICES.dynamoWru },
  ];
}

const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);
