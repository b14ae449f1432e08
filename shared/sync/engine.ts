// The worker's per-event pipeline: loop guard → the one flow, exactly once (shared/sync/exactly-once.ts).
// Every decision is one log line with ids only.
import { RetryableError, withinRetryBound } from '../errors.ts';
import { screen } from '../events/loop-guard.ts';
import { eventIds, isZendeskEvent, type SyncEvent } from '../events/sync-event.ts';
import type { SyncDeps } from './deps.ts';
import { resolveEvent, screenWithLookups, syncEvent } from './dispatch.ts';
import { runOnce } from './exactly-once.ts';
import type { SyncOutcome } from './outcome.ts';
import { skipped } from './outcome.ts';

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

  const run = await runOnce(
    e.eventKey,
    deps,
    ids,
    (attempt) =>
      // An earlier attempt crashed or failed after a write that may have landed: look before writing again.
      syncEvent(e, attempt.depsSince(e.occurredAt ?? e.receivedAt)).catch((err: unknown) => {
        // A platform answer that may pass (Chatwoot's catch-all 422) is retried for a bounded time only.
        throw withinRetryBound(err, e.receivedAt, deps.now());
      }),
    // The link's last-synced time for this direction (the dashboard app shows it).
    isZendeskEvent(e) ? { direction: 'zd', ticketId: e.ticketId } : { direction: 'cw' },
  );
  if (run.state === 'done') {
    deps.logger.info('skipped', { ...ids, reason: 'duplicate' });
    return skipped('duplicate');
  }
  if (run.state === 'busy') {
    // Another delivery of the same event is in flight; come back after it has finished.
    throw new RetryableError(`event ${e.eventKey} is being processed by another worker`, 'claimed-elsewhere');
  }
  const outcome = run.outcome;
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
