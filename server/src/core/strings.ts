import { BoundedCache } from './boundedCache';

/**
 * `text` as one flat string. A template literal or `+` makes a rope (V8's cons string: a node per
 * piece); a rope kept for the life of the analysis (a fact's detail) costs about twice its flat
 * copy. Reading a character makes V8 flatten it, and the pieces become garbage. A short text is
 * also interned: a workspace's facts repeat the same details by the thousand.
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return intern(text);
}

/**
 * One string for each short text: the words parsers keep (listen, 443, 127.0.0.1, ACCEPT) recur
 * thousands of times over a workspace, each a copy of its own (V8 copies a slice under 13
 * characters). Bounded: a hostile file of distinct words empties the table, it does not grow it.
 */
export function intern(text: string): string {
  return text.length > INTERN_MAX_LENGTH ? text : interned.get(text, same);
}

/** Longer texts (a long detail, a file's text) are rarely repeated word for word. */
const INTERN_MAX_LENGTH = 96;
const interned = new BoundedCache<string, string>(50_000);
const same = (text: string) => text;
