// Which checks and which flow each kind of SyncEvent goes through in the worker, after the I/O-free guard.

import type { SkipReason } from '../events/loop-guard.ts';
import type { SyncEvent } from '../events/sync-event.ts';
import { syncChatwootMessage } from './chatwoot-to-zendesk.ts';
import type { SyncDeps } from './deps.ts';
import type { SyncOutcome } from './outcome.ts';
import { screenStatus, syncStatus } from './status.ts';
import {
  resolveTriggerComment,
  screenZendeskEcho,
  syncZendeskAttachment,
  syncZendeskComment,
} from './zendesk-to-chatwoot.ts';

/**
 * Checks that need I/O, run before the claim so that an echo costs no claim. They write nothing to either
 * platform; the status check may write what a lookup found (a recovered link, a "no link" cache entry), which
 * any later delivery would write the same.
 */
export async function screenWithLookups(e: SyncEvent, deps: SyncDeps): Promise<SkipReason | undefined> {
  switch (e.kind) {
    case 'zendesk.comment':
    case 'zendesk.attachment':
      return screenZendeskEcho(e, deps);
    case 'zendesk.status':
    case 'chatwoot.status':
      return screenStatus(e, deps);
    case 'chatwoot.message':
      return undefined;
  }
}

/** The event under the key its claim must use: a trigger body's comment gets the key of its comment id. */
export async function resolveEvent(e: SyncEvent, deps: SyncDeps): Promise<SyncEvent> {
  return e.kind === 'zendesk.comment' ? resolveTriggerComment(e, deps) : e;
}

export function syncEvent(e: SyncEvent, deps: SyncDeps): Promise<SyncOutcome> {
  switch (e.kind) {
    case 'zendesk.comment':
      return syncZendeskComment(e, deps);
    case 'zendesk.attachment':
      return syncZendeskAttachment(e, deps);
    case 'zendesk.status':
    case 'chatwoot.status':
      return syncStatus(e, deps);
    case 'chatwoot.message':
      return syncChatwootMessage(e, deps);
  }
}
