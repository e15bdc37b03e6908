/**
 * The edits ufw quick fixes make in user.rules / user6.rules, exactly as `ufw allow P/tcp` writes
 * them: a `### tuple ###` comment and its `-A ufw-user-input` (`ufw6-user-input`) line, a blank line
 * after. Placed at the end of the user rules (before `### END RULES ###`) when the policy decides, or
 * right before the user rule that decides today (its tuple comment). A rule in before.rules or
 * after.rules is not ufw's to rewrite: nothing is offered then.
 */
import type { AllowRequest, FormatWriter, TextEdit } from '../../core/types';
import { acceptLine, commitAfter, insertAt, lineAt, lineBefore, lineBreak } from '../netfilter/writer';

function allowPort(text: string, file: string, req: AllowRequest): TextEdit[] | undefined {
  if (!/(^|\/)user6?\.rules$/.test(file)) return undefined;
  const nl = lineBreak(text);
  const v6 = /(^|\n):ufw6-user-input\b/.test(text) || (!/(^|\n):ufw-user-input\b/.test(text) && /user6\.rules$/.test(file));
  if (v6 !== (req.family === 'ipv6')) return undefined;
  const any = v6 ? '::/0' : '0.0.0.0/0';
  const tuple = `### tuple ### allow ${req.protocol} ${req.port} ${any} any ${any} in${nl}${acceptLine(v6 ? 'ufw6-user-input' : 'ufw-user-input', req.protocol, req.port)}${nl}`;
  if (req.rule) {
    const line = lineAt(text, req.rule.start);
    const comment = lineBefore(text, line);
    const at = comment && /^### tuple ###/.test(comment.text) ? comment.start : line.start;
    return [insertAt(file, at, tuple + nl)];
  }
  const end = /^### END RULES ###[ \t]*\r?$/m.exec(text);
  if (end) {
    const before = end.index > 0 ? lineAt(text, end.index - 1) : undefined;
    return [insertAt(file, end.index, `${before && before.text.trim() !== '' ? nl : ''}${tuple}${nl}`)];
  }
  const start = /^### RULES ###[ \t]*\r?$/m.exec(text);
  if (start) {
    const next = lineAt(text, start.index).end + 1;
    return next <= text.length ? [insertAt(file, next, `${nl}${tuple}`)] : undefined;
  }
  const commit = commitAfter(text, 0);
  return commit !== undefined ? [insertAt(file, commit, tuple)] : undefined;
}

/** What the firewall fixes write in ufw's user rules. */
export const ufwWriter: FormatWriter = { allowPort };
