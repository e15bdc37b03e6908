/**
 * The syntax of systemd's configuration files (conf-parser.c, systemd 252): `[Section]` headers,
 * `Key=Value` assignments with whitespace around both trimmed, `#` and `;` comment lines, and a
 * trailing backslash that continues the value on the next line (the backslash becomes a space).
 * Keys are case-sensitive. Pure; positions are offsets into the text.
 */
import type { Span } from '../../core/types';

export interface IniAssignment {
  section: string | undefined;
  key: string;
  keySpan: Span;
  /** The value with continuation lines joined; offsets in it map to the text only when `plain`. */
  value: string;
  valueSpan: Span;
  /** The value stands on one line, so `valueSpan.start + i` is the offset of `value[i]`. */
  plain: boolean;
}

export interface IniSection {
  name: string;
  span: Span;
}

export interface IniFile {
  sections: IniSection[];
  assignments: IniAssignment[];
  /** Lines systemd logs and skips: no '=', an unterminated section header. */
  invalid: { span: Span; message: string }[];
}

const WS = ' \t\n\r';

function trimSpan(text: string, start: number, end: number): Span {
  while (start < end && WS.includes(text[start])) start++;
  while (end > start && WS.includes(text[end - 1])) end--;
  return { start, end };
}

export function parseIni(text: string): IniFile {
  const out: IniFile = { sections: [], assignments: [], invalid: [] };
  let section: string | undefined;
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineStart = offset;
    offset += lines[i].length + 1;
    const span = trimSpan(text, lineStart, lineStart + lines[i].length);
    const line = text.slice(span.start, span.end);
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) {
        out.invalid.push({ span, message: 'Invalid section header (systemd ignores the line).' });
        continue;
      }
      section = line.slice(1, -1);
      out.sections.push({ name: section, span });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      out.invalid.push({ span, message: 'Missing "=" (systemd ignores the line).' });
      continue;
    }
    const keySpan = trimSpan(text, span.start, span.start + eq);
    let valueSpan = trimSpan(text, span.start + eq + 1, span.end);
    let value = text.slice(valueSpan.start, valueSpan.end);
    let plain = true;
    // Continuation lines: a value ending in a backslash goes on with the next line.
    while (value.endsWith('\\') && i + 1 < lines.length) {
      plain = false;
      const nextStart = offset;
      offset += lines[++i].length + 1;
      const next = trimSpan(text, nextStart, nextStart + lines[i].length);
      const nextText = text.slice(next.start, next.end);
      // A comment line inside a continuation is skipped; the value goes on after it.
      if (nextText.startsWith('#') || nextText.startsWith(';')) continue;
      value = `${value.slice(0, -1)} ${nextText}`.trim();
      valueSpan = { start: valueSpan.start, end: next.end };
    }
    out.assignments.push({ section, key: text.slice(keySpan.start, keySpan.end), keySpan, value, valueSpan, plain });
  }
  return out;
}
