// History import over real HTTP: tickets no webhook will mention again reach Chatwoot with their history in
// order (customer, agent, internal note, files), unsolved only by default, nothing written to Zendesk; a second
// run adds nothing; a run cut off between enqueueing a page and recording it finishes without a duplicate; a
// live comment arriving while the import runs lands once and in order.
import { spawnSync } from 'node:child_process';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importCommand } from '../../bin/commands/import.ts';
import { CliError } from '../../bin/commands/types.ts';
import { PermanentError } from '../../shared/errors.ts';
import { runImport } from '../../shared/import/feeder.ts';
import { feederDeps } from '../../shared/import/import-deps.ts';
import { handleImportMessages, sqsBacklog } from '../../shared/import/lambda.ts';
import type { ImportJob } from '../../shared/import/state.ts';
import { getWorkerDeps } from '../../shared/worker-deps.ts';
import type { ZendeskUser } from '../../simulators/zendesk.ts';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts';

let h: Harness;
let customer: ZendeskUser;

beforeAll(async () => {
  h = await startHarness({ queue: { visibilityTimeoutMs: 50 } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  h.zendesk.reset();
  h.chatwoot.reset();
  customer = h.zendesk.createUser({
    name: 'Old Customer',
    email: `old${Date.now()}@example.com`,
    role: 'end-user',
  });
  // The backlog: tickets whose webhooks were sent long before the bridge existed.
  h.zendesk.setWebhookUrl(undefined);
  const rt = await getWorkerDeps();
  await feederDeps(rt, { dynamoEndpoint: h.bridge.dynamoEndpoint }).store.stop();
});
afterEach(() => {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
  h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
});

async function importLocal(query = ''): Promise<ImportJob> {
  const res = await fetch(`${h.bridge.url}/_local/import${query}`, { method: 'POST' });
  expect(res.status).toBe(202);
  return waitForJob();
}

async function waitForJob(): Promise<ImportJob> {
  // Generous: on a loaded two-core machine a hundred comments can take this long; the test stops by itself.
  const deadline = Date.now() + 100_000;
  for (;;) {
    const body = (await (await fetch(`${h.bridge.url}/_local/import`)).json()) as { job: ImportJob };
    if (body.job.status !== 'running') {
      await h.settle(100_000);
      return body.job;
    }
    if (Date.now() > deadline) throw new Error('import did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Chatwoot's messages of the conversation linked to a ticket, as the agent sees them (activity left out). */
function conversationOf(ticketId: number) {
  const conversation = h.chatwoot
    .conversations()
    .find((c) => (c.custom_attributes as Record<string, unknown>)?.zendesk_ticket_id === ticketId);
  if (!conversation) return undefined;
  return h.chatwoot
    .messages(conversation.id)
    .filter((m) => m.message_type !== 2)
    .map((m) => ({
      content: m.content,
      type: m.message_type,
      private: m.private,
      files: m.attachments.length,
    }));
}

describe('history import', { timeout: 240_000 }, () => {
  it('brings every unsolved ticket with its history in order, writes nothing to Zendesk, and a second run adds nothing', async () => {
    const t1 = h.zendesk.createTicket({
      requester: customer,
      subject: 'Printer',
      body: 'My printer is on fire',
    });
    h.zendesk.agentComment(t1.id, h.zendesk.defaultAgent.id, 'Have you tried water?');
    h.zendesk.agentComment(t1.id, h.zendesk.defaultAgent.id, 'Customer sounds upset', { public: false });
    h.zendesk.customerComment(t1.id, 'Photo attached', {
      attachments: [{ filename: 'fire.png', contentType: 'image/png', data: Buffer.from('png-bytes') }],
    });
    const t2 = h.zendesk.createTicket({
      requester: customer,
      subject: 'Long',
      body: 'comment 0',
      status: 'pending',
    });
    // More than one page of comments (List Comments gives at most 100 a page).
    for (let i = 1; i <= 104; i++) h.zendesk.customerComment(t2.id, `comment ${i}`);
    h.zendesk.setStatus(t2.id, 'hold');
    const solved = h.zendesk.createTicket({ requester: customer, subject: 'Done', body: 'Thanks, solved' });
    h.zendesk.setStatus(solved.id, 'solved');

    const job = await importLocal();
    expect(job).toMatchObject({ status: 'done', tickets: 2, comments: 4 + 105, total: 2 });

    expect(conversationOf(t1.id)).toEqual([
      { content: 'My printer is on fire', type: 0, private: false, files: 0 },
      { content: '**Sam Agent** (Zendesk):\n\nHave you tried water?', type: 1, private: false, files: 0 },
      {
        content: '**Sam Agent** (Zendesk internal note):\n\nCustomer sounds upset',
        type: 1,
        private: true,
        files: 0,
      },
      { content: 'Photo attached', type: 0, private: false, files: 1 },
    ]);
    expect(conversationOf(t2.id)?.map((m) => m.content)).toEqual(
      Array.from({ length: 105 }, (_, i) => `comment ${i}`),
    );
    expect(conversationOf(solved.id)).toBeUndefined();
    // One contact for the requester of both tickets; nothing written to Zendesk.
    expect(h.chatwoot.contacts().filter((c) => c.identifier === `zendesk:user:${customer.id}`)).toHaveLength(
      1,
    );
    expect(h.zendesk.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const messages = h.chatwoot.conversations().flatMap((c) => h.chatwoot.messages(c.id)).length;
    const again = await importLocal();
    // Their links predate this run: left as they are.
    expect(again).toMatchObject({ status: 'done', tickets: 0, alreadyLinked: 2 });
    expect(h.chatwoot.conversations().flatMap((c) => h.chatwoot.messages(c.id))).toHaveLength(messages);
  });

  it('narrows by --status and --ticket, and the dry run writes nothing', async () => {
    const open = h.zendesk.createTicket({
      requester: customer,
      subject: 'a',
      body: 'open one',
      status: 'open',
    });
    const pending = h.zendesk.createTicket({ requester: customer, subject: 'b', body: 'pending one' });
    h.zendesk.setStatus(pending.id, 'pending');
    h.zendesk.setStatus(open.id, 'open');
    const plan = (await (
      await fetch(`${h.bridge.url}/_local/import?dryRun=1`, { method: 'POST' })
    ).json()) as {
      plan: { tickets: number; alreadyLinked: number };
    };
    expect(plan.plan).toMatchObject({ tickets: 2, alreadyLinked: 0 });
    expect(h.chatwoot.conversations()).toEqual([]);

    expect(await importLocal('?status=pending')).toMatchObject({ status: 'done', tickets: 1 });
    expect(conversationOf(pending.id)).toHaveLength(1);
    expect(conversationOf(open.id)).toBeUndefined();
    expect(await importLocal(`?ticket=${open.id}`)).toMatchObject({ status: 'done', tickets: 1 });
    expect(conversationOf(open.id)).toHaveLength(1);

    const bad = await fetch(`${h.bridge.url}/_local/import?status=weird`, { method: 'POST' });
    expect(bad.status).toBe(400);
  });

  it('a run cut off after enqueueing a page but before recording it finishes without a duplicate', async () => {
    const tickets = Array.from({ length: 5 }, (_, i) =>
      h.zendesk.createTicket({ requester: customer, subject: `t${i}`, body: `first ${i}` }),
    );
    for (const t of tickets) h.zendesk.customerComment(t.id, `second ${t.id}`);
    const rt = await getWorkerDeps();
    const deps = feederDeps(rt, { dynamoEndpoint: h.bridge.dynamoEndpoint });
    await deps.store.start({ statuses: ['new', 'open', 'pending', 'hold'] }, 'crash-test');
    // The process dies between the queue sends and the progress write of its second page.
    const advance = deps.store.advance.bind(deps.store);
    let pages = 0;
    deps.store.advance = async (from, next) => {
      if (++pages === 2) throw new PermanentError('killed', 'killed');
      return advance(from, next);
    };
    await expect(runImport(deps, { pageSize: 2, sleep: async () => undefined })).resolves.toMatchObject({
      status: 'failed',
    });
    deps.store.advance = advance;
    await h.settle();
    // Started again: it resumes from the recorded cursor and re-feeds the unrecorded page.
    await deps.store.start({ statuses: ['new', 'open', 'pending', 'hold'] }, 'crash-test-2');
    const job = await runImport(deps, { pageSize: 2 });
    await h.settle();
    expect(job?.status).toBe('done');
    for (const t of tickets) {
      expect(conversationOf(t.id)?.map((m) => m.content)).toEqual([
        `first ${tickets.indexOf(t)}`,
        `second ${t.id}`,
      ]);
    }
  });

  it('a live comment on a ticket the import has not reached yet lands once, after the history', async () => {
    const t = h.zendesk.createTicket({ requester: customer, subject: 'live', body: 'old 1' });
    h.zendesk.customerComment(t.id, 'old 2');
    h.zendesk.customerComment(t.id, 'old 3');
    // The import is running (its feeder not yet at this ticket) when the customer writes again, live.
    const rt = await getWorkerDeps();
    const deps = feederDeps(rt, { dynamoEndpoint: h.bridge.dynamoEndpoint });
    await deps.store.start({ statuses: ['new', 'open', 'pending', 'hold'] }, 'live-test');
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    h.zendesk.customerComment(t.id, 'live 4');
    await h.settle();
    expect(conversationOf(t.id)?.map((m) => m.content)).toEqual(['old 1', 'old 2', 'old 3', 'live 4']);
    // Then the feeder reaches it: nothing is posted twice.
    await runImport(deps);
    await h.settle();
    expect(conversationOf(t.id)?.map((m) => m.content)).toEqual(['old 1', 'old 2', 'old 3', 'live 4']);
  });
});

describe('live comments while an import runs', () => {
  it('a ticket outside the import (another --ticket) keeps live behaviour: no history is brought', async () => {
    const inScope = h.zendesk.createTicket({ requester: customer, subject: 'in', body: 'in scope' });
    const other = h.zendesk.createTicket({ requester: customer, subject: 'out', body: 'old, not imported' });
    const deps = feederDeps(await getWorkerDeps(), { dynamoEndpoint: h.bridge.dynamoEndpoint });
    await deps.store.start(
      { statuses: ['new', 'open', 'pending', 'hold'], ticket: String(inScope.id) },
      'scoped',
    );
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    h.zendesk.customerComment(other.id, 'live on another ticket');
    await h.settle();
    expect(conversationOf(other.id)?.map((m) => m.content)).toEqual(['live on another ticket']);
    await deps.store.stop();
  });
});

describe('deployed: the import-feeder Lambda', () => {
  const env = {
    AWS_ACCESS_KEY_ID: 'AKIDFEEDER',
    AWS_SECRET_ACCESS_KEY: 'feeder-secret-key-for-tests',
  };
  const importQueueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/import-control';
  const syncQueueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/sync.fifo';
  const message = (body: unknown) =>
    ({ Records: [{ messageId: 'm1', body: JSON.stringify(body) }] }) as unknown as SQSEvent;
  let aws: FakeAws;
  let backlog = 0;
  beforeAll(async () => {
    aws = await startFakeAws('AKIDFEEDER');
  });
  afterAll(async () => {
    await aws?.close();
  });
  beforeEach(() => {
    aws.reset();
    backlog = 0;
    aws.on('AmazonSQS.SendMessage', () => ({ MessageId: 'next' }));
    aws.on('AmazonSQS.GetQueueAttributes', () => ({
      Attributes: {
        ApproximateNumberOfMessages: String(backlog),
        ApproximateNumberOfMessagesNotVisible: '0',
      },
    }));
  });

  async function lambdaDeps() {
    const e = { ...env, AWS_ENDPOINT_URL: aws.url };
    const rt = await getWorkerDeps();
    return {
      deps: feederDeps(rt, { dynamoEndpoint: h.bridge.dynamoEndpoint, backlog: sqsBacklog(syncQueueUrl, e) }),
      e: { importQueueUrl, syncQueueUrl, env: e },
    };
  }

  it('works the job to the end, and a stale or duplicated control message changes nothing', async () => {
    const t = h.zendesk.createTicket({ requester: customer, subject: 'aws', body: 'imported on AWS' });
    const { deps, e } = await lambdaDeps();
    const { job } = await deps.store.start({ statuses: ['new', 'open', 'pending', 'hold'] }, 'aws-1');
    await handleImportMessages(
      message({ jobId: job.id, version: job.version - 1 }),
      { getRemainingTimeInMillis: () => 900_000 },
      deps,
      e,
    );
    expect((await deps.store.get())?.pages).toBe(0);

    await handleImportMessages(
      message({ jobId: job.id, version: job.version }),
      { getRemainingTimeInMillis: () => 900_000 },
      deps,
      e,
    );
    await h.settle();
    expect(await deps.store.get()).toMatchObject({ status: 'done', tickets: 1 });
    expect(conversationOf(t.id)?.map((m) => m.content)).toEqual(['imported on AWS']);
    expect(aws.calls('AmazonSQS.SendMessage')).toEqual([]);
    // The same message again (SQS delivers at least once): the job moved on.
    await handleImportMessages(
      message({ jobId: job.id, version: job.version }),
      { getRemainingTimeInMillis: () => 900_000 },
      deps,
      e,
    );
    expect((await deps.store.get())?.pages).toBe(1);
  });

  it('waits behind a long sync backlog and hands on when its time runs low, naming the version reached', async () => {
    h.zendesk.createTicket({ requester: customer, subject: 'later', body: 'later' });
    const { deps, e } = await lambdaDeps();
    const { job } = await deps.store.start({ statuses: ['new', 'open', 'pending', 'hold'] }, 'aws-2');
    backlog = 50_000;
    await handleImportMessages(
      message({ jobId: job.id, version: job.version }),
      { getRemainingTimeInMillis: () => 900_000 },
      deps,
      e,
    );
    expect(aws.calls('AmazonSQS.SendMessage')).toEqual([
      {
        QueueUrl: importQueueUrl,
        MessageBody: JSON.stringify({ jobId: job.id, version: job.version }),
        DelaySeconds: 30,
      },
    ]);
    aws.reset();
    aws.on('AmazonSQS.SendMessage', () => ({ MessageId: 'next' }));
    await handleImportMessages(
      message({ jobId: job.id, version: job.version }),
      { getRemainingTimeInMillis: () => 60_000 },
      deps,
      e,
    );
    expect(aws.calls('AmazonSQS.SendMessage')).toEqual([
      {
        QueueUrl: importQueueUrl,
        MessageBody: JSON.stringify({ jobId: job.id, version: job.version }),
        DelaySeconds: 0,
      },
    ]);
    expect((await deps.store.get())?.status).toBe('running');
  });
});

describe('bridge import (CLI)', { timeout: 240_000 }, () => {
  it('runs against the local bridge until done; status and stop report it; bad input is one clear line', async () => {
    const t = h.zendesk.createTicket({ requester: customer, subject: 'cli', body: 'from the cli' });
    const lines: string[] = [];
    const run = (args: string[], options: Record<string, string | boolean>) =>
      importCommand.run({
        args,
        options: { local: h.bridge.url, ...options },
        env: {},
        print: (l) => lines.push(l),
      });
    await run([], {});
    expect(lines[0]).toMatch(/^import [\w-]+ running \(status new,open,pending,hold\)$/);
    expect(lines.at(-1)).toMatch(/: done, 1\/1 tickets \(1 comments enqueued, 0 already linked\)/);
    expect(conversationOf(t.id)?.map((m) => m.content)).toEqual(['from the cli']);
    lines.length = 0;
    await run(['status'], {});
    expect(lines).toEqual([expect.stringMatching(/: done, 1\/1 tickets/)]);
    lines.length = 0;
    await run(['stop'], {});
    expect(lines).toEqual(['no import is running']);
    await expect(run([], { status: 'open,closedish' })).rejects.toThrow(
      new CliError('status must be among new, open, pending, hold, solved, closed (got closedish)'),
    );
    await expect(run([], { since: 'yesterday' })).rejects.toThrow(CliError);
  });

  it('deployed: starts the import on AWS (a control message naming the job), reports it, stops it', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    try {
      const env = {
        IMPORT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/import-control',
        LEDGER_TABLE_NAME: h.bridge.env.LEDGER_TABLE_NAME!,
        DYNAMODB_ENDPOINT: h.bridge.dynamoEndpoint,
      };
      const lines: string[] = [];
      const run = (args: string[], options: Record<string, string | boolean>) =>
        importCommand.run({ args, options, env, print: (l) => lines.push(l) });
      await run([], { status: 'open', 'no-wait': true });
      expect(lines).toEqual([
        expect.stringMatching(
          /^import [\w-]+ running \(status open\); it runs on AWS: interrupting this command does not stop it$/,
        ),
      ]);
      const job = await feederDeps(await getWorkerDeps(), {
        dynamoEndpoint: h.bridge.dynamoEndpoint,
      }).store.get();
      expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
        {
          QueueUrl: env.IMPORT_QUEUE_URL,
          MessageBody: JSON.stringify({ jobId: job?.id, version: job?.version }),
        },
      ]);
      lines.length = 0;
      await run(['status'], {});
      expect(lines).toEqual([expect.stringMatching(/: running, 0 tickets .*0 page\(s\)$/)]);
      lines.length = 0;
      await run(['stop'], {});
      expect(lines).toEqual(['import stopped (run `import` again to resume it)']);
    } finally {
      sqs.restore();
    }
  });

  it('exits non-zero with one line when no bridge answers', async () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bin/bridge.ts', 'import', '--local-url', 'http://127.0.0.1:9'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('no local bridge answers at http://127.0.0.1:9'),
    ]);
  });
});
