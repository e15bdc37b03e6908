/**
 * All file-system work of the server and the command line lives here: finding the supported
 * files of a folder, reading them, and reading `.portolan.json`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FormatModule } from '../core/types';
import type { FolderHosts } from '../core/hosts';
import { LineIndex } from '../core/lineIndex';
import { PORTOLAN_JSON, readPortolanJson } from '../core/portolanJson';
import type { FileEncoding } from '../core/encoding';
import { MAX_ANALYSED_CHARS, type UnreadReason } from '../core/unread';

/** Folders that never hold a host's configuration, and can be huge. */
const SKIPPED_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '.cache',
  '.venv',
  'venv',
  '__pycache__',
  '.tox',
  'dist',
  'out',
  '.vscode-test',
  '.idea',
  'target',
  'vendor',
]);
/** Files larger than this are not configuration anyone edits by hand (the engine's limit for any text). */
const MAX_FILE_BYTES = MAX_ANALYSED_CHARS;

/** A file (or folder) the scan passed over, and why; `scanFolder`'s `onSkip` hears of each. */
export interface SkippedFile {
  path: string;
  reason: string;
  /** A file that was there but not read (too large, not text): the engine notes it on the file (`Engine.setUnread`). */
  unread?: UnreadReason;
}

export interface FoundFile {
  path: string;
  text: string;
  /** The file is a symbolic link to this other file of the folder (sites-enabled/X -> sites-available/X). */
  aliasOf?: string;
  /** Not plain UTF-8 on disk (a byte-order mark, UTF-16): the engine reports what the program makes of it (`Engine.setEncoding`). */
  encoding?: FileEncoding;
}

/**
 * Every file below `root` that a format claims by path, plus every file such a format may include
 * (all regular files are indexed by name only: `includeCandidate` decides whether to read it).
 */
export function scanFolder(
  root: string,
  modules: FormatModule[],
  includeCandidate: (p: string) => boolean = isIncludeCandidate,
  onSkip?: (skipped: SkippedFile) => void,
): FoundFile[] {
  const found: FoundFile[] = [];
  let realRoot: string;
  try {
    realRoot = toPosix(fs.realpathSync.native(root));
  } catch {
    return found;
  }
  // Each folder with its real path: a folder reached through a plain entry is its parent's real path
  // and its name (no realpath call per folder); only a symbolic link needs resolving.
  const stack: { dir: string; real: string }[] = [{ dir: root, real: realRoot }];
  const inside = (real: string) => real === realRoot || real.startsWith(realRoot + '/');
  const seenDirs = new Set<string>();
  while (stack.length > 0) {
    const { dir, real } = stack.pop()!;
    if (seenDirs.has(real)) continue; // symlink loops
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let aliasOf: string | undefined;
      let realDir = `${real}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        try {
          const st = fs.statSync(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
          const target = toPosix(fs.realpathSync(full));
          realDir = target;
          if (isFile && target.startsWith(realRoot + '/')) aliasOf = toPosix(path.join(root, target.slice(realRoot.length + 1)));
          // A link to a folder outside the workspace (to /) is not walked; a link to a file outside may be read.
          if (isDir && !inside(target)) {
            onSkip?.({ path: toPosix(full), reason: `symbolic link to a folder outside the workspace (${target}): not followed` });
            continue;
          }
        } catch (e) {
          // systemd's enablement links (`sockets.target.wants/ssh.socket -> /lib/systemd/system/ssh.socket`) dangle in a
          // copied /etc: their presence is what they say, so they are passed on, empty.
          if (ENABLEMENT_LINK.test(toPosix(full)) && isCandidate(toPosix(full), modules, includeCandidate)) {
            found.push({ path: toPosix(full), text: '' });
            continue;
          }
          if (onSkip && isCandidate(toPosix(full), modules, includeCandidate))
            onSkip({ path: toPosix(full), reason: `broken symbolic link (${errorCode(e)})` });
          continue;
        }
      }
      if (isDir) {
        if (!SKIPPED_DIRS.has(entry.name)) stack.push({ dir: full, real: realDir });
        else onSkip?.({ path: toPosix(full), reason: 'folder never scanned (never holds configuration)' });
        continue;
      }
      if (!isFile) continue;
      const posix = toPosix(full);
      if (!isCandidate(posix, modules, includeCandidate)) continue;
      const read = readRegularFile(full);
      if ('text' in read) found.push({ path: posix, text: read.text, aliasOf, encoding: read.encoding });
      else onSkip?.({ path: posix, reason: read.reason, unread: read.unread });
    }
  }
  return found;
}

/** `file` is a folder now (false when it is gone or unreadable). */
export function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** A link `systemctl enable` writes: `<unit>.wants/<unit>` or `<unit>.requires/<unit>`. */
const ENABLEMENT_LINK = /(^|\/)[^/]+\.(wants|requires)\/[^/]+$/;

/** Files whose presence is evidence and whose content is not text: passed on empty. */
const PRESENCE_ONLY = /(^|\/)(usr\/)?lib\/systemd\/system-generators\/sshd-socket-generator$/;

/** Files that a supported config may pull in with an include although their name says nothing (nginx snippets, .env). */
export function isIncludeCandidate(p: string): boolean {
  // YAML: compose's top-level include: may name any file.
  return (
    /(^|\/)(etc\/nginx|nginx|etc\/ssh|sshd_config\.d|conf\.d|snippets|sites-(available|enabled)|streams?-(available|enabled))\//.test(p) ||
    /(^|\/)\.env$/.test(p) ||
    // ssh.socket's evidence for Ubuntu's sshd-socket-generator (formats/socket).
    /(^|\/)(etc|usr\/lib)\/os-release$/.test(p) ||
    PRESENCE_ONLY.test(p) ||
    /\.(conf|nft|rules|v4|v6|ya?ml)$/.test(p)
  );
}

function isCandidate(p: string, modules: FormatModule[], includeCandidate: (p: string) => boolean): boolean {
  return modules.some((m) => m.matchesPath(p)) || includeCandidate(p);
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

export function readText(file: string): string | undefined {
  const read = readTextOrReason(file);
  return 'text' in read ? read.text : undefined;
}

/** One scratch buffer for the scan's reads: a configuration file fits in it, and decodeText copies what it keeps. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/**
 * readTextOrReason for a file the scan found regular: one open and one read for a file that fits the scratch
 * buffer (no stat: the directory entry said what it is), readTextOrReason for anything larger or amiss.
 */
function readRegularFile(file: string): ReturnType<typeof readTextOrReason> {
  if (PRESENCE_ONLY.test(toPosix(file))) return { text: '' };
  let fd: number | undefined;
  let n: number;
  try {
    fd = fs.openSync(file, 'r');
    n = fs.readSync(fd, SCRATCH, 0, SCRATCH.length, 0);
  } catch {
    n = -1;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return n >= 0 && n < SCRATCH.length ? decodeText(SCRATCH.subarray(0, n)) : readTextOrReason(file);
}

/** The file's text, or why it is not read (too large, binary, unreadable; `unread` for the first two). */
export function readTextOrReason(file: string): { text: string; encoding?: FileEncoding } | { reason: string; unread?: UnreadReason } {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return { reason: 'not a regular file' };
    // A program whose presence is what counts (Ubuntu's sshd-socket-generator, formats/socket): not read.
    if (PRESENCE_ONLY.test(toPosix(file))) return { text: '' };
    if (st.size > MAX_FILE_BYTES)
      return { reason: `too large (${st.size} bytes; the limit is ${MAX_FILE_BYTES})`, unread: { kind: 'too-large', size: st.size, limit: MAX_FILE_BYTES } };
    return decodeText(fs.readFileSync(file));
  } catch (e) {
    return { reason: `unreadable (${errorCode(e)})` };
  }
}

/**
 * A file's bytes as text, as editors decode them: UTF-16 with its byte-order mark decoded (the mark
 * dropped, as an editor shows it), UTF-8 with its mark kept as U+FEFF (an edit can delete it); a file
 * with NUL bytes otherwise is not text.
 */
export function decodeText(buf: Buffer): { text: string; encoding?: FileEncoding } | { reason: string; unread: UnreadReason } {
  const encoding = encodingOfBytes(buf);
  if (encoding === 'utf-16le') return { text: buf.subarray(2, buf.length - (buf.length % 2)).toString('utf16le'), encoding };
  if (encoding === 'utf-16be')
    return {
      text: Buffer.from(buf.subarray(2, buf.length - (buf.length % 2)))
        .swap16()
        .toString('utf16le'),
      encoding,
    };
  if (buf.includes(0)) return { reason: 'binary (holds NUL bytes)', unread: { kind: 'not-text', why: 'it holds NUL bytes' } };
  return encoding ? { text: buf.toString('utf8'), encoding } : { text: buf.toString('utf8') };
}

/** The encoding a file's first bytes announce (its byte-order mark), if any. */
export function encodingOfBytes(head: Uint8Array): FileEncoding | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8-bom';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** How a file on disk is encoded (its first bytes), for an opened document whose text the editor decoded. */
export function encodingOnDisk(file: string): FileEncoding | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(3);
    const n = fs.readSync(fd, head, 0, 3, 0);
    return encodingOfBytes(head.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function readFolderHosts(folder: string): FolderHosts | undefined {
  const read = readFolderHostsOrError(folder);
  return 'error' in read ? undefined : read.hosts;
}

/** The hosts a `.portolan.json` text says (its valid part; core/portolanJson.ts), for `folder`. */
export function folderHostsOf(folder: string, text: string | undefined): FolderHosts | undefined {
  const config = text === undefined ? undefined : readPortolanJson(text).config;
  return config ? { folder: toPosix(folder), ...config } : undefined;
}

/**
 * `.portolan.json` of a folder: its hosts (undefined when there is no file), or why the command
 * line cannot use it: it is unreadable, not valid JSON, or a value has the wrong shape (the server
 * keeps the valid part; every mistake is a `portolan-json` finding on the file).
 */
export function readFolderHostsOrError(folder: string): { hosts?: FolderHosts; text?: string } | { error: string } {
  const file = path.join(folder, PORTOLAN_JSON);
  if (!fs.existsSync(file)) return {};
  const read = readTextOrReason(file);
  if ('reason' in read) return { error: `${file}: ${read.reason}` };
  const config = readPortolanJson(read.text);
  const fatal = config.problems.find((p) => p.severity === 'error');
  if (fatal) {
    const at = new LineIndex(read.text).position(fatal.span.start);
    return { error: `${file}:${at.line + 1}:${at.character + 1}: ${fatal.what}` };
  }
  return { hosts: { folder: toPosix(folder), ...config.config! }, text: read.text };
}

export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}
