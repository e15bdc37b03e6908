/**
 * sshd_config's lexer: one line split into a keyword and its arguments the way OpenSSH's servconf.c
 * (strdelim) and misc.c (argv_split) split it. Stateless: every function reads one line.
 */
import type { Span } from '../../core/types';

export interface Token {
  text: string;
  span: Span;
}

/** One configuration line split the way sshd splits it. */
export interface SshdLine {
  keyword: Token;
  args: Token[];
  /** The line as sshd sees it (trailing whitespace dropped); offsets in it are relative to `lineStart`. */
  text: string;
  lineStart: number;
  /** Offset where the arguments start (what sshd hands to argv_split and to Match). */
  restStart: number;
  /** sshd would reject the line before looking at its keyword: no argument, or an unclosed quote. */
  problem?: { span: Span; message: string };
}

/** Whitespace for strdelim(); argv_split() only splits at space and tab. */
const WHITESPACE = ' \t\r\n';

function skipWhitespace(line: string, i: number): number {
  while (i < line.length && WHITESPACE.includes(line[i])) i++;
  return i;
}

export interface Word {
  text: string;
  span: Span;
  /** Where the next word starts; undefined when sshd's cursor becomes NULL. */
  next?: number;
}

/**
 * OpenSSH strdelim(): the next word from `pos`, ending at whitespace, a double quote or '='; one '='
 * (with whitespace around it) is skipped after the word. A word with an unclosed quote is NULL.
 */
export function strdelim(line: string, pos: number, offset: number): Word | undefined {
  let q = pos;
  while (q < line.length && !(WHITESPACE.includes(line[q]) || line[q] === '"' || line[q] === '=')) q++;
  if (q >= line.length) return { text: line.slice(pos), span: { start: offset + pos, end: offset + line.length } };
  if (line[q] === '"') {
    const close = line.indexOf('"', q + 1);
    if (close < 0) return undefined;
    return {
      text: line.slice(pos, q) + line.slice(q + 1, close),
      span: { start: offset + pos, end: offset + close + 1 },
      next: skipWhitespace(line, close + 1),
    };
  }
  let next = skipWhitespace(line, q + 1);
  if (line[q] !== '=' && line[next] === '=') next = skipWhitespace(line, next + 1);
  return { text: line.slice(pos, q), span: { start: offset + pos, end: offset + q }, next };
}

/**
 * OpenSSH argv_split() with comments: words split at space and tab, single or double quotes, the
 * escapes \\ \" \' and (outside quotes) "\ ", and '#' at the start of a word ends the line.
 */
function argvSplit(line: string, pos: number, offset: number): { args: Token[]; unclosedQuote?: Span } {
  const args: Token[] = [];
  let i = pos;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    if (line[i] === '#') break;
    const start = i;
    let quote = '';
    let text = '';
    for (; i < line.length; i++) {
      const c = line[i];
      if (c === '\\') {
        const n = line[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) text += line[++i];
        else text += c;
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else text += c;
    }
    const span = { start: offset + start, end: offset + i };
    if (quote !== '') return { args, unclosedQuote: span };
    args.push({ text, span });
  }
  return { args };
}

/**
 * Splits one line of sshd_config like servconf.c: leading " \t\r" and trailing whitespace are
 * dropped, the keyword ends at whitespace, a quote or one '=', the rest goes through argv_split.
 * Undefined for blank lines, comments and lines sshd skips silently.
 */
export function splitSshdLine(rawLine: string, offset: number): SshdLine | undefined {
  let end = rawLine.length;
  while (end > 1 && (WHITESPACE + '\f').includes(rawLine[end - 1])) end--;
  const line = rawLine.slice(0, end);
  let start = 0;
  while (start < line.length && ' \t\r'.includes(line[start])) start++;
  if (start >= line.length) return undefined;
  let kw = strdelim(line, start, offset);
  if (kw && kw.text === '' && kw.next !== undefined) kw = strdelim(line, kw.next, offset);
  if (!kw || kw.text === '' || kw.text.startsWith('#')) return undefined;
  const keyword: Token = { text: kw.text, span: kw.span };
  if (kw.next === undefined || kw.next >= line.length) {
    return {
      keyword,
      args: [],
      text: line,
      lineStart: offset,
      restStart: offset + line.length,
      problem: { span: keyword.span, message: `"${kw.text}" needs an argument (sshd: no argument after keyword).` },
    };
  }
  const { args, unclosedQuote } = argvSplit(line, kw.next, offset);
  const result: SshdLine = { keyword, args, text: line, lineStart: offset, restStart: offset + kw.next };
  if (unclosedQuote) result.problem = { span: unclosedQuote, message: 'Unclosed quote (sshd: invalid quotes).' };
  return result;
}
