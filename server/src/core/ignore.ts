/** Silencing findings with `portolan-ignore` comments, and the quick fix that writes one. Pure. */
import type { LineIndex } from './lineIndex';
import type { Finding, FormatId, Fix } from './types';

/**
 * `portolan-ignore` in a comment on the finding's line or the line above silences it; followed by
 * codes (`portolan-ignore port-conflict, ephemeral-port`) it silences only those. The marker is
 * looked for as text, so it works in every format's comment syntax.
 */
const IGNORE_MARKER = /portolan-ignore(?!-file)\b([ \t:]*((?:[a-z]+(?:-[a-z]+)*)(?:[ \t]*,[ \t]*[a-z]+(?:-[a-z]+)*)*))?/;

/** `portolan-ignore-file CODE[, CODE]` in a comment anywhere in the file silences those codes in the whole file (codes are required). */
const FILE_MARKER = /portolan-ignore-file[ \t:]+((?:[a-z]+(?:-[a-z]+)*)(?:[ \t]*,[ \t]*[a-z]+(?:-[a-z]+)*)*)/g;

/** The codes a file silences for itself with `portolan-ignore-file` comments. */
export function fileIgnoredCodes(text: string): ReadonlySet<string> {
  if (text === lastText) return lastCodes;
  const codes = new Set<string>();
  if (text.includes('portolan-ignore-file')) for (const m of text.matchAll(FILE_MARKER)) for (const c of m[1].split(',')) codes.add(c.trim());
  lastText = text;
  lastCodes = codes;
  return codes;
}
// The last file asked about (findings come grouped by file, so one entry saves rereading it per finding).
let lastText: string | undefined;
let lastCodes: ReadonlySet<string> = new Set();

export function ignoredByComment(text: string, index: LineIndex, finding: Finding): boolean {
  if (text.includes('portolan-ignore-file') && fileIgnoredCodes(text).has(finding.code)) return true;
  const line = index.position(finding.span.start).line;
  for (const l of [line, line - 1]) {
    if (l < 0) continue;
    const start = index.offset(l, 0);
    const end = index.offset(l + 1, 0);
    const m = IGNORE_MARKER.exec(text.slice(start, end));
    if (!m) continue;
    const codes = m[2]?.split(',').map((c) => c.trim());
    if (!codes || codes.includes(finding.code)) return true;
  }
  return false;
}

/** Formats whose files are XML: their comments are <!-- -->. */
const XML_FORMATS = new Set<FormatId>(['firewalld-zone', 'firewalld-service']);

/**
 * "Ignore CODE on this line": a comment line above the finding's line, indented like it. Not
 * offered where a comment line cannot go (an XML line that does not start an element).
 */
export function ignoreFix(text: string, index: LineIndex, finding: Finding, format: FormatId | undefined): Fix | undefined {
  const line = index.position(finding.span.start).line;
  const lineStart = index.offset(line, 0);
  const lineText = text.slice(lineStart, index.offset(line + 1, 0));
  const indent = /^[ \t]*/.exec(lineText)![0];
  const eol = lineText.endsWith('\r\n') ? '\r\n' : '\n';
  const xml = format !== undefined && XML_FORMATS.has(format);
  if (xml && !lineText.slice(indent.length).startsWith('<')) return undefined;
  const comment = xml ? `<!-- portolan-ignore ${finding.code} -->` : `# portolan-ignore ${finding.code}`;
  return {
    title: `Ignore ${finding.code} on this line (portolan-ignore comment)`,
    edits: [{ file: finding.file, span: { start: lineStart, end: lineStart }, newText: `${indent}${comment}${eol}` }],
  };
}

/**
 * "Ignore CODE in this file": a `portolan-ignore-file CODE` comment as the file's first line (after an
 * XML declaration, or a `#!` line, which must stay first). Not offered when the file already has one
 * for the code.
 */
export function ignoreFileFix(text: string, finding: Finding, format: FormatId | undefined): Fix | undefined {
  if (fileIgnoredCodes(text).has(finding.code)) return undefined;
  const xml = format !== undefined && XML_FORMATS.has(format);
  const firstEnd = text.indexOf('\n');
  const first = text.slice(0, firstEnd < 0 ? text.length : firstEnd);
  const eol = first.endsWith('\r') ? '\r\n' : '\n';
  const keepFirst = xml ? /^\s*<\?xml\b/.test(first) : first.startsWith('#!');
  const at = keepFirst ? (firstEnd < 0 ? text.length : firstEnd + 1) : 0;
  const lead = keepFirst && firstEnd < 0 ? eol : '';
  const comment = xml ? `<!-- portolan-ignore-file ${finding.code} -->` : `# portolan-ignore-file ${finding.code}`;
  return {
    title: `Ignore ${finding.code} in this file (portolan-ignore-file comment)`,
    edits: [{ file: finding.file, span: { start: at, end: at }, newText: `${lead}${comment}${eol}` }],
  };
}
