// Reconciliation: neither platform retries webhooks reliably, so every few minutes the bridge walks the links
// that had traffic recently, lists the comments and messages after the last ones it saw settled (per-link
// cursors in the ledger), and enqueues what no webhook brought, through the same queue and idempotent worker
// path as a webhook (the ledger claim makes re-enqueueing something already synced a no-op).

import type { ChatwootMessage as ApiMessage } from '../chatwoot/client.ts';
import { parseChatwootWebhook } from '../chatwoot/webhook.ts';
import { msSetting } from '../config.ts';
import { screen } from '../events/loop-guard.ts';
import { type ChatwootMessageEvent, type SyncEvent, SyncEventSchema } from '../events/sync-event.ts';
import { toOutbound } from '../queue/types.ts';
import { ACTIVITY_KEEP_MS, DEAD_LETTERED } from '../store/ledger.ts';
import { eventKeys, type LedgerKey, ledgerKeys, writeIds } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import type { WorkerDeps } from '../worker-deps.ts';
import type { ZendeskUser } from '../zendesk/client.ts';
import { apiCommentEvent, commentMs, createdMs, recentComments, recentMessages } from './recent-comments.ts';

export interface ReconcileOptions {
  /** How far back activity marks and (without a cursor) history are read. Must stay below the ledger's TTL. */
  lookbackMs: number;
  /** Items younger than this are left to their webhook, which may still be on its way. */
  settleMs: number;
  /** Stop starting new links after this epoch ms (the Lambda's deadline), leaving the rest to the next run. */
  deadline?: number;
  /** Reports progress on long runs (the CLI prints it). */
  onProgress?: (done: number, total: number) => void;
}

export interface ReconcileResult {
  links: number;
  /** Comments/messages seen that the bridge had neither synced nor skipped: enqueued now. */
  enqueued: number;
  /** Links that failed to reconcile (logged; retried by the next run). */
  failed: number;
  /** Links left for the next run because the deadline came. */
  deferred: number;
}

/** Defaults: look back two hours (the ledger keeps 14 days); leave a minute for webhooks still in flight. */
export const DEFAULT_LOOKBACK_MS = 2 * 3600 * 1000;
export const DEFAULT_SETTLE_MS = 60_000;
const CONCURRENCY = 4;

interface Cursor {
  /** Highest Zendesk comment id up to which everything is synced or not ours to sync. */
  zd?: number;
  /** Same for Chatwoot message ids. */
  cw?: number;
}

interface Item {
  id: number;
  event?: SyncEvent;
  /** Keys whose presence in the ledger means the item needs nothing: its claim, or the bridge's own write. */
  doneKey: LedgerKey;
  ownKey: LedgerKey;
  createdAt: number;
}

export async function reconcile(rt: WorkerDeps, o: ReconcileOptions): Promise<ReconcileResult> {
  if (o.lookbackMs >= rt.config.LEDGER_RETENTION_DAYS * 24 * 3600 * 1000) {
    // Otherwise a comment synced before the ledger forgot it would look missed and be posted again.
    throw new Error('the reconciliation look-back must be shorter than LEDGER_RETENTION_DAYS');
  }
  const now = rt.now();
  const tickets = await rt.ledger.activeTickets(now - o.lookbackMs);
  const result: ReconcileResult = { links: 0, enqueued: 0, failed: 0, deferred: 0 };
  const users = new Map<string, Promise<ZendeskUser>>();
  let next = 0;
  const worker = async () => {
    while (next < tickets.length) {
      const ticketId = tickets[next++]!;
      if (o.deadline !== undefined && rt.now() > o.deadline) {
        result.deferred++;
        continue;
      }
      try {
        result.enqueued += await reconcileTicket(rt, ticketId, { ...o, now, users, useCursor: true });
        result.links++;
      } catch (err) {
        result.failed++;
        rt.logger.warn('reconcile failed for a link', {
          ticketId,
          error: err instanceof Error ? err.name : 'unknown',
        });
      }
      o.onProgress?.(result.links + result.failed + result.deferred, tickets.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, tickets.length) }, worker));
  rt.logger.info('reconciled', { ...result });
  return result;
}

/**
 * Re-syncs one ticket on request (ops CLI): every comment and message still listed is offered to the queue
 * again, ignoring cursors and look-back; what was already synced is dropped by its ledger claim.
 */
export async function resyncTicket(rt: WorkerDeps, ticketId: string): Promise<number> {
  if (!(await rt.links.getByTicket(ticketId))) throw new Error(`ticket ${ticketId} is not linked`);
  return reconcileTicket(rt, ticketId, {
    lookbackMs: Number.POSITIVE_INFINITY,
    settleMs: 0,
    now: rt.now(),
    users: new Map(),
    useCursor: false,
  });
}

async function reconcileTicket(
  rt: WorkerDeps,
  ticketId: string,
  o: ReconcileOptions & { now: number; users: Map<string, Promise<ZendeskUser>>; useCursor: boolean },
): Promise<number> {
  const link = await rt.links.getByTicket(ticketId);
  if (!link) return 0;
  const cursorKey = ledgerKeys.reconcileCursor(ticketId);
  const saved = o.useCursor ? await rt.ledger.get(cursorKey) : undefined;
  const cursor: Cursor = {
    ...(typeof saved?.zd === 'number' ? { zd: saved.zd } : {}),
    ...(typeof saved?.cw === 'number' ? { cw: saved.cw } : {}),
  };
  const since = o.now - o.lookbackMs;
  const zendeskItems = (await recentComments(rt.zendesk, ticketId, cursor.zd))
    .filter((c) => cursor.zd !== undefined || commentMs(c) >= since)
    .map((c) => ({
      id: c.id,
      createdAt: commentMs(c),
      doneKey: ledgerKeys.event(eventKeys.zendeskComment(c.id)),
      ownKey: ledgerKeys.ownWrite(writeIds.zendeskComment(c.id)),
      event: undefined as SyncEvent | undefined,
      comment: c,
    }));
  // A conversation relinked to a follow-up ticket is walked once, with its newest link.
  const current = await rt.links.getByConversation(link.conversationId);
  const chatwootItems =
    current && current.ticketId !== ticketId
      ? []
      : (
          await recentMessages(
            rt.chatwoot,
            link.conversationId,
            cursor.cw !== undefined ? { afterId: cursor.cw } : { sinceMs: since },
          )
        )
          .filter((m) => cursor.cw !== undefined || createdMs(m) >= since)
          .map(
            (m): Item => ({
              id: m.id,
              createdAt: createdMs(m),
              doneKey: ledgerKeys.event(eventKeys.chatwootMessage(m.id)),
              ownKey: ledgerKeys.ownWrite(writeIds.chatwootMessage(m.id)),
              event: messageEvent(m, link, o.now),
            }),
          );
  const me = await rt.zendesk.currentUser();
  for (const item of zendeskItems) {
    const c = item.comment;
    if (c.author_id === me.id) continue;
    item.event = apiCommentEvent(c, link.ticketId, await authorOf(rt, c.author_id, o.users), {
      receivedAt: o.now,
    });
  }
  const items: Item[] = [...zendeskItems, ...chatwootItems];
  const known = await rt.ledger.getMany(items.flatMap((i) => [i.doneKey, i.ownKey]));
  const settled = o.now - o.settleMs;
  const missed: SyncEvent[] = [];
  const nextCursor: Cursor = { ...cursor };
  for (const [side, list] of [
    ['zd', zendeskItems],
    ['cw', chatwootItems],
  ] as const) {
    let advancing = true;
    for (const item of list) {
      const needsSync =
        item.event !== undefined &&
        screen(item.event, rt.config.CHATWOOT_INBOX_ID, rt.config) === undefined &&
        // Done, or failed for good and dead-lettered (the DLQ and its alarm own it now): not missed.
        !['done', DEAD_LETTERED].includes(String(known.get(item.doneKey)?.status)) &&
        !known.has(item.ownKey);
      if (needsSync && item.createdAt <= settled && item.event) missed.push(item.event);
      if (needsSync) advancing = false;
      if (advancing) nextCursor[side] = item.id;
    }
  }
  // Oldest first within each direction, so the FIFO group receives them in their platform's order.
  for (const e of missed) await rt.queue.send(toOutbound(SyncEventSchema.parse(e)));
  if (missed.length > 0) {
    rt.logger.info('reconcile enqueued missed events', {
      ticketId,
      conversationId: link.conversationId,
      eventKeys: missed.map((e) => e.eventKey),
    });
  }
  if (o.useCursor && (nextCursor.zd !== cursor.zd || nextCursor.cw !== cursor.cw)) {
    await rt.ledger.put(cursorKey, { ...nextCursor }, o.lookbackMs + 24 * 3600 * 1000);
  }
  return missed.length;
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

/** Options from the environment: RECONCILE_LOOKBACK_MS and RECONCILE_SETTLE_MS (errors name the variable). */
export function reconcileOptionsFrom(env: Record<string, string | undefined>): ReconcileOptions {
  return {
    // Activity marks are kept for ACTIVITY_KEEP_MS: a longer look-back would find nothing more.
    lookbackMs:
      msSetting(env, 'RECONCILE_LOOKBACK_MS', { min: 0, max: ACTIVITY_KEEP_MS }) ?? DEFAULT_LOOKBACK_MS,
    settleMs: msSetting(env, 'RECONCILE_SETTLE_MS', { min: 0, max: 3600 * 1000 }) ?? DEFAULT_SETTLE_MS,
  };
}
