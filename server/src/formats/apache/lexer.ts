/**
 * Apache httpd's configuration syntax (server/util.c and config.c, httpd 2.4): one directive per
 * line, a trailing backslash continues the line, `#` starts a comment only as the first character
 * of a line, arguments are words split at whitespace or quoted with " or ' (ap_getword_conf), and
 * `<Section args>` ... `</Section>` nest. Names are case-insensitive. Pure.
 */
import type { Span } from '../../core/types';

export interface ApacheWord {
  text: string;
  span: Span;
}

export interface ApacheLine {
  /** The directive name, or for a section `<Name` / `</Name` the name without brackets. */
  name: ApacheWord;
  kind: 'directive' | 'open' | 'close';
  args: ApacheWord[];
  span: Span;
  /** A section opening line without its closing '>'. */
  unterminated?: boolean;
  /** The line was continued with a backslash: word spans are approximate. */
  continued: boolean;
}

const WS = ' \t\r\f\v';

/** ap_getword_conf over `text` from `i` to `end`. */
function words(text: string, from: number, end: number): ApacheWord[] {
  const out: ApacheWord[] = [];
  let i = from;
  while (i < end) {
    while (i < end && (WS.includes(text[i]) || text[i] === '\n')) i++;
    if (i >= end) break;
    const start = i;
    const q = text[i];
    if (q === '"' || q === "'") {
      let value = '';
      i++;
      while (i < end && text[i] !== q) {
        if (text[i] === '\\' && i + 1 < end && (text[i + 1] === q || text[i + 1] === '\\')) i++;
        value += text[i++];
      }
      if (i < end) i++;
      out.push({ text: value, span: { start, end: i } });
    } else {
      while (i < end && !WS.includes(text[i]) && text[i] !== '\n') i++;
      out.push({ text: text.slice(start, i), span: { start, end: i } });
    }
  }
  return out;
}

export function lexApache(text: string): ApacheLine[] {
  const out: ApacheLine[] = [];
  const raw = text.split('\n');
  let offset = 0;
  for (let n = 0; n < raw.length; n++) {
    const lineStart = offset;
    let lineEnd = lineStart + raw[n].length;
    offset = lineEnd + 1;
    let continued = false;
    // Continuation: a backslash as the last character joins the next line.
    while (/\\[ \t\r]*$/.test(text.slice(lineStart, lineEnd)) && n + 1 < raw.length) {
      continued = true;
      n++;
      lineEnd = offset + raw[n].length;
      offset = lineEnd + 1;
    }
    let s = lineStart;
    while (s < lineEnd && WS.includes(text[s])) s++;
    let e = lineEnd;
    while (e > s && WS.includes(text[e - 1])) e--;
    if (s >= e || text[s] === '#') continue;
    const body = continued ? text.slice(s, e).replace(/\\[ \t\r]*\n/g, '  ') : text.slice(s, e);
    // Word offsets stay true when continuation turns "\\\n" into two spaces (same length).
    const shift = (w: ApacheWord): ApacheWord => ({ text: w.text, span: { start: w.span.start + s, end: w.span.end + s } });
    const ws = words(body, 0, body.length).map(shift);
    if (ws.length === 0) continue;
    const first = ws[0];
    if (first.text.startsWith('<')) {
      const close = first.text.startsWith('</');
      let args = ws.slice(1);
      let unterminated = false;
      let name = first.text.slice(close ? 2 : 1);
      if (name.endsWith('>')) name = name.slice(0, -1);
      else if (args.length > 0 && args[args.length - 1].text.endsWith('>')) {
        const last = args[args.length - 1];
        const trimmed = last.text.slice(0, -1);
        args = [...args.slice(0, -1), ...(trimmed ? [{ text: trimmed, span: { start: last.span.start, end: last.span.end - 1 } }] : [])];
      } else unterminated = true;
      const nameStart = first.span.start + (close ? 2 : 1);
      out.push({
        name: { text: name, span: { start: nameStart, end: nameStart + name.length } },
        kind: close ? 'close' : 'open',
        args,
        span: { start: s, end: e },
        unterminated: unterminated || undefined,
        continued,
      });
      continue;
    }
    out.push({ name: first, kind: 'directive', args: ws.slice(1), span: { start: s, end: e }, continued });
  }
  return out;
}
