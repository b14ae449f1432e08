// What happens to a Zendesk comment: a customer's becomes an incoming message in the ticket's Chatwoot
// conversation (the first one creates the contact and the conversation); an agent's internal note becomes a
// private note and, when switched on, an agent's public comment an outgoing message, both labelled with the
// author. HTML comes across as Markdown, files as attachments of the same message when they are known with the
// comment, else as a follow-up message per file (`ticket.attachment_linked_to_comment`).

import { DOWNLOADS_BUDGET_MS } from '../budgets.ts';
import type { ChatwootMessage, NewMessage, OutgoingFile } from '../chatwoot/client.ts';
import { RetryableError, UpstreamError } from '../errors.ts';
import { MARKER_KEY, type SkipReason, SOURCE_ID_PREFIX, screenZendesk } from '../events/loop-guard.ts';
import type { ZendeskAttachmentEvent, ZendeskCommentEvent } from '../events/sync-event.ts';
import { eventKeys, ledgerKeys, lockNames, type WriteId, writeIds } from '../store/ledger-keys.ts';
import type { Link } from '../store/links.ts';
import {
  afterMainWrite,
  type FileRef,
  fetchFile,
  fileNameFromUrl,
  isMissing,
  type Missing,
  missingFilesNote,
  postBridgeNote,
} from './attachments.ts';
import { cleanComment } from './clean.ts';
import type { SyncDeps } from './deps.ts';
import { runOnce } from './exactly-once.ts';
import { escapeMarkdown } from './markdown-escape.ts';
import type { SyncOutcome } from './outcome.ts';
import { skipped } from './outcome.ts';
import { apiCommentEvent } from './recent-comments.ts';

const CONTACT_CACHE_MS = 365 * 24 * 3600 * 1000;
// Longer than one worker attempt can run (30 s), so a slow holder cannot lose the lease while still working.
const LINK_LOCK_MS = 60_000;
const LINK_WAIT_MS = 8_000;

/** What a comment becomes in Chatwoot; the action names are also how a later file finds its comment's kind. */
const KINDS = {
  customer: { action: 'chatwoot-message-created', type: 'incoming', private: false, label: '' },
  agent: { action: 'chatwoot-agent-message-created', type: 'outgoing', private: false, label: 'Zendesk' },
  note: {
    action: 'chatwoot-private-note-created',
    type: 'outgoing',
    private: true,
    label: 'Zendesk internal note',
  },
} as const;
type Kind = keyof typeof KINDS;

function kindOf(e: ZendeskCommentEvent): Kind {
  if (!e.public) return 'note';
  return e.author.isStaff === true ? 'agent' : 'customer';
}

/** Checks that need I/O but write nothing: is this the bridge's own comment (or its file) coming back? */
export async function screenZendeskEcho(
  e: ZendeskCommentEvent | ZendeskAttachmentEvent,
  deps: SyncDeps,
): Promise<SkipReason | undefined> {
  const comment = e.kind === 'zendesk.comment' ? e : undefined;
  // Without an actor (trigger bodies), an end user's comment (is_staff false) can never be the bridge's.
  if (e.actorId === undefined && comment?.author.isStaff === false) return undefined;
  // Cached per container: no request in the steady state.
  const me = String((await deps.zendesk.currentUser()).id);
  // The update's actor is the bridge for every write it makes, whoever the comment's author is (a matched agent,
  // or the requester on a follow-up's first comment), and before the ledger has recorded the comment id. So it
  // is checked before the author's role, and any other actor proves the write is not the bridge's: no ledger read.
  if (e.actorId === me || comment?.author.id === me) return 'echo';
  if (e.actorId !== undefined) return undefined;
  if (e.commentId && (await deps.ledger.isOwnWrite(writeIds.zendeskComment(e.commentId)))) return 'echo';
  return undefined;
}

/** How long a messaging event waits for the ticket comment its message becomes before syncing its own text. */
const COMMENT_WAIT_MS = 10 * 60_000;
/** A synced comment this close to the event's time is the one the event is about (a repeat, not a new one). */
const SAME_UPDATE_MS = 2 * 60_000;

/**
 * Trigger bodies and messaging events (`messaging_ticket.message_added`) carry no comment id, so their keys differ
 * from the one reconciliation and `ticket.comment_added` use for the same comment (`zd:comment:<id>`). One read of
 * the ticket's comments finds it: the **oldest** public comment by the same author with the same text that is not
 * synced yet — so a customer who sends "ok" twice gets two messages, in order, each claimed by its own comment.
 * Re-keyed by its id, the comment is claimed once whichever way it arrives.
 * - Every match synced already: a repeat of the newest (when it is of the event's time), a duplicate.
 * - No match: a trigger body syncs under its own key (the text may render differently); a messaging message waits
 *   for its comment (COMMENT_WAIT_MS) and then syncs its own text rather than be lost.
 */
export async function resolveTriggerComment(
  e: ZendeskCommentEvent,
  deps: SyncDeps,
): Promise<ZendeskCommentEvent> {
  if ((e.via !== 'trigger' && e.via !== 'messaging') || e.commentId) return e;
  const text = comparable(e.body);
  const matches = (await deps.zendesk.comments(e.ticketId))
    .filter(
      (c) =>
        c.public &&
        (e.author.id === undefined || String(c.author_id) === e.author.id) &&
        comparable(c.plain_body ?? c.body) === text,
    )
    .sort((a, b) => a.id - b.id);
  const as = (c: { id: number }): ZendeskCommentEvent => {
    deps.logger.debug('comment resolved', { ticketId: e.ticketId, commentId: String(c.id), via: e.via });
    return { ...e, eventKey: eventKeys.zendeskComment(c.id), commentId: String(c.id) };
  };
  for (const c of matches) {
    const prior = await deps.ledger.get(ledgerKeys.event(eventKeys.zendeskComment(c.id)));
    if (prior?.status !== 'done') return as(c);
  }
  const newest = matches.at(-1);
  const at = newest?.created_at ? Date.parse(newest.created_at) : Number.NaN;
  if (
    newest &&
    (e.occurredAt === undefined || Number.isNaN(at) || Math.abs(at - e.occurredAt) <= SAME_UPDATE_MS)
  )
    return as(newest);
  if (e.via === 'messaging' && deps.now() - e.receivedAt < COMMENT_WAIT_MS)
    throw new RetryableError(
      `the comment of a messaging message on ticket ${e.ticketId} is not visible yet`,
      'comment-not-found',
    );
  return e;
}

/**
 * Text as the cleaning leaves it, whitespace runs collapsed (a placeholder and `plain_body` may wrap apart). The
 * trigger rule for literal `\n` applies to both sides here: it only decides which comment matches.
 */
const comparable = (text: string) =>
  cleanComment(text, { literalNewlines: true }).replace(/\s+/g, ' ').trim();

export async function syncZendeskComment(e: ZendeskCommentEvent, deps: SyncDeps): Promise<SyncOutcome> {
  const { markdown, images } = e.htmlBody
    ? // The converters (turndown with its HTML parser, marked) load with the first rich comment, not at cold start.
      (await import('./richtext.ts')).htmlToMarkdown(e.htmlBody, deps.zendesk.origin)
    : { markdown: cleanComment(e.body, { literalNewlines: e.via === 'trigger' }), images: [] };
  // One file per URL: the same inline image may appear twice in the HTML (and a file may also be inline).
  const seen = new Set((e.attachments ?? []).map((a) => a.url));
  const inline: FileRef[] = [];
  for (const i of images) {
    if (seen.has(i.url)) continue;
    seen.add(i.url);
    inline.push({ url: i.url, fileName: fileNameFromUrl(i.url, i.alt || 'image') });
  }
  const files: FileRef[] = [...(e.attachments ?? []), ...inline];
  if (markdown === '' && files.length === 0) return skipped('empty');
  const kind = KINDS[kindOf(e)];
  const label = kind.label ? `**${escapeMarkdown(e.author.name ?? 'Zendesk agent')}** (${kind.label}):` : '';
  const content = [label, markdown].filter(Boolean).join('\n\n');
  const { fetched, missing } = await fetchAll(files, deps);
  const marker = e.commentId ? `zendesk:comment:${e.commentId}` : `zendesk:${e.eventKey.slice('zd:'.length)}`;
  const newMessage = {
    content,
    message_type: kind.type,
    private: kind.private,
    source_id: marker,
    content_attributes: { [MARKER_KEY]: { ticket_id: e.ticketId, comment_id: e.commentId ?? null } },
  };
  const ownWrites: WriteId[] = [];
  // The Chatwoot message the comment became: its own, else the note about its missing files.
  let messageId: string | undefined;
  let link = await deps.links.getByTicket(e.ticketId);
  if (!link && e.via !== 'import' && deps.backfill) {
    // While a history import runs, a live comment may reach a ticket before the import does: its earlier
    // comments go first (each under its own claim, so the import's copies become duplicates), keeping order.
    await deps.backfill(e);
    link = await deps.links.getByTicket(e.ticketId);
  }
  let posted = false;
  if (!link) {
    // A new ticket: its conversation is created together with this first message (one request) when the
    // message carries no files (Chatwoot's documented conversation create takes JSON, not multipart).
    const first = content !== '' && fetched.length === 0 ? newMessage : undefined;
    const made = await ensureConversation(e, deps, first);
    link = made.link;
    posted = made.firstPosted;
    if (made.message) {
      messageId = String(made.message.id);
      ownWrites.push(writeIds.chatwootMessage(made.message.id));
    }
  }
  if (!posted && (content !== '' || fetched.length > 0)) {
    const message = await deps.chatwoot.createMessage(link.conversationId, newMessage, fetched);
    messageId = String(message.id);
    ownWrites.push(writeIds.chatwootMessage(message.id));
  }
  if (missing.length > 0) {
    const noteId = await afterMainWrite(() => noteMissing(missing, link, marker, deps), deps, {
      ticketId: link.ticketId,
      conversationId: link.conversationId,
    });
    if (noteId) {
      messageId ??= noteId;
      ownWrites.push(writeIds.chatwootMessage(noteId));
    }
  }
  // Inline images have no id here; their file's own event, if Zendesk sends one, finds them by URL.
  for (const f of inline) ownWrites.push(writeIds.inlineImage(f.url));
  // The files went with the comment: their own events, when they come, are duplicates.
  for (const a of e.attachments ?? [])
    await deps.ledger.complete(eventKeys.zendeskAttachment(a.id), [], 'included-in-comment');
  return {
    status: 'synced',
    action: kind.action,
    ownWrites,
    ids: {
      conversationId: link.conversationId,
      ...(messageId ? { messageId } : {}),
      ...(files.length > 0 ? { files: String(fetched.length) } : {}),
    },
  };
}

/**
 * One file linked to a comment. When the comment is already in Chatwoot the file follows as its own message;
 * when it is not (this event came first), the comment is read from the API and posted now with all its files,
 * under the comment's own idempotency key, so the comment's event becomes a duplicate.
 */
export async function syncZendeskAttachment(e: ZendeskAttachmentEvent, deps: SyncDeps): Promise<SyncOutcome> {
  const commentKey = eventKeys.zendeskComment(e.commentId);
  // The ledger's record of the comment's event says whether and how it was synced.
  const prior = await deps.ledger.get(ledgerKeys.event(commentKey));
  if (prior?.status === 'done') return followUp(e, String(prior.outcome ?? ''), deps);
  const run = await runOnce(
    commentKey,
    deps,
    { ticketId: e.ticketId, commentId: e.commentId, eventKey: commentKey },
    async (attempt) => {
      const comment = await commentFromApi(e, deps);
      const reason = screenZendesk(comment, deps.config) ?? (await screenZendeskEcho(comment, deps));
      if (reason) return skipped(reason);
      // An earlier attempt at this comment may have posted it already: look before posting again.
      return syncZendeskComment(comment, attempt.depsSince(comment.occurredAt ?? comment.receivedAt));
    },
  );
  if (run.state === 'busy')
    throw new RetryableError(`comment ${e.commentId} is being synced elsewhere`, 'comment-in-progress');
  if (run.state === 'done') {
    const done = await deps.ledger.get(ledgerKeys.event(commentKey));
    return followUp(e, String(done?.outcome ?? ''), deps);
  }
  const outcome = run.outcome;
  if (outcome.status === 'skipped') return skipped(outcome.reason === 'echo' ? 'echo' : 'comment-not-synced');
  // The comment's own writes are recorded under its key; the file's event records none of its own.
  return { ...outcome, action: `${outcome.action}-with-files`, ownWrites: [] };
}

/** The file as a message of its own, of the same kind as its comment's. */
async function followUp(
  e: ZendeskAttachmentEvent,
  commentOutcome: string,
  deps: SyncDeps,
): Promise<SyncOutcome> {
  const entry = Object.values(KINDS).find((k) => k.action === commentOutcome);
  if (!entry) return skipped(commentOutcome === 'skipped:echo' ? 'echo' : 'comment-not-synced');
  const link = await deps.links.getByTicket(e.ticketId);
  if (!link) return skipped('no-link');
  if (await deps.ledger.isOwnWrite(writeIds.inlineImage(e.attachment.url))) return skipped('duplicate');
  const marker = `zendesk:attachment:${e.attachment.id}`;
  const { fetched, missing } = await fetchAll([e.attachment], deps);
  if (missing.length > 0) {
    const noteId = await noteMissing(missing, link, marker, deps);
    return {
      status: 'synced',
      action: 'chatwoot-note-created',
      ownWrites: [writeIds.chatwootMessage(noteId)],
      ids: {},
    };
  }
  const message = await deps.chatwoot.createMessage(
    link.conversationId,
    {
      content: '',
      message_type: entry.type,
      private: entry.private,
      source_id: marker,
      content_attributes: {
        [MARKER_KEY]: { ticket_id: e.ticketId, comment_id: e.commentId, attachment_id: e.attachment.id },
      },
    },
    fetched,
  );
  return {
    status: 'synced',
    action: 'chatwoot-attachment-created',
    ownWrites: [writeIds.chatwootMessage(message.id)],
    ids: { conversationId: link.conversationId, messageId: String(message.id) },
  };
}

/** The comment as the API shows it: HTML, every file (inline images included) and whether its author is staff. */
async function commentFromApi(e: ZendeskAttachmentEvent, deps: SyncDeps): Promise<ZendeskCommentEvent> {
  const c = (await deps.zendesk.comments(e.ticketId)).find((x) => String(x.id) === e.commentId);
  // Zendesk's API may not show a comment for a moment after its webhook: retry through the queue.
  if (!c) throw new RetryableError(`comment ${e.commentId} not visible yet`, 'comment-not-found');
  const author = await deps.zendesk.user(c.author_id);
  return apiCommentEvent(c, e.ticketId, author, {
    receivedAt: e.receivedAt,
    ...(e.actorId ? { actorId: e.actorId } : {}),
  });
}

/** Downloads files one after another, each within the limit. */
async function fetchAll(
  files: FileRef[],
  deps: SyncDeps,
): Promise<{ fetched: OutgoingFile[]; missing: Missing[] }> {
  const fetched: OutgoingFile[] = [];
  const missing: Missing[] = [];
  // The record's files share one download budget (shared/budgets.ts): a slow file fails this record, not the batch.
  const deadline = Date.now() + DOWNLOADS_BUDGET_MS;
  for (const f of files) {
    const got = await fetchFile(f, deps.config.ATTACHMENT_MAX_BYTES, (url, max) =>
      deps.zendesk.download(url, max, deadline),
    );
    if (isMissing(got)) missing.push(got);
    else fetched.push(got);
  }
  return { fetched, missing };
}

/** Posts a note naming the files that could not be copied; returns its Chatwoot message id. */
async function noteMissing(missing: Missing[], link: Link, marker: string, deps: SyncDeps): Promise<string> {
  const text = missingFilesNote(
    missing,
    deps.config.ATTACHMENT_MAX_BYTES,
    `from Zendesk ticket #${link.ticketId}`,
  );
  return postBridgeNote(link.conversationId, text, marker, deps);
}

/**
 * Finds or creates the ticket's conversation. A lease in the ledger serialises creators of one ticket, so two
 * concurrent first comments make one conversation; the link itself is then written with a conditional put.
 */
async function ensureConversation(
  e: ZendeskCommentEvent,
  deps: SyncDeps,
  first?: NewMessage & { source_id: string },
): Promise<{ link: Link; firstPosted: boolean; message?: ChatwootMessage }> {
  const lock = await deps.ledger.lock(lockNames.link(e.ticketId), LINK_LOCK_MS);
  if (lock.state !== 'claimed') return { link: await waitForLink(e.ticketId, deps), firstPosted: false };
  try {
    const raced = await deps.links.getByTicket(e.ticketId);
    if (raced) return { link: raced, firstPosted: false };
    const contact = await ensureContact(e, deps);
    // A known contact may already have this ticket's conversation (the links table lost it): find it first.
    const existing = contact.isNew ? undefined : await findConversation(contact.id, e.ticketId, deps);
    const conversation = {
      sourceId: `${SOURCE_ID_PREFIX}ticket:${e.ticketId}`,
      contactId: Number(contact.id),
      // Shown to agents (they may edit it); the additional attribute is what recovery trusts.
      customAttributes: { zendesk_ticket_id: Number(e.ticketId) },
      additionalAttributes: { zendesk_ticket_id: Number(e.ticketId) },
    };
    let made: { id: string; firstPosted: boolean; message?: ChatwootMessage };
    if (existing) made = { id: existing, firstPosted: false };
    else if (first) {
      const r = await deps.chatwoot.createConversationWithMessage({ ...conversation, message: first });
      made = {
        id: String(r.conversation.id),
        firstPosted: true,
        ...(r.message ? { message: r.message } : {}),
      };
    } else
      made = { id: String((await deps.chatwoot.createConversation(conversation)).id), firstPosted: false };
    const { link, created } = await deps.links.create({
      ticketId: e.ticketId,
      conversationId: made.id,
      contactId: contact.id,
      linkedAt: deps.now(),
    });
    deps.logger.info(existing ? 'link recovered' : 'link created', {
      ticketId: e.ticketId,
      conversationId: link.conversationId,
      contactId: contact.id,
      created,
    });
    // Another container's link won the race: this conversation is not the ticket's, its message not posted there.
    const ours = link.conversationId === made.id;
    return {
      link,
      firstPosted: ours && made.firstPosted,
      ...(ours && made.message ? { message: made.message } : {}),
    };
  } finally {
    await deps.ledger.unlock(lockNames.link(e.ticketId), lock.token).catch(() => undefined);
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
  for (const c of conversations) {
    if (c.inbox_id !== undefined && c.inbox_id !== deps.chatwoot.inboxId) continue;
    // Marks no agent can edit (ticketIdOf); a conversation from before they existed costs one read.
    if ((await deps.chatwoot.ticketIdOf(c)) === ticketId) return String(c.id);
  }
  return undefined;
}

/** One Chatwoot contact per Zendesk requester, identified by `zendesk:user:<id>`; reused when it exists. */
async function ensureContact(
  e: ZendeskCommentEvent,
  deps: SyncDeps,
): Promise<{ id: string; isNew: boolean }> {
  let requesterId = e.requester?.id;
  if (!requesterId) requesterId = String((await deps.zendesk.ticket(e.ticketId)).requester_id);
  const cacheKey = ledgerKeys.contact(requesterId);
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
