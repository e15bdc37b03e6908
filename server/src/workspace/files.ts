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
      const read = readTextOrReason(full);
      if ('text' in read) found.push({ path: posix, text: read.text, aliasOf });
      else onSkip?.({ path: posix, reason: read.reason, unread: read.unread });
    }
  }
  return found;
}

/** A link `systemctl enable` writes: `<unit>.wants/<unit>` or `<unit>.requires/<unit>`. */
const ENABLEMENT_LINK = /(^|\/)[^/]+\.(wants|requires)\/[^/]+$/;

/** Files that a supported config may pull in with an include although their name says nothing (nginx snippets, .env). */
export function isIncludeCandidate(p: string): boolean {
  // YAML: compose's top-level include: may name any file.
  return (
    /(^|\/)(etc\/nginx|nginx|etc\/ssh|sshd_config\.d|conf\.d|snippets|sites-(available|enabled)|streams?-(available|enabled))\//.test(p) ||
    /(^|\/)\.env$/.test(p) ||
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

/** The file's text, or why it is not read (too large, binary, unreadable; `unread` for the first two). */
export function readTextOrReason(file: string): { text: string } | { reason: string; unread?: UnreadReason } {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return { reason: 'not a regular file' };
    if (st.size > MAX_FILE_BYTES)
      return { reason: `too large (${st.size} bytes; the limit is ${MAX_FILE_BYTES})`, unread: { kind: 'too-large', size: st.size, limit: MAX_FILE_BYTES } };
    const buf = fs.readFileSync(file);
    if (buf.includes(0)) return { reason: 'binary (holds NUL bytes)', unread: { kind: 'not-text', why: 'it holds NUL bytes' } };
    return { text: buf.toString('utf8') };
  } catch (e) {
    return { reason: `unreadable (${errorCode(e)})` };
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
