// The history import's feeder: one page of tickets at a time from Zendesk's Export Search Results, each ticket's
// comments read in order and enqueued as the same `zendesk.comment` events live sync uses (same FIFO group
// `ticket-<id>`, same key `zd:comment:<id>`), so the worker's ledger claim makes a webhook and the import one
// write, and the queue keeps them in order per ticket. Progress is one conditional write per page
// (shared/import/state.ts): a run killed anywhere re-feeds at most one page, which the claims turn into no-ops.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { BridgeConfig } from '../config.ts';
import { isRetryable, UpstreamError } from '../errors.ts';
import { screenZendesk } from '../events/loop-guard.ts';
import { type ZendeskCommentEvent as CommentEvent, SyncEventSchema } from '../events/sync-event.ts';
import type { EventQueue } from '../queue/types.ts';
import { toOutbound } from '../queue/types.ts';
import type { LinkStore } from '../store/links.ts';
import { apiCommentEvent, commentMs } from '../sync/recent-comments.ts';
import type { ListedTicket, ZendeskClient, ZendeskUser } from '../zendesk/client.ts';
import { type ImportFilter, type ImportJob, type ImportStore, UNSOLVED } from './state.ts';

export interface FeederDeps {
  config: Pick<BridgeConfig, 'SYNC_INTERNAL_NOTES' | 'SYNC_AGENT_COMMENTS'>;
  /** A client that takes only what live sync leaves of the shared rate budget (SpareZendeskLimits). */
  zendesk: ZendeskClient;
  queue: EventQueue;
  links: LinkStore;
  store: ImportStore;
  logger: Pick<Logger, 'info' | 'warn'>;
  now: () => number;
  /** Messages waiting in the sync queue; the feeder holds off while it is above `maxBacklog` (live first). */
  backlog?: () => Promise<number>;
}

export interface FeedOptions {
  maxBacklog?: number;
  /** Tickets of a page read at once (each ticket's own comments stay in order). */
  concurrency?: number;
  /** Export page size (Zendesk allows up to 1,000; smaller pages mean less re-feeding after a crash). */
  pageSize?: number;
  /**
   * Resolves once what was enqueued has been processed. The local queue lives in the dev server's memory, so a
   * page is recorded only after the worker took it in: a crash then loses nothing a restart would not re-feed.
   * Deployed, SQS keeps the messages and this is not needed.
   */
  settled?: () => Promise<void>;
}

export type FeedResult =
  | { state: 'more' | 'done'; job: ImportJob; tickets: number; comments: number }
  | { state: 'stopped'; job?: ImportJob }
  | { state: 'busy'; job: ImportJob; backlog: number };

/** Live sync first: above this many queued messages the import waits. */
export const DEFAULT_MAX_BACKLOG = 2_000;
/** Export cursors expire after an hour (ExportSearchResults); older ones are not tried. */
const CURSOR_FRESH_MS = 50 * 60 * 1000;

/** The search queries of a filter: `status<solved` for the unsolved default, else one query per status. */
export function queriesOf(f: ImportFilter): string[] {
  if (f.ticket) return [];
  // `updated>D` means from the day after D on (a bare date compares by day).
  const since = f.since
    ? ` updated>${new Date(Date.parse(`${f.since}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)}`
    : '';
  const isDefault = f.statuses.length === UNSOLVED.length && UNSOLVED.every((s) => f.statuses.includes(s));
  return isDefault ? [`status<solved${since}`] : f.statuses.map((s) => `status:${s}${since}`);
}

/** Feeds the next page of the running job and records it; see FeedResult for what happened. */
export async function feedPage(deps: FeederDeps, o: FeedOptions = {}): Promise<FeedResult> {
  const job = await deps.store.get();
  if (job?.status !== 'running') return { state: 'stopped', ...(job ? { job } : {}) };
  const backlog = (await deps.backlog?.()) ?? 0;
  if (backlog > (o.maxBacklog ?? DEFAULT_MAX_BACKLOG)) return { state: 'busy', job, backlog };

  const queries = queriesOf(job.filter);
  const next: ImportJob = { ...job };
  if (job.total === undefined) {
    next.total = job.filter.ticket
      ? 1
      : (await Promise.all(queries.map((q) => deps.zendesk.countTickets(q)))).reduce((a, b) => a + b, 0);
  }
  let tickets: ListedTicket[];
  let after: string | undefined;
  if (job.filter.ticket) {
    tickets = [await deps.zendesk.ticket(job.filter.ticket)];
  } else {
    ({ tickets, after } = await listPage(deps, job, queries[job.phase]!, o.pageSize));
  }

  let fed = 0;
  let comments = 0;
  let alreadyLinked = 0;
  const users = new Map<string, Promise<ZendeskUser>>();
  let i = 0;
  const worker = async () => {
    while (i < tickets.length) {
      const t = tickets[i++]!;
      const r = await feedTicket(deps, job, t, users);
      if (r === 'linked') alreadyLinked++;
      else {
        fed++;
        comments += r;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, tickets.length) }, worker));

  await o.settled?.();
  next.tickets += fed;
  next.comments += comments;
  next.alreadyLinked += alreadyLinked;
  next.pages += 1;
  if (after) {
    next.after = after;
    next.afterIssuedAt = deps.now();
    const last = tickets.at(-1);
    if (last?.created_at) next.watermark = last.created_at;
  } else {
    delete next.after;
    delete next.afterIssuedAt;
    delete next.watermark;
    next.phase = job.phase + 1;
    if (next.phase >= queries.length) {
      next.status = 'done';
      next.finishedAt = deps.now();
    }
  }
  if (!(await deps.store.advance(job, next))) return { state: 'stopped' };
  deps.logger.info('import page fed', {
    jobId: job.id,
    page: next.pages,
    tickets: fed,
    comments,
    alreadyLinked,
  });
  const saved = { ...next, version: job.version + 1 };
  return { state: next.status === 'done' ? 'done' : 'more', job: saved, tickets: fed, comments };
}

/** One export page: the stored cursor while it is fresh, else the query again from the last ticket's creation. */
async function listPage(
  deps: FeederDeps,
  job: ImportJob,
  query: string,
  pageSize: number | undefined,
): Promise<{ tickets: ListedTicket[]; after?: string }> {
  const resumeQuery = () => {
    if (!job.watermark) return query;
    // One second back: tickets created in the same second are fed again, which the ledger makes harmless.
    const from = new Date(Date.parse(job.watermark) - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `${query} created>${from}`;
  };
  const fresh =
    job.after && job.afterIssuedAt !== undefined && deps.now() - job.afterIssuedAt < CURSOR_FRESH_MS;
  if (fresh) {
    try {
      return await deps.zendesk.searchTickets(query, {
        after: job.after!,
        ...(pageSize ? { size: pageSize } : {}),
      });
    } catch (err) {
      // An expired or unknown cursor is a 400/422; start again from the watermark instead.
      if (!(err instanceof UpstreamError && (err.status === 400 || err.status === 422))) throw err;
    }
  }
  return deps.zendesk.searchTickets(job.after || job.watermark ? resumeQuery() : query, {
    ...(pageSize ? { size: pageSize } : {}),
  });
}

/**
 * Enqueues one ticket's history in order; returns how many comments, or 'linked' for a ticket live sync linked
 * before this import began (its conversation already runs from a later comment: older history would land out of
 * order, so it is left as it is).
 */
async function feedTicket(
  deps: FeederDeps,
  job: ImportJob,
  t: ListedTicket,
  users: Map<string, Promise<ZendeskUser>>,
): Promise<number | 'linked'> {
  const ticketId = String(t.id);
  const link = await deps.links.getByTicket(ticketId);
  if (link && link.linkedAt < job.startedAt) return 'linked';
  const events = await ticketEvents(deps, t, users);
  for (const e of events) await deps.queue.send(toOutbound(SyncEventSchema.parse(e)));
  return events.length;
}

/** The ticket's comments as import events, oldest first, without those the worker would skip anyway. */
export async function ticketEvents(
  deps: Pick<FeederDeps, 'zendesk' | 'config' | 'now'>,
  t: Pick<ListedTicket, 'id' | 'requester_id'>,
  users: Map<string, Promise<ZendeskUser>> = new Map(),
): Promise<CommentEvent[]> {
  const ticketId = String(t.id);
  const [me, history] = await Promise.all([deps.zendesk.currentUser(), deps.zendesk.allComments(ticketId)]);
  for (const [id, u] of history.users) if (!users.has(String(id))) users.set(String(id), Promise.resolve(u));
  const userOf = (id: number) => {
    let u = users.get(String(id));
    if (!u) {
      u = deps.zendesk.user(id);
      users.set(String(id), u);
    }
    return u;
  };
  const requester = history.users.get(t.requester_id);
  const ordered = [...history.comments].sort((a, b) => commentMs(a) - commentMs(b) || a.id - b.id);
  const out: CommentEvent[] = [];
  for (const c of ordered) {
    // The bridge's own comments (replies it wrote from Chatwoot) are never brought back.
    if (c.author_id === me.id) continue;
    const e = apiCommentEvent(c, ticketId, await userOf(c.author_id), {
      receivedAt: deps.now(),
      via: 'import',
    });
    e.requester = {
      id: String(t.requester_id),
      ...(requester?.name ? { name: requester.name } : {}),
      ...(requester?.email ? { email: requester.email } : {}),
    };
    if (screenZendesk(e, deps.config) === undefined) out.push(e);
  }
  return out;
}

export interface RunOptions extends FeedOptions {
  signal?: AbortSignal;
  onPage?: (r: FeedResult) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Feeds pages until the job is done, stopped or failed (the local bridge and the benchmark; deployed, a Lambda
 * does the same one page chain at a time). Retryable failures are retried with backoff; a permanent one (bad
 * credentials, a deleted ticket given with --ticket) fails the job with its reason.
 */
export async function runImport(deps: FeederDeps, o: RunOptions = {}): Promise<ImportJob | undefined> {
  const sleep =
    o.sleep ??
    ((ms: number) =>
      new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        o.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            r();
          },
          { once: true },
        );
      }));
  let failures = 0;
  while (!o.signal?.aborted) {
    let r: FeedResult;
    try {
      r = await feedPage(deps, o);
      failures = 0;
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'failed';
      if (!isRetryable(err) || ++failures > 8) {
        await deps.store.stop(reason);
        deps.logger.warn('import failed', { reason });
        return deps.store.get();
      }
      deps.logger.warn('import page failed; retrying', { reason, failures });
      await sleep(Math.min(30_000, 500 * 2 ** failures));
      continue;
    }
    o.onPage?.(r);
    if (r.state === 'busy') await sleep(500);
    else if (r.state !== 'more') return r.job ?? deps.store.get();
  }
  return deps.store.get();
}
