/**
 * The "Swap to LOW:HIGH" fix of a reversed port range (`invalid-port`): the two ends as written,
 * exchanged around the file's own separator (`9000:8000` -> `8000:9000` in iptables, `9000-8000` ->
 * `8000-9000` in nft and compose). Pure.
 */
import type { Fix, Span } from './types';

/**
 * The fix for a range written `first SEP last` at `span` (the span holds exactly that text), or
 * undefined when the text is not two ends around one separator.
 */
export function swapRangeFix(file: string, span: Span, written: string, separator: ':' | '-'): Fix | undefined {
  if (span.end - span.start !== written.length) return undefined;
  const at = written.indexOf(separator);
  if (at <= 0 || at === written.length - 1 || written.indexOf(separator, at + 1) >= 0) return undefined;
  const swapped = `${written.slice(at + 1)}${separator}${written.slice(0, at)}`;
  return { title: `Swap to ${swapped}`, edits: [{ file, span, newText: swapped }], preferred: true };
}

/** The finding's fixes with the swap added (a finding's `fixes` stays absent when there is none). */
export function withSwap<T extends { fixes?: Fix[] }>(finding: T, fix: Fix | undefined): T {
  if (fix) finding.fixes = [...(finding.fixes ?? []), fix];
  return finding;
}
