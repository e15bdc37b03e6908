/** The edits nginx's quick fixes make, in nginx's own syntax. */
import type { Span, TextEdit } from '../../core/types';

/** Removes one listen parameter (its span includes the whitespace before it, so the line stays tidy). */
export function removeListenParameter(file: string, parameter: Span): TextEdit {
  return { file, span: parameter, newText: '' };
}
