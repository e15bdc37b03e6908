/**
 * A list of globs as `portolan.hosts`, `.portolan.json` `hosts` and `oneHost` groups read it: the files
 * any glob matches, minus those a negated glob (`!web/tmp/**`) names, as a .gitignore's `!` lines
 * take files back. A negated glob only removes: a list of negated globs alone matches nothing (picomatch
 * alone would read `["!b/**"]` as everything outside b/, one of two readings no user can guess).
 */
import picomatch from 'picomatch';
import { BoundedCache } from './boundedCache';

export interface GlobSet {
  /** The globs that add files, as written. */
  readonly adds: readonly string[];
  /** The negated globs, as written (with their `!`). */
  readonly removes: readonly string[];
  /** A path relative to the folder is in the set. */
  isMatch(rel: string): boolean;
  /** The static bases of the adding globs: every path in the set is one of them or under one. */
  readonly bases: readonly string[];
}

const OPTIONS = { dot: true, windows: false };

/**
 * What picomatch's matcher answers for a POSIX path (the path equal to the glob, else its RegExp), without
 * keeping picomatch's parse state (strings built a character at a time) alive for every host's globs.
 * Memoised by glob: the host map, `.portolan.json`'s checks and the sharing groups test the same globs.
 */
export function matcher(glob: string): (rel: string) => boolean {
  return matchers.get(glob, makeMatcher);
}

function makeMatcher(glob: string): (rel: string) => boolean {
  return underMatcher(glob) ?? regexMatcher(glob);
}

const matchers = new BoundedCache<string, (rel: string) => boolean>(10_000);

function regexMatcher(glob: string): (rel: string) => boolean {
  const re = picomatch.makeRe(glob, OPTIONS);
  return (rel) => rel !== '' && (rel === glob || re.test(rel));
}

/**
 * `dir/**` (the usual host glob) without a RegExp: dir itself, or a path under it with no '.' or '..'
 * segment, as picomatch's RegExp answers with dot set. A thousand hosts' RegExps each run a few times
 * stay in V8's RegExp interpreter, ~6 µs a test; this is a string compare. Undefined for any other glob.
 */
function underMatcher(glob: string): ((rel: string) => boolean) | undefined {
  if (!glob.endsWith('/**')) return undefined;
  const dir = glob.slice(0, -3);
  if (dir === '' || /[\\*?[\]{}()!+@^$|"'`]/.test(dir) || dir.split('/').some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const prefix = `${dir}/`;
  return (rel) => rel === dir || (rel.startsWith(prefix) && !DOT_SEGMENT.test(rel.slice(dir.length)));
}

/** A '.' or '..' segment after a '/'. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

export function globSet(globs: readonly string[]): GlobSet {
  const adds: string[] = [];
  const removes: string[] = [];
  for (const g of globs) (picomatch.scan(g).negated ? removes : adds).push(g);
  const addOne = adds.map(matcher);
  const add = (rel: string) => addOne.some((m) => m(rel));
  // picomatch gives a negated glob's complement: a path it rejects is one the glob names.
  const keep = removes.map(matcher);
  return {
    adds,
    removes,
    bases: adds.map(staticBase),
    isMatch: (rel) => add(rel) && keep.every((k) => k(rel)),
  };
}

/** The path a negated glob names is one it removes (picomatch matches the complement). */
export function removesPath(negated: string, rel: string): boolean {
  return !matcher(negated)(rel);
}

/** A single glob as the lists read it (a negated one alone matches nothing). */
export function globMatcher(glob: string): (rel: string) => boolean {
  return globSet([glob]).isMatch;
}

/**
 * The directory a glob's matches all lie in (picomatch's static base), or '' when that is not certain
 * (an escape, an empty or dot segment): every path the glob matches is the base or under it.
 */
export function staticBase(glob: string): string {
  const scan = picomatch.scan(glob);
  const base = scan.base;
  if (scan.negated || base.includes('\\') || base.split('/').some((s) => s === '' || s === '.' || s === '..')) return '';
  return base;
}
