// Escaping text of the bridge's own making for Chatwoot's Markdown, apart from the rich-text converters
// (shared/sync/richtext.ts) so a flow can label a message without loading them.

/** Characters that would start Markdown formatting in a line of our own making (an author label). */
export const escapeMarkdown = (s: string): string => s.replace(/([\\`*_[\]<>#|~])/g, '\\$1');
