// Reconciliation: Chatwoot makes one webhook attempt and Zendesk gives up after a few, so every few minutes the
// bridge reads what changed on each platform since its stored cursor — Zendesk's Incremental Ticket Event Export,
// Chatwoot's conversations of the bridge's inbox ordered by last activity — and enqueues every comment or message
// of a linked ticket/conversation that the ledger has not seen, through the same queue and idempotent worker path
// as a webhook. Cost follows what changed, never the number of links; a quiet conversation is found the moment it
// changes again, however long it was quiet.
import type { ChatwootMessage as ApiMessage, ChatwootConversation } from '../chatwoot/client.ts';
import { parseChatwootWebhook } from '../chatwoot/webhook.ts';
import { ConfigError, msSetting, RECONCILE_DEFAULTS } from '../config.ts';
import { UpstreamError } from '../errors.ts';
import { screen } from '../events/loop-guard.ts';
import {
  type ChatwootMessageEvent,
  type State,
  type SyncEvent,
  SyncEventSchema,
} from '../events/sync-event.ts';
import { toOutbound } from '../queue/types.ts';
import { CursorConflictError } from '../store/cursors.ts';
import { DEAD_LETTERED } from '../store/ledger.ts';
import { eventKeys, type LedgerKey, ledgerKeys, writeIds } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import type { ExportedComment, ZendeskTicketEvent, ZendeskUser } from '../zendesk/client.ts';
import { ZENDESK_STATUS_STATES } from '../zendesk/webhook.ts';
import { apiCommentEvent, commentMs, createdMs, recentComments, recentMessages } from './recent-comments.ts';
import { linkStateOf, recordLinkState } from './status.ts';

export interface ReconcileOptions {
  /** Where the first run starts reading (no cursor yet). Must stay below the ledger's retention. */
  lookbackMs: number;
  /**
   * Chatwoot messages younger than this are left to their webhook, which may still be on its way. (Zendesk's
   * export leaves out the last minute itself.)
   */
  settleMs: number;
  /** Stop reading after this epoch ms (the Lambda's deadline); the cursors keep the place for the next run. */
  deadline?: number;
  /** Zendesk export pages per run (the export allows 10 requests a minute per account, shared with others). */
  maxExportPages?: number;
  /** Reports progress on long runs (the CLI prints it). */
  onProgress?: (message: string) => void;
}

interface SideResult {
  /** Ticket updates (Zendesk) or conversations (Chatwoot) read from the change feed. */
  changesRead: number;
  apiCalls: number;
  /** Comments/messages the bridge had neither synced nor skipped: enqueued now. */
  missed: number;
  /** The run stopped early (deadline, page budget, rate limit); the cursor holds the place. */
  deferred: boolean;
  /** The side failed (logged); the next run starts again from the cursor. */
  failed: boolean;
}

/** The result of a run that read nothing (the bridge is not set up yet). */
export function emptyReconcileResult(): ReconcileResult {
  return { changesRead: 0, apiCalls: 0, enqueued: 0, failed: 0, zendesk: newSide(), chatwoot: newSide() };
}

export interface ReconcileResult {
  changesRead: number;
  apiCalls: number;
  /** Missed events found and enqueued (both sides). */
  enqueued: number;
  /** Sides that failed this run. */
  failed: number;
  zendesk: SideResult;
  chatwoot: SideResult;
}

/** Chatwoot's page sizes: conversations (Kaminari's 25) and messages before an id (MessageFinder's 20). */
const CONVERSATIONS_PAGE = 25;
const MESSAGES_BEFORE_PAGE = 20;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Zendesk: the next export `start_time` (epoch seconds). `stuck`: that second holds more than a page of updates
 * and is being read through the cursor-based ticket export, from `cursor` (its `after_cursor`) once it has one.
 */
interface ZendeskCursor {
  startTime: number;
  stuck?: { cursor?: string };
}
/**
 * Chatwoot: everything created up to `afterS` (epoch seconds) is reconciled. While a window (afterS, uptoS] is in
 * progress it also holds when the window's run started and, once some pages are done, the last activity time
 * down to which conversations were handled, so an interrupted run resumes there.
 */
interface ChatwootCursor {
  afterS: number;
  uptoS?: number;
  startedS?: number;
  doneDownToS?: number;
}

interface Candidate {
  doneKey: LedgerKey;
  ownKey: LedgerKey;
  /** Built lazily: a Zendesk comment's event needs its author, looked up only when the ledger does not know it. */
  event: () => Promise<SyncEvent | undefined>;
}

export async function reconcile(rt: WorkerDeps, o: ReconcileOptions): Promise<ReconcileResult> {
  const retentionMs = rt.config.LEDGER_RETENTION_DAYS * DAY_MS;
  if (o.lookbackMs >= retentionMs) {
    // Otherwise a comment synced before the ledger forgot it would look missed and be posted again.
    throw new Error('the reconciliation look-back must be shorter than LEDGER_RETENTION_DAYS');
  }
  // The two feeds are independent (own cursors, own platforms): read side by side, so a Zendesk backlog that
  // fills a run's time cannot starve Chatwoot's side, or the other way round.
  const seen: StatusSeen = { zendesk: new Map(), chatwoot: new Map() };
  const [zendesk, chatwoot] = await Promise.all([
    side('zendesk', rt, (r) => reconcileZendesk(rt, o, retentionMs, r, seen.zendesk)),
    side('chatwoot', rt, (r) => reconcileChatwoot(rt, o, retentionMs, r, seen.chatwoot)),
  ]);
  // Statuses last: a link's two sides are compared once both feeds were read.
  await reconcileStatuses(rt, seen, { zendesk, chatwoot });
  const result: ReconcileResult = {
    changesRead: zendesk.changesRead + chatwoot.changesRead,
    apiCalls: zendesk.apiCalls + chatwoot.apiCalls,
    enqueued: zendesk.missed + chatwoot.missed,
    failed: Number(zendesk.failed) + Number(chatwoot.failed),
    zendesk,
    chatwoot,
  };
  rt.logger.info('reconciled', {
    changesRead: result.changesRead,
    apiCalls: result.apiCalls,
    missed: result.enqueued,
    failed: result.failed,
    zendesk: { ...zendesk },
    chatwoot: { ...chatwoot },
  });
  return result;
}

/** Runs one platform's side; a failure is logged and leaves its cursor where the last finished page put it. */
async function side(
  name: 'zendesk' | 'chatwoot',
  rt: WorkerDeps,
  run: (r: SideResult) => Promise<void>,
): Promise<SideResult> {
  const r: SideResult = { changesRead: 0, apiCalls: 0, missed: 0, deferred: false, failed: false };
  try {
    await run(r);
  } catch (err) {
    if (err instanceof CursorConflictError) {
      // Another run (an overlapping invocation, the CLI) moved the cursor: it owns the feed now.
      rt.logger.warn('reconcile cursor moved by another run', { platform: name });
      r.deferred = true;
    } else {
      r.failed = true;
      rt.logger.warn('reconcile failed', {
        platform: name,
        error: err instanceof Error ? err.name : 'unknown',
        ...(err instanceof UpstreamError ? { status: err.status } : {}),
      });
    }
  }
  return r;
}

/** Never start before the ledger's memory: older events would look missed. Logged loudly, never silent. */
function clampToRetention(rt: WorkerDeps, platform: string, fromMs: number, retentionMs: number): number {
  const oldest = rt.now() - retentionMs + DAY_MS;
  if (fromMs >= oldest) return fromMs;
  rt.logger.error('reconcile cursor older than the ledger retention: skipping ahead', {
    platform,
    cursorAt: new Date(fromMs).toISOString(),
    resumedAt: new Date(oldest).toISOString(),
  });
  return oldest;
}

// ---------------------------------------------------------------------------------------------- Zendesk

/**
 * Zendesk: the Incremental Ticket Event Export with `include=comment_events` (every update of every ticket, its
 * comments inline), from the stored `start_time`. Time-based (the only method this export has): each page ends
 * at `end_time`, the next starts there again (inclusive), and `end_of_stream` says the page reached the present.
 * The cursor is saved after every page, so an interrupted run resumes from the last page it finished.
 *
 * The time-based trap: a page of 1,000 updates that all share one second ends on the second it started, and asking
 * again from there returns the same page forever (zendesk/zendesk_api_client_rb #168; Zendesk's "Using the
 * Incremental Exports API" recommends the cursor-based method, which only the ticket and user exports have). Such
 * a second is read through the cursor-based Incremental Ticket Export instead: every ticket changed at or after
 * it, and for each linked one its newest comments from that second on; then the event export resumes at the next
 * second. That pass keeps its own cursor (`stuck`), so it too resumes where a run stopped, and nothing is skipped.
 */
async function reconcileZendesk(
  rt: WorkerDeps,
  o: ReconcileOptions,
  retentionMs: number,
  result: SideResult,
  statuses: Map<string, StatusSeenOn>,
): Promise<void> {
  const cursor = await rt.cursors.get<ZendeskCursor>('zendesk');
  let version = cursor.version;
  const firstMs = cursor.value ? cursor.value.startTime * 1000 : rt.now() - o.lookbackMs;
  let start = Math.floor(clampToRetention(rt, 'zendesk', firstMs, retentionMs) / 1000);
  const users = new Map<string, Promise<ZendeskUser>>();
  const seen = new Set<number>();
  const pages = o.maxExportPages ?? RECONCILE_DEFAULTS.exportPages;
  let page = 0;
  const save = async (next: ZendeskCursor) => {
    version = await rt.cursors.save<ZendeskCursor>('zendesk', next, version, rt.now());
  };
  /** Spends one export request of the run's budget; false when none is left (deadline, pages, 429). */
  const exportCall = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    if (page >= pages || (o.deadline !== undefined && rt.now() > o.deadline)) return undefined;
    page++;
    result.apiCalls++;
    try {
      return await call();
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 429) {
        // The export's 10 requests a minute are shared by the account: leave the rest to the next run.
        rt.logger.warn('reconcile export rate-limited', {
          platform: 'zendesk',
          retryAfterMs: err.retryAfterMs,
        });
        return undefined;
      }
      throw err;
    }
  };
  if (cursor.value?.stuck) {
    const done = await stuckSecond(rt, start, cursor.value.stuck.cursor, {
      exportCall,
      save,
      result,
      users,
      statuses,
    });
    if (!done) {
      result.deferred = true;
      return;
    }
    start += 1;
  }
  for (;;) {
    const res = await exportCall(() => rt.zendesk.ticketEvents(start));
    if (!res) {
      result.deferred = true;
      return;
    }
    // The page repeats the items of its start second; each update is handled once per run.
    const events = res.ticket_events.filter((e) => !seen.has(e.id));
    for (const e of res.ticket_events) seen.add(e.id);
    result.changesRead += events.length;
    result.missed += await zendeskMissed(rt, events, users, result, statuses);
    const end = res.end_time ?? start;
    if (end > start || (res.end_of_stream && cursor.value?.startTime !== end)) await save({ startTime: end });
    o.onProgress?.(`zendesk: ${result.changesRead} ticket update(s) read`);
    if (res.end_of_stream) return;
    if (end <= start) {
      // A full page inside one second: the event export cannot page past it (see above).
      rt.logger.warn('reconcile export: more than a page of ticket updates in one second, read by ticket', {
        platform: 'zendesk',
        startTime: start,
      });
      await save({ startTime: start, stuck: {} });
      const done = await stuckSecond(rt, start, undefined, { exportCall, save, result, users, statuses });
      if (!done) {
        result.deferred = true;
        return;
      }
      start += 1;
      continue;
    }
    start = end;
  }
}

/**
 * One second holding more than a page of ticket updates, read through the cursor-based ticket export (tickets
 * changed at or after it, up to the present: a ticket changed in that second and again later is listed once, at
 * its latest change). For each linked ticket, its newest comments (one page, 100) from that second on go through
 * the same ledger check as the event export's; its status counts as seen at its `updated_at` (an upper bound, like
 * Chatwoot's). Returns false when the run's budget ran out first; the `stuck` cursor keeps the place.
 */
async function stuckSecond(
  rt: WorkerDeps,
  second: number,
  resumeFrom: string | undefined,
  x: {
    exportCall: <T>(call: () => Promise<T>) => Promise<T | undefined>;
    save: (next: ZendeskCursor) => Promise<void>;
    result: SideResult;
    users: Map<string, Promise<ZendeskUser>>;
    statuses: Map<string, StatusSeenOn>;
  },
): Promise<boolean> {
  const me = await rt.zendesk.currentUser();
  let from: { startTime: number } | { cursor: string } =
    resumeFrom === undefined ? { startTime: second } : { cursor: resumeFrom };
  for (;;) {
    const res = await x.exportCall(() => rt.zendesk.exportTickets(from));
    if (!res) return false;
    x.result.changesRead += res.tickets.length;
    const links = await rt.links.getManyByTicket(res.tickets.map((t) => String(t.id)));
    const now = rt.now();
    for (const t of res.tickets) {
      const link = links.get(String(t.id));
      if (!link) continue;
      const state = Object.hasOwn(ZENDESK_STATUS_STATES, t.status)
        ? ZENDESK_STATUS_STATES[t.status]
        : undefined;
      const changedMs = t.updated_at ? Date.parse(t.updated_at) : Number.NaN;
      const prior = x.statuses.get(link.ticketId);
      if (state && !Number.isNaN(changedMs) && (!prior || prior.atMs <= changedMs)) {
        x.statuses.set(link.ticketId, {
          state,
          status: t.status,
          atMs: changedMs,
          exact: false,
          conversationId: link.conversationId,
          key: `t${Math.floor(changedMs / 1000)}`,
        });
      }
      x.result.apiCalls++;
      const comments = await recentComments(rt.zendesk, link.ticketId);
      const fresh = comments.filter((c) => commentMs(c) >= second * 1000 && c.author_id !== me.id);
      if (comments.length >= 100 && comments.every((c) => commentMs(c) >= second * 1000)) {
        // More than a page since that second on one ticket: the older ones are not read here. Never silent.
        rt.logger.error('reconcile: more than 100 comments on one ticket since a crowded second', {
          platform: 'zendesk',
          ticketId: link.ticketId,
          startTime: second,
        });
      }
      x.result.missed += await enqueueMissed(
        rt,
        fresh.map((c) => ({
          doneKey: ledgerKeys.event(eventKeys.zendeskComment(c.id)),
          ownKey: ledgerKeys.ownWrite(writeIds.zendeskComment(c.id)),
          event: async () => {
            x.result.apiCalls += x.users.has(String(c.author_id)) ? 0 : 1;
            return apiCommentEvent(c, link.ticketId, await authorOf(rt, c.author_id, x.users), {
              receivedAt: now,
            });
          },
        })),
      );
    }
    if (res.end_of_stream || !res.after_cursor) break;
    from = { cursor: res.after_cursor };
    await x.save({ startTime: second, stuck: { cursor: res.after_cursor } });
  }
  await x.save({ startTime: second + 1 });
  return true;
}

/** Comments on linked tickets in these updates that the ledger does not know, enqueued; returns how many. */
async function zendeskMissed(
  rt: WorkerDeps,
  events: ZendeskTicketEvent[],
  users: Map<string, Promise<ZendeskUser>>,
  result: SideResult,
  statuses: Map<string, StatusSeenOn>,
): Promise<number> {
  const me = await rt.zendesk.currentUser();
  const now = rt.now();
  const candidates: Candidate[] = [];
  const links = await rt.links.getManyByTicket(
    events
      .filter((e) => e.child_events?.some((c) => c.event_type === 'Comment' || statusOf(c) !== undefined))
      .map((e) => String(e.ticket_id)),
  );
  for (const update of events) {
    const status = (update.child_events ?? []).map(statusOf).findLast((x) => x !== undefined);
    const link = links.get(String(update.ticket_id));
    // The newest status change a person (not the bridge) made on a linked ticket, with its time on Zendesk.
    if (status && link && update.updater_id !== me.id) {
      const atMs = update.timestamp * 1000;
      const prior = statuses.get(link.ticketId);
      if (!prior || prior.atMs <= atMs) {
        statuses.set(link.ticketId, {
          ...status,
          atMs,
          conversationId: link.conversationId,
          key: String(update.id),
          ...(update.updater_id !== undefined ? { actorId: String(update.updater_id) } : {}),
        });
      }
    }
    const comments = (update.child_events ?? []).filter(
      (c): c is ExportedComment & { [field: string]: unknown } =>
        c.event_type === 'Comment' && typeof c.id === 'number' && typeof c.body === 'string',
    );
    if (comments.length === 0) continue;
    // The bridge's own updates (its user is the updater, whoever authors the comment) are echoes.
    if (update.updater_id === me.id) continue;
    const ticketId = String(update.ticket_id);
    if (!links.has(ticketId)) continue;
    for (const c of comments) {
      if (c.author_id === me.id) continue;
      const createdAt = c.created_at ?? update.created_at;
      const comment = { ...c, ...(createdAt !== undefined ? { created_at: createdAt } : {}) };
      candidates.push({
        doneKey: ledgerKeys.event(eventKeys.zendeskComment(c.id)),
        ownKey: ledgerKeys.ownWrite(writeIds.zendeskComment(c.id)),
        event: async () => {
          result.apiCalls += users.has(String(c.author_id)) ? 0 : 1;
          const author = await authorOf(rt, c.author_id, users);
          return apiCommentEvent(comment, ticketId, author, {
            receivedAt: now,
            ...(update.updater_id !== undefined ? { actorId: String(update.updater_id) } : {}),
          });
        },
      });
    }
  }
  return enqueueMissed(rt, candidates);
}

function newSide(): SideResult {
  return { changesRead: 0, apiCalls: 0, missed: 0, deferred: false, failed: false };
}

// ---------------------------------------------------------------------------------------------- Chatwoot

/**
 * Chatwoot: the bridge inbox's conversations whose last activity is newer than the cursor (POST
 * conversations/filter on `last_activity_at`, newest first), and for each linked one its messages created in the
 * window (paging back from the newest, 20 at a time). A window ends `settleMs` before the run, in whole seconds
 * (`created_at` is epoch seconds), and the next window starts where it ended, so every message belongs to exactly
 * one window. A conversation that gets a message while the run pages downwards jumps to the top, past the pages
 * already read; a last pass over the conversations active since the run started catches those.
 */
async function reconcileChatwoot(
  rt: WorkerDeps,
  o: ReconcileOptions,
  retentionMs: number,
  result: SideResult,
  statuses: Map<string, StatusSeenOn>,
): Promise<void> {
  const cursor = await rt.cursors.get<ChatwootCursor>('chatwoot');
  let version = cursor.version;
  const now = rt.now();
  let state: ChatwootCursor = cursor.value ?? { afterS: Math.floor((now - o.lookbackMs) / 1000) };
  const clamped = Math.floor(clampToRetention(rt, 'chatwoot', state.afterS * 1000, retentionMs) / 1000);
  if (clamped !== state.afterS) state = { afterS: clamped };
  if (state.uptoS === undefined || state.startedS === undefined) {
    const uptoS = Math.floor((now - o.settleMs) / 1000) - 1;
    if (uptoS <= state.afterS) return;
    state = { afterS: state.afterS, uptoS, startedS: Math.floor(now / 1000) };
  }
  const window = { afterS: state.afterS, uptoS: state.uptoS, startedS: state.startedS } as Required<
    Omit<ChatwootCursor, 'doneDownToS'>
  >;
  const handled = new Set<number>();
  const save = async (next: ChatwootCursor) => {
    version = await rt.cursors.save<ChatwootCursor>('chatwoot', next, version, rt.now());
    state = next;
  };
  const outOfTime = () => o.deadline !== undefined && rt.now() > o.deadline;

  // The window's pass, newest activity first, from where an interrupted run stopped.
  for (let page = 1; ; page++) {
    if (outOfTime()) {
      // Every finished page saved its place; the next run resumes below it.
      result.deferred = true;
      return;
    }
    result.apiCalls++;
    const conversations = await rt.chatwoot.conversationsActiveSince(window.afterS * 1000, page);
    let lowest: number | undefined;
    let older = false;
    for (const c of conversations) {
      const activeS = c.last_activity_at ?? 0;
      if (activeS <= window.afterS) {
        older = true;
        break;
      }
      if (state.doneDownToS !== undefined && activeS > state.doneDownToS) continue;
      if (handled.has(c.id)) continue;
      handled.add(c.id);
      result.changesRead++;
      result.missed += await conversationMissed(rt, c, window, result, statuses);
      lowest = activeS;
    }
    if (lowest !== undefined) await save({ ...window, doneDownToS: lowest });
    o.onProgress?.(`chatwoot: ${result.changesRead} conversation(s) read`);
    if (older || conversations.length < CONVERSATIONS_PAGE) break;
  }

  // Conversations that moved above the pages already read while the pass ran (or since an interrupted run).
  for (let page = 1; ; page++) {
    if (outOfTime()) {
      result.deferred = true;
      await save({ ...window, doneDownToS: window.afterS });
      return;
    }
    result.apiCalls++;
    const conversations = await rt.chatwoot.conversationsActiveSince(window.startedS * 1000, page);
    let older = false;
    for (const c of conversations) {
      if ((c.last_activity_at ?? 0) < window.startedS) {
        older = true;
        break;
      }
      if (handled.has(c.id)) continue;
      handled.add(c.id);
      result.changesRead++;
      result.missed += await conversationMissed(rt, c, window, result, statuses);
    }
    if (older || conversations.length < CONVERSATIONS_PAGE) break;
  }
  await save({ afterS: window.uptoS });
}

/** One conversation's messages in the window that the ledger does not know, enqueued; returns how many. */
async function conversationMissed(
  rt: WorkerDeps,
  c: ChatwootConversation,
  window: { afterS: number; uptoS: number },
  result: SideResult,
  statuses: Map<string, StatusSeenOn>,
): Promise<number> {
  if (c.inbox_id !== undefined && c.inbox_id !== rt.config.CHATWOOT_INBOX_ID) return 0;
  const link = await rt.links.getByConversation(String(c.id));
  if (!link) return 0;
  // Only open and resolved cross the bridge (pending and snoozed stay in Chatwoot, as with the webhook).
  if ((c.status === 'open' || c.status === 'resolved') && c.last_activity_at !== undefined) {
    statuses.set(link.ticketId, {
      state: c.status,
      status: c.status,
      atMs: c.last_activity_at * 1000,
      exact: false,
      conversationId: link.conversationId,
      key: String(c.last_activity_at),
    });
  }
  const inWindow: ApiMessage[] = [];
  let before: number | undefined;
  for (;;) {
    result.apiCalls++;
    const page = await rt.chatwoot.messages(c.id, before === undefined ? {} : { before });
    for (const m of page) {
      const s = Math.floor(createdMs(m) / 1000);
      if (s > window.afterS && s <= window.uptoS) inWindow.push(m);
    }
    const oldest = page.reduce<ApiMessage | undefined>((a, m) => (a && a.id < m.id ? a : m), undefined);
    if (!oldest || page.length < MESSAGES_BEFORE_PAGE || createdMs(oldest) / 1000 <= window.afterS) break;
    before = oldest.id;
  }
  inWindow.sort((a, b) => a.id - b.id);
  const now = rt.now();
  const candidates = inWindow.map(
    (m): Candidate => ({
      doneKey: ledgerKeys.event(eventKeys.chatwootMessage(m.id)),
      ownKey: ledgerKeys.ownWrite(writeIds.chatwootMessage(m.id)),
      event: async () => messageEvent(m, link, now),
    }),
  );
  return enqueueMissed(rt, candidates);
}

// ---------------------------------------------------------------------------------------------- statuses

/** A linked ticket's or conversation's status as a feed showed it this run, with when it changed on its platform. */
interface StatusSeenOn {
  state: State;
  /** The platform's own word (Zendesk: new, open, pending, hold, solved, closed). */
  status: string;
  /**
   * Zendesk: the update that changed it (the export's `timestamp`). Chatwoot's API shows no status time: the
   * conversation's `last_activity_at`, which every status change moves (Chatwoot records each one as an activity
   * message, the Conversation model's ActivityMessageHandler concern, and every message sets it,
   * `Message#set_conversation_activity`), so it is the change's time or later: an upper bound.
   */
  atMs: number;
  /** False when `atMs` is only an upper bound (Chatwoot; Zendesk's ticket export): then only a different state counts. */
  exact?: boolean;
  conversationId: string;
  /** Names the observation in the repair's event key (the export update's id; Chatwoot's activity second). */
  key: string;
  actorId?: string;
}
/** Per ticket id. Zendesk: only status changes people made (the bridge's own are echoes). */
interface StatusSeen {
  zendesk: Map<string, StatusSeenOn>;
  chatwoot: Map<string, StatusSeenOn>;
}

/** A Zendesk child event's status, when it sets one (`Create` and `Change` events carry `status`). */
function statusOf(c: {
  event_type?: string;
  [field: string]: unknown;
}): { status: string; state: State } | undefined {
  if (c.event_type !== 'Change' && c.event_type !== 'Create') return undefined;
  if (typeof c.status !== 'string') return undefined;
  const status = c.status.toLowerCase();
  const state = Object.hasOwn(ZENDESK_STATUS_STATES, status) ? ZENDESK_STATUS_STATES[status] : undefined;
  return state ? { status, state } : undefined;
}

/**
 * Status webhooks lost either way are repaired here. For each link whose status a feed showed, against the last
 * state the bridge synced for it (and when that change happened on its platform, `sourceAt`):
 * - a side counts as changed only if its change is newer than `sourceAt` (Zendesk: any status change a person
 *   made; Chatwoot: a status different from the synced one, since its time is only the last activity);
 * - both sides on the same state: recorded, nothing written;
 * - otherwise the newer change is applied to the other side, through the queue and the status flow, under the
 *   state record it was decided on: a status synced meanwhile makes it stale, and a repeat is the same event key.
 * The bridge's own writes never count (Zendesk: its updates are skipped; Chatwoot: the status it wrote is the
 * synced one), so nothing echoes; a second run finds each change no newer than `sourceAt` and does nothing.
 */
async function reconcileStatuses(
  rt: WorkerDeps,
  seen: StatusSeen,
  sides: { zendesk: SideResult; chatwoot: SideResult },
): Promise<void> {
  const tickets = [...new Set([...seen.zendesk.keys(), ...seen.chatwoot.keys()])];
  if (tickets.length === 0) return;
  let records: Map<string, Record<string, unknown>>;
  try {
    // One BatchGetItem per 100 links, not a read per link.
    records = await rt.ledger.getMany(tickets.map((t) => ledgerKeys.ticketState(t)));
  } catch (err) {
    rt.logger.error('reconcile could not read the links’ synced statuses', {
      error: err instanceof Error ? err.name : 'unknown',
    });
    return;
  }
  for (const ticketId of tickets) {
    try {
      const last = linkStateOf(records.get(ledgerKeys.ticketState(ticketId)));
      const zd = seen.zendesk.get(ticketId);
      const cw = seen.chatwoot.get(ticketId);
      const zdNew =
        zd && zd.atMs > last.sourceAt && (zd.exact !== false || zd.state !== last.state) ? zd : undefined;
      const cwNew = cw && cw.state !== last.state && cw.atMs > last.sourceAt ? cw : undefined;
      const zdState = zdNew?.state ?? last.state;
      const cwState = cwNew?.state ?? last.state;
      if (zdState === cwState) {
        if (zdState !== last.state) {
          const newest = Math.max(zdNew?.atMs ?? 0, cwNew?.atMs ?? 0);
          await recordLinkState(rt.ledger, ticketId, zdState, newest, rt.now());
        }
        continue;
      }
      // They differ: the newer change wins (Zendesk on a tie: its time is exact, Chatwoot's an upper bound).
      const fromZendesk = zdNew !== undefined && (cwNew === undefined || zdNew.atMs >= cwNew.atMs);
      const event = fromZendesk
        ? statusEvent('zendesk', ticketId, zdNew, last.at, rt)
        : statusEvent('chatwoot', ticketId, cwNew as StatusSeenOn, last.at, rt);
      if (screen(event, rt.config.CHATWOOT_INBOX_ID, rt.config) !== undefined) continue;
      await rt.queue.send(toOutbound(SyncEventSchema.parse(event)));
      rt.logger.info('reconcile enqueued a missed status', {
        eventKey: event.eventKey,
        ticketId,
        conversationId: fromZendesk ? zdNew.conversationId : cwNew?.conversationId,
        state: event.state,
        from: fromZendesk ? 'zendesk' : 'chatwoot',
      });
      (fromZendesk ? sides.zendesk : sides.chatwoot).missed++;
    } catch (err) {
      // Left to the next run: its feeds show the link again only if it changes again, so say so loudly.
      rt.logger.error('reconcile could not compare a link’s statuses', {
        ticketId,
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  }
}

function statusEvent(
  from: 'zendesk' | 'chatwoot',
  ticketId: string,
  o: StatusSeenOn,
  basedOn: number,
  rt: WorkerDeps,
): SyncEvent & { kind: 'zendesk.status' | 'chatwoot.status' } {
  const common = {
    via: 'reconcile' as const,
    state: o.state,
    basedOn,
    occurredAt: o.atMs,
    receivedAt: rt.now(),
  };
  return from === 'zendesk'
    ? {
        kind: 'zendesk.status',
        eventKey: eventKeys.zendeskStatus(ticketId, `reconcile-${o.key}-${basedOn}`),
        ticketId,
        status: o.status,
        ...(o.actorId ? { actorId: o.actorId } : {}),
        ...common,
      }
    : {
        kind: 'chatwoot.status',
        eventKey: eventKeys.chatwootStatus(o.conversationId, o.state, `reconcile-${o.key}-${basedOn}`),
        conversationId: o.conversationId,
        inboxId: rt.config.CHATWOOT_INBOX_ID,
        ticketHint: ticketId,
        ...common,
      };
}

// ---------------------------------------------------------------------------------------------- shared

/**
 * Enqueues, oldest first, the candidates that are ours to sync and that the ledger has neither done, dead-lettered
 * (the DLQ and its alarm own those), seen as the bridge's own write, nor sees a worker holding right now.
 */
async function enqueueMissed(rt: WorkerDeps, candidates: Candidate[]): Promise<number> {
  if (candidates.length === 0) return 0;
  const known = await rt.ledger.getMany(candidates.flatMap((c) => [c.doneKey, c.ownKey]));
  const now = rt.now();
  let sent = 0;
  for (const c of candidates) {
    if (known.has(c.ownKey)) continue;
    const claim = known.get(c.doneKey);
    const status = String(claim?.status);
    if (status === 'done' || status === DEAD_LETTERED) continue;
    // A live lease: a worker is on it now. An expired one (a crash, an uncertain write) needs finishing.
    if (status === 'pending' && typeof claim?.leaseUntil === 'number' && claim.leaseUntil > now) continue;
    const event = await c.event();
    if (!event || screen(event, rt.config.CHATWOOT_INBOX_ID, rt.config) !== undefined) continue;
    await rt.queue.send(toOutbound(SyncEventSchema.parse(event)));
    rt.logger.info('reconcile enqueued a missed event', {
      eventKey: event.eventKey,
      ...('ticketId' in event ? { ticketId: event.ticketId } : {}),
      ...('conversationId' in event ? { conversationId: event.conversationId } : {}),
    });
    sent++;
  }
  return sent;
}

/**
 * Re-syncs one ticket on request (ops CLI): every comment (Zendesk's 100 newest) and every message still listed
 * is offered to the queue again; what was already synced is dropped by the ledger.
 */
export async function resyncTicket(rt: WorkerDeps, ticketId: string): Promise<number> {
  const link = await rt.links.getByTicket(ticketId);
  if (!link) throw new Error(`ticket ${ticketId} is not linked`);
  const users = new Map<string, Promise<ZendeskUser>>();
  const me = await rt.zendesk.currentUser();
  const now = rt.now();
  const comments = (await recentComments(rt.zendesk, ticketId)).filter((c) => c.author_id !== me.id);
  const candidates: Candidate[] = comments.map((c) => ({
    doneKey: ledgerKeys.event(eventKeys.zendeskComment(c.id)),
    ownKey: ledgerKeys.ownWrite(writeIds.zendeskComment(c.id)),
    event: async () =>
      apiCommentEvent(c, ticketId, await authorOf(rt, c.author_id, users), { receivedAt: now }),
  }));
  // A conversation relinked to a follow-up ticket is re-synced with its newest link only.
  const current = await rt.links.getByConversation(link.conversationId);
  if (!current || current.ticketId === ticketId) {
    for (const m of await recentMessages(rt.chatwoot, link.conversationId, {})) {
      candidates.push({
        doneKey: ledgerKeys.event(eventKeys.chatwootMessage(m.id)),
        ownKey: ledgerKeys.ownWrite(writeIds.chatwootMessage(m.id)),
        event: async () => messageEvent(m, link, now),
      });
    }
  }
  return enqueueMissed(rt, candidates);
}

/** A comment's author (name, and role: end users are customers); one lookup per author per run. */
function authorOf(
  rt: WorkerDeps,
  authorId: number,
  users: Map<string, Promise<ZendeskUser>>,
): Promise<ZendeskUser> {
  const id = String(authorId);
  let user = users.get(id);
  if (!user) {
    user = rt.zendesk.user(id);
    users.set(id, user);
  }
  return user;
}

const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;

/**
 * An API message as the worker's event, through the webhook parser (the API's message is the webhook's
 * `push_event_data` with an integer type), so both paths read messages the same way.
 */
function messageEvent(m: ApiMessage, link: Link, now: number): ChatwootMessageEvent | undefined {
  const messageType = typeof m.message_type === 'number' ? MESSAGE_TYPES[m.message_type] : m.message_type;
  const parsed = parseChatwootWebhook(
    {
      ...m,
      event: 'message_created',
      message_type: messageType,
      private: m.private === true,
      conversation: { id: Number(link.conversationId) },
    },
    now,
  );
  if (parsed.kind !== 'event' || parsed.event.kind !== 'chatwoot.message') return undefined;
  return { ...parsed.event, via: 'reconcile', ticketHint: link.ticketId };
}

/**
 * Options from the environment or the secret (errors name the variable; defaults in RECONCILE_DEFAULTS):
 * RECONCILE_LOOKBACK_MS (where a first run starts; below the ledger retention, checked by `reconcile`),
 * RECONCILE_SETTLE_MS, RECONCILE_EXPORT_PAGES.
 */
export function reconcileOptionsFrom(env: Record<string, string | undefined>): ReconcileOptions {
  const pages = env.RECONCILE_EXPORT_PAGES?.trim();
  if (pages && !/^[1-9]$/.test(pages)) {
    throw new ConfigError(['RECONCILE_EXPORT_PAGES must be a whole number from 1 to 9']);
  }
  return {
    lookbackMs:
      msSetting(env, 'RECONCILE_LOOKBACK_MS', { min: 2 * 60_000, max: 90 * DAY_MS }) ??
      RECONCILE_DEFAULTS.lookbackMs,
    settleMs:
      msSetting(env, 'RECONCILE_SETTLE_MS', { min: 0, max: 3600 * 1000 }) ?? RECONCILE_DEFAULTS.settleMs,
    maxExportPages: pages ? Number(pages) : RECONCILE_DEFAULTS.exportPages,
  };
}
