/**
 * Markdown for the Web UI's "current details" and summaries, which it renders: user-supplied text
 * (audience and destination names) must show as text, never as images, links, HTML or new blocks.
 * Pure and workflow-safe (no Node built-ins).
 */

/** CommonMark's ASCII punctuation that can start or end Markdown syntax (all backslash-escapable). */
const SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~]/g;

/** Escapes `text` for inline Markdown: every special character is backslash-escaped, line breaks become spaces. */
export function escapeMarkdown(text: string): string {
  return String(text)
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ')
    .replace(SPECIAL, (c) => `\\${c}`);
}
