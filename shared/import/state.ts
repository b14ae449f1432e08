// The history import's progress, kept in the ledger table as one item (`import#job`) changed only by single-item
// conditional writes (no transactions: dynalite has none): whoever advances the job must hold the version it read,
// so a duplicate feeder or a stop that raced a page can never move it twice or resurrect it.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../store/dynamo.ts';
import { ledgerKeys } from '../store/ledger-keys.ts';

export const IMPORT_PK = ledgerKeys.importJob();
/** Kept for 90 days after the last change, so `import status` can report a finished run. */
const KEEP_MS = 90 * 24 * 3600 * 1000;

/** Zendesk's unsolved statuses: what an import brings by default. */
export const UNSOLVED = ['new', 'open', 'pending', 'hold'] as const;
export const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;

export interface ImportFilter {
  statuses: string[];
  /** Tickets updated on or after this day (YYYY-MM-DD). */
  since?: string;
  /** One ticket only. */
  ticket?: string;
}

type ImportStatus = 'running' | 'stopped' | 'done' | 'failed';

export interface ImportJob {
  id: string;
  status: ImportStatus;
  filter: ImportFilter;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Index into the job's search queries (one per status unless the default `status<solved`). */
  phase: number;
  /** Export cursor and when Zendesk issued it: it expires after one hour. */
  after?: string;
  afterIssuedAt?: number;
  /** created_at of the last ticket fed in this phase: where a run resumes once its cursor has expired. */
  watermark?: string;
  /** Matching tickets when the job started (Show Results Count), for progress; absent until counted. */
  total?: number;
  /** Tickets whose comments were enqueued, comments enqueued, tickets left alone because live sync had them. */
  tickets: number;
  comments: number;
  alreadyLinked: number;
  pages: number;
  error?: string;
  version: number;
}

export class ImportStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<ImportJob | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: IMPORT_PK }, ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const { pk: _pk, expiresAt: _e, ...job } = res.Item;
    return job as ImportJob;
  }

  /**
   * Starts a job unless one is running. A stopped or failed job with the same filter is resumed where it was (its
   * cursor, counts and start time kept); any other finished job is replaced.
   */
  async start(filter: ImportFilter, id: string): Promise<{ job: ImportJob; resumed: boolean }> {
    const current = await this.get();
    if (current?.status === 'running') return { job: current, resumed: true };
    const now = this.now();
    const sameFilter = current && JSON.stringify(current.filter) === JSON.stringify(filter);
    const job: ImportJob =
      current && sameFilter && current.status !== 'done'
        ? { ...current, status: 'running', updatedAt: now, version: current.version + 1 }
        : {
            id,
            status: 'running',
            filter,
            startedAt: now,
            updatedAt: now,
            phase: 0,
            tickets: 0,
            comments: 0,
            alreadyLinked: 0,
            pages: 0,
            version: (current?.version ?? 0) + 1,
          };
    delete job.error;
    delete job.finishedAt;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...job, pk: IMPORT_PK, expiresAt: expiry(now) },
          ...(current
            ? {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': current.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Someone else started or changed it in between: report what is there now.
      const now2 = await this.get();
      if (now2) return { job: now2, resumed: true };
      throw err;
    }
    return { job, resumed: job.id !== id };
  }

  /**
   * Replaces the job with `next` if it is still the version `from` holds and still running. Returns false when it
   * was stopped or advanced by someone else meanwhile (the caller then stops: the other holder carries on).
   */
  async advance(from: ImportJob, next: ImportJob): Promise<boolean> {
    const now = this.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...next, updatedAt: now, version: from.version + 1, pk: IMPORT_PK, expiresAt: expiry(now) },
          ConditionExpression: '#v = :v AND #s = :running',
          ExpressionAttributeNames: { '#v': 'version', '#s': 'status' },
          ExpressionAttributeValues: { ':v': from.version, ':running': 'running' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Stops a running job (the feeder notices before its next page); false when nothing was running. */
  async stop(reason?: string): Promise<boolean> {
    const now = this.now();
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: IMPORT_PK },
          UpdateExpression: `SET #s = :stopped, updatedAt = :now, finishedAt = :now, #v = #v + :one${reason ? ', #e = :e' : ''}`,
          ConditionExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status', '#v': 'version', ...(reason ? { '#e': 'error' } : {}) },
          ExpressionAttributeValues: {
            ':stopped': reason ? 'failed' : 'stopped',
            ':running': 'running',
            ':now': now,
            ':one': 1,
            ...(reason ? { ':e': reason } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }
}

const expiry = (now: number) => Math.floor((now + KEEP_MS) / 1000);
