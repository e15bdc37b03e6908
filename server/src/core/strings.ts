/**
 * `text` as one flat string. A template literal or `+` makes a rope (V8's cons string: a node per
 * piece); a rope kept for the life of the analysis (a fact's detail) costs about twice its flat
 * copy. Reading a character makes V8 flatten it, and the pieces become garbage.
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
