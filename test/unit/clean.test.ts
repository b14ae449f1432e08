// Comment cleaning rules, one test per rule, as the replaced service applied them.
import { describe, expect, it } from 'vitest';
import { cleanComment } from '../../shared/sync/clean.ts';

describe('cleanComment', () => {
  it('turns literal \\n sequences into newlines in trigger bodies', () => {
    expect(cleanComment('Hello\\nWorld', { literalNewlines: true })).toBe('Hello\nWorld');
    expect(cleanComment('a\\r\\nb', { literalNewlines: true })).toBe('a\nb');
  });

  it('drops separator lines of more than 10 dashes', () => {
    expect(cleanComment('Reply above\n-----------\nQuoted')).toBe('Reply above\nQuoted');
    expect(cleanComment('x\n   ----------------------   \ny')).toBe('x\ny');
  });

  it('keeps a line of 10 dashes or fewer, and dashes inside text', () => {
    expect(cleanComment('x\n----------\ny')).toBe('x\n----------\ny');
    expect(cleanComment('order -------------- 42')).toBe('order -------------- 42');
  });

  it('drops blank lines at the start and the end', () => {
    expect(cleanComment('\n\n  \nHello\n \n\n')).toBe('Hello');
  });

  it('collapses runs of blank lines into one', () => {
    expect(cleanComment('one\n\n\n\n \ntwo')).toBe('one\n\ntwo');
    expect(cleanComment('one\\n\\n\\n\\ntwo', { literalNewlines: true })).toBe('one\n\ntwo');
  });

  it('leaves blank lines left by a dropped separator collapsed too', () => {
    expect(cleanComment('Hi\n\n-------------------\n\nOn Monday, Bob wrote:')).toBe(
      'Hi\n\nOn Monday, Bob wrote:',
    );
  });

  it('returns an empty string for a comment that was only separators and whitespace', () => {
    expect(cleanComment('\\n-----------\\n   \\n', { literalNewlines: true })).toBe('');
  });

  it('keeps non-Latin text and emoji intact', () => {
    expect(cleanComment('Спасибо! 🙏\\n注文番号 42', { literalNewlines: true })).toBe(
      'Спасибо! 🙏\n注文番号 42',
    );
  });

  it('keeps backslashes as written outside trigger bodies (event webhooks are JSON Zendesk built itself)', () => {
    expect(cleanComment('C:\\new\\reports')).toBe('C:\\new\\reports');
    expect(cleanComment('regex ^\\d+\\n$ and a\\r\\nb')).toBe('regex ^\\d+\\n$ and a\\r\\nb');
  });
});
