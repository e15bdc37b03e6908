/** The edits compose files' quick fixes make, in YAML. */
import { setLiteralPort } from '../../core/fixes';
import { swapRangeFix } from '../../core/reversedRange';
import type { Fix, FormatWriter, PortFact, Span, TextEdit } from '../../core/types';
import { spanAt, type MappedText } from './interpolation';
import type { SpecError } from './ports';

/** Quotes a plain scalar (its text is its value, so quoting changes nothing else). */
export function quotePlainScalar(file: string, span: Span, value: string): TextEdit {
  return { file, span, newText: `"${value}"` };
}

/** An IPv4 or bracketed/bare IPv6 address and its colon, right before the host port of a short-syntax entry. */
const ADDRESS_BEFORE = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]*\]|::):$/;
/** Where a short-syntax entry starts: after a quote, `- `, or a flow sequence's `[`/`,`. */
const ENTRY_START = /(?:^|["'[,]|-[ \t]+|[,[][ \t]*)$/;

/**
 * Publishes on 127.0.0.1 only. Short syntax: `127.0.0.1:` before the host port (`"8080:80"` ->
 * `"127.0.0.1:8080:80"`), or in place of the address written (`0.0.0.0:8080:80`). Long syntax: a
 * `host_ip: 127.0.0.1` line beside `published:` at its indentation. Anything else (an interpolated
 * address, a port from a variable) is not rewritten.
 */
export function publishOnLoopback(text: string, fact: PortFact): TextEdit[] | undefined {
  if (fact.implicit) return undefined;
  const lineStart = text.lastIndexOf('\n', fact.span.start - 1) + 1;
  const before = text.slice(lineStart, fact.span.start);
  // Long syntax has no address docker-compose config accepts (it refuses `host_ip`): no fix there.
  if (/^[ \t]*(-[ \t]+)?published[ \t]*:/.test(before)) return undefined;
  const address = ADDRESS_BEFORE.exec(before);
  if (address) {
    const start = fact.span.start - address[0].length;
    return [{ file: fact.file, span: { start, end: start + address[1].length }, newText: '127.0.0.1' }];
  }
  if (ENTRY_START.test(before)) return [{ file: fact.file, span: { start: fact.span.start, end: fact.span.start }, newText: '127.0.0.1:' }];
  return undefined;
}

/** Whether an offset sits inside a `${...}` interpolation (a default value): not the port as written. */
function insideVariable(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  return before.lastIndexOf('${') > before.lastIndexOf('}');
}

/** What the rules' fixes write in compose files: the host side of a published port only, and the address it is published on. */
export const composeWriter: FormatWriter = {
  // Only in the compose file itself: a port from `.env` may feed other places too.
  setPort: (text, fact, port, portEnd) =>
    /\.ya?ml$/.test(fact.file) && !insideVariable(text, fact.span.start) ? setLiteralPort(text, fact, port, portEnd) : undefined,
  publishOnLoopback,
};

/**
 * "Swap to LOW-HIGH" on a reversed range error of a port spec, when the range is literal text of the
 * file (no variable, no escape: each character maps to the next one of the file).
 */
export function reversedRangeFix(file: string, value: MappedText, error: SpecError): Fix | undefined {
  if (!error.reversed) return undefined;
  const first = spanAt(value, error.start);
  if (!first) return undefined;
  for (let i = error.start; i < error.end; i++) {
    const s = spanAt(value, i);
    if (!s || s.start !== first.start + (i - error.start) || s.end !== s.start + 1) return undefined;
  }
  return swapRangeFix(file, { start: first.start, end: first.start + (error.end - error.start) }, value.text.slice(error.start, error.end), '-');
}
