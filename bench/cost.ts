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
  /** MemorySize (MB) and architecture per function, by the handler file's name. */
  functions: Record<string, { memoryMb: number; arm: boolean; tracing: boolean }>;
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
    };
  }
  return { functions };
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
  /** Lambda's own log lines per invocation (platform.start and platform.report in JSON format), bytes. */
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
    return { gb: f.memoryMb / 1024, price: f.arm ? PRICES.lambdaGbSecondArm : PRICES.lambdaGbSecondX86 };
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
  const logGb =
    (M * (w.logBytes + (w.deliveries + w.workerInvocations) * a.platformLogBytesPerInvocation)) / 2 ** 30;
  // X-Ray's default sampling: the first request each second and 5 % of the rest, per function.
  const seconds = M / a.messagesPerSecond;
  const tracedFunctions = Object.values(shape.functions).filter((f) => f.tracing).length;
  const perSecond = invocations / seconds;
  const traces = Math.min(invocations, seconds * Math.min(perSecond, tracedFunctions) + 0.05 * invocations);
  const month = 30 * 24 * 3600;
  // Metrics cost per month; a million messages at this rate take `seconds`, so that share of a month.
  const metricShare = Math.min(1, seconds / month);
  const secretReads = a.containers * (seconds / 300);
  return [
    {
      item: 'Lambda compute (ingress)',
      quantity: `${fmt(ingressGbS)} GB-s (${w.deliveries.toFixed(2)} deliveries × ${w.ingressMsPerDelivery.toFixed(1)} ms × ${ingress.gb * 1024} MB)`,
      usd: ingressGbS * ingress.price,
    },
    {
      item: 'Lambda compute (worker)',
      quantity: `${fmt(workerGbS)} GB-s (${workerMs.toFixed(0)} ms/message with ${a.platformLatencyMs} ms per API call, ${w.apiCalls.toFixed(2)} calls × ${worker.gb * 1024} MB)`,
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
      quantity: `${fmt(M * w.dynamo.wru)} WRU`,
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
      quantity: `${logGb.toFixed(2)} GB (${Math.round(w.logBytes)} B/message measured + ${a.platformLogBytesPerInvocation} B per invocation from Lambda)`,
      usd: logGb * PRICES.logsIngestedGb,
    },
    {
      item: 'CloudWatch custom metrics',
      quantity: `${w.metricNames} metrics × ${(metricShare * 100).toFixed(1)} % of a month`,
      usd: w.metricNames * metricShare * PRICES.customMetricMonth,
    },
    { item: 'X-Ray traces', quantity: `${fmt(traces)} traces`, usd: traces * PRICES.xrayTrace },
    {
      item: 'Secrets Manager API calls',
      quantity: `${fmt(secretReads)} reads (${a.containers} containers, every 5 min)`,
      usd: secretReads * PRICES.secretsManagerCall,
    },
  ];
}

const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);
