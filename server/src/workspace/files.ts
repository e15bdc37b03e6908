/**
 * All file-system work of the server and the command line lives here: finding the supported
 * files of a folder, reading them, and reading `.portolan.json`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FormatModule } from '../core/types';
import type { FolderHosts } from '../core/hosts';

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
/** Files larger than this are not configuration anyone edits by hand. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

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
export function scanFolder(root: string, modules: FormatModule[], includeCandidate: (p: string) => boolean = isIncludeCandidate): FoundFile[] {
  const found: FoundFile[] = [];
  const stack = [root];
  const seenDirs = new Set<string>();
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
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
      if (entry.isSymbolicLink()) {
        try {
          const st = fs.statSync(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
          if (isFile) {
            const target = toPosix(fs.realpathSync(full));
            const realRoot = toPosix(fs.realpathSync(root));
            if (target.startsWith(realRoot + '/')) aliasOf = toPosix(path.join(root, target.slice(realRoot.length + 1)));
          }
        } catch {
          continue;
        }
      }
      if (isDir) {
        if (!SKIPPED_DIRS.has(entry.name)) stack.push(full);
        continue;
      }
      if (!isFile) continue;
      const posix = toPosix(full);
      if (!modules.some((m) => m.matchesPath(posix)) && !includeCandidate(posix)) continue;
      const text = readText(full);
      if (text !== undefined) found.push({ path: posix, text, aliasOf });
    }
  }
  return found;
}

/** Files that a supported config may pull in with an include although their name says nothing (nginx snippets, .env). */
export function isIncludeCandidate(p: string): boolean {
  // YAML: compose's top-level include: may name any file.
  return (
    /(^|\/)(etc\/nginx|nginx|etc\/ssh|sshd_config\.d|conf\.d|snippets|sites-(available|enabled)|streams?-(available|enabled))\//.test(p) ||
    /(^|\/)\.env$/.test(p) ||
    /\.(conf|nft|rules|v4|v6|ya?ml)$/.test(p)
  );
}

export function readText(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
    const buf = fs.readFileSync(file);
    if (buf.includes(0)) return undefined; // binary
    return buf.toString('utf8');
  } catch {
    return undefined;
  }
}

export function readFolderHosts(folder: string): FolderHosts | undefined {
  const text = readText(path.join(folder, '.portolan.json'));
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as { hosts?: Record<string, string[]> };
    return json.hosts ? { folder: toPosix(folder), hosts: json.hosts } : undefined;
  } catch {
    return undefined;
  }
}

export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}
