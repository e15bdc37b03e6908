/**
 * The edits nftables quick fixes make, in nft's own syntax: a `tcp dport P accept` rule placed where
 * it takes effect: right before the rule that decides today (same chain, so the chain meets it first),
 * or, when the base chain's policy decides, at the end of that chain (before its closing brace; first,
 * after the policy's line, when the ruleset has a goto, which reaches the policy from elsewhere). The
 * flat command syntax (`add rule inet filter input ...`) gets an `add rule` line of its own.
 */
import type { AllowRequest, FormatWriter, TextEdit } from '../../core/types';
import { insertAt, lineAt, lineBreak } from '../netfilter/writer';

/** The offset of the `}` that closes the block `offset` is in (comments and strings skipped). */
function closingBrace(text: string, offset: number): number | undefined {
  let depth = 0;
  for (let i = offset; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return undefined;
      i = nl;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return undefined;
      i = close;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return undefined;
}

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0];

/** `add rule FAMILY TABLE CHAIN` of a flat command line, or undefined (`insert rule` prepends: nothing goes before it). */
const flatRule = (line: string) => /^\s*(?:add\s+)?rule\s+(\S+\s+\S+\s+\S+)\s/.exec(line)?.[1];
const flatChain = (line: string) => /^\s*(?:add|create)\s+chain\s+(\S+\s+\S+\s+\S+)\s/.exec(line)?.[1];

function allowPort(text: string, file: string, req: AllowRequest): TextEdit[] | undefined {
  const nl = lineBreak(text);
  const rule = `${req.protocol} dport ${req.port} accept`;
  if (req.rule) {
    const line = lineAt(text, req.rule.start);
    if (/^\s*insert\s/.test(line.text)) return undefined;
    const flat = flatRule(line.text);
    if (flat) return [insertAt(file, line.start, `${indentOf(line.text)}add rule ${flat} ${rule}${nl}`)];
    if (/^\s*(add|create|insert|replace|delete|flush|table|chain)\b/.test(line.text)) return undefined;
    // A verdict map earlier in the chain sends some packets elsewhere (a jump per interface): a rule here would not reach them.
    if (/\bvmap\b/.test(text.slice(text.lastIndexOf('chain ', req.rule.start), req.rule.start).replace(/#.*$/gm, ''))) return undefined;
    const alone = text.slice(line.start, req.rule.start).trim() === '';
    return [alone ? insertAt(file, line.start, `${indentOf(line.text)}${rule}${nl}`) : insertAt(file, req.rule.start, `${rule}; `)];
  }
  if (req.policy) {
    const line = lineAt(text, req.policy.start);
    const flat = flatChain(line.text);
    if (flat) {
      const next = Math.min(text.length, line.end + 1);
      return [insertAt(file, next, `${next === text.length && !text.endsWith('\n') ? nl : ''}add rule ${flat} ${rule}${nl}`)];
    }
    // A goto ends in the policy from inside another chain: then the rule goes first, after the policy's line.
    const close = closingBrace(text, req.policy.end);
    if (close === undefined) return undefined;
    if (/\bgoto\b/.test(text.replace(/#.*$/gm, '')) && close > line.end && /;\s*$/.test(line.text))
      return [insertAt(file, line.end + 1, `${indentOf(line.text)}${rule}${nl}`)];
    const closeLine = lineAt(text, close);
    if (text.slice(closeLine.start, close).trim() === '') return [insertAt(file, closeLine.start, `${indentOf(line.text)}${rule}${nl}`)];
    // `{ type filter hook input priority 0; policy drop; }` on one line: the rule before the brace.
    const before = text.slice(0, close).replace(/[ \t]+$/, '');
    return [insertAt(file, before.length, `${before.endsWith(';') || before.endsWith('{') ? '' : ';'} ${rule};`)];
  }
  return undefined;
}

/** What the firewall fixes write in nftables files. */
export const nftablesWriter: FormatWriter = { allowPort };
