// Every webhook fixture in contracts parses, and normalises to the SyncEvent the flows expect.
import { describe, expect, it } from 'vitest';
import { parseChatwootWebhook } from '../../shared/chatwoot/webhook.ts';
import { screen } from '../../shared/events/loop-guard.ts';
import { parseLenientTriggerJson, parseZendeskWebhook } from '../../shared/zendesk/webhook.ts';
import { fixture, fixtureNames } from '../helpers/fixtures.ts';

const NOW = Date.parse('2026-08-18T10:10:00Z');

describe('Zendesk webhook fixtures', () => {
  it.each(fixtureNames('zendesk').filter((n) => n.startsWith('ticket.')))(
    '%s parses without error',
    (name) => {
      const r = parseZendeskWebhook(fixture('zendesk', name), NOW);
      expect(r.kind).not.toBe('invalid');
    },
  );

  it('normalises an end-user public comment with string ids', () => {
    const r = parseZendeskWebhook(
      fixture('zendesk', 'ticket.comment_added-end-user-public.json'),
      NOW,
      'inv-1',
    );
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        kind: 'zendesk.comment',
        eventKey: 'zd:comment:39876543210001',
        ticketId: '48213',
        commentId: '39876543210001',
        public: true,
        author: { id: '31415926535897', isStaff: false, name: 'Maria Lopez' },
        requester: { id: '31415926535897', name: 'Maria Lopez' },
        deliveryId: 'inv-1',
        occurredAt: Date.parse('2025-03-04T10:02:41.482Z'),
      },
    });
    if (r.kind === 'event') expect(screen(r.event, 7)).toBeUndefined();
  });

  it('marks agent and integration-user comments as not the customer’s', () => {
    for (const name of [
      'ticket.comment_added-agent-public.json',
      'ticket.comment_added-api-integration-user.json',
    ]) {
      const r = parseZendeskWebhook(fixture('zendesk', name), NOW);
      expect(r.kind).toBe('event');
      if (r.kind === 'event') expect(screen(r.event, 7)).toBe('not-end-user');
    }
  });

  it('acknowledges event types it does not sync instead of rejecting them', () => {
    // Status changes are synced since issue 6; a priority change still is not.
    const body = { ...fixture('zendesk', 'ticket.status_changed-solved.json') };
    body.type = 'zen:event-type:ticket.priority_changed';
    expect(parseZendeskWebhook(body, NOW)).toEqual({
      kind: 'ignore',
      reason: 'unsupported-event:ticket.priority_changed',
    });
  });

  it('rejects a comment_added with a mistyped field, naming the path but not the value', () => {
    const body = fixture('zendesk', 'ticket.comment_added-end-user-public.json');
    (body.event as { comment: { is_public: unknown } }).comment.is_public = 'secret-ish-value';
    const r = parseZendeskWebhook(body, NOW);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.message).toContain('event.comment.is_public');
      expect(r.message).not.toContain('secret-ish-value');
    }
  });

  it('the signed-request fixture body is a valid comment_added event', () => {
    const signed = fixture<{ raw_body: string }>('zendesk', 'signed-request.test-secret.example.json');
    expect(parseZendeskWebhook(JSON.parse(signed.raw_body), NOW).kind).toBe('event');
  });
});

describe('Zendesk trigger bodies', () => {
  it('fills the template fixture and reads ticket, comment and requester', () => {
    const template = JSON.stringify(fixture('zendesk', 'trigger-custom-body.template.json'));
    const rendered = JSON.parse(
      template
        .replace('{{ticket.id}}', '9876')
        .replace('{{ticket.requester.id}}', '555')
        .replace('{{ticket.requester.email}}', 'jane@example.com')
        .replace('{{current_user.id}}', '555')
        .replace('{{ticket.latest_comment}}', 'Where is my order?')
        .replace('{{ticket.updated_at_with_timestamp}}', '2026-08-18T10:00:00Z'),
    );
    const r = parseZendeskWebhook(rendered, NOW);
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        via: 'trigger',
        ticketId: '9876',
        body: 'Where is my order?',
        requester: { id: '555', email: 'jane@example.com', name: 'User 555' },
        author: { id: '555' },
      },
    });
  });

  it('takes the ticket id from detail.id, then from a zen:ticket:N subject', () => {
    const a = parseZendeskWebhook({ detail: { id: '12', requester_id: '7' }, latest_comment: 'hi' }, NOW);
    expect(a).toMatchObject({
      kind: 'event',
      event: { ticketId: '12', requester: { id: '7', name: 'User 7' } },
    });
    const b = parseZendeskWebhook(
      { subject: 'zen:ticket:34', event: { comment: { body: 'hey', author: { id: 9, name: 'Ann' } } } },
      NOW,
    );
    expect(b).toMatchObject({
      kind: 'event',
      event: { ticketId: '34', body: 'hey', requester: { id: '9', name: 'Ann' } },
    });
    const c = parseZendeskWebhook(
      { requester: { id: 5, name: 'Bo', email: 'bo@x.example' }, ticket_id: 8, latest_comment: 'x' },
      NOW,
    );
    expect(c).toMatchObject({
      kind: 'event',
      event: { ticketId: '8', requester: { id: '5', name: 'Bo', email: 'bo@x.example' } },
    });
  });

  it('gives the same comment the same key, and a different comment another', () => {
    const k = (text: string) => {
      const r = parseZendeskWebhook({ ticket_id: '1', latest_comment: text, updated_at: 't1' }, NOW);
      return r.kind === 'event' ? r.event.eventKey : '';
    };
    expect(k('a')).toBe(k('a'));
    expect(k('a')).not.toBe(k('b'));
  });

  it('rejects a trigger body without any ticket id', () => {
    expect(parseZendeskWebhook({ latest_comment: 'hi' }, NOW).kind).toBe('invalid');
  });

  it('reads a rendered body whose comment broke JSON (unescaped quotes and newlines)', () => {
    const raw =
      '{\n  "ticket_id": "77",\n  "requester_id": "5",\n  "latest_comment": "He said "hi"\nand left",\n  "updated_at": "x"\n}';
    expect(() => JSON.parse(raw)).toThrow();
    const body = parseLenientTriggerJson(raw);
    expect(body).toEqual({
      ticket_id: '77',
      requester_id: '5',
      latest_comment: 'He said "hi"\nand left',
      updated_at: 'x',
    });
  });
});

describe('Chatwoot webhook fixtures', () => {
  it.each(fixtureNames('chatwoot'))('%s parses without error', (name) => {
    expect(parseChatwootWebhook(fixture('chatwoot', name), NOW).kind).not.toBe('invalid');
  });

  it('reads the agent reply from the top level, not conversation.messages[0]', () => {
    const r = parseChatwootWebhook(fixture('chatwoot', 'message_created-private-note.json'), NOW, 'd-1');
    expect(r).toMatchObject({
      kind: 'event',
      event: {
        eventKey: 'cw:message:5013',
        messageId: '5013',
        conversationId: '128',
        private: true,
        content: 'Warehouse says carrier pickup failed; escalating to logistics.',
        messageType: 'outgoing',
        sender: { id: '3', type: 'user' },
        ticketHint: '9876',
        deliveryId: 'd-1',
      },
    });
  });

  it('treats the echo of a message the bridge posted as an echo', () => {
    const r = parseChatwootWebhook(fixture('chatwoot', 'message_created-incoming-contact.json'), NOW);
    expect(r.kind).toBe('event');
    if (r.kind === 'event') {
      expect(r.event.kind).toBe('chatwoot.message');
      expect(r.event.kind === 'chatwoot.message' && r.event.sender.type).toBe('contact');
      expect(screen(r.event, 7)).toBe('echo');
    }
  });

  it('lets a human agent reply through the guard', () => {
    const r = parseChatwootWebhook(fixture('chatwoot', 'message_created-outgoing-agent-reply.json'), NOW);
    expect(r.kind === 'event' && screen(r.event, 7)).toBeUndefined();
    expect(r.kind === 'event' && screen(r.event, 8)).toBe('other-inbox');
  });

  it('ignores conversation events it does not sync', () => {
    // The same status change also arrives as conversation_status_changed, which is the one synced.
    expect(
      parseChatwootWebhook(fixture('chatwoot', 'conversation_updated-status-resolved.json'), NOW),
    ).toEqual({
      kind: 'ignore',
      reason: 'unsupported-event:conversation_updated',
    });
  });

  it('rejects a message_created whose conversation id is missing', () => {
    const body = fixture('chatwoot', 'message_created-outgoing-agent-reply.json');
    delete (body.conversation as Record<string, unknown>).id;
    const r = parseChatwootWebhook(body, NOW);
    expect(r).toMatchObject({ kind: 'invalid' });
    if (r.kind === 'invalid') expect(r.message).toContain('conversation.id');
  });
});
