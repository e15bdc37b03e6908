/**
 * Which host a file belongs to. By default a workspace folder is one host; `portolan.hosts`
 * (or `.portolan.json` at the folder root) maps globs, relative to the folder, to host names.
 */
import picomatch from 'picomatch';
import * as path from 'path';

export interface FolderHosts {
  folder: string;
  /** host name -> globs relative to the folder */
  hosts: Record<string, string[]>;
}

export class HostMap {
  private folders: { folder: string; matchers: { name: string; isMatch: (p: string) => boolean }[] }[] = [];
  private readonly cache = new Map<string, string>();
  /** Bumped on every change, so analyses made under the old mapping are known stale. */
  version = 0;

  setFolders(folders: FolderHosts[]): void {
    // Longest folder first so nested workspace folders win.
    this.folders = [...folders]
      .sort((a, b) => b.folder.length - a.folder.length)
      .map(({ folder, hosts }) => ({
        folder,
        matchers: Object.entries(hosts).map(([name, globs]) => {
          const isMatch = picomatch(globs, { dot: true });
          // The static directory of each glob: a cheap prefix test before the regex (1,000 hosts x 10,000 files).
          const bases = globs.map((g) => picomatch.scan(g).base);
          const canMatch = (rel: string) => bases.some((b) => b === '' || rel === b || rel.startsWith(b + '/'));
          return { name, isMatch: (rel: string) => canMatch(rel) && isMatch(rel) };
        }),
      }));
    this.cache.clear();
    this.version++;
  }

  hostOf(file: string): string {
    let host = this.cache.get(file);
    if (host === undefined) {
      host = this.compute(file);
      this.cache.set(file, host);
    }
    return host;
  }

  private compute(file: string): string {
    for (const { folder, matchers } of this.folders) {
      const rel = path.posix.relative(folder, file);
      if (rel.startsWith('..') || path.posix.isAbsolute(rel)) continue;
      const named = matchers.find((m) => m.isMatch(rel));
      return named ? `${folder}#${named.name}` : folder;
    }
    // A file outside every folder (opened on its own) is a host of its own directory.
    return path.posix.dirname(file);
  }

  /** A file as messages name it: relative to its workspace folder. */
  shownPath(file: string): string {
    for (const { folder } of this.folders) {
      const rel = path.posix.relative(folder, file);
      if (!rel.startsWith('..') && !path.posix.isAbsolute(rel)) return rel;
    }
    return file;
  }

  /** "web1" for a named host, else the folder's base name. */
  static label(host: string): string {
    const hash = host.lastIndexOf('#');
    return hash >= 0 ? host.slice(hash + 1) : path.posix.basename(host) || host;
  }
}
