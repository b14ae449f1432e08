// What the sync flows need, passed in explicitly so tests and the local bridge can wire real parts.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ChatwootClient } from '../chatwoot/client.ts';
import type { BridgeConfig } from '../config.ts';
import type { ZendeskCommentEvent } from '../events/sync-event.ts';
import type { Ledger } from '../store/ledger.ts';
import type { LinkStore } from '../store/links.ts';
import type { ZendeskClient } from '../zendesk/client.ts';

export interface SyncDeps {
  config: BridgeConfig;
  zendesk: ZendeskClient;
  chatwoot: ChatwootClient;
  links: LinkStore;
  ledger: Ledger;
  logger: Logger;
  now: () => number;
  /**
   * Set on a retry after a write whose outcome is unknown (shared/queue/attempts.ts): until then the replay guard
   * may look for the earlier write but must not write again.
   */
  settleUntil?: number;
  /**
   * Posts a ticket's comments older than this one before its conversation is created, while a history import
   * runs (shared/import/backfill.ts); absent where no import can run.
   */
  backfill?: (e: ZendeskCommentEvent) => Promise<void>;
}
