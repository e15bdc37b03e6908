/**
 * A compose file's YAML documents, with the `yaml` package's duplicate-key errors found in linear time.
 * The package checks each key against every earlier key of its map (`uniqueKeys: true`): quadratic in
 * a map's size, so one `services:` of 16,000 entries (0.9 MB) takes 2.7 s and 70,000 (3.9 MB, under the
 * size limit) minutes. Parsed with the check off, one pass over the maps finds the duplicates by the
 * package's own test. A text with none is done (the common case); one with some is parsed again with the
 * package's check, for its exact places, unless its maps are too big for it (a hostile file): then the errors
 * are added from the pass, at each key's node (the package reports the end of the key's properties, which
 * differs for empty keys), in the order of the text among the others. A text in the plain subset is read by
 * readYamlSubset into the same nodes, without the package's lexer and parser.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, YAMLParseError, type Document, type Node } from 'yaml';
import { readYamlSubset } from '../yaml/subset';

/** The most work the package's own check may do: the sum over a text's maps of the square of their keys (4M: a 2,000-key map). */
const EXACT_CHECK_MAX_WORK = 4_000_000;

export function parseComposeDocuments(text: string): Document[] {
  // Most compose files are in the plain subset that readYamlSubset reads, 5-10 times faster than the package.
  const docs = readYamlSubset(text, { prettyErrors: false, uniqueKeys: false }) ?? parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  if (!Array.isArray(docs)) return [];
  const found = docs.map(duplicateKeys);
  if (found.every((d) => d.errors.length === 0)) return docs;
  if (found.reduce((sum, d) => sum + d.work, 0) <= EXACT_CHECK_MAX_WORK) {
    const exact = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
    return Array.isArray(exact) ? exact : [];
  }
  docs.forEach((doc, i) => mergeErrors(doc, found[i].errors));
  return docs;
}

/** The duplicate keys of a document, by the package's test, at each key's node; and what the package's check costs on it. */
function duplicateKeys(doc: Document): { errors: YAMLParseError[]; work: number } {
  const found: YAMLParseError[] = [];
  let work = 0;
  // An explicit stack: a document nested thousands deep must not overflow the call stack.
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || node === undefined || isAlias(node) || isScalar(node)) continue;
    if (isMap(node)) {
      work += node.items.length * node.items.length;
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        // The package's test: two scalars with one value (a non-scalar key only equals itself).
        if (isScalar(key) && !Number.isNaN(key.value)) {
          if (seen.has(key.value) && key.range) found.push(new YAMLParseError([key.range[0], key.range[0] + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
          seen.add(key.value);
        }
        stack.push(pair.value, key);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  found.sort((a, b) => a.pos[0] - b.pos[0]);
  return { errors: found, work };
}

function mergeErrors(doc: Document, found: YAMLParseError[]): void {
  // Merged into the package's errors by place, as the package reports each where it composes the key.
  const merged: YAMLParseError[] = [];
  let i = 0;
  for (const e of doc.errors) {
    while (i < found.length && found[i].pos[0] <= e.pos[0]) merged.push(found[i++]);
    merged.push(e);
  }
  while (i < found.length) merged.push(found[i++]);
  doc.errors = merged;
}
