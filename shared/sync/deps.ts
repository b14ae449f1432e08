// What the sync flows need, passed in explicitly so tests and the local bridge can wire real parts.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ChatwootClient } from '../chatwoot/client.ts';
import type { BridgeConfig } from '../config.ts';
import type { Ledger } from '../store/ledger.ts';
import type { WriteId } from '../store/ledger-keys.ts';
import type { LinkStore } from '../store/links.ts';
import type { ZendeskClient } from '../zendesk/client.ts';
import type { SkipReason } from './guard.ts';

export interface SyncDeps {
  config: BridgeConfig;
  zendesk: ZendeskClient;
  chatwoot: ChatwootClient;
  links: LinkStore;
  ledger: Ledger;
  logger: Logger;
  now: () => number;
}

export type SyncOutcome =
  | { status: 'synced'; action: string; ownWrites: WriteId[]; ids: Record<string, string> }
  | { status: 'skipped'; reason: SkipReason };

export const skipped = (reason: SkipReason): SyncOutcome => ({ status: 'skipped', reason });
