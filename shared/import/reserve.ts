// IMPORT_RESERVE_SHARE: how much of the shared Zendesk bucket's burst the history import (its feeder, and the
// worker's reads for the comments it enqueued) leaves to live sync. Read by the worker and the feeder alike, so
// it lives apart from the import's wiring (which the worker must not load).

/** Half the bucket's burst stays free for live sync unless IMPORT_RESERVE_SHARE says otherwise. */
export const DEFAULT_RESERVE_SHARE = 0.5;

/** IMPORT_RESERVE_SHARE: a number in [0, 1]; anything else is refused by name. */
export function importReserveShare(env: Record<string, string | undefined>): number {
  const raw = env.IMPORT_RESERVE_SHARE;
  if (raw === undefined || raw === '') return DEFAULT_RESERVE_SHARE;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error('IMPORT_RESERVE_SHARE must be between 0 and 1');
  return n;
}
