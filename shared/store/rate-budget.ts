// A request budget shared by every Lambda container: a GCRA token bucket kept in one DynamoDB item, each call
// reserving its slot with one conditional UpdateItem (no read, no transaction; dynalite and DynamoDB Local have
// no TransactWriteItems), plus the same bucket in memory for limits that are per container.
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo.ts';

/**
 * The generic cell rate algorithm (GCRA, as in ATM traffic shaping and redis-cell): the bucket is one number,
 * the theoretical arrival time `tat`. A call at `now` with emission interval T = 60 s / rate and burst tolerance
 * τ = burst × T is due at max(now, tat − τ) and moves tat to max(now, tat) + T. So at most `burst + 1` calls go
 * at once after an idle spell and then one per T: in any window of length w at most burst + 1 + w / T calls start.
 *
 * Why this and not a counter per minute: a fixed-window counter on our clock would let two full windows' worth
 * through around a boundary of Zendesk's window (which is not ours), and answer 429s; a smooth rate just under
 * the limit never does. Why reservations: a caller learns its slot from the one write and sleeps until then, so
 * no call is spent polling. Measured alternative: a read-then-conditional-write bucket needs 2 requests per
 * call and retries under contention; this needs 1 (2 when the bucket was idle and the local guess was wrong).
 */
export interface BucketStore {
  /**
   * Reserves the next slot: returns when the call may start (epoch ms), or `undefined` when that would be later
   * than `latest` (nothing reserved then; `wouldBeAt` says when the next slot is).
   */
  reserve(
    key: string,
    o: { now: number; intervalMs: number; toleranceMs: number; latest: number },
  ): Promise<{ at: number } | { at: undefined; wouldBeAt: number }>;
  /** No slot before `until` (a 429's Retry-After, or the platform's budget used up by someone else). */
  block(key: string, until: number, toleranceMs: number): Promise<void>;
}

/** The bucket in one DynamoDB item (`pk` = key, `tat` = theoretical arrival time in epoch ms). */
export class DynamoBucketStore implements BucketStore {
  /** Last tat seen per key: picks which of the two conditional writes to try first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Items carry `expiresAt` like every ledger item; a bucket idle this long is simply recreated. */
    private readonly ttlMs = 24 * 3600 * 1000,
  ) {}

  async reserve(
    key: string,
    o: { now: number; intervalMs: number; toleranceMs: number; latest: number },
  ): Promise<{ at: number } | { at: undefined; wouldBeAt: number }> {
    const expiresAt = Math.ceil((o.now + this.ttlMs) / 1000);
    // The bucket is "in use" while tat ≥ now − τ: a call moves it on by T (one write). Taking old tat + T rather than
    // max(old, now) + T grants at most τ of credit once, so a window sees at most 2 × burst + 1 + w / T calls
    // (shared/http/rate-limits.ts sizes the burst for that). Idle longer: it restarts at now + T (one write).
    const floor = o.now - o.toleranceMs;
    for (let attempt = 0; attempt < 4; attempt++) {
      const guess = this.seen.get(key) ?? Number.NEGATIVE_INFINITY;
      if (guess < floor) {
        try {
          await this.db.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: key },
              UpdateExpression: 'SET tat = :next, expiresAt = :exp',
              ConditionExpression: 'attribute_not_exists(tat) OR tat < :floor',
              ExpressionAttributeValues: {
                ':next': o.now + o.intervalMs,
                ':floor': floor,
                ':exp': expiresAt,
              },
            }),
          );
          this.seen.set(key, o.now + o.intervalMs);
          return { at: o.now };
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
          // In use after all (another container): the in-use path's own condition says where exactly.
          this.seen.set(key, floor);
        }
        continue;
      }
      try {
        const res = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: key },
            UpdateExpression: 'SET tat = tat + :t, expiresAt = :exp',
            ConditionExpression: 'tat >= :floor AND tat <= :limit',
            ExpressionAttributeValues: {
              ':t': o.intervalMs,
              ':floor': floor,
              ':limit': o.latest + o.toleranceMs,
              ':exp': expiresAt,
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const tat = Number(res.Attributes?.tat);
        this.seen.set(key, tat);
        return { at: Math.max(o.now, tat - o.intervalMs - o.toleranceMs) };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        // Either idle (tat < floor) or too far ahead: one consistent read says which.
        const item = await this.db.send(
          new GetCommand({ TableName: this.tableName, Key: { pk: key }, ConsistentRead: true }),
        );
        const tat = Number(item.Item?.tat ?? Number.NEGATIVE_INFINITY);
        this.seen.set(key, tat);
        if (tat > o.latest + o.toleranceMs) return { at: undefined, wouldBeAt: tat - o.toleranceMs };
      }
    }
    // Heavy contention: say the next slot is one interval away; the caller backs off that long.
    return { at: undefined, wouldBeAt: o.now + o.intervalMs };
  }

  async block(key: string, until: number, toleranceMs: number): Promise<void> {
    const tat = until + toleranceMs;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key },
          UpdateExpression: 'SET tat = :tat, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :tat',
          ExpressionAttributeValues: { ':tat': tat, ':exp': Math.ceil((until + this.ttlMs) / 1000) },
        }),
      );
      this.seen.set(key, tat);
    } catch (err) {
      // Already blocked at least that long by another container.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

/** The same bucket in this container's memory: for limits that are per container (Chatwoot's per-IP limit). */
export class MemoryBucketStore implements BucketStore {
  private readonly tat = new Map<string, number>();

  async reserve(
    key: string,
    o: { now: number; intervalMs: number; toleranceMs: number; latest: number },
  ): Promise<{ at: number } | { at: undefined; wouldBeAt: number }> {
    // Exact GCRA: no round trips to save here.
    const tat = Math.max(o.now, this.tat.get(key) ?? 0);
    const at = Math.max(o.now, tat - o.toleranceMs);
    // The same condition as DynamoBucketStore's (tat ≤ latest + τ), so a `latest` before now (takeSpare) means
    // "only while that much of the burst is left" here too.
    if (tat - o.toleranceMs > o.latest) return { at: undefined, wouldBeAt: at };
    this.tat.set(key, tat + o.intervalMs);
    // A bounded map: a key idle for a whole interval holds nothing worth keeping.
    if (this.tat.size > 10_000) {
      for (const [k, v] of this.tat) if (v < o.now) this.tat.delete(k);
    }
    return { at };
  }

  async block(key: string, until: number, toleranceMs: number): Promise<void> {
    this.tat.set(key, Math.max(this.tat.get(key) ?? 0, until + toleranceMs));
  }
}

export interface RateSpec {
  /** Calls allowed per minute. */
  perMinute: number;
  /** Calls that may go at once after an idle spell (the bucket's depth). */
  burst: number;
}

/** A call that could not get a slot within its wait budget: retry no earlier than `retryAfterMs` from now. */
export class BudgetExhausted extends Error {
  constructor(
    readonly key: string,
    readonly retryAfterMs: number,
  ) {
    super(`request budget ${key} exhausted for ${Math.ceil(retryAfterMs)} ms`);
    this.name = 'BudgetExhausted';
  }
}

/** One named budget on a store: `take` waits for a slot (at most `maxWaitMs`) or throws BudgetExhausted. */
export class RateBudget {
  constructor(
    private readonly store: BucketStore,
    readonly key: string,
    private spec: RateSpec,
    private readonly o: {
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ) {}

  get perMinute(): number {
    return this.spec.perMinute;
  }

  /** The platform said what the limit is (Zendesk's X-Rate-Limit): pace to it from now on. */
  setRate(spec: RateSpec): void {
    this.spec = spec;
  }

  private get intervalMs(): number {
    return 60_000 / this.spec.perMinute;
  }

  async take(maxWaitMs: number): Promise<number> {
    const now = (this.o.now ?? Date.now)();
    const tolerance = this.spec.burst * this.intervalMs;
    const slot = await this.store.reserve(this.key, {
      now,
      intervalMs: this.intervalMs,
      toleranceMs: tolerance,
      latest: now + maxWaitMs,
    });
    if (slot.at === undefined) throw new BudgetExhausted(this.key, slot.wouldBeAt - now);
    const wait = slot.at - now;
    if (wait > 0) await (this.o.sleep ?? defaultSleep)(wait);
    return wait;
  }

  /**
   * A slot for a caller that comes after everyone else (the history import): granted only while at least
   * `reserve` slots would still start at once after it, so the caller never makes a later `take` wait longer than
   * one interval more than it would have. It takes what the others leave: `reserve` is the share of the burst kept
   * for them (at least one slot, at most the whole burst), and while they keep the bucket busier than that it
   * waits, up to `maxWaitMs` in all, then throws BudgetExhausted. Returns the time waited.
   */
  async takeSpare(reserveShare: number, maxWaitMs: number): Promise<number> {
    const now = this.o.now ?? Date.now;
    const sleep = this.o.sleep ?? defaultSleep;
    const started = now();
    for (;;) {
      const t = now();
      const interval = this.intervalMs;
      const reserve = this.spareReserve(reserveShare);
      // In GCRA terms: granted while tat ≤ now + τ − reserve × T, i.e. `latest` = now − reserve × T.
      const slot = await this.store.reserve(this.key, {
        now: t,
        intervalMs: interval,
        toleranceMs: this.spec.burst * interval,
        latest: t - reserve * interval,
      });
      if (slot.at !== undefined) {
        if (slot.at > t) await sleep(slot.at - t);
        return now() - started;
      }
      // Left alone, the bucket frees enough for the reserve and this call this long after its next slot.
      const due = Math.max(slot.wouldBeAt + reserve * interval, t + interval);
      if (due - started > maxWaitMs) throw new BudgetExhausted(this.key, due - t);
      await sleep(due - t);
    }
  }

  /** Slots `takeSpare` leaves to the others: the share of the burst, at least one, at most the burst. */
  spareReserve(reserveShare: number): number {
    return Math.min(this.spec.burst, Math.max(1, Math.round(reserveShare * this.spec.burst)));
  }

  /** Nobody starts a call on this budget before `until` (epoch ms). */
  block(until: number): Promise<void> {
    return this.store.block(this.key, until, this.spec.burst * this.intervalMs);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
