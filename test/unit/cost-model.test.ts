// The cost model behind `npm run bench`'s cost table: what it charges must follow the deployed shape (tracing,
// Lambda's own log lines, memory) and DynamoDB's billing rules, or the table misleads whoever sizes the stack.
import { describe, expect, it } from 'vitest';
import {
  architectureFloor,
  type CostLine,
  costPerMillion,
  type DeployedShape,
  type MeasuredWork,
  PRICES,
  tracesPerSecond,
} from '../../bench/cost.ts';
import { itemBytes, requestUnits } from '../../bench/load.ts';

const work: MeasuredWork = {
  deliveries: 2,
  ingressMsPerDelivery: 1,
  workerInvocations: 0.75,
  workerMs: 300,
  apiCalls: 1,
  sqs: { sends: 1, receives: 0.75, deletes: 0.75, visibilityChanges: 0 },
  dynamo: { wru: 4, rru: 0 },
  logBytes: 2000,
  metricNames: 10,
};

function shape(o: { ingressTraced: boolean; ingressPlatformLogs: boolean; workerMb: number }): DeployedShape {
  const ingress = { memoryMb: 256, arm: true, tracing: o.ingressTraced, platformLogs: o.ingressPlatformLogs };
  return {
    functions: {
      zendeskWebhook: ingress,
      chatwootWebhook: ingress,
      worker: { memoryMb: o.workerMb, arm: true, tracing: true, platformLogs: true },
      reconcile: { memoryMb: 512, arm: true, tracing: true, platformLogs: true },
    },
    reconcileEverySeconds: 300,
  };
}

const usd = (lines: CostLine[], item: string) => lines.find((l) => l.item === item)?.usd ?? Number.NaN;

describe('cost model', () => {
  it("prices X-Ray by Lambda's fixed sampling per traced function: a trace a second at most, plus 5 %", () => {
    expect(tracesPerSecond(0)).toBe(0);
    // Busy: the reservoir is always used, then 5 % of the rest.
    expect(tracesPerSecond(10)).toBeCloseTo(1 + 0.05 * 9, 3);
    // Rare (a run every 5 minutes): about every invocation is traced.
    expect(tracesPerSecond(1 / 300) * 300).toBeCloseTo(1, 2);
    const traced = costPerMillion(
      shape({ ingressTraced: true, ingressPlatformLogs: true, workerMb: 256 }),
      work,
    );
    const untraced = costPerMillion(
      shape({ ingressTraced: false, ingressPlatformLogs: true, workerMb: 256 }),
      work,
    );
    // 10 messages/s for 100,000 s: the worker (7.5 invocations/s) and reconcile remain.
    const seconds = 1e5;
    const expected = seconds * (tracesPerSecond(7.5) + tracesPerSecond(1 / 300)) * PRICES.xrayTrace;
    expect(usd(untraced, 'X-Ray traces')).toBeCloseTo(expected, 6);
    // Each webhook function at 10 deliveries/s adds its own reservoir and 5 %.
    expect(usd(traced, 'X-Ray traces') - usd(untraced, 'X-Ray traces')).toBeCloseTo(
      2 * seconds * tracesPerSecond(10) * PRICES.xrayTrace,
      6,
    );
  });

  it("counts Lambda's START/REPORT lines only for functions whose system log level keeps them", () => {
    const on = costPerMillion(
      shape({ ingressTraced: false, ingressPlatformLogs: true, workerMb: 256 }),
      work,
    );
    const off = costPerMillion(
      shape({ ingressTraced: false, ingressPlatformLogs: false, workerMb: 256 }),
      work,
    );
    // Two deliveries a message, 700 bytes each, for a million messages.
    const dropped = (1e6 * 2 * 700) / 2 ** 30;
    expect(usd(on, 'CloudWatch Logs ingestion') - usd(off, 'CloudWatch Logs ingestion')).toBeCloseTo(
      dropped * PRICES.logsIngestedGb,
      6,
    );
  });

  it('prices worker time at the configured memory', () => {
    const half = costPerMillion(
      shape({ ingressTraced: false, ingressPlatformLogs: false, workerMb: 256 }),
      work,
    );
    const full = costPerMillion(
      shape({ ingressTraced: false, ingressPlatformLogs: false, workerMb: 512 }),
      work,
    );
    expect(usd(half, 'Lambda compute (worker)')).toBeCloseTo(
      ((1e6 * 0.3 * 256) / 1024) * PRICES.lambdaGbSecondArm,
      6,
    );
    expect(usd(full, 'Lambda compute (worker)')).toBeCloseTo(2 * usd(half, 'Lambda compute (worker)'), 6);
  });

  it('prints the floor no code change can cut: deliveries, SQS per batch, two writes for exactly-once', () => {
    const floor = architectureFloor(work);
    expect(usd(floor, 'API Gateway HTTP API')).toBeCloseTo(2, 6);
    expect(usd(floor, 'Lambda requests')).toBeCloseTo(2.75 * 0.2, 6);
    expect(usd(floor, 'SQS FIFO requests')).toBeCloseTo((1 + 2 * 0.75) * 0.5, 6);
    expect(usd(floor, 'DynamoDB writes')).toBeCloseTo(2 * 0.625, 6);
  });
});

describe('DynamoDB units of a request', () => {
  const small = { pk: 'evt#zd:comment:1', status: 'done', expiresAt: 1796070035 };

  it('bills a batch write per item, not per request', () => {
    const batch = {
      RequestItems: {
        ledger: [small, small, small].map((Item) => ({ PutRequest: { Item } })),
      },
    };
    expect(requestUnits('BatchWriteItemCommand', batch)).toEqual({ wru: 3, rru: 0 });
  });

  it('bills an item over 1 KB a unit per started KB', () => {
    const big = { ...small, body: 'x'.repeat(1500) };
    expect(itemBytes(big)).toBeGreaterThan(1500);
    expect(requestUnits('PutItemCommand', { Item: big })).toEqual({ wru: 2, rru: 0 });
    expect(requestUnits('PutItemCommand', { Item: small })).toEqual({ wru: 1, rru: 0 });
  });

  it('sizes items by attribute names and values as DynamoDB does', () => {
    // "pk" 2 + 16, "status" 6 + 4, "expiresAt" 9 + (10 digits / 2 + 1).
    expect(itemBytes(small)).toBe(2 + 16 + 6 + 4 + 9 + 6);
    // A map: 3 + 1 per element + its elements ("x" 1 + null 1); a list likewise.
    expect(itemBytes({ m: { x: null }, l: ['ab'] })).toBe(1 + (3 + 1 + 2) + 1 + (3 + 1 + 2));
  });

  it('bills consistent reads per key', () => {
    expect(requestUnits('GetItemCommand', { Key: { pk: 'x' } })).toEqual({ wru: 0, rru: 1 });
    expect(requestUnits('BatchGetItemCommand', { RequestItems: { ledger: { Keys: [{}, {}, {}] } } })).toEqual(
      { wru: 0, rru: 3 },
    );
  });
});
