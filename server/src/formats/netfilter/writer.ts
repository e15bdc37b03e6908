/**
 * The edits netfilter quick fixes make in iptables-restore syntax (iptables files and ufw's rule files
 * share it): where a line sits, which chain an `-A` line appends to, the COMMIT that ends a table, and
 * the accept rule itself as iptables-save writes it.
 */
import type { Span, TextEdit } from '../../core/types';

export interface TextLine {
  /** Offset of the line's first character. */
  start: number;
  /** Offset of its end (before the line break). */
  end: number;
  text: string;
}

/** The line holding `offset`. */
export function lineAt(text: string, offset: number): TextLine {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end < 0) end = text.length;
  return { start, end, text: text.slice(start, end).replace(/\r$/, '') };
}

/** The line before `line`, or undefined at the top of the file. */
export function lineBefore(text: string, line: TextLine): TextLine | undefined {
  return line.start === 0 ? undefined : lineAt(text, line.start - 1);
}

/** The line break the file uses. */
export const lineBreak = (text: string): string => (text.includes('\r\n') ? '\r\n' : '\n');

/** The chain an `-A CHAIN ...` line appends to (a `[packets:bytes]` counter prefix allowed); undefined for `-I` and anything else. */
export function appendedChain(line: string): string | undefined {
  return /^\s*(?:\[\d+:\d+\]\s*)?(?:-A|--append)\s+(\S+)/.exec(line)?.[1];
}

/** The start of the first COMMIT line at or after `offset` (the end of the table a line belongs to). */
export function commitAfter(text: string, offset: number): number | undefined {
  const re = /^COMMIT[ \t]*\r?$/gm;
  re.lastIndex = offset;
  const m = re.exec(text);
  return m ? m.index : undefined;
}

/** `-A CHAIN -p tcp --dport P -j ACCEPT`. */
export const acceptLine = (chain: string, protocol: string, port: number): string => `-A ${chain} -p ${protocol} --dport ${port} -j ACCEPT`;

/** Text inserted at the start of a line. */
export const insertAt = (file: string, offset: number, newText: string): TextEdit => ({ file, span: { start: offset, end: offset } as Span, newText });
