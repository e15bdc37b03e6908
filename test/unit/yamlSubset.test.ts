/**
 * readYamlSubset (formats/yaml/subset.ts) gives what the `yaml` package gives for every text it
 * reads: the same nodes (class, range, type, value, source, format, flow), the same document range and no
 * errors, over the corpus's and the examples' YAML, the benchmark's compose stacks, mutations of them and
 * generated documents with comments and blank lines at every indentation. What it cannot read it leaves
 * to the package (undefined); the benchmark's stacks must all be read, or the speed-up is gone unseen.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import { readYamlSubset } from '../../server/src/formats/yaml/subset';
import { yamlFiles } from '../helpers/yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const CORPUS = process.env.PORTOLAN_CORPUS ?? path.resolve(ROOT, '..', 'shared', 'corpus');
const OPTIONS = { prettyErrors: false, uniqueKeys: false };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const workspaces = require('../../scripts/bench/workspaces') as {
  prng(seed: number): () => number;
  composeStacks(dir: string, stacks: number, seed?: number): unknown;
};

type AnyNode = { range?: number[]; items?: unknown[]; value?: unknown; [k: string]: unknown } | null;

/** The first difference between two node trees, or undefined. */
function difference(a: AnyNode, b: AnyNode, where: string): string | undefined {
  if (a === null || b === null) return a === b ? undefined : `${where}: ${a === null ? 'null' : 'a node'} vs ${b === null ? 'null' : 'a node'}`;
  const kind = (n: unknown) => (isMap(n) ? 'map' : isSeq(n) ? 'seq' : isScalar(n) ? 'scalar' : 'other');
  if (kind(a) !== kind(b)) return `${where}: ${kind(a)} vs ${kind(b)}`;
  if (a.constructor !== b.constructor) return `${where}: class ${a.constructor.name} vs ${b.constructor.name}`;
  if (JSON.stringify(a.range) !== JSON.stringify(b.range)) return `${where}: range ${JSON.stringify(a.range)} vs ${JSON.stringify(b.range)}`;
  for (const p of ['type', 'source', 'format', 'minFractionDigits', 'flow', 'anchor', 'tag'])
    if (a[p] !== b[p]) return `${where}: ${p} ${JSON.stringify(a[p])} vs ${JSON.stringify(b[p])}`;
  if (kind(a) === 'scalar') return Object.is(a.value, b.value) ? undefined : `${where}: value ${String(a.value)} vs ${String(b.value)}`;
  if (kind(a) === 'other') return `${where}: not a map, a sequence or a scalar`;
  if (a.items!.length !== b.items!.length) return `${where}: ${a.items!.length} items vs ${b.items!.length}`;
  for (let i = 0; i < a.items!.length; i++) {
    const x = a.items![i] as { key: AnyNode; value: AnyNode };
    const y = b.items![i] as { key: AnyNode; value: AnyNode };
    if (isPair(x) !== isPair(y)) return `${where}[${i}]: pair vs item`;
    const d = isPair(x)
      ? (difference(x.key, y.key, `${where}.key${i}`) ?? difference(x.value, y.value, `${where}.value${i}`))
      : difference(x as AnyNode, y as AnyNode, `${where}[${i}]`);
    if (d) return d;
  }
  return undefined;
}

/** 'outside' (left to the package), 'same', or how the subset's reading differs from the package's. */
function verdict(text: string): string {
  const ours = readYamlSubset(text, OPTIONS);
  if (!ours) return 'outside';
  const theirs = parseAllDocuments(text, OPTIONS) as Document[];
  if (!Array.isArray(theirs) || theirs.length !== ours.length) return `${ours.length} documents vs ${Array.isArray(theirs) ? theirs.length : 0}`;
  for (let i = 0; i < ours.length; i++) {
    const [t, o] = [theirs[i], ours[i]];
    const reported = [...t.errors, ...t.warnings];
    if (reported.length > 0) return `the package reports ${reported.map((e) => e.message).join('; ')}`;
    if (o.errors.length > 0 || o.warnings.length > 0) return 'errors of ours';
    if (JSON.stringify(t.range) !== JSON.stringify(o.range)) return `document range ${JSON.stringify(o.range)} vs ${JSON.stringify(t.range)}`;
    if (Boolean(t.directives?.docStart) !== Boolean(o.directives?.docStart)) return 'document start marker';
    const d = difference(o.contents as AnyNode, t.contents as AnyNode, '$');
    if (d) return d;
  }
  return 'same';
}

function mutate(text: string, random: () => number): string {
  const lines = text.split('\n');
  for (let m = 0; m < 3; m++) {
    const j = Math.floor(random() * lines.length);
    const r = random();
    if (r < 0.3) lines.splice(j, 1);
    else if (r < 0.5) lines.splice(j, 0, lines[Math.floor(random() * lines.length)]);
    else if (r < 0.7) lines[j] = ' ' + lines[j];
    else if (r < 0.8) lines[j] = lines[j].slice(1);
    else lines.splice(j, 0, ' '.repeat(Math.floor(random() * 8)) + ['# c', '', '  '][Math.floor(random() * 3)]);
  }
  return lines.join('\n');
}

const SCALARS = [
  'x',
  '80:80',
  '"8080:80"',
  "'a''b'",
  '1',
  '-1',
  '1.50',
  '.5',
  '1e3',
  '0x1F',
  '0o17',
  'true',
  'False',
  'null',
  '~',
  'yes',
  'a#b',
  'a # c',
  'http://x:80/',
  '${X:-1}',
  '[a, "b"]',
  '[]',
  '{}',
  '[1, 2.0, x]',
  '"a\\"b"',
  'a: b',
  '- x',
  '*x',
  '&a b',
  '!t x',
  '|',
  '"a',
  "'",
  'a  ',
  '-',
  '-x',
  '?',
  ':x',
  '@x',
  'a, b',
  '[a,b]',
  '[a, ]',
  '{a: 1}',
  'é',
  '12:30',
  '+1',
  '.inf',
  '.NaN',
  '""',
];
const KEYS = ['a', 'ports', 'image', '"q"', "'s'", '1', 'true', 'null', 'a b', 'x-y', '<<', '"a":', 'k#', '-k', '?k', '[k]', 'a:b'];

/** A random block document: maps, sequences, compact maps in sequences, empty values, and blank, blank-with-spaces and comment lines anywhere. */
function generated(random: () => number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(random() * a.length)];
  const out: string[] = [];
  const junk = (indent: number) => {
    while (random() < 0.25) {
      const r = random();
      out.push(r < 0.4 ? '' : r < 0.5 ? ' '.repeat(Math.floor(random() * 8)) : ' '.repeat(Math.max(0, indent + Math.floor(random() * 7) - 3)) + '# c');
    }
  };
  const block = (indent: number, depth: number) => {
    const map = depth > 3 || random() < 0.66;
    const pad = ' '.repeat(indent);
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      junk(indent);
      const r = random();
      const comment = random() < 0.1 ? ' # t' : '';
      if (map) {
        if (r < 0.5 || depth > 3) out.push(`${pad}${pick(KEYS)}: ${pick(SCALARS)}${comment}`);
        else if (r < 0.6) out.push(`${pad}${pick(KEYS)}:${comment}`);
        else {
          out.push(`${pad}${pick(KEYS)}:${comment}`);
          block(random() < 0.2 ? indent : indent + pick([1, 2, 4]), depth + 1);
        }
      } else if (r < 0.5 || depth > 3) out.push(`${pad}- ${pick(SCALARS)}${comment}`);
      else if (r < 0.6) out.push(`${pad}-${comment}`);
      else if (r < 0.8) {
        const gap = pick([1, 2, 3]);
        out.push(`${pad}-${' '.repeat(gap)}${pick(KEYS)}: ${pick(SCALARS)}`);
        if (random() < 0.6) out.push(`${' '.repeat(indent + 1 + gap)}${pick(KEYS)}: ${pick(SCALARS)}`);
      } else {
        out.push(`${pad}-`);
        block(indent + pick([1, 2, 4]), depth + 1);
      }
    }
    junk(indent);
  };
  if (random() < 0.1) out.push('---');
  block(0, 0);
  // Further documents, now and then an empty one or a marker the subset leaves to the package.
  while (random() < 0.2) {
    out.push(pick(['---', '---', '---', '--- # c', '...', '--- x']));
    if (random() < 0.9) block(0, 0);
  }
  return out.join('\n') + (random() < 0.8 ? '\n' : '');
}

describe('readYamlSubset: the plain subset of YAML, read as the yaml package reads it', () => {
  it("the corpus's and the examples' YAML, and 10 mutations of each", function () {
    if (!fs.existsSync(CORPUS)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${CORPUS}`);
      console.log(`      skipped: corpus not found at ${CORPUS}`);
      this.skip();
    }
    const random = workspaces.prng(11);
    const files = [...yamlFiles(CORPUS), ...yamlFiles(path.join(ROOT, 'examples'))];
    let read = 0;
    let mutationsRead = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (let k = 0; k <= 10; k++) {
        const v = verdict(k === 0 ? text : mutate(text, random));
        assert.ok(v === 'same' || v === 'outside', `${file}, mutation ${k}: ${v}`);
        if (v === 'same' && k === 0) read++;
        else if (v === 'same') mutationsRead++;
      }
    }
    console.log(
      `      ${read} of ${files.length} files and ${mutationsRead} of ${files.length * 10} mutations read as the package reads them, the rest left to it`,
    );
    assert.ok(read > files.length / 2, 'most real YAML files are in the subset');
  });

  it('every compose file of the benchmark stacks is in the subset, and read as the package reads it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-subset-'));
    try {
      workspaces.composeStacks(dir, 60, 3);
      const files = yamlFiles(dir);
      assert.ok(files.length >= 60);
      for (const file of files) assert.strictEqual(verdict(fs.readFileSync(file, 'utf8')), 'same', file);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('20,000 generated documents: comments, blank lines and empty values at every indentation', () => {
    const random = workspaces.prng(5);
    let same = 0;
    for (let i = 0; i < 20000; i++) {
      const text = generated(random);
      const v = verdict(text);
      assert.ok(v === 'same' || v === 'outside', `${JSON.stringify(text)}: ${v}`);
      if (v === 'same') same++;
    }
    assert.ok(same > 2000, `only ${same} generated documents were in the subset`);
  });

  it('reads ports, flow lists, quoted keys, numbers and documents (a leading ---, several) as the package does', () => {
    const texts = [
      'services:\n  web:\n    image: nginx:1.27 # pinned\n    ports:\n      - "80:80"\n      - 443\n      - 127.0.0.1:8080:80/tcp\n    expose: ["9090"]\n',
      '---\nservices:\n  "db":\n    ports: [5432, \'6432:5432\']\n    x: {}\n    y: []\nvolumes:\n  db:\n',
      'a: 1.50\nb: 0x1F\nc: .inf\nd: ~\ne: True\nf: 12:30\ng: a#b\n',
      'services:\n  app:\n    environment:\n      - A=1\n    # disabled:\n      # - B=2\n    ports:\n      - 8080:80\n\n# the end\n',
      'services:\n- name: a\n  ports:\n  - 80\n-   name: b\n',
      'apiVersion: v1\nkind: Service\n# next\n---\nkind: Pod\nspec:\n  containers:\n    - ports:\n        - containerPort: 80\n---\n- x\n',
    ];
    for (const text of texts) assert.strictEqual(verdict(text), 'same', text);
  });

  it('leaves to the package what it does not read', () => {
    const outside = {
      'an anchor and an alias': 'x: &a 1\ny: *a\n',
      'a tag': 'x: !reset []\n',
      'a block scalar': 'x: |\n  a\n',
      'a multi-line plain scalar': 'x: a\n  b\n',
      'a double-quoted escape': 'x: "a\\tb"\n',
      'a quoted scalar over two lines': 'x: "a\n  b"\n',
      'a tab': 'x:\n\t- 1\n',
      'CRLF line breaks': 'x: 1\r\ny: 2\r\n',
      'a byte-order mark': '\ufeffx: 1\n',
      'an empty document': 'x: 1\n---\n',
      'a document end marker': 'x: 1\n...\n',
      'content after ---': 'x: 1\n--- y\n',
      'a directive': '%YAML 1.2\n---\nx: 1\n',
      'an explicit key': '? x\n: 1\n',
      'a flow map with entries': 'x: {a: 1}\n',
      'a nested flow list': 'x: [[1]]\n',
      'a top-level scalar': 'hello\n',
      'an indented top level': '  x: 1\n',
      'an empty text': '',
      'only comments': '# nothing\n',
      'a key of 1,024 characters': 'k'.repeat(1024) + ': 1\n',
      'nesting deeper than 64': Array.from({ length: 70 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n',
      'a compact nested list': '- - 1\n',
      'a mapping in a mapping value': 'x: a: 1\n',
      'a comment after an empty value': 'x:\n# c\ny: 1\n',
      'a duplicate-free map with a bad indent': 'x:\n    a: 1\n  b: 2\n',
    };
    for (const [what, text] of Object.entries(outside)) assert.strictEqual(readYamlSubset(text, OPTIONS), undefined, what);
  });
});
