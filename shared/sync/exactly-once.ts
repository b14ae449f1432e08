// Exactly-once around one flow, in one place: claim the event key in the ledger, run the flow (behind the replay
// guard when an earlier attempt was cut short), then record the outcome, or give the claim back in the way the
// failure calls for. The engine runs every event through it; the attachment path runs its comment through it.
import { errorReason, isRetryable, mayHaveBeenApplied } from '../errors.ts';
import type { SyncDirection } from '../store/ledger-keys.ts';
import type { SyncDeps } from './deps.ts';
import type { SyncOutcome } from './outcome.ts';
import { guardReplays } from './replay-guard.ts';

/**
 * How long a claim is held before another delivery may take it over. Longer than one attempt can run (the
 * worker's timeout), shorter than the queue's visibility timeout, so a crashed attempt's redelivery finds it free.
 */
export const CLAIM_LEASE_MS = 60_000;

/** What the flow is given: the dependencies to write with, guarded against repeating an earlier attempt's write. */
export interface Attempt {
  /**
   * The dependencies for a flow whose source happened at `sinceMs`: behind the replay guard when an earlier
   * attempt held this claim and did not finish cleanly, as they are otherwise.
   */
  depsSince(sinceMs: number): SyncDeps;
}

export type OnceResult =
  /** The key was done already: a duplicate. */
  | { state: 'done' }
  /** Another delivery holds the key's lease: come back after it has finished. */
  | { state: 'busy' }
  /** The flow ran and its outcome is recorded. */
  | { state: 'ran'; outcome: SyncOutcome };

/**
 * Runs `flow` under the ledger claim of `key`. A success is recorded (the bridge's own writes with it, so their
 * echoes are recognised); a failure gives the claim back and is rethrown:
 * - permanent: marked dead-lettered, so reconciliation does not bring it back (a redrive can still claim it);
 * - retryable after a write that may have been applied: kept marked, so the next attempt runs the replay guard;
 * - otherwise retryable: released, so the redelivery can take it at once.
 */
export async function runOnce(
  key: string,
  deps: SyncDeps,
  logIds: Record<string, unknown>,
  flow: (attempt: Attempt) => Promise<SyncOutcome>,
  /** Stamps when this direction of the link last synced (ticket: the outcome's, else this one), in the same write. */
  stamp?: { direction: SyncDirection; ticketId?: string },
): Promise<OnceResult> {
  const claim = await deps.ledger.claim(key, CLAIM_LEASE_MS);
  if (claim.state !== 'claimed') return claim;
  if (claim.resumed) deps.logger.info('resuming an interrupted attempt', logIds);
  const attempt: Attempt = {
    depsSince: (sinceMs) => (claim.resumed ? guardReplays(deps, sinceMs) : deps),
  };
  let outcome: SyncOutcome;
  try {
    outcome = await flow(attempt);
  } catch (err) {
    const giveBack = !isRetryable(err)
      ? deps.ledger.markDeadLettered(key, claim.token, errorReason(err))
      : mayHaveBeenApplied(err)
        ? deps.ledger.releaseUncertain(key, claim.token)
        : deps.ledger.release(key, claim.token);
    // The original failure is what the worker must see; a claim not given back lapses with its lease.
    await giveBack.catch(() => undefined);
    throw err;
  }
  const stampTicket = outcome.status === 'synced' ? (outcome.ids.ticketId ?? stamp?.ticketId) : undefined;
  await deps.ledger.complete(
    key,
    outcome.status === 'synced' ? outcome.ownWrites : [],
    outcome.status === 'synced' ? outcome.action : `skipped:${outcome.reason}`,
    stamp && stampTicket ? { ticketId: stampTicket, direction: stamp.direction } : undefined,
  );
  return { state: 'ran', outcome };
}
