/**
 * The Caddyfile's tokens (caddyconfig/caddyfile/lexer.go, Caddy 2.6): words split at whitespace,
 * "quoted" and `backquoted` words, `#` at the start of a word comments out the rest of the line,
 * and a backslash escapes the next character. Each token keeps its line. Pure.
 */
import type { Span } from '../../core/types';

export interface CaddyToken {
  text: string;
  span: Span;
  line: number;
  /** Written in quotes: a `{` or `}` in quotes is not a brace. */
  quoted: boolean;
}

export function lexCaddyfile(text: string): CaddyToken[] {
  const out: CaddyToken[] = [];
  let i = 0;
  let line = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    const startLine = line;
    let value = '';
    if (c === '"' || c === '`') {
      i++;
      while (i < text.length && text[i] !== c) {
        if (c === '"' && text[i] === '\\' && text[i + 1] === '"') i++;
        if (text[i] === '\n') line++;
        value += text[i++];
      }
      i++;
      out.push({ text: value, span: { start, end: Math.min(i, text.length) }, line: startLine, quoted: true });
      continue;
    }
    while (i < text.length && !' \t\r\n'.includes(text[i])) {
      if (text[i] === '\\' && i + 1 < text.length && text[i + 1] !== '\n') {
        value += text[i + 1];
        i += 2;
        continue;
      }
      value += text[i++];
    }
    out.push({ text: value, span: { start, end: i }, line: startLine, quoted: false });
  }
  return out;
}
