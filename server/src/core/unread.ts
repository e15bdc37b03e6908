/**
 * Files the engine does not parse, and the one note each gets instead: a text over the size limit
 * (an opened document or a file on disk), or a file that is not text (NUL bytes, binary). Pure: the
 * workspace layer says why a file on disk was not read; the engine applies the size limit to every
 * text it is handed, so an opened document follows the same policy as a file on disk.
 */
import type { FileParse, Finding, FormatId, Severity } from './types';

/** Texts longer than this (UTF-16 code units, about bytes) are not analysed: 4 MiB, as files on disk. */
export const MAX_ANALYSED_CHARS = 4 * 1024 * 1024;

/** Why a file is not parsed, as data (the finding's messageId and its words). */
export type UnreadReason = { kind: 'too-large'; size: number; limit: number } | { kind: 'not-text'; why: string };

export function tooLarge(text: string): UnreadReason | undefined {
  return text.length > MAX_ANALYSED_CHARS ? { kind: 'too-large', size: text.length, limit: MAX_ANALYSED_CHARS } : undefined;
}

export function unreadMessage(reason: UnreadReason): string {
  if (reason.kind === 'too-large')
    return `Not analysed: this file is ${megabytes(reason.size)}, over Portolan's limit of ${megabytes(reason.limit)} for one file; its ports are not checked.`;
  return `Not a text file (${reason.why}): not analysed.`;
}

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** What an unread file gives: no facts, no includes, one Information note at its start. */
export function unreadParse(format: FormatId, file: string, reason: UnreadReason): FileParse {
  return noteParse(format, file, 'information', unreadMessage(reason), reason.kind);
}

/** A parse that is one note at the start of the file and nothing else (also the engine's answer when a parser fails). */
export function noteParse(format: FormatId, file: string, severity: Severity, message: string, messageId?: string): FileParse {
  const note: Finding = { file, span: { start: 0, end: 0 }, severity, code: 'syntax', message };
  if (messageId) note.messageId = messageId;
  return { format, file, facts: [], includes: [], findings: [note] };
}
