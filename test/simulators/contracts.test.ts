// validateRequest against the real specs: it must flag bodies that break them and accept ones the bridge sends.
import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../simulators/contracts.ts';

describe('validateRequest (Zendesk support-api.yaml)', () => {
  it('accepts a comment update with tags, status and upload tokens', () => {
    const body = {
      ticket: {
        comment: { body: 'Hello', html_body: '<p>Hello</p>', public: true, author_id: 1, uploads: ['tok'] },
        status: 'pending',
        tags: ['a', 'b'],
        due_at: null,
      },
    };
    expect(validateRequest('zendesk', 'PUT', '/api/v2/tickets/48001', body)).toEqual([]);
  });

  it('flags a comment that is not an object and an unknown status', () => {
    const bad = validateRequest('zendesk', 'PUT', '/api/v2/tickets/1', {
      ticket: { comment: 5, status: 'done' },
    });
    expect(bad.some((v) => v.includes('/ticket/comment must be object'))).toBe(true);
    expect(bad.some((v) => v.includes('/ticket/status'))).toBe(true);
  });

  it('requires a comment on ticket creation and accepts a follow-up', () => {
    expect(validateRequest('zendesk', 'POST', '/api/v2/tickets', { ticket: { subject: 'x' } })).toEqual([
      "zendesk POST /api/v2/tickets: body/ticket must have required property 'comment'",
    ]);
    const followUp = {
      ticket: { comment: { body: 'again' }, via_followup_source_id: 48001, requester_id: 7 },
    };
    expect(validateRequest('zendesk', 'POST', '/api/v2/tickets', followUp)).toEqual([]);
  });

  it('knows which operations exist, preferring literal path segments', () => {
    expect(validateRequest('zendesk', 'GET', '/api/v2/users/me', undefined)).toEqual([]);
    expect(validateRequest('zendesk', 'GET', '/api/v2/users/search', undefined)).toEqual([]);
    expect(validateRequest('zendesk', 'POST', '/api/v2/uploads', undefined, 'image/png')).toEqual([]);
    expect(validateRequest('zendesk', 'PATCH', '/api/v2/tickets/1', {})[0]).toMatch(/not an operation/);
    expect(validateRequest('zendesk', 'GET', '/api/v2/nowhere', undefined)[0]).toMatch(/matches no path/);
  });
});

describe('validateRequest (Chatwoot swagger.json, OpenAPI 3.1)', () => {
  const base = '/api/v1/accounts/1';

  it('flags a conversation without the required source_id', () => {
    expect(
      validateRequest('chatwoot', 'POST', `${base}/conversations`, { inbox_id: 1, contact_id: 2 }),
    ).toEqual([
      "chatwoot POST /api/v1/accounts/{account_id}/conversations: body must have required property 'source_id'",
    ]);
  });

  it('accepts the bridge-side requests', () => {
    const ok = (method: string, path: string, body: unknown, ct?: string): void => {
      expect(validateRequest('chatwoot', method, `${base}${path}`, body, ct)).toEqual([]);
    };
    ok('POST', '/contacts', { inbox_id: 1, name: 'Jane', email: 'j@x.io', identifier: 'zendesk:user:1' });
    ok('GET', '/contacts/search', undefined);
    ok('POST', '/conversations', { source_id: 's', inbox_id: 1, contact_id: 2, custom_attributes: { t: 1 } });
    // source_id is not in the schema but Chatwoot's MessageBuilder reads it; extra properties are allowed.
    ok('POST', '/conversations/5/messages', {
      content: 'x',
      message_type: 'incoming',
      source_id: 'zendesk:comment:1',
    });
    ok('POST', '/conversations/5/messages', undefined, 'multipart/form-data; boundary=abc');
    ok('POST', '/conversations/5/toggle_status', { status: 'resolved' });
    ok('POST', '/conversations/filter', {
      payload: [{ attribute_key: 'zendesk_ticket_id', filter_operator: 'equal_to', values: ['48001'] }],
    });
  });

  it('flags wrong enum values and a content type the operation does not take', () => {
    const status = validateRequest('chatwoot', 'POST', `${base}/conversations/5/toggle_status`, {
      status: 'closed',
    });
    expect(status[0]).toMatch(/body\/status must be equal to one of the allowed values/);
    const multipart = validateRequest(
      'chatwoot',
      'POST',
      `${base}/contacts/5/contact_inboxes`,
      undefined,
      'multipart/form-data',
    );
    expect(multipart[0]).toMatch(/content type multipart\/form-data not allowed/);
  });

  it('quirk: the spec rejects query_operator null on the last filter condition, which its own example uses', () => {
    const body = {
      payload: [
        { attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null },
      ],
    };
    expect(validateRequest('chatwoot', 'POST', `${base}/conversations/filter`, body).length).toBeGreaterThan(
      0,
    );
  });
});
