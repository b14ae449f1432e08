// The worker's per-event pipeline: loop guard → idempotency claim → the one flow → ledger.
// Every decision is one log line with ids only.
import { errorReason, isRetryable, mayHaveBeenApplied, RetryableError } from '../errors.ts';
import type { SyncDeps, SyncOutcome } from './deps.ts';
import { skipped } from './deps.ts';
import { resolveEvent, screenWithLookups, syncEvent } from './dispatch.ts';
import { eventIds, type SyncEvent } from './events.ts';
import { screen } from './guard.ts';
import { guardReplays } from './replay-guard.ts';

/**
 * How long a claim is held before another delivery may take it over. Longer than one attempt can run (the
 * worker's timeout), shorter than the queue's visibility timeout, so a crashed attempt's redelivery finds it free.
 */
export const CLAIM_LEASE_MS = 60_000;

export async function processEvent(received: SyncEvent, deps: SyncDeps): Promise<SyncOutcome> {
  const reason =
    screen(received, deps.config.CHATWOOT_INBOX_ID, deps.config) ?? (await screenWithLookups(received, deps));
  if (reason) {
    deps.logger.info('skipped', { ...eventIds(received), reason });
    return skipped(reason);
  }
  // After screening, so an echo or a comment not ours costs no lookup.
  const e = await resolveEvent(received, deps);
  const ids = eventIds(e);

  const claim = await deps.ledger.claim(e.eventKey, CLAIM_LEASE_MS);
  if (claim.state === 'done') {
    deps.logger.info('skipped', { ...ids, reason: 'duplicate' });
    return skipped('duplicate');
  }
  if (claim.state === 'busy') {
    // Another delivery of the same event is in flight; come back after it has finished.
    throw new RetryableError(`event ${e.eventKey} is being processed by another worker`, 'claimed-elsewhere');
  }

  // An earlier attempt crashed or failed after a write that may have landed: look before writing again.
  const flowDeps = claim.resumed ? guardReplays(deps, e.occurredAt ?? e.receivedAt) : deps;
  if (claim.resumed) deps.logger.info('resuming an interrupted attempt', ids);
  let outcome: SyncOutcome;
  try {
    outcome = await syncEvent(e, flowDeps);
  } catch (err) {
    // Give the claim back so the redelivery can take it at once; after a write that may have been applied, keep
    // it marked so that attempt runs through the replay guard.
    // A permanent failure is dead-lettered by the worker: remember it, so reconciliation does not bring it back.
    const giveBack = !isRetryable(err)
      ? deps.ledger.markDeadLettered(e.eventKey, claim.token, errorReason(err))
      : mayHaveBeenApplied(err)
        ? deps.ledger.releaseUncertain(e.eventKey, claim.token)
        : deps.ledger.release(e.eventKey, claim.token);
    await giveBack.catch(() => undefined);
    throw err;
  }
  await deps.ledger.complete(
    e.eventKey,
    outcome.status === 'synced' ? outcome.ownWrites : [],
    outcome.status === 'synced' ? outcome.action : `skipped:${outcome.reason}`,
  );
  if (outcome.status === 'synced') {
    deps.logger.info('synced', {
      ...ids,
      ...outcome.ids,
      action: outcome.action,
      lagMs: e.occurredAt ? deps.now() - e.occurredAt : undefined,
    });
  } else {
    deps.logger.info('skipped', { ...ids, reason: outcome.reason });
  }
  return outcome;
}
