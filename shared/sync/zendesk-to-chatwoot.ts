// What happens to a customer's Zendesk comment: it becomes an incoming message in the ticket's Chatwoot
// conversation; the first one creates the contact and the conversation.

import { ticketHintOf } from '../chatwoot/webhook.ts';
import { RetryableError, UpstreamError } from '../errors.ts';
import type { Link } from '../store/links.ts';
import { cleanComment } from './clean.ts';
import type { SyncDeps, SyncOutcome } from './deps.ts';
import { skipped } from './deps.ts';
import type { ZendeskComment } from './events.ts';
import { MARKER_KEY, type SkipReason, SOURCE_ID_PREFIX } from './guard.ts';

const CONTACT_CACHE_MS = 365 * 24 * 3600 * 1000;
const LINK_LOCK_MS = 30_000;
const LINK_WAIT_MS = 8_000;

/** Checks that need I/O but write nothing: is this the bridge's own comment coming back? */
export async function screenZendeskEcho(e: ZendeskComment, deps: SyncDeps): Promise<SkipReason | undefined> {
  // An end user's comment (is_staff false) can never be the bridge's: no lookup needed in the steady state.
  if (e.author.isStaff === false) return undefined;
  const me = await deps.zendesk.currentUser();
  if (e.author.id === String(me.id)) return 'echo';
  if (e.commentId && (await deps.ledger.isOwnWrite(`zd:comment:${e.commentId}`))) return 'echo';
  return undefined;
}

export async function syncZendeskComment(e: ZendeskComment, deps: SyncDeps): Promise<SyncOutcome> {
  const content = cleanComment(e.body);
  if (content === '') return skipped('empty');
  const link = (await deps.links.getByTicket(e.ticketId)) ?? (await ensureConversation(e, deps));
  const marker = e.commentId ? `zendesk:comment:${e.commentId}` : `zendesk:${e.eventKey.slice('zd:'.length)}`;
  const message = await deps.chatwoot.createMessage(link.conversationId, {
    content,
    message_type: 'incoming',
    private: false,
    source_id: marker,
    content_attributes: { [MARKER_KEY]: { ticket_id: e.ticketId, comment_id: e.commentId ?? null } },
  });
  return {
    status: 'synced',
    action: 'chatwoot-message-created',
    ownWrites: [`cw:message:${message.id}`],
    ids: { conversationId: link.conversationId, messageId: String(message.id) },
  };
}

/**
 * Finds or creates the ticket's conversation. A lease in the ledger serialises creators of one ticket, so two
 * concurrent first comments make one conversation; the link itself is then written with a conditional put.
 */
async function ensureConversation(e: ZendeskComment, deps: SyncDeps): Promise<Link> {
  const lock = await deps.ledger.lock(`link:${e.ticketId}`, LINK_LOCK_MS);
  if (lock.state !== 'claimed') return waitForLink(e.ticketId, deps);
  try {
    const raced = await deps.links.getByTicket(e.ticketId);
    if (raced) return raced;
    const contact = await ensureContact(e, deps);
    // A known contact may already have this ticket's conversation (the links table lost it): find it first.
    const existing = contact.isNew ? undefined : await findConversation(contact.id, e.ticketId, deps);
    const conversationId =
      existing ??
      String(
        (
          await deps.chatwoot.createConversation({
            sourceId: `${SOURCE_ID_PREFIX}ticket:${e.ticketId}`,
            contactId: Number(contact.id),
            customAttributes: { zendesk_ticket_id: Number(e.ticketId) },
          })
        ).id,
      );
    const { link, created } = await deps.links.create({
      ticketId: e.ticketId,
      conversationId,
      contactId: contact.id,
      linkedAt: deps.now(),
    });
    deps.logger.info(existing ? 'link recovered' : 'link created', {
      ticketId: e.ticketId,
      conversationId: link.conversationId,
      contactId: contact.id,
      created,
    });
    return link;
  } finally {
    await deps.ledger.unlock(`link:${e.ticketId}`, lock.token).catch(() => undefined);
  }
}

async function waitForLink(ticketId: string, deps: SyncDeps): Promise<Link> {
  const deadline = deps.now() + LINK_WAIT_MS;
  for (let delay = 100; deps.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    await new Promise((r) => setTimeout(r, delay));
    deps.links.clearCache();
    const link = await deps.links.getByTicket(ticketId);
    if (link) return link;
  }
  throw new RetryableError(
    `conversation for ticket ${ticketId} is being created elsewhere`,
    'link-in-progress',
  );
}

async function findConversation(
  contactId: string,
  ticketId: string,
  deps: SyncDeps,
): Promise<string | undefined> {
  const conversations = await deps.chatwoot.contactConversations(Number(contactId));
  const match = conversations.find(
    (c) => ticketHintOf(c) === ticketId && (c.inbox_id === undefined || c.inbox_id === deps.chatwoot.inboxId),
  );
  return match ? String(match.id) : undefined;
}

/** One Chatwoot contact per Zendesk requester, identified by `zendesk:user:<id>`; reused when it exists. */
async function ensureContact(e: ZendeskComment, deps: SyncDeps): Promise<{ id: string; isNew: boolean }> {
  let requesterId = e.requester?.id;
  if (!requesterId) requesterId = String((await deps.zendesk.ticket(e.ticketId)).requester_id);
  const cacheKey = `contact#zd:${requesterId}`;
  const cached = await deps.ledger.get(cacheKey);
  if (typeof cached?.contactId === 'string') return { id: cached.contactId, isNew: false };

  const identifier = `zendesk:user:${requesterId}`;
  let name = e.requester?.name ?? (e.author.id === requesterId ? e.author.name : undefined);
  let email = e.requester?.email;
  if (!email) {
    // Event webhooks carry no email: one lookup per new requester lets agents see who they are talking to.
    const user = await deps.zendesk.user(requesterId).catch(() => undefined);
    name = user?.name ?? name;
    email = user?.email ?? undefined;
  }
  let id: string;
  let isNew = true;
  try {
    const contact = await deps.chatwoot.createContact({
      name: name ?? `User ${requesterId}`,
      identifier,
      ...(email ? { email } : {}),
      custom_attributes: { zendesk_user_id: Number(requesterId) },
    });
    id = String(contact.id);
  } catch (err) {
    // 422: the identifier or email is taken, i.e. the contact exists. Reuse it.
    if (!(err instanceof UpstreamError && err.status === 422)) throw err;
    const found =
      (await deps.chatwoot.searchContacts(identifier)).find((c) => c.identifier === identifier) ??
      (email
        ? (await deps.chatwoot.searchContacts(email)).find(
            (c) => c.email?.toLowerCase() === email.toLowerCase(),
          )
        : undefined);
    if (!found) throw err;
    id = String(found.id);
    isNew = false;
  }
  await deps.ledger.put(cacheKey, { contactId: id }, CONTACT_CACHE_MS);
  return { id, isNew };
}
