// Comment text cleaning, as the service this replaces did it, so agents see the same text after the switch.

/** A separator line: only dashes, more than 10 of them (mail clients and Zendesk's reply-above markers). */
const SEPARATOR = /^\s*-{11,}\s*$/;

/**
 * Cleans a Zendesk comment body for Chatwoot:
 * 1. for trigger bodies only, literal `\n` sequences (backslash + n, as trigger placeholders render a line break)
 *    become real newlines; an event webhook's text is JSON Zendesk built itself, where `\n` is a backslash the
 *    customer typed (`C:\new\reports`, a code snippet) and stays;
 * 2. separator lines are dropped;
 * 3. blank (whitespace-only) lines are dropped at the start and the end;
 * 4. runs of blank lines inside the text collapse into one, keeping paragraphs apart.
 */
export function cleanComment(text: string, o: { literalNewlines?: boolean } = {}): string {
  const lines = (o.literalNewlines ? text.replace(/\\r\\n|\\n/g, '\n') : text)
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => !SEPARATOR.test(line))
    .map((line) => line.replace(/\s+$/, ''));
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}
