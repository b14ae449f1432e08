// The replay guard's text match: a comment Zendesk stored is recognised as the bridge's earlier write whichever
// rendering is compared (body, plain_body, html_body), HTML entities included.
import { describe, expect, it } from 'vitest';
import { sameText } from '../../shared/sync/replay-guard.ts';
import { zendeskCommentText } from '../../shared/sync/richtext.ts';
import type { ZendeskComment } from '../../shared/zendesk/client.ts';

const stored = (c: Partial<ZendeskComment>): ZendeskComment => ({
  id: 1,
  author_id: 2,
  body: '',
  public: true,
  ...c,
});

describe('replay guard text match', () => {
  it('finds a formatted reply with & < " and an apostrophe in each rendering Zendesk keeps', () => {
    const sent = { ...zendeskCommentText('Price: 5 < 6 & "ok", it\'s **final**'), public: true };
    expect(sent).toHaveProperty('html_body');
    const text = 'Price: 5 < 6 & "ok", it\'s final';
    expect(sameText(stored({ body: text }), sent)).toBe(true);
    expect(sameText(stored({ plain_body: text }), sent)).toBe(true);
    expect(
      sameText(
        stored({ html_body: '<p>Price:&nbsp;5 &lt; 6 &amp; &quot;ok&quot;, it&#39;s <b>final</b></p>' }),
        sent,
      ),
    ).toBe(true);
  });

  it('decodes numeric entities, decimal and hex', () => {
    const sent = { html_body: '<p>caf&#233; &#x2014; &#x1F69A;</p>', public: true };
    expect(sameText(stored({ body: 'café — 🚚' }), sent)).toBe(true);
  });

  it('a different text is not a match', () => {
    const sent = { ...zendeskCommentText('Price: 5 < 6 & **ok**'), public: true };
    expect(sameText(stored({ body: 'Price: 5 < 6 and ok' }), sent)).toBe(false);
    expect(
      sameText(stored({ body: 'Price: 5 &lt; 6 &amp; ok' }), { body: 'Price: 5 < 7 & ok', public: true }),
    ).toBe(false);
  });
});
