/** The edits compose files' quick fixes make, in YAML. */
import type { Span, TextEdit } from '../../core/types';

/** Quotes a plain scalar (its text is its value, so quoting changes nothing else). */
export function quotePlainScalar(file: string, span: Span, value: string): TextEdit {
  return { file, span, newText: `"${value}"` };
}
