// The webhook kinds added for full-fidelity sync, from the contract fixtures: attachments, status changes, the
// update's actor, attachments on a Chatwoot reply, and what the guard lets through under each sync switch.
import { describe, expect, it } from 'vitest';
import { parseChatwootWebhook } from '../../shared/chatwoot/webhook.ts';
import { screen } from '../../shared/events/loop-guard.ts';
import { parseZendeskWebhook } from '../../shared/zendesk/webhook.ts';
import { fixture } from '../helpers/fixtures.ts';

const NOW = Date.parse('2026-08-18T10:10:00Z');

describe('Zendesk', () => {
  it('normalises ticket.attachment_linked_to_comment to one file of a comment, keyed by the attachment', () => {
    const r = parseZendeskWebhook(
      fixture('zendesk', 'ticket.attachment_linked_to_comment-end-user.json'),
      NOW,
    );
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        kind: 'zendesk.attachment',
        eventKey: 'zd:attachment:39876543219901',
        ticketId: '48213',
        commentId: '39876543210004',
        actorId: '31415926535897',
        attachment: {
          id: '39876543219901',
          fileName: 'delivery-receipt.pdf',
          contentType: 'application/pdf',
          url: 'https://example.zendesk.com/attachments/token/Xq8k2LmZ9pWvR4tYbN7cJ3sDf/?name=delivery-receipt.pdf',
        },
      },
    });
    if (r.kind === 'event') expect(screen(r.event, 7)).toBeUndefined();
    // The event's is_public is the file's own flag, not its comment's: it must not decide the file's fate.
    if (r.kind === 'event') expect(r.event).not.toHaveProperty('public');
  });

  it('lets a file whose own is_public is false through the edge, internal notes on or off (Zendesk’s example: a public e-mail comment’s file)', () => {
    const body = fixture('zendesk', 'ticket.attachment_linked_to_comment-end-user.json');
    (body.event as { comment: { attachment: { is_public: boolean } } }).comment.attachment.is_public = false;
    const r = parseZendeskWebhook(body, NOW);
    expect(r.kind === 'event' && screen(r.event, 7, { SYNC_INTERNAL_NOTES: false })).toBeUndefined();
    expect(r.kind === 'event' && screen(r.event, 7, { SYNC_INTERNAL_NOTES: true })).toBeUndefined();
  });

  it('normalises ticket.status_changed: lower-case status, resolved state, the actor, a key per change', () => {
    const r = parseZendeskWebhook(fixture('zendesk', 'ticket.status_changed-solved.json'), NOW);
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        kind: 'zendesk.status',
        eventKey: 'zd:status:48213:d2a85e17-4f6c-4b90-8c3e-7a1b5d9e0f56',
        ticketId: '48213',
        status: 'solved',
        state: 'resolved',
        actorId: '27182818284590',
      },
    });
  });

  it('maps every documented Zendesk status explicitly; archived, deleted, scrubbed and unknown ones change nothing', () => {
    const body = fixture('zendesk', 'ticket.status_changed-solved.json');
    const stateOf = (current: string) => {
      const r = parseZendeskWebhook({ ...body, event: { current, previous: 'OPEN' } }, NOW);
      return r.kind === 'event' && r.event.kind === 'zendesk.status' ? r.event.state : r.kind;
    };
    expect(['NEW', 'OPEN', 'PENDING', 'HOLD', 'SOLVED', 'CLOSED'].map(stateOf)).toEqual([
      'open',
      'open',
      'open',
      'open',
      'resolved',
      'resolved',
    ]);
    // A closed ticket archived months later, a deleted or scrubbed one: never a reopen (nor a resolve).
    for (const current of ['ARCHIVED', 'DELETED', 'SCRUBBED', 'TRASHED']) {
      const r = parseZendeskWebhook({ ...body, event: { current, previous: 'CLOSED' } }, NOW);
      expect(r).toMatchObject({
        kind: 'ignore',
        reason: expect.stringMatching(/^status-(not-synced|undocumented):/),
      });
    }
  });

  it('carries the actor of a comment_added: the bridge user for its own writes', () => {
    const r = parseZendeskWebhook(fixture('zendesk', 'ticket.comment_added-api-integration-user.json'), NOW);
    expect(r.kind === 'event' && r.event.kind === 'zendesk.comment' && r.event.actorId).toBe(
      r.kind === 'event' && r.event.kind === 'zendesk.comment' ? r.event.author.id : 'no event',
    );
  });

  it('lets agent comments through only when switched on, and internal notes only by agents', () => {
    const agent = parseZendeskWebhook(fixture('zendesk', 'ticket.comment_added-agent-public.json'), NOW);
    const customer = parseZendeskWebhook(
      fixture('zendesk', 'ticket.comment_added-end-user-public.json'),
      NOW,
    );
    if (agent.kind !== 'event' || customer.kind !== 'event') throw new Error('fixtures must parse');
    if (agent.event.kind !== 'zendesk.comment' || customer.event.kind !== 'zendesk.comment')
      throw new Error('fixtures must be comments');
    expect(screen(agent.event, 7, { SYNC_AGENT_COMMENTS: true })).toBeUndefined();
    expect(screen(agent.event, 7, { SYNC_AGENT_COMMENTS: false })).toBe('not-end-user');
    const note = { ...agent.event, public: false };
    expect(screen(note, 7, { SYNC_INTERNAL_NOTES: true })).toBeUndefined();
    expect(screen(note, 7, { SYNC_INTERNAL_NOTES: false })).toBe('internal-note');
    // A non-public comment by an end user is not an agent's note.
    expect(screen({ ...customer.event, public: false }, 7, { SYNC_INTERNAL_NOTES: true })).toBe(
      'internal-note',
    );
  });

  it('rejects an attachment event whose content_url is not an http(s) URL', () => {
    const body = fixture('zendesk', 'ticket.attachment_linked_to_comment-end-user.json');
    (body.event as { comment: { attachment: { content_url: string } } }).comment.attachment.content_url =
      'file:///etc/passwd';
    const r = parseZendeskWebhook(body, NOW);
    expect(r).toMatchObject({ kind: 'invalid' });
    if (r.kind === 'invalid') {
      expect(r.message).toContain('event.comment.attachment.content_url');
      expect(r.message).not.toContain('passwd');
    }
  });
});

describe('Chatwoot', () => {
  it('reads the files of an agent reply with their names from data_url', () => {
    const r = parseChatwootWebhook(fixture('chatwoot', 'message_created-outgoing-with-attachment.json'), NOW);
    expect(r.kind === 'event' && r.event.kind === 'chatwoot.message' && r.event.attachments).toEqual([
      expect.objectContaining({ id: '301', fileName: 'tracking.png', contentType: 'image/png', size: 48213 }),
      expect.objectContaining({ id: '302', fileName: 'invoice-A-1001.pdf', contentType: 'application/pdf' }),
    ]);
  });

  it('lets a reply with files and no text through, and still drops an empty one', () => {
    const body = fixture('chatwoot', 'message_created-outgoing-with-attachment.json');
    const r = parseChatwootWebhook({ ...body, content: '' }, NOW);
    expect(r.kind === 'event' && screen(r.event, 7)).toBeUndefined();
    const bare = parseChatwootWebhook({ ...body, content: '', attachments: [] }, NOW);
    expect(bare.kind === 'event' && screen(bare.event, 7)).toBe('empty');
  });

  it('normalises conversation_status_changed from the top-level status, keyed by the update time', () => {
    const r = parseChatwootWebhook(
      fixture('chatwoot', 'conversation_status_changed-resolved.json'),
      NOW,
      'd-9',
    );
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        kind: 'chatwoot.status',
        eventKey: 'cw:status:128:resolved:1787050200.077301',
        conversationId: '128',
        inboxId: 7,
        state: 'resolved',
        ticketHint: '9876',
        deliveryId: 'd-9',
      },
    });
    if (r.kind === 'event') {
      expect(screen(r.event, 7)).toBeUndefined();
      expect(screen(r.event, 8)).toBe('other-inbox');
    }
  });

  it('acknowledges pending and snoozed without syncing them', () => {
    const body = fixture('chatwoot', 'conversation_status_changed-resolved.json');
    expect(parseChatwootWebhook({ ...body, status: 'snoozed' }, NOW)).toEqual({
      kind: 'ignore',
      reason: 'unsynced-status:snoozed',
    });
  });
});

describe('authentic events with odd values (docs/platforms.md)', () => {
  it('Zendesk: the system actor (-1), empty and null ids are accepted; the comment is still normalised', () => {
    const body = fixture('zendesk', 'ticket.comment_added-end-user-public.json');
    const detail = body.detail as Record<string, unknown>;
    detail.actor_id = '-1';
    detail.requester_id = '';
    detail.assignee_id = null;
    const r = parseZendeskWebhook(body, NOW);
    expect(r.kind).toBe('event');
    if (r.kind !== 'event' || r.event.kind !== 'zendesk.comment') return;
    expect(r.event.actorId).toBeUndefined();
    expect(r.event.requester).toBeUndefined();
    expect(r.event.body).toBe((body.event as { comment: { body: string } }).comment.body);
  });

  it('Chatwoot: a reply with a location, a contact card, a null entry and a photo keeps its text and photo', () => {
    const body = fixture('chatwoot', 'message_created-outgoing-with-attachment.json');
    const photo = (body.attachments as Array<Record<string, unknown>>)[0]!;
    // Attachment#push_event_data: location → {coordinates_*, fallback_title, data_url: external_url (nil)};
    // contact → {fallback_title, meta} with no data_url; nil when file_type is nil.
    body.attachments = [
      {
        id: 401,
        message_id: 5014,
        file_type: 'location',
        account_id: 1,
        coordinates_lat: 52.5,
        coordinates_long: 13.4,
        fallback_title: 'Office',
        data_url: null,
      },
      {
        id: 402,
        message_id: 5014,
        file_type: 'contact',
        account_id: 1,
        fallback_title: '+49 30 1234',
        meta: {},
      },
      null,
      photo,
    ];
    const r = parseChatwootWebhook(body, NOW);
    expect(r.kind).toBe('event');
    if (r.kind !== 'event' || r.event.kind !== 'chatwoot.message') return;
    expect(r.event.content).toBe(body.content);
    expect(r.event.attachments?.map((a) => a.id)).toEqual([String(photo.id)]);
    expect(r.skipped).toEqual(['attachment-location', 'attachment-contact', 'attachment-null']);
    expect(screen(r.event, r.event.inboxId ?? 0)).toBeUndefined();
  });

  it('Chatwoot: a file not attached yet (data_url "") is skipped with a reason, not a 400', () => {
    const body = fixture('chatwoot', 'message_created-outgoing-with-attachment.json');
    (body.attachments as Array<Record<string, unknown>>)[1]!.data_url = '';
    const r = parseChatwootWebhook(body, NOW);
    expect(r).toMatchObject({ kind: 'event', skipped: ['attachment-without-file'] });
  });
});

describe('messaging tickets', () => {
  const messageAdded = (actorType: string, body = 'Where is my parcel?') => ({
    // Shape of Zendesk's documented example (Messaging events, "Message added").
    account_id: 21825834,
    detail: { id: '141' },
    event: {
      actor: { id: actorType === 'end_user' ? '381234560777' : 'zd:answerBot', name: 'Ann', type: actorType },
      conversation_id: '67ab5f53a96f98663935c3f2',
      message: { body, id: '67ab5f55155becd183e284cb' },
    },
    id: '01JQMQH83YNAKWSWJ8B1QH2NSC',
    subject: 'zen:ticket:141',
    time: '2025-02-11T14:32:05.254571515Z',
    type: 'zen:event-type:messaging_ticket.message_added',
    zendesk_event_version: '2022-11-06',
  });

  it('an end user’s message becomes a customer comment to resolve by text (it names no comment)', () => {
    const r = parseZendeskWebhook(messageAdded('end_user'), NOW);
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        kind: 'zendesk.comment',
        via: 'messaging',
        ticketId: '141',
        body: 'Where is my parcel?',
        public: true,
        author: { id: '381234560777', isStaff: false },
      },
    });
    if (r.kind === 'event') expect(r.event).not.toHaveProperty('commentId');
  });

  it('agent, trigger and system messages (a non-numeric actor id) are acknowledged, not synced', () => {
    for (const type of ['agent', 'trigger', 'system'])
      expect(parseZendeskWebhook(messageAdded(type), NOW)).toMatchObject({ kind: 'ignore' });
  });
});
