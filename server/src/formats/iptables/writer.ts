/**
 * The edits iptables quick fixes make, in iptables-restore syntax: an accept rule for one port placed
 * where it takes effect: right before the rule that decides today (an `-A` line of the same chain, so
 * the chain meets it first), or, when the chain's policy decides, at the end of that chain (before the
 * table's COMMIT; first in the chain when the table has a goto, which reaches the policy from elsewhere).
 */
import type { AllowRequest, FormatWriter, TextEdit } from '../../core/types';
import { acceptLine, appendedChain, commitAfter, insertAt, lineAt, lineBreak } from '../netfilter/writer';

function allowPort(text: string, file: string, req: AllowRequest): TextEdit[] | undefined {
  const nl = lineBreak(text);
  if (req.rule) {
    const line = lineAt(text, req.rule.start);
    const chain = appendedChain(line.text);
    // An `-I` line is placed by number, not by where it is written: nothing is inserted before it.
    return chain ? [insertAt(file, line.start, acceptLine(chain, req.protocol, req.port) + nl)] : undefined;
  }
  if (req.policy) {
    const line = lineAt(text, req.policy.start);
    const chain = /^:(\S+)\s/.exec(line.text)?.[1];
    const commit = commitAfter(text, line.end);
    if (!chain || commit === undefined) return undefined;
    const accept = acceptLine(chain, req.protocol, req.port) + nl;
    // A goto (-g) ends in the policy from inside another chain: the rule goes first in the chain, which every packet meets.
    const table = text.slice(line.end, commit);
    if (/^\s*(?:\[\d+:\d+\]\s*)?-A\s+\S+.*\s(-g|--goto)\s/m.test(table)) {
      const first = new RegExp(`^(?:\\[\\d+:\\d+\\]\\s*)?(?:-A|--append)\\s+${chain.replace(/[^\w-]/g, '\\$&')}\\s`, 'm').exec(table);
      return [insertAt(file, first ? line.end + first.index : commit, accept)];
    }
    return [insertAt(file, commit, accept)];
  }
  return undefined;
}

/** What the firewall fixes write in iptables-restore files. */
export const iptablesWriter: FormatWriter = { allowPort };
