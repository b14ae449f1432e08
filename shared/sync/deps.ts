// What the sync flows need, passed in explicitly so tests and the local bridge can wire real parts.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ChatwootClient } from '../chatwoot/client.ts';
import type { BridgeConfig } from '../config.ts';
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
}
