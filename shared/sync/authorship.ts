// Who authors a Chatwoot agent's comment in Zendesk: the Zendesk agent with the same email when there is one
// (`author_id`), else the bridge's API user, optionally with a first line naming the Chatwoot agent.

import type { ChatwootMessageEvent } from '../events/sync-event.ts';
import { ledgerKeys } from '../store/ledger-keys.ts';
import type { ZendeskClient } from '../zendesk/client.ts';
import type { SyncDeps } from './deps.ts';

export interface Authorship {
  /** The Zendesk agent to author the comment; absent: the bridge's API user. */
  authorId?: number;
  /** Name for a header line naming the Chatwoot agent, when the bridge's user authors it. */
  header?: string;
}

/** A match is kept a day; "no such agent" an hour, so a newly added Zendesk agent is picked up soon. */
const MATCH_TTL_MS = 24 * 3600 * 1000;
const NO_MATCH_TTL_MS = 3600 * 1000;

type Entry = { userId: number | null; until: number };
// Per container and per Zendesk account (client): the steady state then costs no lookup and no DynamoDB read.
const memory = new WeakMap<ZendeskClient, Map<string, Entry>>();

export async function authorshipOf(e: ChatwootMessageEvent, deps: SyncDeps): Promise<Authorship> {
  const mode = deps.config.ZENDESK_AUTHORSHIP;
  const name = e.sender.name?.trim();
  const header = name && (mode === 'header' || mode === 'agent-or-header') ? { header: name } : {};
  if (mode === 'bridge' || mode === 'header') return header;
  const email = e.sender.email?.trim().toLowerCase();
  const userId = email ? await zendeskAgentId(email, deps) : undefined;
  return userId !== undefined ? { authorId: userId } : header;
}

/** The Zendesk agent with this email: memory, then the ledger (shared by containers), then one search. */
async function zendeskAgentId(email: string, deps: SyncDeps): Promise<number | undefined> {
  let cache = memory.get(deps.zendesk);
  if (!cache) {
    cache = new Map();
    memory.set(deps.zendesk, cache);
  }
  const now = deps.now();
  const hit = cache.get(email);
  if (hit && hit.until > now) return hit.userId ?? undefined;

  const key = ledgerKeys.agent(email);
  const stored = await deps.ledger.get(key);
  let userId: number | null;
  let ttl: number;
  if (stored && (typeof stored.userId === 'number' || stored.userId === null)) {
    userId = stored.userId;
    ttl = typeof stored.expiresAt === 'number' ? stored.expiresAt * 1000 - now : NO_MATCH_TTL_MS;
  } else {
    const [agent] = await deps.zendesk.agentsByEmail(email);
    userId = agent ? agent.id : null;
    ttl = userId === null ? NO_MATCH_TTL_MS : MATCH_TTL_MS;
    await deps.ledger.put(key, { userId }, ttl);
    deps.logger.info('zendesk agent lookup', {
      matched: userId !== null,
      zendeskUserId: userId ?? undefined,
    });
  }
  cache.set(email, { userId, until: now + Math.max(0, ttl) });
  return userId ?? undefined;
}
