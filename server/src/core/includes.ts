/**
 * Resolves include patterns (sshd Include, nginx include, nftables include) against the files of
 * the workspace, which is all the core knows of the disk. Absolute paths of the target system
 * (/etc/nginx/conf.d/*.conf) are mapped onto the workspace when it mirrors the file system: the
 * nearest ancestor A of the including file for which A + path matches wins.
 */
import * as path from 'path';
import picomatch from 'picomatch';
import { BoundedCache } from './boundedCache';
import { flat } from './strings';
import type { IncludeRef } from './types';

/**
 * The workspace's files by directory: the files right in each directory, and each directory's
 * subdirectories that hold files. Each file is kept once, not under every ancestor: an nginx
 * instance builds one over its files, the engine one over the workspace.
 */
export class FileIndex {
  private readonly filesIn = new Map<string, Set<string>>();
  private readonly dirsIn = new Map<string, Set<string>>();

  constructor(paths: Iterable<string> = []) {
    for (const p of paths) this.add(p);
  }

  add(file: string): void {
    const dir = path.posix.dirname(file);
    const files = this.filesIn.get(dir);
    if (files) {
      files.add(file);
      return;
    }
    this.filesIn.set(dir, new Set([file]));
    // A new directory: link it into its parents, up to the first already linked.
    for (let child = dir, parent = path.posix.dirname(dir); parent !== child; child = parent, parent = path.posix.dirname(parent)) {
      const dirs = this.dirsIn.get(parent);
      if (dirs?.has(child)) break;
      if (dirs) dirs.add(child);
      else this.dirsIn.set(parent, new Set([child]));
    }
  }

  remove(file: string): void {
    let dir = path.posix.dirname(file);
    const files = this.filesIn.get(dir);
    if (!files?.delete(file) || files.size > 0) return;
    this.filesIn.delete(dir);
    // Unlink the directories left with nothing under them.
    for (
      let parent = path.posix.dirname(dir);
      parent !== dir && !this.filesIn.has(dir) && !this.dirsIn.has(dir);
      dir = parent, parent = path.posix.dirname(parent)
    ) {
      const dirs = this.dirsIn.get(parent);
      if (!dirs) break;
      dirs.delete(dir);
      if (dirs.size > 0) break;
      this.dirsIn.delete(parent);
    }
  }

  has(file: string): boolean {
    return this.filesIn.get(path.posix.dirname(file))?.has(file) ?? false;
  }

  /** The files in `dir` and under it. */
  under(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      const files = this.filesIn.get(d);
      if (files) for (const f of files) out.push(f);
      const dirs = this.dirsIn.get(d);
      if (dirs) for (const sub of dirs) walk(sub);
    };
    walk(dir);
    return out;
  }
}

/**
 * A glob(3) pattern (flags 0, as sshd and nginx call it) in picomatch syntax: only * ? and [...]
 * (negated by '!', '^' is a plain member) are special, a backslash quotes the next character, and
 * braces, extglobs and '**' mean nothing special. `base` is the directory before the first
 * wildcard; undefined when nothing in it is a wildcard.
 */
function globToPicomatch(pattern: string): { pattern: string; base: string } | undefined {
  const quote = (c: string) => (/[\\*?[\]{}()!+@]/.test(c) ? `\\${c}` : c);
  let out = '';
  let literal = '';
  let wild = false;
  let star = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    // Two stars in a row match what one does.
    if (c === '*' && star) continue;
    star = c === '*';
    if (c === '\\' && i + 1 < pattern.length) {
      out += quote(pattern[++i]);
      if (!wild) literal += pattern[i];
    } else if (c === '*' || c === '?') {
      wild = true;
      out += c;
    } else if (c === '[') {
      let j = i + 1;
      const negated = pattern[j] === '!';
      if (negated) j++;
      if (pattern[j] === ']') j++;
      const close = pattern.indexOf(']', j);
      if (close < 0) {
        out += quote(c);
        if (!wild) literal += c;
        continue;
      }
      const members = pattern.slice(negated ? i + 2 : i + 1, close).replace(/[\]^]/g, (m) => `\\${m}`);
      out += `[${negated ? '^' : ''}${members}]`;
      wild = true;
      i = close;
    } else {
      out += quote(c);
      if (!wild) literal += c;
    }
  }
  return wild ? { pattern: flat(out), base: literal.slice(0, literal.lastIndexOf('/')) || '/' } : undefined;
}

/** An include pattern made ready to match: a literal path, or the directory before its first wildcard and its matcher (compiled on first use). */
interface CompiledGlob {
  literal?: string;
  base: string;
  pattern: string;
  isMatch?: (file: string) => boolean;
}

/** Compiled patterns with a wildcard or an escape, by absolute pattern: the same include is resolved from many directories and many analyses. Bounded. */
const compiledGlobs = new BoundedCache<string, CompiledGlob>(20_000);

function compiledGlob(absPattern: string): CompiledGlob {
  // Nothing special in it: the path itself (most includes: .env, override files), not worth keeping.
  if (!/[*?[\\]/.test(absPattern)) return { literal: absPattern, base: '', pattern: '' };
  return compiledGlobs.get(absPattern, compileGlob);
}

function compileGlob(absPattern: string): CompiledGlob {
  const glob = globToPicomatch(absPattern);
  return glob === undefined ? { literal: absPattern.replace(/\\(.)/g, '$1'), base: '', pattern: '' } : { base: glob.base, pattern: glob.pattern };
}

function globMatches(index: FileIndex, absPattern: string): string[] {
  const glob = compiledGlob(absPattern);
  if (glob.literal !== undefined) return index.has(glob.literal) ? [glob.literal] : [];
  return matchesUnder(index, '', glob);
}

/** Files under `prefix` + the glob's base whose rest (after `prefix`) the glob matches. */
function matchesUnder(index: FileIndex, prefix: string, glob: CompiledGlob): string[] {
  const candidates = index.under(prefix + (glob.base === '/' && prefix !== '' ? '' : glob.base));
  if (candidates.length === 0) return [];
  // The bare RegExp: picomatch's matcher would keep its parse state alive with it, megabytes of strings over a
  // workspace's includes, and takes a path spelled like the pattern, which glob(3) does not. literalBrackets:
  // false, as glob(3): x[1].conf names x1.conf only (picomatch would also take a file named 'x[1].conf').
  if (glob.isMatch === undefined) {
    const re = picomatch.makeRe(glob.pattern, { dot: false, literalBrackets: false, nobrace: true, noextglob: true, noglobstar: true, windows: false });
    glob.isMatch = (file) => re.test(file);
  }
  const isMatch = glob.isMatch;
  const matches: string[] = [];
  for (const f of candidates) if (isMatch(prefix === '' ? f : f.slice(prefix.length))) matches.push(f);
  // glob(3) returns matches sorted; sshd and nginx read them in that order.
  return matches.sort();
}

/**
 * The matches of `dir` joined with `rest` (absolute), with rest compiled once for every directory it is tried
 * under: a system path is tried under each ancestor of each including file. The directory is a real path, so
 * a '*' or '[' in its name is literal. Where the join would change a side ('.', '..' or '//' in rest, a
 * relative dir), the joined pattern itself.
 */
function globMatchesUnder(index: FileIndex, dir: string, rest: string): string[] {
  if (!joinsAsIs(dir, rest)) return globMatches(index, path.posix.join(dir, rest));
  return matchesIn(index, dir, compiledGlob(rest));
}

/** `dir` + `rest` is the path the join gives: dir absolute and normal, rest with no '.', '..' or '//'. */
function joinsAsIs(dir: string, rest: string): boolean {
  return dir.startsWith('/') && path.posix.normalize(dir) === dir && path.posix.normalize(rest) === rest;
}

/** The matches of a compiled absolute pattern under `dir` (absolute, normal). */
function matchesIn(index: FileIndex, dir: string, glob: CompiledGlob): string[] {
  const prefix = dir === '/' ? '' : dir;
  if (glob.literal !== undefined) {
    const file = prefix + glob.literal;
    return index.has(file) ? [file] : [];
  }
  return matchesUnder(index, prefix, glob);
}

/** An include pattern that reaches exactly `file` (its glob characters quoted), for includes the engine writes itself. */
export function literalPattern(file: string): string {
  return file.replace(/[\\*?[]/g, (c) => `\\${c}`);
}

export interface IncludeContext {
  includingFile: string;
  rootFile: string;
}

/** The workspace files an include reaches, in the order the program reads them. */
export function resolveInclude(index: FileIndex, ref: IncludeRef, ctx: IncludeContext): string[] {
  const pattern = ref.pattern;
  if (pattern === '') return [];
  if (path.posix.isAbsolute(pattern)) return resolveSystemPath(index, pattern, ctx.includingFile);
  if (ref.relativeTo === 'including-file-dir') return globMatchesUnder(index, path.posix.dirname(ctx.includingFile), `/${pattern}`);
  if (ref.relativeTo === 'root-file-dir') return globMatchesUnder(index, path.posix.dirname(ctx.rootFile), `/${pattern}`);
  // An absolute system directory (sshd: /etc/ssh): map it onto the workspace, else use the root config's directory.
  const mapped = resolveSystemPath(index, path.posix.join(ref.relativeTo, pattern), ctx.includingFile);
  if (mapped.length > 0) return mapped;
  return globMatchesUnder(index, path.posix.dirname(ctx.rootFile), `/${pattern}`);
}

function resolveSystemPath(index: FileIndex, absPattern: string, includingFile: string): string[] {
  const direct = globMatches(index, absPattern);
  if (direct.length > 0) return direct;
  let dir = path.posix.dirname(includingFile);
  // The ancestors of a normal directory are normal: checked once, the pattern compiled once.
  const glob = joinsAsIs(dir, absPattern) ? compiledGlob(absPattern) : undefined;
  for (;;) {
    const found = glob ? matchesIn(index, dir, glob) : globMatches(index, path.posix.join(dir, absPattern));
    if (found.length > 0) return found;
    const parent = path.posix.dirname(dir);
    if (parent === dir) return [];
    dir = parent;
  }
}
