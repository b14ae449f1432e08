// The deployed import: the import-feeder Lambda works the job one stretch of pages per control message, then
// hands it on with a new message naming the version it reached (shared/import/control.ts). Stopping is a state
// change the next page sees; a feeder that crashes leaves its message to SQS's redelivery; a stale or
// duplicated message finds another version and ends.
import type { Context, SQSEvent } from 'aws-lambda';
import { callAws, SQS } from '../aws/json-api.ts';
import { isRetryable } from '../errors.ts';
import { logger } from '../observability.ts';
import { ImportMessage } from './control.ts';
import { DEFAULT_MAX_BACKLOG, type FeederDeps, feedPage } from './feeder.ts';
import type { ImportJob } from './state.ts';

/** Left at the end of an invocation for the page in hand (a page of 1,000 tickets can take a minute). */
const PAGE_MARGIN_MS = 120_000;
/** How long the feeder waits before looking again when live sync's backlog is long or a page failed. */
const BUSY_DELAY_S = 30;
const RETRY_DELAY_S = 60;

export interface FeederEnv {
  importQueueUrl: string;
  /** The sync queue, whose backlog the import stays behind (live first). */
  syncQueueUrl: string;
  env?: Record<string, string | undefined>;
}

const regionOf = (url: string) => /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(url)?.[1];

/** Messages waiting or in flight on the sync queue. */
export function sqsBacklog(
  queueUrl: string,
  env?: Record<string, string | undefined>,
): () => Promise<number> {
  const region = regionOf(queueUrl);
  return async () => {
    const res = await callAws<{ Attributes?: Record<string, string> }>(
      SQS,
      'GetQueueAttributes',
      {
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      },
      { ...(region ? { region } : {}), ...(env ? { env } : {}) },
    );
    return (
      Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
}

export async function handleImportMessages(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  deps: FeederDeps,
  e: FeederEnv,
): Promise<void> {
  const handOn = async (job: ImportJob, delaySeconds: number) => {
    const region = regionOf(e.importQueueUrl);
    const message: ImportMessage = { jobId: job.id, version: job.version };
    await callAws(
      SQS,
      'SendMessage',
      { QueueUrl: e.importQueueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds },
      { ...(region ? { region } : {}), ...(e.env ? { env: e.env } : {}) },
    );
  };
  for (const record of event.Records) {
    const parsed = ImportMessage.safeParse(JSON.parse(record.body || 'null'));
    if (!parsed.success) {
      logger.warn('import message ignored: malformed', { sqsMessageId: record.messageId });
      continue;
    }
    let job = await deps.store.get();
    if (job?.id !== parsed.data.jobId || job.version !== parsed.data.version || job.status !== 'running') {
      logger.info('import message ignored: the job moved on', { jobId: parsed.data.jobId });
      continue;
    }
    for (;;) {
      if (context.getRemainingTimeInMillis() < PAGE_MARGIN_MS) {
        await handOn(job, 0);
        break;
      }
      let r: Awaited<ReturnType<typeof feedPage>>;
      try {
        r = await feedPage(deps, { maxBacklog: DEFAULT_MAX_BACKLOG });
      } catch (err) {
        const reason = err instanceof Error ? err.message : 'failed';
        if (!isRetryable(err)) {
          await deps.store.stop(reason);
          logger.error('import failed', { jobId: job.id, reason });
        } else {
          logger.warn('import page failed; handing on with a delay', { jobId: job.id, reason });
          await handOn(job, RETRY_DELAY_S);
        }
        break;
      }
      if (r.state === 'busy') {
        logger.info('import waiting for live sync', { jobId: job.id, backlog: r.backlog });
        await handOn(r.job, BUSY_DELAY_S);
        break;
      }
      if (r.state !== 'more') break;
      job = r.job;
    }
  }
}
