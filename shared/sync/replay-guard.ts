// The retry path of a write that may already have been applied: a redelivery after a 5xx, a timeout or a reset
// following a POST/PUT, or after a crash between the API call and the ledger write. Before repeating the write
// it looks for it on the platform; the steady state never comes here (one API call per message stays one).

import type { ChatwootClient } from '../chatwoot/client.ts';
import { RetryableError } from '../errors.ts';
import { writeIds } from '../store/ledger-keys.ts';
import type { TicketUpdate, ZendeskClient, ZendeskComment } from '../zendesk/client.ts';
import type { SyncDeps } from './deps.ts';
import { recentComments, recentMessages } from './recent-comments.ts';

/** Clock skew allowed between the event's time and the platform's timestamp of the write it caused. */
const SKEW_MS = 60_000;

/**
 * Dependencies whose two write calls first look for an earlier attempt's write:
 * - Chatwoot: a message with the same `source_id` marker (exact: the marker names the Zendesk comment);
 * - Zendesk: a comment by the bridge's user (or the agent it wrote as), same visibility, same text, newer than the event, whose id is
 *   not already recorded as the bridge's write for another event (so two identical replies stay two).
 */
export function guardReplays(deps: SyncDeps, sinceMs: number): SyncDeps {
  // After an unknown outcome (a timeout, a reset) the earlier write may still be landing: until the platform
  // cannot be finishing it any more, not finding it proves nothing, so the guard looks but does not write.
  const mayWrite = () => {
    const until = deps.settleUntil;
    if (until !== undefined && deps.now() < until)
      throw new RetryableError('earlier write may still be landing', 'outcome-settling', until - deps.now());
  };
  const chatwoot: ChatwootClient = Object.create(deps.chatwoot);
  chatwoot.createMessage = async (conversationId, message, ...rest) => {
    if (message.source_id) {
      const messages = await recentMessages(deps.chatwoot, String(conversationId), {
        sinceMs: sinceMs - SKEW_MS,
      });
      const earlier = messages.find((m) => m.source_id === message.source_id);
      if (earlier) {
        deps.logger.info('replay found the earlier write', { conversationId, messageId: earlier.id });
        return earlier;
      }
    }
    mayWrite();
    return deps.chatwoot.createMessage(conversationId, message, ...rest);
  };

  // A conversation is created only after ensureConversation looked for it (the contact's conversations): the
  // same rule, look first and write only once the earlier attempt cannot still be landing.
  chatwoot.createConversationWithMessage = async (c) => {
    mayWrite();
    return deps.chatwoot.createConversationWithMessage(c);
  };
  chatwoot.createConversation = async (c) => {
    mayWrite();
    return deps.chatwoot.createConversation(c);
  };

  const zendesk: ZendeskClient = Object.create(deps.zendesk);
  zendesk.updateTicket = async (ticketId, update) => {
    const earlier = update.comment ? await findComment(deps, String(ticketId), update, sinceMs) : undefined;
    if (earlier) {
      deps.logger.info('replay found the earlier write', { ticketId, commentId: earlier.id });
      return { ticket: await deps.zendesk.ticket(ticketId), commentId: earlier.id };
    }
    mayWrite();
    return deps.zendesk.updateTicket(ticketId, update);
  };
  return { ...deps, chatwoot, zendesk };
}

/** The bridge's comment on a ticket that carries this update's text, if an earlier attempt wrote it. */
async function findComment(
  deps: SyncDeps,
  ticketId: string,
  update: TicketUpdate,
  sinceMs: number,
): Promise<ZendeskComment | undefined> {
  const wanted = update.comment;
  if (!wanted) return undefined;
  // The bridge writes as itself, or as the matched agent when the update names an author.
  const author = wanted.author_id ?? (await deps.zendesk.currentUser()).id;
  const candidates = (await recentComments(deps.zendesk, ticketId)).filter(
    (c) =>
      c.author_id === author &&
      c.public === wanted.public &&
      (c.created_at === undefined || Date.parse(c.created_at) >= sinceMs - SKEW_MS) &&
      sameText(c, wanted),
  );
  for (const c of candidates) {
    if (!(await deps.ledger.isOwnWrite(writeIds.zendeskComment(c.id)))) return c;
  }
  return undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Decodes the entities an HTML rendering uses (named ones above, decimal and hex), so `&amp;` compares as `&`. */
const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref.toLowerCase()] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });

/** Text without markup, entities decoded and whitespace normalised: what a comment's renderings share. */
const norm = (s: string | undefined): string =>
  decodeEntities((s ?? '').replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/** Zendesk renders html_body to body (and back): compare the text, not its markup. */
export function sameText(c: ZendeskComment, wanted: NonNullable<TicketUpdate['comment']>): boolean {
  const sent = norm(wanted.body ?? wanted.html_body);
  return sent !== '' && (norm(c.body) === sent || norm(c.plain_body) === sent || norm(c.html_body) === sent);
}
