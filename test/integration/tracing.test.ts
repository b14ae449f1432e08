// X-Ray in a Lambda-like environment: with the tracer on (AWS_EXECUTION_ENV and a trace header set), a worker
// invocation sends its subsegment and one per downstream call — the platform's HTTP API and DynamoDB — to the
// X-Ray daemon address (here a UDP listener on 127.0.0.1 standing in for the daemon).
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

interface Subsegment {
  id?: string;
  name?: string;
  namespace?: string;
  parent_id?: string;
  http?: { request?: { url?: string } };
  annotations?: Record<string, unknown>;
}

const received: Subsegment[] = [];
/** The worker's handler subsegment, under which every downstream call of the batch is recorded. */
const BATCH = '## index.handler';
let daemon: Socket;
let harness: Awaited<ReturnType<typeof import('../helpers/bridge.ts').startHarness>>;

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (msg) => {
    // Each datagram: a JSON header line, then the (sub)segment document.
    const doc = msg.toString('utf8').split('\n')[1];
    if (doc) received.push(JSON.parse(doc) as Subsegment);
  });
  await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', () => r()));
  const { port } = daemon.address() as AddressInfo;
  vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
  vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task');
  // Lambda names the handler (file.export); Powertools' captureLambdaHandler names the handler's subsegment after it.
  vi.stubEnv('_HANDLER', 'index.handler');
  vi.stubEnv(
    '_X_AMZN_TRACE_ID',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  );
  vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `127.0.0.1:${port}`);
  vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR');
  // The tracer reads the environment when the modules load: load them now.
  const { startHarness } = await import('../helpers/bridge.ts');
  harness = await startHarness({ env: { ZENDESK_AUTHORSHIP: 'bridge' } });
});

afterAll(async () => {
  await harness?.close();
  daemon?.close();
  vi.unstubAllEnvs();
});

describe('X-Ray', () => {
  it('a synced comment leaves a batch subsegment with the Chatwoot call and the DynamoDB requests under it', async () => {
    const h = harness;
    const customer = h.zendesk.createUser({ name: 'Traced', email: 'traced@example.com', role: 'end-user' });
    h.zendesk.createTicket({ requester: customer, subject: 'Trace me', body: 'please trace this' });
    await h.settle();
    // Datagrams arrive asynchronously: up to 15 s on a loaded machine (loopback usually takes a millisecond).
    const post = () =>
      received.find(
        (s) =>
          s.namespace === 'remote' &&
          // A new ticket's first comment is posted with its conversation (POST …/conversations with `message`).
          /\/api\/v1\/accounts\/1\/conversations(\/\d+\/messages)?$/.test(s.http?.request?.url ?? ''),
      );
    for (
      let waited = 0;
      waited < 15_000 && !(post() && received.some((s) => s.name === BATCH));
      waited += 50
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const batch = received.find((s) => s.name === BATCH);
    expect(batch).toBeDefined();
    expect(batch?.annotations).toMatchObject({ records: expect.any(Number), ColdStart: expect.any(Boolean) });
    // The post that synced the comment, as a remote HTTP subsegment of the batch.
    expect(post()?.parent_id).toBe(batch?.id);
    const dynamo = received.filter((s) => s.name === 'DynamoDB' && s.namespace === 'aws');
    expect(dynamo.some((s) => s.parent_id === batch?.id)).toBe(true);
  });
});
