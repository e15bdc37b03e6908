/**
 * Encodings the programs refuse (issue 17). A file that starts with a UTF-8 byte-order mark, or is
 * UTF-16 with one, is read by most of these programs as bytes: the mark becomes part of the first
 * word and the program refuses the file on line 1. Each verdict below is what the program did when
 * run on the BOM and UTF-16 variants of a small config (`test/oracle/encoding.test.ts` runs them
 * again and compares). Pure: the workspace layer says how a file on disk was encoded
 * (`Engine.setEncoding`); a text that itself starts with U+FEFF carries its mark.
 *
 * What is analysed: the rest of the file, as if the mark were not there. When the program refuses the
 * whole file, its ports are still shown (hovers, navigation and the other rules keep working), and
 * the Error on line 1 says that the program will not load it, as for any other `syntax` error.
 */
import type { Finding, FormatId, Severity } from './types';

export type FileEncoding = 'utf-8-bom' | 'utf-16le' | 'utf-16be';

/** What the program does with a file in that encoding: accepts it, refuses it (its words), or was not checked. */
type Verdict = { accepts: true } | { refuses: string } | { ignoresFirstLine: string } | { unchecked: true };

const ACCEPTS: Verdict = { accepts: true };
const UNCHECKED: Verdict = { unchecked: true };

interface ProgramVerdicts {
  program: string;
  bom: Verdict;
  utf16: Verdict;
}

const IPTABLES: ProgramVerdicts = { program: 'iptables-restore', bom: { refuses: 'line 1 failed' }, utf16: { refuses: 'line 1 failed' } };
const SYSTEMD: ProgramVerdicts = { program: 'systemd', bom: ACCEPTS, utf16: { refuses: 'String is not UTF-8 clean, ignoring assignment' } };
const FIREWALLD: ProgramVerdicts = { program: 'firewalld', bom: ACCEPTS, utf16: ACCEPTS };

/** Per format, as its program reads it (run: sshd -T, nginx -t, docker-compose config, kubectl label --local, iptables-restore --test, nft -c, haproxy -c, apache2 -t, caddy adapt, systemd-analyze verify, firewall-offline-cmd). */
const VERDICTS: Record<FormatId, ProgramVerdicts> = {
  sshd: { program: 'sshd', bom: { refuses: 'Bad configuration option: \\357\\273\\277…' }, utf16: { refuses: 'no argument after keyword "\\377\\376…"' } },
  nginx: { program: 'nginx', bom: { refuses: 'unknown directive "\\ufeff…"' }, utf16: { refuses: 'unknown directive' } },
  compose: { program: 'docker-compose', bom: ACCEPTS, utf16: ACCEPTS },
  dotenv: { program: 'docker-compose', bom: ACCEPTS, utf16: { refuses: "'utf-8' codec can't decode byte 0xff" } },
  iptables: IPTABLES,
  ufw: { ...IPTABLES, program: 'ufw (iptables-restore)' },
  'ufw-app': { program: 'ufw', bom: UNCHECKED, utf16: UNCHECKED },
  'ufw-config': { program: 'ufw', bom: UNCHECKED, utf16: UNCHECKED },
  nftables: { program: 'nft', bom: { refuses: 'syntax error, unexpected junk' }, utf16: { refuses: 'syntax error, unexpected junk' } },
  'firewalld-zone': FIREWALLD,
  'firewalld-service': FIREWALLD,
  // firewalld.conf with a mark: the first key reads "\ufeffDefaultZone", unknown, and the line is ignored (firewall-offline-cmd --get-default-zone).
  'firewalld-config': { program: 'firewalld', bom: { ignoresFirstLine: 'an unknown key' }, utf16: UNCHECKED },
  resolved: SYSTEMD,
  'systemd-socket': SYSTEMD,
  quadlet: SYSTEMD,
  apache: { program: 'apache2', bom: { refuses: "Invalid command '\\xef\\xbb\\xbf…'" }, utf16: { refuses: 'it reads no directive of a UTF-16 file' } },
  haproxy: { program: 'haproxy', bom: { refuses: "unknown keyword '\\ufeff…'" }, utf16: { refuses: 'unknown keyword' } },
  caddy: { program: 'caddy', bom: ACCEPTS, utf16: { refuses: 'unrecognized directive' } },
  // kubectl reads a file through unicode.BOMOverride (cli-runtime resource.FileVisitor): a UTF-8 mark is dropped, UTF-16 with a mark decoded.
  kubernetes: { program: 'kubectl', bom: ACCEPTS, utf16: ACCEPTS },
  // BuildKit's Dockerfile parser drops a leading UTF-8 BOM (read in its source, not run here).
  dockerfile: { program: 'docker build', bom: ACCEPTS, utf16: UNCHECKED },
};

/** The encoding of a text: a leading U+FEFF is a UTF-8 byte-order mark unless the disk said UTF-16. */
export function encodingOf(text: string, onDisk: FileEncoding | undefined): FileEncoding | undefined {
  return onDisk ?? (text.charCodeAt(0) === 0xfeff ? 'utf-8-bom' : undefined);
}

/** Readers that skip a leading mark themselves: YAML (compose, kubernetes), XML (firewalld), the iptables-restore reader (iptables, ufw). */
const KEEPS_MARK = new Set<FormatId>(['compose', 'kubernetes', 'iptables', 'ufw']);

/**
 * The text a format's reader is given: a leading U+FEFF becomes a space (same offsets) for readers that
 * would take it for part of the first word; the others get it as it is.
 */
export function textForReader(text: string, format: FormatId, context?: string): string {
  if (text.charCodeAt(0) !== 0xfeff) return text;
  // compose's reader of a .env file (context 'dotenv') is a line reader: it gets the space.
  if ((KEEPS_MARK.has(format) && context !== 'dotenv') || format.startsWith('firewalld')) return text;
  return ' ' + text.slice(1);
}

/** firewalld reads UTF-16 XML, unless its declaration names another encoding (expat: "encoding specified in XML declaration is incorrect"). */
function firewalldUtf16(text: string): Verdict {
  const decl = /^\ufeff?<\?xml[^>]*\bencoding\s*=\s*["']([^"']*)["']/.exec(text);
  if (decl && !/^utf-?16/i.test(decl[1])) return { refuses: 'encoding specified in XML declaration is incorrect' };
  return ACCEPTS;
}

/** The finding on line 1 of a file in an encoding its program refuses (none when it accepts it). */
export function encodingFinding(format: FormatId, file: string, text: string, onDisk: FileEncoding | undefined): Finding | undefined {
  const encoding = encodingOf(text, onDisk);
  if (!encoding) return undefined;
  const v = VERDICTS[format];
  const utf16 = encoding !== 'utf-8-bom';
  const verdict = utf16 && format.startsWith('firewalld') && v.utf16 !== UNCHECKED ? firewalldUtf16(text) : utf16 ? v.utf16 : v.bom;
  if ('accepts' in verdict) return undefined;
  // A key=value file whose first line is a comment or blank loses nothing.
  if ('ignoresFirstLine' in verdict && !/^\ufeff?[^\S\n]*[A-Za-z_]\w*[^\S\n]*=/.test(text)) return undefined;
  const what = utf16 ? `is UTF-16 (${encoding === 'utf-16le' ? 'little' : 'big'}-endian)` : 'starts with a UTF-8 byte-order mark';
  const markInText = text.charCodeAt(0) === 0xfeff;
  const span = { start: 0, end: markInText ? 1 : 0 };
  let severity: Severity = 'error';
  let message: string;
  if ('refuses' in verdict) message = `This file ${what}: ${v.program} refuses it on line 1 (${verdict.refuses}).`;
  else if ('ignoresFirstLine' in verdict) {
    severity = 'warning';
    message = `This file ${what}: ${v.program} reads line 1's key with the mark, ${verdict.ignoresFirstLine}, and ignores the line.`;
  } else {
    severity = 'information';
    message = `This file ${what}: not checked whether ${v.program} reads it.`;
  }
  if (utf16) message += ' Save it as UTF-8 (an editor command: Portolan cannot re-encode a file).';
  else if (markInText) message += ' Re-save it as UTF-8 without BOM.';
  else message += " Save it as UTF-8 without BOM (your editor keeps the mark out of the text, so Portolan's edits cannot remove it).";
  const finding: Finding = { file, span, severity, code: 'syntax', message, messageId: utf16 ? 'encoding-utf16' : 'encoding-bom' };
  if (markInText && !utf16) finding.fixes = [{ title: 'Re-save as UTF-8 without BOM', edits: [{ file, span, newText: '' }], preferred: true }];
  return finding;
}
