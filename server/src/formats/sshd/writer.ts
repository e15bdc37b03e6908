/** The edits sshd_config's quick fixes make, in sshd_config's own syntax. */
import { setLiteralPort } from '../../core/fixes';
import type { Fix, FormatWriter } from '../../core/types';

/** What the rules' fixes write in sshd_config: the number of a `Port` line or of a `ListenAddress host:port`. */
export const sshdWriter: FormatWriter = {
  setPort: setLiteralPort,
};

/**
 * Quick fixes for a global-only directive inside a Match block: move the line above the first Match
 * of the file (sshd then applies it to every connection, which is all it can do), or delete it.
 */
export function matchBlockFixes(file: string, text: string, lineStart: number, rawLine: string, firstMatchStart: number | undefined): Fix[] {
  const lineEnd = Math.min(text.length, lineStart + rawLine.length + 1);
  const directive = rawLine.replace(/\r$/, '').trim();
  const remove = { file, span: { start: lineStart, end: lineEnd }, newText: '' };
  const fixes: Fix[] = [];
  if (firstMatchStart !== undefined) {
    fixes.push({
      title: `Move '${directive}' above the first Match block (sshd then applies it to every connection)`,
      edits: [{ file, span: { start: firstMatchStart, end: firstMatchStart }, newText: `${directive}${rawLine.endsWith('\r') ? '\r\n' : '\n'}` }, remove],
    });
  }
  fixes.push({ title: `Delete '${directive}'`, edits: [remove] });
  return fixes;
}
