/**
 * Fingerprints that follow a finding across runs and unrelated edits (SARIF partialFingerprints,
 * the JSON output's `fingerprint`): a hash of the code, the file's path as shown, the text of the
 * finding's line (whitespace collapsed) and of its span, plus the occurrence index among the
 * findings of the file with the same hash. No line numbers and no message (messages name lines).
 */
import { createHash } from 'crypto';
import { LineIndex } from '../core/lineIndex';
import type { Finding } from '../core/types';

/** One fingerprint per finding of `findings` (all in the file whose text is `text`), in order. */
export function fingerprints(text: string, shownPath: string, findings: readonly Finding[]): string[] {
  const index = new LineIndex(text);
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const line = index.position(f.span.start).line;
    const lineText = text.slice(index.offset(line, 0), index.offset(line, Number.MAX_SAFE_INTEGER)).replace(/\s+/g, ' ').trim();
    const spanText = text.slice(f.span.start, f.span.end).replace(/\s+/g, ' ').trim();
    const hash = createHash('sha256').update([f.code, shownPath, lineText, spanText].join('\u0000')).digest('hex').slice(0, 32);
    const n = seen.get(hash) ?? 0;
    seen.set(hash, n + 1);
    return `${hash}:${n}`;
  });
}
