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
        public: true,
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
  });

  it('drops files of internal notes at the edge when internal notes are switched off', () => {
    const body = fixture('zendesk', 'ticket.attachment_linked_to_comment-end-user.json');
    (body.event as { comment: { attachment: { is_public: boolean } } }).comment.attachment.is_public = false;
    const r = parseZendeskWebhook(body, NOW);
    expect(r.kind === 'event' && screen(r.event, 7, { SYNC_INTERNAL_NOTES: false })).toBe('internal-note');
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

  it('maps every Zendesk status onto open or resolved', () => {
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
