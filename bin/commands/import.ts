// `bridge import`: brings Zendesk's existing tickets (by default every unsolved one) into Chatwoot with their
// history. Deployed, the import runs on AWS (the import-feeder Lambda, shared/import/): this command starts or
// resumes it, follows its progress, and stops it; closing the laptop does not stop it. Locally it drives the
// running `npm run dev` bridge through /_local/import.
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ImportMessage } from '../../shared/import/control.ts';
import { feederDeps } from '../../shared/import/import-deps.ts';
import { type ImportPlan, planImport, planLines } from '../../shared/import/plan.ts';
import { type ImportFilter, type ImportJob, ImportStore } from '../../shared/import/state.ts';
import { createDynamo } from '../../shared/store/dynamo.ts';
import { getWorkerDeps } from '../../shared/worker-deps.ts';
import { filterFrom } from '../local-import.ts';
import { progress } from './progress.ts';
import { callLocal } from './queue-target.ts';
import { CliError, type Command, type CommandContext } from './types.ts';

const HELP = `import [start|status|stop] [--status new,open,pending,hold] [--since YYYY-MM-DD] [--ticket <id>]
       [--dry-run] [--no-wait] [--local | --local-url <url>]

Without a subcommand: starts the import (or resumes a stopped or failed one with the same filter) and shows its
progress until it is done. By default every unsolved ticket (new, open, pending, hold); --status, --since (updated
on or after that day) and --ticket narrow it. --dry-run lists what would be imported and writes nothing.
--no-wait returns once it is started. Tickets live sync linked before the import began are left as they are.

Deployed: set IMPORT_QUEUE_URL and LEDGER_TABLE_NAME (stack outputs ImportQueueUrl, LedgerTableName) and AWS
credentials; QUEUE_URL (SyncQueueUrl) adds the sync backlog to the progress. --dry-run also needs the bridge's
configuration (SECRET_ARN) and LINKS_TABLE_NAME. The import runs on AWS: interrupting this command does not stop
it (\`import stop\` does).
Local: --local, the running \`npm run dev\` bridge on http://127.0.0.1:$PORT (PORT 3000), or --local-url <url>.`;

interface Target {
  /** Deployed, the import runs on AWS whatever happens to this process; locally, in the dev server. */
  kind: 'deployed' | 'local';
  status(): Promise<{ job?: ImportJob; backlog?: number }>;
  start(filter: ImportFilter): Promise<ImportJob>;
  stop(): Promise<boolean>;
  plan(filter: ImportFilter): Promise<ImportPlan>;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Import existing Zendesk tickets with their history (start, status, stop)',
  usage: HELP,
  options: {
    local: { type: 'boolean' },
    'local-url': { type: 'string' },
    status: { type: 'string' },
    since: { type: 'string' },
    ticket: { type: 'string' },
    'dry-run': { type: 'boolean' },
    // `--no-wait` sets it to false (the CLI parses with allowNegative).
    wait: { type: 'boolean' },
  },
  positionals: true,
  async run(ctx) {
    const sub = ctx.args[0] ?? 'start';
    if (!['start', 'status', 'stop'].includes(sub)) throw new CliError(`unknown import subcommand: ${sub}`);
    const target = targetOf(ctx);
    if (sub === 'stop') {
      const stopped = await target.stop();
      ctx.print(stopped ? 'import stopped (run `import` again to resume it)' : 'no import is running');
      return;
    }
    if (sub === 'status') {
      const { job, backlog } = await target.status();
      ctx.print(job ? describe(job, backlog) : 'no import has run');
      return;
    }
    const filter = filterOf(ctx);
    if (ctx.options['dry-run']) {
      for (const line of planLines(await target.plan(filter))) ctx.print(line);
      return;
    }
    const job = await target.start(filter);
    ctx.print(
      `import ${job.id} running (${filterText(job.filter)})` +
        (target.kind === 'deployed' ? '; it runs on AWS: interrupting this command does not stop it' : ''),
    );
    if (ctx.options.wait === false || ctx.options['no-wait']) return;
    await follow(target, ctx);
  },
};

function filterOf(ctx: CommandContext): ImportFilter {
  const p = new URLSearchParams();
  for (const k of ['status', 'since', 'ticket'] as const) {
    const v = ctx.options[k];
    if (v === true) throw new CliError(`--${k} needs a value`);
    if (typeof v === 'string') p.set(k, v);
  }
  const f = filterFrom(p);
  if (typeof f === 'string') throw new CliError(f);
  return f;
}

const filterText = (f: ImportFilter) =>
  f.ticket
    ? `ticket ${f.ticket}`
    : `status ${f.statuses.join(',')}${f.since ? `, updated since ${f.since}` : ''}`;

function describe(job: ImportJob, backlog?: number): string {
  const total = job.total !== undefined ? `/${job.total}` : '';
  return (
    `import ${job.id}: ${job.status}, ${job.tickets + job.alreadyLinked}${total} tickets ` +
    `(${job.comments} comments enqueued, ${job.alreadyLinked} already linked), ${job.pages} page(s)` +
    (backlog !== undefined ? `, sync backlog ${backlog}` : '') +
    (job.error ? `, error: ${job.error}` : '')
  );
}

/** Shows progress until the job ends and the queue has taken it in; exit 0 only when it is done. */
async function follow(target: Target, ctx: CommandContext): Promise<void> {
  const bar = progress({ print: ctx.print, unit: 'tickets' });
  for (;;) {
    const { job, backlog } = await target.status();
    if (!job) throw new CliError('the import disappeared (its state item was deleted)');
    const done = job.tickets + job.alreadyLinked;
    bar.update(
      done,
      job.total,
      `${job.comments} comments${backlog !== undefined ? `, backlog ${backlog}` : ''}`,
    );
    if (job.status === 'failed') {
      bar.finish();
      throw new CliError(
        `import failed: ${job.error ?? 'unknown reason'} (fix it, then run \`import\` to resume)`,
      );
    }
    if (job.status === 'stopped') {
      bar.finish();
      throw new CliError('import stopped before it finished (run `import` again to resume it)');
    }
    // Locally, done means the dev server's queue has taken the last page in too. Deployed, live traffic shares
    // the sync queue, so its depth says nothing about the import: done is done (the backlog is shown).
    if (job.status === 'done' && (target.kind === 'deployed' || !backlog)) {
      bar.finish();
      ctx.print(describe(job, backlog));
      return;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function targetOf(ctx: CommandContext): Target {
  const { IMPORT_QUEUE_URL: importQueueUrl, LEDGER_TABLE_NAME: ledgerTable, QUEUE_URL: queueUrl } = ctx.env;
  const local = ctx.options['local-url'] ?? ctx.options.local;
  if (local === undefined && importQueueUrl) {
    if (!ledgerTable) throw new CliError('LEDGER_TABLE_NAME is not set (the stack output LedgerTableName)');
    return deployed(importQueueUrl, ledgerTable, queueUrl, ctx.env);
  }
  const url = typeof local === 'string' ? local : `http://127.0.0.1:${ctx.env.PORT ?? '3000'}`;
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new CliError('--local-url must be a URL like http://127.0.0.1:3000');
  return localTarget(url.replace(/\/+$/, ''));
}

function query(f: ImportFilter): string {
  const p = new URLSearchParams({ status: f.statuses.join(',') });
  if (f.since) p.set('since', f.since);
  if (f.ticket) p.set('ticket', f.ticket);
  return p.toString();
}

function localTarget(url: string): Target {
  return {
    kind: 'local',
    async status() {
      const r = await callLocal<{ job: ImportJob | null; queueDepth: number }>(url, 'GET', '/_local/import');
      return { ...(r.job ? { job: r.job } : {}), backlog: r.queueDepth };
    },
    async start(filter) {
      return (await callLocal<{ job: ImportJob }>(url, 'POST', `/_local/import?${query(filter)}`)).job;
    },
    async stop() {
      return (await callLocal<{ stopped: boolean }>(url, 'POST', '/_local/import/stop')).stopped;
    },
    async plan(filter) {
      return (await callLocal<{ plan: ImportPlan }>(url, 'POST', `/_local/import?dryRun=1&${query(filter)}`))
        .plan;
    },
  };
}

function deployed(
  importQueueUrl: string,
  ledgerTable: string,
  queueUrl: string | undefined,
  env: Record<string, string | undefined>,
): Target {
  const sqs = new SQSClient({});
  const store = new ImportStore(createDynamo(env.DYNAMODB_ENDPOINT), ledgerTable);
  const aws = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      // The SDK's message names the missing permission or resource, never a secret.
      throw new CliError(`${what}: ${err instanceof Error ? err.message : 'failed'}`);
    }
  };
  return {
    kind: 'deployed',
    async status() {
      const job = await aws('reading the import state', () => store.get());
      let backlog: number | undefined;
      if (queueUrl) {
        const res = await aws('reading the sync queue', () =>
          sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          ),
        );
        backlog =
          Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) +
          Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      }
      return { ...(job ? { job } : {}), ...(backlog !== undefined ? { backlog } : {}) };
    },
    async start(filter) {
      const current = await aws('reading the import state', () => store.get());
      if (current?.status === 'running' && JSON.stringify(current.filter) !== JSON.stringify(filter))
        throw new CliError('another import is running; stop it first (`import stop`)');
      const { job } = await aws('starting the import', () => store.start(filter, `import-${Date.now()}`));
      // Also when it was running already: a chain that died (a feeder that could not hand on) starts again; a
      // live chain and this message race for the next page and the loser ends (conditional writes).
      const message: ImportMessage = { jobId: job.id, version: job.version };
      await aws('handing the import to AWS', () =>
        sqs.send(new SendMessageCommand({ QueueUrl: importQueueUrl, MessageBody: JSON.stringify(message) })),
      );
      return job;
    },
    async stop() {
      return aws('stopping the import', () => store.stop());
    },
    async plan(filter) {
      const rt = await getWorkerDeps();
      return planImport(feederDeps(rt), filter);
    },
  };
}
