// Rich text between the platforms: Zendesk keeps comments as HTML (`html_body`), Chatwoot renders Markdown.
// Zendesk HTML → Markdown for Chatwoot (inline images come out as files to attach); Chatwoot Markdown → HTML for
// Zendesk, sent only when the text has formatting, so plain replies stay plain text.
import { Marked, type Token, type Tokens } from 'marked';
import TurndownService from 'turndown';
import { cleanComment } from './clean.ts';
import { escapeMarkdown } from './markdown-escape.ts';

export interface InlineImage {
  url: string;
  alt: string;
}

export interface MarkdownResult {
  markdown: string;
  /** Images on the Zendesk origin: attached to the Chatwoot message instead of linked (they need credentials). */
  images: InlineImage[];
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export { escapeMarkdown } from './markdown-escape.ts';

const SAFE_HREF = /^(https?:|mailto:)/i;

/**
 * Zendesk HTML → Markdown. `originOfImages` is the Zendesk origin: images served from it are returned as files
 * to attach; any other image becomes a link (the bridge fetches nothing from hosts a comment names).
 */
export function htmlToMarkdown(html: string, originOfImages: string): MarkdownResult {
  const images: InlineImage[] = [];
  const td = new TurndownService({
    headingStyle: 'atx',
    bulletListMarker: '-',
    codeBlockStyle: 'fenced',
    emDelimiter: '_',
    hr: '***',
  });
  td.addRule('images', {
    filter: 'img',
    replacement: (_content, node) => {
      const el = node as unknown as { getAttribute(name: string): string | null };
      const src = el.getAttribute('src') ?? '';
      const alt = (el.getAttribute('alt') ?? '').trim();
      let url: URL | undefined;
      try {
        url = new URL(src);
      } catch {
        url = undefined;
      }
      if (url && url.origin === originOfImages) {
        images.push({ url: url.href, alt });
        return '';
      }
      return url && SAFE_HREF.test(url.protocol) ? `[${escapeMarkdown(alt || 'image')}](${url.href})` : '';
    },
  });
  // Scripts and styles carry no text a reader should see.
  td.remove(['script', 'style']);
  const markdown = td
    .turndown(html)
    // Hard breaks ("two spaces, newline") are plain newlines in Chatwoot, which breaks lines as typed.
    .replace(/ {2}\n/g, '\n')
    .replace(/\\\n/g, '\n')
    // Turndown pads list markers to four columns; one space reads the same and looks like typed Markdown.
    .replace(/^([ \t]*)(-|\d+\.) {2,}/gm, '$1$2 ')
    // Turndown escapes a leading dash; unescape dash-only lines so the separator rule of cleanComment sees them.
    .replace(/^[ \t]*\\(-+)[ \t]*$/gm, '$1');
  return { markdown: cleanComment(markdown), images };
}

const marked = new Marked({
  gfm: true,
  // Chatwoot shows a single newline as a line break; keep it one in Zendesk.
  breaks: true,
  renderer: {
    // Raw HTML typed in Chatwoot is shown as text, as Chatwoot itself shows it, never passed on as markup.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
  },
  walkTokens(token: Token) {
    if ((token.type === 'link' || token.type === 'image') && !SAFE_HREF.test(token.href)) token.href = '#';
  },
});

const PLAIN_BLOCKS = new Set(['paragraph', 'space', 'text']);
const PLAIN_INLINE = new Set(['text', 'escape', 'br']);

function isPlainToken(t: Token): boolean {
  const nested = 'tokens' in t && Array.isArray(t.tokens) ? (t.tokens as Token[]) : [];
  return nested.every((n) => PLAIN_INLINE.has(n.type) && isPlainToken(n));
}

/** Whether Markdown text has no formatting at all (then it goes to Zendesk as plain `body`). */
export function isPlainMarkdown(markdown: string): boolean {
  const blocks = marked.lexer(markdown);
  return blocks.every((b) => PLAIN_BLOCKS.has(b.type) && isPlainToken(b));
}

/** Chatwoot Markdown → HTML for Zendesk's `html_body`. */
export function markdownToHtml(markdown: string): string {
  return (marked.parse(markdown, { async: false }) as string).trim();
}

/**
 * The comment fields for Zendesk: plain text stays `body`; formatted text becomes `html_body`. `header` is a
 * first line of the bridge's own (the authorship line): literal text in either form, never read as Markdown,
 * so a name like `Jean_Luc [Support]` reads as written.
 */
export function zendeskCommentText(
  markdown: string,
  header?: string,
): { body: string } | { html_body: string } {
  if (isPlainMarkdown(markdown)) return { body: [header, markdown].filter(Boolean).join('\n\n') };
  return { html_body: `${header ? `<p>${escapeHtml(header)}</p>\n` : ''}${markdownToHtml(markdown)}` };
}
