// Rich text conversions with content shaped like real tickets: Zendesk agent-workspace HTML to Chatwoot Markdown,
// and Chatwoot agent Markdown to Zendesk html_body, including non-Latin scripts and emoji.
import { describe, expect, it } from 'vitest';
import {
  htmlToMarkdown,
  isPlainMarkdown,
  markdownToHtml,
  zendeskCommentText,
} from '../../shared/sync/richtext.ts';

const ZD = 'https://acme.zendesk.com';

describe('Zendesk HTML → Chatwoot Markdown', () => {
  it('keeps links, lists, emphasis and line breaks of an agent-workspace comment', () => {
    const html =
      '<div class="zd-comment" dir="auto"><p>Hi Maria,<br>thanks for the photos 🙏</p>' +
      '<p>Please try <strong>one</strong> of these:</p>' +
      '<ul><li>restart the router</li><li>reset it as shown in <a href="https://help.acme.example/kb/42?lang=de">this article</a></li></ul>' +
      '<ol><li>first</li><li>second</li></ol>' +
      '<p>Best regards,<br>Sam</p></div>';
    expect(htmlToMarkdown(html, ZD)).toEqual({
      markdown: [
        'Hi Maria,',
        'thanks for the photos 🙏',
        '',
        'Please try **one** of these:',
        '',
        '- restart the router',
        '- reset it as shown in [this article](https://help.acme.example/kb/42?lang=de)',
        '',
        '1. first',
        '2. second',
        '',
        'Best regards,',
        'Sam',
      ].join('\n'),
      images: [],
    });
  });

  it('keeps Japanese, Arabic and Cyrillic text and emoji byte for byte', () => {
    const html =
      '<div class="zd-comment" dir="auto"><p>ご注文の商品は明日発送します。📦</p>' +
      '<p dir="rtl">شكراً لتواصلك معنا</p><p>Спасибо, <em>ждём</em> ответа 😊</p></div>';
    expect(htmlToMarkdown(html, ZD).markdown).toBe(
      'ご注文の商品は明日発送します。📦\n\nشكراً لتواصلك معنا\n\nСпасибо, _ждём_ ответа 😊',
    );
  });

  it('turns inline images on the Zendesk host into files to attach, and other images into links', () => {
    const html =
      '<p>Screenshot below:</p>' +
      `<p><img src="${ZD}/attachments/token/Xq8k2/?name=screen.png" alt="screen.png"></p>` +
      '<p><img src="https://cdn.elsewhere.example/logo.png" alt="logo"></p>' +
      '<p><img src="javascript:alert(1)" alt="x"></p>';
    const r = htmlToMarkdown(html, ZD);
    expect(r.images).toEqual([{ url: `${ZD}/attachments/token/Xq8k2/?name=screen.png`, alt: 'screen.png' }]);
    expect(r.markdown).toBe('Screenshot below:\n\n[logo](https://cdn.elsewhere.example/logo.png)');
  });

  it('applies the plain-text cleaning rules: separator lines and runs of blank lines go', () => {
    const html =
      '<p>Answer above this line</p><p>-----------------------</p><p></p><p></p><p>Quoted mail</p>';
    expect(htmlToMarkdown(html, ZD).markdown).toBe('Answer above this line\n\nQuoted mail');
  });

  it('drops scripts and escapes Markdown that was only text in the HTML', () => {
    const r = htmlToMarkdown('<p>Price: 5 * 3 = 15 <script>steal()</script></p>', ZD);
    expect(r.markdown).toBe('Price: 5 \\* 3 = 15');
  });
});

describe('Chatwoot Markdown → Zendesk html_body', () => {
  it('plain replies stay plain text in `body`, even with line breaks, apostrophes and emoji', () => {
    const text = "It ships today — tracking follows.\nIt's on its way 🚚";
    expect(isPlainMarkdown(text)).toBe(true);
    expect(zendeskCommentText(text)).toEqual({ body: text });
  });

  it('formatted replies become html_body with lists, links, bold and line breaks', () => {
    const md = [
      'Hello **Maria**,',
      'here is what to do:',
      '',
      '1. open [your orders](https://shop.acme.example/orders)',
      '2. pick _Return_',
      '',
      '- label printed',
      '- parcel dropped off ✅',
    ].join('\n');
    expect(isPlainMarkdown(md)).toBe(false);
    expect(zendeskCommentText(md)).toEqual({
      html_body:
        '<p>Hello <strong>Maria</strong>,<br>here is what to do:</p>\n' +
        '<ol>\n<li>open <a href="https://shop.acme.example/orders">your orders</a></li>\n<li>pick <em>Return</em></li>\n</ol>\n' +
        '<ul>\n<li>label printed</li>\n<li>parcel dropped off ✅</li>\n</ul>',
    });
  });

  it('an authorship line names the agent as written, in plain `body` and in html_body', () => {
    const header = 'Jean_Luc [Support] <CS> & *Co* (Chatwoot):';
    expect(zendeskCommentText('Hello there', header)).toEqual({
      body: 'Jean_Luc [Support] <CS> & *Co* (Chatwoot):\n\nHello there',
    });
    expect(zendeskCommentText('Hello **there**', header)).toEqual({
      html_body:
        '<p>Jean_Luc [Support] &lt;CS&gt; &amp; *Co* (Chatwoot):</p>\n<p>Hello <strong>there</strong></p>',
    });
    // A reply of files alone: the line by itself.
    expect(zendeskCommentText('', header)).toEqual({ body: header });
  });

  it('keeps non-Latin text and emoji inside formatting', () => {
    expect(markdownToHtml('**你好**，订单已发货 🎉\n\n> Привет из Москвы')).toBe(
      '<p><strong>你好</strong>，订单已发货 🎉</p>\n<blockquote>\n<p>Привет из Москвы</p>\n</blockquote>',
    );
  });

  it('shows raw HTML as text and neutralises script links', () => {
    expect(markdownToHtml('**Note** <img src=x onerror=alert(1)> [x](javascript:alert(1))')).toBe(
      '<p><strong>Note</strong> &lt;img src=x onerror=alert(1)&gt; <a href="#">x</a></p>',
    );
  });
});
