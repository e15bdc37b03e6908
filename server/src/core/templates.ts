/**
 * Template markup in a config file (Jinja/Ansible `{{ }}` `{% %}`, Go templates `{{- -}}`, ERB
 * `<%= %>`): such a file is rendered by a tool before the program reads it, so the program's syntax
 * does not apply to it as written. Pure; every scan is linear (indexOf per line, no backtracking).
 */
import type { FileParse, FormatId, Span } from './types';

const PAIRS: [open: string, close: string][] = [
  ['{{', '}}'],
  ['{%', '%}'],
  ['{#', '#}'],
  ['<%', '%>'],
];

/** Formats whose values are YAML/dotenv strings: markup inside a quoted value is that value's text (a Go template label), not a template of the file. */
const QUOTING_FORMATS = new Set<FormatId>(['compose', 'dotenv']);

/**
 * The first template tag of `text` (an opening and its closing on the same line), or undefined.
 * In YAML and .env files a tag inside a quoted string is not markup (`tag: "{{.Name}}"` is a value compose passes on).
 */
export function templateMarkup(text: string, format: FormatId): Span | undefined {
  const quoting = QUOTING_FORMATS.has(format);
  // The next occurrence of each opening and closing at or after where it is next looked for: each
  // indexOf moves forward only, so the whole scan is linear (a search per line over the rest of the
  // text was quadratic: a 3 MB rules.v4 without markup took 2.8 s).
  const next = new Map<string, number>();
  const find = (needle: string, from: number): number => {
    const known = next.get(needle);
    if (known !== undefined && (known < 0 || known >= from)) return known;
    const at = text.indexOf(needle, from);
    next.set(needle, at);
    return at;
  };
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const found = tagInLine(text, lineStart, lineEnd, quoting, find);
    if (found) return found;
    lineStart = lineEnd + 1;
  }
  return undefined;
}

function tagInLine(text: string, start: number, end: number, quoting: boolean, find: (needle: string, from: number) => number): Span | undefined {
  let best: Span | undefined;
  for (const [open, close] of PAIRS) {
    const at = find(open, start);
    if (at < 0 || at >= end || (best && at >= best.start)) continue;
    const shut = find(close, at + open.length);
    if (shut < 0 || shut + close.length > end) continue;
    // `{#` is also nft/nginx text rarely, but only with its `#}` on the line; `<%` needs ERB's `<%=`/`<%-`/`<% ` form.
    if (open === '<%' && !/[=\- ]/.test(text[at + 2] ?? '')) continue;
    if (quoting && insideQuotes(text.slice(start, at))) continue;
    best = { start: at, end: shut + close.length };
  }
  return best;
}

/** The text before a position leaves a quoted string open. */
function insideQuotes(before: string): boolean {
  let quote: string | undefined;
  for (const ch of before) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return false;
  }
  return quote !== undefined;
}

export const TEMPLATE_NOTE = 'template: rendered before use, not checked';

/**
 * What a template file gives: no facts (which lines survive the rendering, and with what values,
 * cannot be known without guessing), no includes, and one Information note on its first tag.
 */
export function templateParse(format: FormatId, file: string, tag: Span): FileParse {
  return {
    format,
    file,
    facts: [],
    includes: [],
    findings: [{ file, span: tag, severity: 'information', code: 'syntax', message: TEMPLATE_NOTE }],
  };
}
