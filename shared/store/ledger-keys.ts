// The ledger's key schema, in one place: every partition key of the ledger table, every event key and every
// own-write id is built here, so a kind cannot be spelled two ways and a reader finds them all in this table.
//
// | pk                              | What the item is                                         | Kept for            |
// |---------------------------------|----------------------------------------------------------|---------------------|
// | `evt#<event key>`               | an event's claim: pending (leased), done, dead-lettered  | ledger retention    |
// | `own#<write id>`                | a comment/message/file the bridge wrote itself           | ledger retention    |
// | `lock#link:<ticket>`            | lease while one ticket's conversation is being created   | until unlocked      |
// | `lock#followup:<ticket>`        | lease while a closed ticket's follow-up is being created | until unlocked      |
// | `contact#zd:<user>`             | the Chatwoot contact of a Zendesk requester              | one year            |
// | `agent#zd:<sha256(email)/32>`   | the Zendesk agent (or none) matching a Chatwoot email    | per match / no match|
// | `nolink#cw:<conversation>`      | a conversation known to belong to no ticket              | short negative cache|
// | `state#<ticket>`                | the last status the bridge synced for a link             | one year            |
// | `reconcile#<platform>`          | how far reconciliation has read a platform's change feed | never expires       |
// | `last#<ticket>#zd` / `#cw`      | when a link last synced Zendesk→Chatwoot / the other way | ledger retention    |
// | `attn#<queue group>`            | events held for a retry or dead-lettered (dashboard app) | ledger retention    |
// | `dead#<event key>`              | a dead-lettered event's queued body, to retry it alone   | ledger retention    |
// | `import#job`                    | the history import's state (shared/import/state.ts)      | 90 days             |
//
// Event keys (what `evt#` claims; also the queue's deduplication id) and write ids (what `own#` remembers):
//
// | Key / id                                  | Names                                                       |
// |-------------------------------------------|-------------------------------------------------------------|
// | `zd:comment:<comment>`                    | a Zendesk comment (event) / a comment the bridge wrote (id)  |
// | `zd:attachment:<attachment>`              | a file linked to a Zendesk comment after it was made         |
// | `zd:status:<ticket>:<envelope id>`        | one Zendesk status-change event                             |
// | `zd:trigger:<ticket>:<digest>`            | a trigger body's comment (no comment id: ticket, time, text)|
// | `zd:messaging:<ticket>:<message>`         | a messaging message whose ticket comment was not found       |
// | `zd:inline:<sha256(url)/32>`              | an inline image already copied with its comment (write id)  |
// | `cw:message:<message>`                    | a Chatwoot message (event) / a message the bridge wrote (id) |
// | `cw:status:<conversation>:<status>:<at>`  | one Chatwoot status change                                  |
import { createHash } from 'node:crypto';

type Id = string | number;

/** The identity of a source event; the ledger claims it once. */
type EventKey =
  | `zd:comment:${string}`
  | `zd:attachment:${string}`
  | `zd:status:${string}`
  | `zd:trigger:${string}`
  | `zd:messaging:${string}`
  | `cw:message:${string}`
  | `cw:status:${string}`;

/** The id of something the bridge wrote itself, so its echo can be recognised. */
export type WriteId = `zd:comment:${string}` | `cw:message:${string}` | `zd:inline:${string}`;

/** Names of the short leases taken with `Ledger.lock`. */
export type LockName = `link:${string}` | `followup:${string}`;

/** A partition key of the ledger table. */
export type LedgerKey =
  | `evt#${string}`
  | `own#${WriteId}`
  | `lock#${LockName}`
  | `contact#zd:${string}`
  | `agent#zd:${string}`
  | `nolink#cw:${string}`
  | `state#${string}`
  | `reconcile#${'zendesk' | 'chatwoot'}`
  | `last#${string}#${SyncDirection}`
  | `attn#${string}`
  | `dead#${string}`
  | 'import#job';

/** Zendesk → Chatwoot (`zd`) or Chatwoot → Zendesk (`cw`). */
export type SyncDirection = 'zd' | 'cw';

/** A short digest: names something without storing it (URLs carry access tokens, emails are personal). */
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

export const eventKeys = {
  zendeskComment: (commentId: Id) => `zd:comment:${commentId}` as const,
  zendeskAttachment: (attachmentId: Id) => `zd:attachment:${attachmentId}` as const,
  /** The event envelope's id names one change; a redelivery carries the same id. */
  zendeskStatus: (ticketId: Id, envelopeId: string) => `zd:status:${ticketId}:${envelopeId}` as const,
  /** Trigger bodies carry no comment id: the ticket, the update time and the text together name the comment. */
  zendeskTrigger: (ticketId: Id, updatedAt: string, body: string) =>
    `zd:trigger:${ticketId}:${digest(`${ticketId}\n${updatedAt}\n${body}`)}` as const,
  /**
   * A messaging message (`messaging_ticket.message_added`) names no comment; the worker claims the comment it
   * became, and this key only when none is found.
   */
  zendeskMessaging: (ticketId: Id, messageId: Id) => `zd:messaging:${ticketId}:${messageId}` as const,
  chatwootMessage: (messageId: Id) => `cw:message:${messageId}` as const,
  /** The conversation's update time names the change: a repeat of the same delivery has the same key. */
  chatwootStatus: (conversationId: Id, status: string, updatedAt: string) =>
    `cw:status:${conversationId}:${status}:${updatedAt}` as const,
} satisfies Record<string, (...args: never[]) => EventKey>;

export const writeIds = {
  zendeskComment: (commentId: Id): WriteId => `zd:comment:${commentId}`,
  chatwootMessage: (messageId: Id): WriteId => `cw:message:${messageId}`,
  /** An inline image has no id of its own: its URL's digest names it. */
  inlineImage: (url: string): WriteId => `zd:inline:${digest(url)}`,
};

export const lockNames = {
  link: (ticketId: Id): LockName => `link:${ticketId}`,
  followUp: (ticketId: Id): LockName => `followup:${ticketId}`,
};

export const ledgerKeys = {
  event: (key: string): LedgerKey => `evt#${key}`,
  ownWrite: (id: WriteId): LedgerKey => `own#${id}`,
  lock: (name: LockName): LedgerKey => `lock#${name}`,
  contact: (zendeskUserId: Id): LedgerKey => `contact#zd:${zendeskUserId}`,
  /** The key is a digest: no email address is stored in it. */
  agent: (email: string): LedgerKey => `agent#zd:${digest(email)}`,
  noLink: (conversationId: Id): LedgerKey => `nolink#cw:${conversationId}`,
  ticketState: (ticketId: Id): LedgerKey => `state#${ticketId}`,
  reconcileCursor: (platform: 'zendesk' | 'chatwoot'): LedgerKey => `reconcile#${platform}`,
  lastSynced: (ticketId: Id, direction: SyncDirection): LedgerKey => `last#${ticketId}#${direction}`,
  /** Per FIFO message group (`ticket-<id>`, or `conversation-<id>` before a link is known). */
  attention: (groupId: string): LedgerKey => `attn#${groupId}`,
  deadLetterBody: (eventKey: string): LedgerKey => `dead#${eventKey}`,
  /** One history import at a time: its state is one item. */
  importJob: (): LedgerKey => 'import#job',
};
