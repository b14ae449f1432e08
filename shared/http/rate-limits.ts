// The platforms' rate limits as request budgets the bridge paces itself to, instead of errors it runs into:
// Zendesk's account-wide budget and Ticket Update limit shared across every Lambda container (one DynamoDB item
// each), Chatwoot's per-IP and per-conversation limits per container (an IP is a container's).
import { RetryableError } from '../errors.ts';
import { type BucketStore, BudgetExhausted, RateBudget, type RateSpec } from '../store/rate-budget.ts';
import type { Call, CallLimiter } from './client.ts';

/**
 * Pace to this fraction of a limit, with a burst of BURST of it: in any 60 s at most (PACE + 2 × BURST) × limit + 1
 * calls start (the shared bucket may grant its burst twice, see DynamoBucketStore), so a smooth drain never crosses
 * the platform's per-minute window.
 */
const PACE = 0.95;
const MINUTE_MS = 60_000;
const BURST = 0.02;

/** A budget of `share × limit` per minute, paced as above. */
export function specFor(limitPerMinute: number, share: number): RateSpec {
  const ours = Math.max(1, limitPerMinute * share);
  return { perMinute: ours * PACE, burst: Math.max(0, Math.floor(ours * BURST)) };
}

async function take(budget: RateBudget, maxWaitMs: number, reason: string): Promise<void> {
  try {
    await budget.take(maxWaitMs);
  } catch (err) {
    if (!(err instanceof BudgetExhausted)) throw err;
    // No request was made: the record goes back to the queue until its slot comes (never an unknown outcome).
    throw new RetryableError(`${reason}: no slot within ${maxWaitMs} ms`, reason, err.retryAfterMs);
  }
}

export interface ZendeskLimitsOptions {
  /** Shared bucket store (DynamoDB when deployed, so every container draws from one budget). */
  store: BucketStore;
  /**
   * The account's requests per minute until Zendesk's `X-Rate-Limit` header says otherwise: the plan's limit
   * (Team 200, Growth/Professional 400, Enterprise 700, High Volume 2,500 — developer.zendesk.com, "Rate limits").
   */
  accountLimit: number;
  /** Fraction of the account's limits the bridge may use; the rest is left to other integrations and apps. */
  share: number;
  /** Update Ticket's per-account limit (default TICKET_UPDATE_LIMIT). */
  ticketUpdateLimit?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Zendesk (developer.zendesk.com/api-reference/introduction/rate-limits): every answer carries the account's
 * budget, `X-Rate-Limit` and `X-Rate-Limit-Remaining` for the current minute (Ticketing APIs also
 * `ratelimit-reset`, seconds until the minute ends); beyond it, 429 with `Retry-After`. On top, Update Ticket allows
 * 100 requests a minute per account and 30 updates per ticket per 10 minutes per user. The per-ticket limit is left
 * to its 429 (its Retry-After, up to 10 minutes, holds only that ticket's messages back): pacing it would cost a
 * DynamoDB write per update for a limit a ticket rarely meets.
 *
 * Two buckets split the account's budget so that each call costs one reservation: ticket updates draw from the
 * Update Ticket bucket (min(100, limit) a minute), every other call from the rest of the account's budget. Their
 * paces and bursts add up to at most PACE + BURST of the bridge's share, so together they stay under the limit.
 */
export class ZendeskLimits implements CallLimiter {
  readonly account: RateBudget;
  readonly ticketUpdates: RateBudget;
  private accountLimit: number;

  constructor(private readonly o: ZendeskLimitsOptions) {
    this.accountLimit = o.accountLimit;
    const specs = zendeskSpecs(o.accountLimit, o.share, o.ticketUpdateLimit);
    const clock = { ...(o.now ? { now: o.now } : {}), ...(o.sleep ? { sleep: o.sleep } : {}) };
    this.account = new RateBudget(o.store, 'budget#zendesk:account', specs.account, clock);
    this.ticketUpdates = new RateBudget(o.store, 'budget#zendesk:ticket-update', specs.ticketUpdates, clock);
  }

  async acquire(call: Call, maxWaitMs: number): Promise<void> {
    if (isTicketUpdate(call)) await take(this.ticketUpdates, maxWaitMs, 'zendesk-ticket-update-budget');
    else await take(this.account, maxWaitMs, 'zendesk-rate-budget');
  }

  async observe(call: Call, answer: { status: number; headers: Headers }): Promise<void> {
    const h = answer.headers;
    // A header that is absent is unknown, not 0 (Number(null) would be 0).
    const num = (...names: string[]) => {
      for (const name of names) {
        const v = h.get(name);
        if (v !== null && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      }
      return Number.NaN;
    };
    const limit = num('x-rate-limit', 'ratelimit-limit');
    if (Number.isFinite(limit) && limit > 0 && limit !== this.accountLimit) {
      // The plan changed, or the configured guess was wrong: pace to what Zendesk says from now on.
      this.accountLimit = limit;
      const specs = zendeskSpecs(limit, this.o.share, this.o.ticketUpdateLimit);
      this.account.setRate(specs.account);
      this.ticketUpdates.setRate(specs.ticketUpdates);
    }
    const now = (this.o.now ?? Date.now)();
    const remaining = num('x-rate-limit-remaining', 'ratelimit-remaining');
    const resetS = num('ratelimit-reset');
    const retryAfterS = num('retry-after');
    if (answer.status === 429) {
      // An account-wide 429 says Remaining 0; a per-ticket one (Retry-After up to 600 s) concerns one ticket only.
      if (isTicketUpdate(call) && (remaining > 0 || retryAfterS > 60)) {
        // Update Ticket's own minute (the account still has room): only ticket updates wait.
        if (retryAfterS <= 60) await this.ticketUpdates.block(now + retryAfterS * 1000);
        return;
      }
      // The incremental exports have their own limit (10 requests a minute, rate-limits page "Incremental
      // Exports"), shared with other clients of the account: its 429 concerns the export only, whose caller
      // (reconciliation) leaves the rest to its next run. Only an account-wide one (Remaining 0) stops every call.
      if (isIncrementalExport(call) && remaining !== 0) return;
      const waitS = Number.isFinite(retryAfterS) ? retryAfterS : Number.isFinite(resetS) ? resetS : 1;
      await this.blockAll(now + waitS * 1000);
      return;
    }
    // Others on the account used the minute up: nobody starts a call until it resets.
    if (remaining === 0 && Number.isFinite(resetS)) await this.blockAll(now + resetS * 1000);
  }

  private async blockAll(until: number): Promise<void> {
    await Promise.all([this.account.block(until), this.ticketUpdates.block(until)]);
  }
}

/** How long a background call waits for spare budget before its caller hears BudgetExhausted (as a retry). */
const SPARE_WAIT_MS = 60_000;

/**
 * The history import's view of the same budgets: every call draws from live sync's buckets (one DynamoDB item
 * each, so import and live sync together never exceed the bridge's share of the account), but only from what live
 * sync leaves: a slot is taken only while `reserveShare` of the bucket's burst would still be there after it
 * (RateBudget.takeSpare). So a live call never waits behind the import for more than its normal pacing, and
 * while live sync keeps the bucket busier than that the import takes nothing. Answers teach the shared limits the
 * same way (X-Rate-Limit, a 429's Retry-After blocks live sync and the import alike).
 *
 * The import reads through Export Search Results, Search Count, List Comments and Show User/Ticket, all inside the
 * account's per-minute limit (developer.zendesk.com/api-reference/introduction/rate-limits). It makes no
 * incremental-export request, whose own 10-a-minute limit ("Incremental Exports") stays with reconciliation.
 */
export class SpareZendeskLimits implements CallLimiter {
  constructor(
    readonly limits: ZendeskLimits,
    private readonly o: { reserveShare: number; maxWaitMs?: number },
  ) {}

  /** `maxWaitMs` is the live pipeline's wait (seconds); a background caller may wait far longer for spare slots. */
  async acquire(call: Call, _maxWaitMs: number): Promise<void> {
    const budget = isTicketUpdate(call) ? this.limits.ticketUpdates : this.limits.account;
    try {
      await budget.takeSpare(this.o.reserveShare, this.o.maxWaitMs ?? SPARE_WAIT_MS);
    } catch (err) {
      if (!(err instanceof BudgetExhausted)) throw err;
      throw new RetryableError(
        `zendesk budget busy with live sync: no spare slot within ${this.o.maxWaitMs ?? SPARE_WAIT_MS} ms`,
        'zendesk-spare-budget',
        err.retryAfterMs,
      );
    }
  }

  observe(call: Call, answer: { status: number; headers: Headers }): Promise<void> {
    return this.limits.observe(call, answer);
  }
}

/** The two buckets' paces for an account limit and the bridge's share of it (see ZendeskLimits). */
export function zendeskSpecs(
  limitPerMinute: number,
  share: number,
  ticketUpdateLimit = TICKET_UPDATE_LIMIT,
): { account: RateSpec; ticketUpdates: RateSpec } {
  const all = specFor(limitPerMinute, share);
  const updates = specFor(Math.min(ticketUpdateLimit, limitPerMinute), share);
  // Ticket updates take what they need first; every other call gets the rest of the pace, and never less than a
  // tenth of it (a plan whose limit is below Update Ticket's still needs its reads).
  const ticketUpdates = {
    perMinute: Math.min(updates.perMinute, all.perMinute * 0.9),
    burst: Math.min(updates.burst, all.burst),
  };
  return {
    ticketUpdates,
    account: {
      perMinute: Math.max(all.perMinute * 0.1, all.perMinute - ticketUpdates.perMinute),
      burst: Math.max(0, all.burst - ticketUpdates.burst),
    },
  };
}

/** Update Ticket: 100 requests a minute per account (developer.zendesk.com, "Rate limits" → Endpoint rate limits). */
const TICKET_UPDATE_LIMIT = 100;
const isIncrementalExport = (c: Call) => c.method === 'GET' && /^incremental\//.test(c.path);
const isTicketUpdate = (c: Call) => c.method === 'PUT' && /^tickets\/[^/]+(\.json)?$/.test(c.path);

export interface ChatwootLimitsOptions {
  /** Per-container store: Chatwoot's limits are per IP, and a Lambda container has its own. */
  store: BucketStore;
  /** rack-attack's `req/ip` throttle: RACK_ATTACK_LIMIT, default 3000 a minute (config/initializers/rack_attack.rb). */
  perIpLimit: number;
  /** Messages per conversation per minute: CONVERSATION_MESSAGE_PER_MINUTE_LIMIT, default 200 (lib/limits.rb). */
  perConversationLimit: number;
  now?: () => number;
}

/**
 * Chatwoot: rack-attack answers 429 "Retry later" with no Retry-After beyond `RACK_ATTACK_LIMIT` requests a minute
 * per IP; a conversation refuses its 201st message within a minute with a 422 ("Too many messages"). Both are kept
 * in this container's memory: the per-IP limit is per container's address, and a conversation's messages are
 * written by one worker at a time (its FIFO group is one ticket).
 */
export class ChatwootLimits implements CallLimiter {
  private readonly perIp: RateBudget;
  /** Per conversation, when its messages of the last minute started (oldest first). */
  private readonly conversations = new Map<string, number[]>();

  constructor(private readonly o: ChatwootLimitsOptions) {
    this.perIp = new RateBudget(o.store, 'chatwoot:ip', specFor(o.perIpLimit, 1), {
      ...(o.now ? { now: o.now } : {}),
    });
  }

  async acquire(call: Call, maxWaitMs: number): Promise<void> {
    const conversation = /^conversations\/(\d+)\/messages$/.exec(call.path)?.[1];
    if (call.method === 'POST' && conversation) await this.takeMessageSlot(conversation, maxWaitMs);
    await take(this.perIp, maxWaitMs, 'chatwoot-rate-budget');
  }

  /**
   * Chatwoot's flood check counts the conversation's messages of the last minute (Message#prevent_message_flooding:
   * `conversation.messages.where('created_at >= ?', 1.minute.ago).count >= limit`): a sliding minute, not a rate.
   * So the same count here, to PACE of the limit (the rest left to messages others write): a ticket's history of
   * ten comments goes at once, and the 191st message within a minute waits until the oldest is a minute old. A
   * paced bucket would space even ten messages 316 ms apart, which made an import crawl at ~2 tickets a second.
   */
  private async takeMessageSlot(conversation: string, maxWaitMs: number): Promise<void> {
    const now = () => (this.o.now ?? Date.now)();
    const cap = Math.max(1, Math.floor(this.o.perConversationLimit * PACE));
    for (;;) {
      const t = now();
      let starts = this.conversations.get(conversation);
      if (!starts) {
        if (this.conversations.size > 10_000) {
          // A conversation quiet for a minute holds nothing worth keeping.
          for (const [k, v] of this.conversations)
            if ((v.at(-1) ?? 0) <= t - MINUTE_MS) this.conversations.delete(k);
        }
        starts = [];
        this.conversations.set(conversation, starts);
      }
      while (starts.length > 0 && starts[0]! <= t - MINUTE_MS) starts.shift();
      if (starts.length < cap) {
        starts.push(t);
        return;
      }
      const waitMs = starts[0]! + MINUTE_MS - t;
      if (waitMs > maxWaitMs) {
        // No request was made: the record goes back to the queue until the window has room.
        throw new RetryableError(
          `chatwoot-conversation-budget: no slot within ${maxWaitMs} ms`,
          'chatwoot-conversation-budget',
          waitMs,
        );
      }
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  async observe(_call: Call, answer: { status: number; headers: Headers }): Promise<void> {
    // rack-attack's 429 carries no Retry-After; its window is the current minute. Back off a few seconds.
    if (answer.status === 429) await this.perIp.block((this.o.now ?? Date.now)() + 5_000);
  }
}
