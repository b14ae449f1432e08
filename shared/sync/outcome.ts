// What a sync flow reports for one event: synced (with the ids of what it wrote) or skipped (with why).

import type { SkipReason } from '../events/loop-guard.ts';
import type { WriteId } from '../store/ledger-keys.ts';

export type SyncOutcome =
  | { status: 'synced'; action: string; ownWrites: WriteId[]; ids: Record<string, string> }
  | { status: 'skipped'; reason: SkipReason };

export const skipped = (reason: SkipReason): SyncOutcome => ({ status: 'skipped', reason });
