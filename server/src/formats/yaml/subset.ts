/**
 * A fast reader for the plain subset of YAML that most compose files (and many Kubernetes manifests) are
 * written in, giving the `yaml` package's own nodes. The package's lexer and parser build a full concrete
 * syntax tree (tokens for every space, generators per token) before its composer makes nodes: ~0.6 ms per
 * compose file, most of a 2,000-stack check. This reader goes line by line and makes the same nodes directly.
 *
 * The subset: documents separated by `---` lines, block mappings and sequences indented with spaces, keys
 * and values on one line each, plain or quoted (no escapes) scalars, one-line flow sequences of such
 * scalars, empty `{}` and `[]`, comments. Anything else (anchors, aliases, tags, block scalars, multi-line
 * scalars, escapes, tabs, CR, directives, `...`, empty documents, anything yaml would report) is not read
 * here: `readYamlSubset` says undefined and the caller parses with the package.
 *
 * What it gives equals what `parseAllDocuments(text, { uniqueKeys: false })` gives in every node's class,
 * range, type, value, source and format, in flow flags, and in the documents' ranges and empty error
 * lists (test/unit/yamlSubset.test.ts compares the two over the corpus, the benchmark's stacks, mutations
 * and generated documents). Comments are not attached to nodes (commentBefore, comment, spaceBefore):
 * nothing of ours reads them. Plain scalars are resolved by the package's core-schema tags, as its
 * composer does.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node, type Schema } from 'yaml';

/** Thrown where the text leaves the subset; caught at the top. */
const OUTSIDE = Symbol('outside the subset');

/** Characters that leave the subset wherever they are: tabs, CR and other controls, the BOM, line separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNREAD_CHARS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]/;
/** A plain scalar may not start with these (YAML c-indicator), but for `-?:` followed by a non-space, also left out. */
const INDICATOR = new Set('-?:,[]{}#&*!|>\'"%@`');
/** A line that starts with a document marker (`---`, `...`). */
const MARKER = /^(?:---|\.\.\.)(?:[ \n]|$)/gm;
/** yaml's limit for implicit keys. */
const KEY_MAX = 1024;
/** Deeper than this is left to the package (and keeps this reader's recursion shallow). */
const DEPTH_MAX = 64;

/**
 * The package's node classes set their type with Object.defineProperty in each constructor: a third of
 * this reader's time, and objects V8 then reads slowly. Here the type is on a prototype of each class
 * instead, so `isScalar`, `isMap`, `instanceof` and the constructor are the package's, and every node has
 * the own properties the package's has. Collections take the one core schema the subset ever needs
 * (no `%YAML` directive: always 1.2), as a non-enumerable property too.
 */
const NODE_TYPE = Symbol.for('yaml.node.type');
const CORE_SCHEMA: Schema = new Document().schema;
function prototypeOf<T extends object>(base: { prototype: T }, type: string, withSchema: boolean): T {
  const properties: PropertyDescriptorMap = { [NODE_TYPE]: { value: Symbol.for(`yaml.${type}`) } };
  if (withSchema) properties.schema = { value: CORE_SCHEMA, configurable: true, enumerable: false, writable: true };
  return Object.create(base.prototype, properties) as T;
}
const SCALAR = prototypeOf(Scalar, 'scalar', false);
const MAP = prototypeOf(YAMLMap, 'map', true);
const SEQ = prototypeOf(YAMLSeq, 'seq', true);
const PAIR = prototypeOf(Pair, 'pair', false);

function scalarNode(value: unknown): Scalar {
  const node = Object.create(SCALAR) as Scalar;
  node.value = value;
  return node;
}
function mapNode(): YAMLMap {
  const node = Object.create(MAP) as YAMLMap;
  node.items = [];
  return node;
}
function seqNode(): YAMLSeq {
  const node = Object.create(SEQ) as YAMLSeq;
  node.items = [];
  return node;
}
function pairNode(key: Scalar, value: Node): Pair {
  const node = Object.create(PAIR) as Pair;
  node.key = key;
  node.value = value;
  return node;
}

interface ScalarTagLike {
  default?: boolean | 'key';
  test?: RegExp;
  format?: string;
  resolve(value: string, onError: (message: string) => void, options: unknown): unknown;
}

/** The core schema's scalar tags, in the order the package's composer tries them, and its string tag. */
const CORE_TAGS = (CORE_SCHEMA as unknown as { tags: ScalarTagLike[] }).tags;
const STRING_TAG = (CORE_SCHEMA as unknown as Record<symbol, ScalarTagLike>)[Symbol.for('yaml.scalar')];

export interface SubsetOptions {
  prettyErrors: boolean;
  uniqueKeys: boolean;
}

/** The documents of a text in the subset, as the package gives them; undefined when the text is outside the subset. */
export function readYamlSubset(text: string, options: SubsetOptions): Document[] | undefined {
  if (UNREAD_CHARS.test(text)) return undefined;
  try {
    return new SubsetReader(text, options).documents();
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  }
}

class SubsetReader {
  private readonly doc: Document;
  /** The current line: where it starts, its indentation, where its content starts, where it ends (its '\n' or the text's end). */
  private lineStart = 0;
  private indent = 0;
  private content = 0;
  private lineEnd = 0;
  /** Where the current document ends (the start of the next `---` line, or the text's end). */
  private limit = 0;
  /** After a value that ended its line: the columns of the comment lines after it that no collection has taken yet (see afterValue). */
  private dangling: number[] | undefined;
  private keyAtOffset = -1;
  private keyAtAnswer: Scalar | undefined;

  constructor(
    private readonly text: string,
    options: SubsetOptions,
  ) {
    this.doc = new Document(undefined, options);
    this.setLine(0);
  }

  /** The documents, each ended by the next `---` line or the text's end. */
  documents(): Document[] {
    const text = this.text;
    const docs: Document[] = [];
    this.limit = text.length;
    this.skipBlank();
    if (this.atEnd()) throw OUTSIDE;
    for (;;) {
      // A document starts at its `---`, or else at its content.
      let start = this.content;
      const docStart = text.startsWith('---', this.lineStart) && this.lineEnd === this.lineStart + 3;
      if (docStart) {
        start = this.lineStart;
        this.limit = this.boundary(this.lineEnd);
        this.nextLine();
      } else this.limit = this.boundary(this.lineStart);
      this.dangling = undefined;
      this.skipBlank();
      if (this.atEnd() || this.indent !== 0) throw OUTSIDE; // an empty or indented document
      if (!docStart) start = this.content;
      const contents = this.isDash() ? this.sequence(0, 0) : this.keyAt(this.content) ? this.mapping(0, this.content, 0) : outside();
      this.skipBlank();
      if (!this.atEnd()) throw OUTSIDE;
      const doc = docs.length === 0 ? this.doc : new Document(undefined, this.doc.options);
      if (docStart && doc.directives) doc.directives.docStart = true;
      doc.contents = contents;
      // Lines after the last value that no collection took are the document's; after an empty value, nobody's.
      doc.range = [start, contents.range![2], this.dangling ? this.limit : contents.range![2]];
      docs.push(doc);
      if (this.limit >= text.length) return docs;
      this.setLine(this.limit);
    }
  }

  /** Where the document going on at `from` ends: the start of the next `---` line, or the text's end. Other markers leave the subset. */
  private boundary(from: number): number {
    MARKER.lastIndex = from;
    const m = MARKER.exec(this.text);
    if (!m) return this.text.length;
    if (m[0] !== '---\n' && !(m[0] === '---' && m.index + 3 === this.text.length)) throw OUTSIDE;
    return m.index;
  }

  // ---- lines

  private setLine(start: number): void {
    const text = this.text;
    this.lineStart = start;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    this.lineEnd = end;
    let i = start;
    while (i < end && text.charCodeAt(i) === 32) i++;
    this.content = i;
    this.indent = i - start;
  }

  private nextLine(): void {
    this.setLine(this.lineEnd < this.limit ? this.lineEnd + 1 : this.limit);
  }

  private atEnd(): boolean {
    return this.lineStart >= this.limit;
  }

  /** Past blank lines and lines of only a comment; whether there was a comment. */
  private skipBlank(): boolean {
    let comment = false;
    while (!this.atEnd() && (this.content === this.lineEnd || this.text.charCodeAt(this.content) === 35) /* # */) {
      if (this.content < this.lineEnd) comment = true;
      this.nextLine();
    }
    if (this.atEnd()) this.setLine(this.limit);
    return comment;
  }

  /**
   * Past the blank and comment lines after a value that ended its line, in a collection at `column`,
   * placing them as the package's parser does (its blockMap/blockSequence and pop): comments more indented
   * than the collection, before any that is not, belong to the value (its range's end); the rest is left
   * dangling (`this.dangling`: their columns) for the collections that the next line closes (`close`).
   */
  private afterValue(value: Node, column: number): void {
    const text = this.text;
    this.nextLine();
    let attached = -1;
    const dangling: number[] = [];
    while (!this.atEnd() && (this.content === this.lineEnd || text.charCodeAt(this.content) === 35)) {
      if (this.content < this.lineEnd) {
        if (dangling.length === 0 && this.indent > column) attached = this.lineEnd < text.length ? this.lineEnd + 1 : this.lineEnd;
        else dangling.push(this.indent);
      }
      this.nextLine();
    }
    if (this.atEnd()) this.setLine(this.limit);
    if (attached >= 0) value.range![2] = attached;
    this.dangling = dangling;
  }

  /** A collection at `column` ends before the current line: dangling comment lines at or past its column stay in it, to the line's content. */
  private close(range: [number, number, number], column: number): void {
    if (this.dangling && column > 0 && this.dangling.some((c) => c >= column)) {
      range[2] = this.content;
      this.dangling = undefined;
    }
  }

  /** Where the line's end after `at` is: past spaces, an optional comment and the line break. Anything else there leaves the subset. */
  private lineRest(at: number): number {
    const text = this.text;
    let i = at;
    while (i < this.lineEnd && text.charCodeAt(i) === 32) i++;
    if (i < this.lineEnd) {
      if (text.charCodeAt(i) !== 35 || i === at) throw OUTSIDE;
      i = this.lineEnd;
    }
    return i < text.length ? i + 1 : i;
  }

  private isDash(): boolean {
    const c = this.content;
    return this.text.charCodeAt(c) === 45 /* - */ && (c + 1 === this.lineEnd || this.text.charCodeAt(c + 1) === 32);
  }

  // ---- collections

  /** A block mapping whose keys start at column `column`, the first at `at` on the current line. */
  private mapping(column: number, at: number, depth: number): YAMLMap {
    if (depth > DEPTH_MAX) throw OUTSIDE;
    const map = mapNode();
    const start = at;
    let end = at;
    for (;;) {
      const key = this.keyAt(at) ?? outside();
      let after = key.range![1] + 1; // past ':'
      const text = this.text;
      while (after < this.lineEnd && text.charCodeAt(after) === 32) after++;
      let value: Node;
      this.dangling = undefined;
      if (after === this.lineEnd || text.charCodeAt(after) === 35) {
        // The value is on the lines below, or empty.
        const lineEnd = this.lineEnd;
        this.lineRest(key.range![1] + 1);
        this.nextLine();
        const comment = this.skipBlank();
        if (!this.atEnd() && this.indent > column) value = this.block(this.indent, depth + 1);
        else if (!this.atEnd() && this.indent === column && this.isDash()) value = this.sequence(column, depth + 1);
        else value = this.emptyValue(after, lineEnd, comment);
      } else {
        value = this.inline(after);
        this.afterValue(value, column);
      }
      map.items.push(pairNode(key, value));
      end = value.range![2];
      if (this.atEnd() || this.indent < column) break;
      if (this.indent > column || this.isDash()) throw OUTSIDE;
      at = this.content;
    }
    map.range = [start, end, end];
    this.close(map.range, column);
    return map;
  }

  /** A block sequence whose dashes are at column `column` (the current line is its first item). */
  private sequence(column: number, depth: number): YAMLSeq {
    if (depth > DEPTH_MAX) throw OUTSIDE;
    const seq = seqNode();
    const start = this.content;
    let end = start;
    const text = this.text;
    for (;;) {
      let at = this.content + 1;
      while (at < this.lineEnd && text.charCodeAt(at) === 32) at++;
      let value: Node;
      const afterComments = this.dangling !== undefined && this.dangling.length > 0;
      this.dangling = undefined;
      if (at === this.lineEnd || text.charCodeAt(at) === 35) {
        // The package gives an empty item after comment lines the line break after it.
        if (afterComments) throw OUTSIDE;
        const lineEnd = this.lineEnd;
        this.lineRest(this.content + 1);
        this.nextLine();
        const comment = this.skipBlank();
        if (!this.atEnd() && this.indent > column) value = this.block(this.indent, depth + 1);
        else if (this.atEnd())
          throw OUTSIDE; // an empty last item: the package's range for it depends on the comments before it
        else value = this.emptyValue(at, lineEnd, comment);
      } else if (text.charCodeAt(at) === 45 && (at + 1 === this.lineEnd || text.charCodeAt(at + 1) === 32)) {
        throw OUTSIDE; // `- - x`
      } else if (this.keyAt(at)) {
        value = this.mapping(at - this.lineStart, at, depth + 1);
      } else {
        value = this.inline(at);
        this.afterValue(value, column);
      }
      seq.items.push(value);
      end = value.range![2];
      if (this.atEnd() || this.indent < column) break;
      if (this.indent > column) throw OUTSIDE;
      if (!this.isDash()) {
        // A key at the column of a sequence that is a mapping's value at that column ends the sequence; anything else leaves the subset.
        if (this.keyAt(this.content)) break;
        throw OUTSIDE;
      }
    }
    seq.range = [start, end, end];
    this.close(seq.range, column);
    return seq;
  }

  /** A block collection starting on the current line at column `column`. */
  private block(column: number, depth: number): Node {
    if (this.isDash()) return this.sequence(column, depth);
    if (this.keyAt(this.content)) return this.mapping(column, this.content, depth);
    throw OUTSIDE;
  }

  // ---- scalars

  /**
   * The empty value at `at` of a key or dash on the line ending at `lineEnd`; the current line is the next
   * content. The package gives it a comment on its line and the next line's indentation; comment lines after
   * it are left to the package.
   */
  private emptyValue(at: number, lineEnd: number, commentLines: boolean): Scalar {
    if (commentLines) throw OUTSIDE;
    const scalar = emptyScalar(at);
    if (at < lineEnd) {
      if (this.lineStart !== lineEnd + 1 && (!this.atEnd() || this.limit < this.text.length)) throw OUTSIDE;
      scalar.range![2] = this.content;
    }
    return scalar;
  }

  /** The key at `at` if the line there is `key:` followed by a space or the line's end; undefined if it is not a key (or one outside the subset). */
  private keyAt(at: number): Scalar | undefined {
    // Asked twice of most lines (is it a key? then read it): the last answer is kept.
    if (at === this.keyAtOffset) return this.keyAtAnswer;
    this.keyAtOffset = at;
    this.keyAtAnswer = undefined;
    return (this.keyAtAnswer = this.readKey(at));
  }

  private readKey(at: number): Scalar | undefined {
    const text = this.text;
    const first = text.charCodeAt(at);
    let end: number;
    let key: Scalar;
    if (first === 34 /* " */ || first === 39 /* ' */) {
      const quoted = this.quoted(at);
      if (!quoted || text.charCodeAt(quoted.end) !== 58) return undefined;
      if (quoted.end + 1 < this.lineEnd && text.charCodeAt(quoted.end + 1) !== 32) return undefined;
      end = quoted.end;
      key = quoted.node;
    } else {
      if (INDICATOR.has(text[at])) return undefined;
      end = -1;
      for (let i = at; i < this.lineEnd; i++) {
        const c = text.charCodeAt(i);
        if (c === 58 /* : */ && (i + 1 === this.lineEnd || text.charCodeAt(i + 1) === 32)) {
          end = i;
          break;
        }
        if (c === 35 /* # */ && text.charCodeAt(i - 1) === 32) return undefined;
      }
      if (end < 0 || text.charCodeAt(end - 1) === 32) return undefined;
      // Flow indicators inside a key are read differently by YAML's versions and parsers.
      for (let i = at; i < end; i++) if ('[]{},'.includes(text[i])) throw OUTSIDE;
      key = this.plain(text.slice(at, end), true);
    }
    if (end - at >= KEY_MAX) throw OUTSIDE;
    key.range = [at, end, end];
    return key;
  }

  /** A one-line value at `at` (plain, quoted or a flow collection) ending the current line. */
  private inline(at: number): Node {
    const text = this.text;
    const first = text[at];
    let value: Node;
    let end: number;
    if (first === '[' || first === '{') {
      return this.flow(at);
    } else if (first === '"' || first === "'") {
      const quoted = this.quoted(at) ?? outside();
      value = quoted.node;
      end = quoted.end;
    } else {
      if (!startsPlain(text, at, this.lineEnd)) throw OUTSIDE;
      end = at;
      let last = at;
      for (let i = at; i < this.lineEnd; i++) {
        const c = text.charCodeAt(i);
        if (c === 32) continue;
        if (c === 35 && text.charCodeAt(i - 1) === 32) break;
        if (c === 58 && (i + 1 === this.lineEnd || text.charCodeAt(i + 1) === 32)) throw OUTSIDE; // `a: b: c`
        last = i;
      }
      end = last + 1;
      value = this.plain(text.slice(at, end), false);
    }
    value.range = [at, end, this.lineRest(end)];
    return value;
  }

  /** A one-line flow collection: `{}`, `[]`, or `[a, "b", 'c']` of one-line scalars. */
  private flow(at: number): Node {
    const text = this.text;
    if (text[at] === '{') {
      if (text[at + 1] !== '}') throw OUTSIDE;
      const map = mapNode();
      map.flow = true;
      map.range = [at, at + 2, this.lineRest(at + 2)];
      return map;
    }
    const seq = seqNode();
    seq.flow = true;
    let i = at + 1;
    while (text.charCodeAt(i) === 32) i++;
    if (text[i] !== ']') {
      for (;;) {
        const c = text[i];
        const start = i;
        let item: Scalar;
        let end: number;
        if (c === '"' || c === "'") {
          const quoted = this.quoted(i) ?? outside();
          item = quoted.node;
          end = quoted.end;
        } else {
          if (!startsPlain(text, i, this.lineEnd)) throw OUTSIDE;
          // A plain item runs to a flow indicator (spaces inside it are its own, `[node.role == manager]`).
          let stop = i;
          while (stop < this.lineEnd && !',[]{}#:'.includes(text[stop])) stop++;
          if (text[stop] !== ',' && text[stop] !== ']') throw OUTSIDE;
          end = stop;
          while (text.charCodeAt(end - 1) === 32) end--;
          item = this.plain(text.slice(i, end), false);
        }
        i = end;
        while (text.charCodeAt(i) === 32) i++;
        item.range = [start, end, i]; // the spaces after an item are its own
        seq.items.push(item);
        if (text[i] === ']') break;
        if (text[i] !== ',') throw OUTSIDE;
        i++;
        while (text.charCodeAt(i) === 32) i++;
        if (text[i] === ']') throw OUTSIDE; // a trailing comma
      }
    }
    seq.range = [at, i + 1, this.lineRest(i + 1)];
    return seq;
  }

  /** A quoted scalar on one line without escapes (its range is the caller's to set), and where it ends: past the closing quote. */
  private quoted(at: number): { node: Scalar; end: number } | undefined {
    const text = this.text;
    const quote = text[at];
    let value = '';
    let from = at + 1;
    for (;;) {
      const close = text.indexOf(quote, from);
      if (close < 0 || close > this.lineEnd) return undefined;
      if (quote === '"') for (let i = from; i < close; i++) if (text.charCodeAt(i) === 92 /* \\ */) return undefined; // escapes
      if (quote === "'" && text[close + 1] === "'") {
        value += text.slice(from, close + 1);
        from = close + 2;
        continue;
      }
      value += text.slice(from, close);
      const node = scalarNode(value);
      node.type = quote === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE';
      node.source = value;
      return { node, end: close + 1 };
    }
  }

  /** A plain scalar resolved as the package's composer does (findScalarTagByTest, then the tag's resolve). */
  private plain(source: string, atKey: boolean): Scalar {
    const tag = CORE_TAGS.find((t) => (t.default === true || (atKey && t.default === 'key')) && t.test?.test(source)) ?? STRING_TAG;
    const resolved = tag.resolve(source, () => outside(), this.doc.options);
    // A tag may give a Scalar of the package's (null, booleans, floats with their fraction digits): its own properties are taken over.
    const scalar = resolved instanceof Scalar ? (Object.assign(scalarNode(undefined), resolved) as Scalar) : scalarNode(resolved);
    scalar.source = source;
    scalar.type = 'PLAIN';
    if (tag.format) scalar.format = tag.format;
    return scalar;
  }
}

/** A plain scalar may start at `at`: not with an indicator, except `-` followed by a non-space (`--flag`, `-H x`). */
function startsPlain(text: string, at: number, lineEnd: number): boolean {
  const c = text[at];
  if (c === '-') return at + 1 < lineEnd && text.charCodeAt(at + 1) !== 32;
  return at < lineEnd && !INDICATOR.has(c);
}

function emptyScalar(at: number): Scalar {
  const scalar = scalarNode(null);
  scalar.range = [at, at, at];
  scalar.source = '';
  scalar.type = 'PLAIN';
  return scalar;
}

function outside(): never {
  throw OUTSIDE;
}
