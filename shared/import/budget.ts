// The import's share of the Zendesk account's rate budget. Live sync and the import spend the same per-account
// budget (every answer says how much is left: X-Rate-Limit and X-Rate-Limit-Remaining,
// https://developer.zendesk.com/api-reference/introduction/rate-limits/), so the import only spends while more
// than a reserve is left, and waits otherwise: live sync keeps priority without any coordination between them.

export interface BudgetOptions {
  /** Share of the account's per-minute limit the import leaves to live sync (default 0.5). */
  reserveShare?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told each time the import waits for the budget (progress shows it). */
  onWait?: (ms: number) => void;
}

export class RateBudget {
  private limit: number | undefined;
  private remaining: number | undefined;
  private readonly reserveShare: number;
  private readonly sleep: (ms: number) => Promise<void>;
  waitedMs = 0;

  constructor(private readonly o: BudgetOptions = {}) {
    this.reserveShare = Math.min(0.95, Math.max(0, o.reserveShare ?? 0.5));
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** A fetch for the import's Zendesk client: waits while the account is below the reserve, then learns from the answer. */
  readonly fetch: typeof fetch = async (input, init) => {
    await this.beforeRequest();
    const res = await fetch(input, init);
    this.learn(res.headers);
    return res;
  };

  async beforeRequest(): Promise<void> {
    const { limit, remaining } = this;
    if (limit === undefined || remaining === undefined) return;
    const reserve = Math.ceil(limit * this.reserveShare);
    if (remaining > reserve) {
      this.remaining = remaining - 1;
      return;
    }
    // The window slides over a minute: at the account's rate, this many requests come free again in this time.
    const ms = Math.min(60_000, Math.ceil(((reserve - remaining + 1) * 60_000) / limit));
    this.waitedMs += ms;
    this.o.onWait?.(ms);
    await this.sleep(ms);
    // Unknown until the next answer says; let exactly this one request through to learn it.
    this.remaining = undefined;
  }

  learn(headers: Headers): void {
    const limit = Number(headers.get('x-rate-limit') ?? Number.NaN);
    const remaining = Number(headers.get('x-rate-limit-remaining') ?? Number.NaN);
    if (Number.isFinite(limit) && limit > 0) this.limit = limit;
    if (Number.isFinite(remaining)) this.remaining = remaining;
  }
}
