/** The edits nginx's quick fixes make, in nginx's own syntax. */
import { setLiteralPort } from '../../core/fixes';
import type { FormatWriter, Span, TextEdit } from '../../core/types';

/** Removes one listen parameter (its span includes the whitespace before it, so the line stays tidy). */
export function removeListenParameter(file: string, parameter: Span): TextEdit {
  return { file, span: parameter, newText: '' };
}

/** What the rules' fixes write in nginx files: a `listen` port as written digits (`listen 127.0.0.1:8080` keeps its address and parameters). */
export const nginxWriter: FormatWriter = {
  setPort: setLiteralPort,
};
