/**
 * compose's YAML documents (formats/compose/yamlDocuments.ts) give exactly the errors the `yaml` package
 * gives with its own (quadratic) duplicate-key check: the same codes, messages and places in the same
 * order, over the corpus's and the examples' YAML and mutations of them that duplicate, move and
 * re-indent lines, and over hand-made duplicates (flow maps, anchors, tags, explicit and empty keys).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { parseComposeDocuments } from '../../server/src/formats/compose/yamlDocuments';
import { yamlFiles } from '../helpers/yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const CORPUS = process.env.PORTOLAN_CORPUS ?? path.resolve(ROOT, '..', 'shared', 'corpus');

const shown = (docs: { errors: { code: string; message: string; pos: [number, number] }[] }[]) =>
  docs.map((d) => d.errors.map((e) => `${e.code} ${e.pos[0]}-${e.pos[1]} ${e.message}`));

function theirs(text: string): string[][] {
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  return Array.isArray(docs) ? shown(docs) : [];
}

function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** Lines copied next to themselves or elsewhere, moved, or indented again: duplicate keys at every depth. */
function mutate(text: string, random: () => number): string {
  const lines = text.split('\n');
  for (let steps = 1 + Math.floor(random() * 4); steps > 0; steps--) {
    const i = Math.floor(random() * lines.length);
    const j = Math.floor(random() * lines.length);
    const roll = random();
    if (roll < 0.5) lines.splice(i + 1, 0, lines[i]);
    else if (roll < 0.75) lines.splice(j, 0, lines[i]);
    else if (roll < 0.9) lines[i] = '  ' + lines[i];
    else lines.splice(i, 1);
  }
  return lines.join('\n');
}

describe('compose YAML: duplicate keys found in one pass, as the yaml package finds them', () => {
  it('hand-made duplicates: block and flow maps, anchors, tags, explicit, empty and numeric keys, nested', () => {
    const cases = [
      'services:\n  a: {}\n  a: {}\n',
      'services:\n  web:\n    ports: []\n    image: x\n    ports: [1]\n',
      'x: {a: 1, b: 2, a: 3}\n',
      '&k a: 1\n!!str a: 2\n',
      '? a\n: 1\n? a\n: 2\n',
      '? \n: 1\n? \n: 2\n',
      '1: a\n"1": b\n1: c\n',
      '- a: 1\n  a: 2\n- [b: 1, b: 2]\n',
      'a:\n  b:\n    c: 1\n    c: 2\n  b: 3\n',
      'a: 1\n---\na: 1\na: 2\n',
      'a: [1\nb: 1\nb: 2\n',
      '<<: *x\n<<: *y\n',
    ];
    let duplicates = 0;
    for (const text of cases) {
      const want = theirs(text);
      duplicates += want.flat().filter((e) => e.startsWith('DUPLICATE_KEY')).length;
      assert.deepStrictEqual(shown(parseComposeDocuments(text)), want, text);
    }
    assert.ok(duplicates >= 10, `the cases hold ${duplicates} duplicates`);
  });

  it("a map too big for the package's check: the same duplicates at the same places, found in one pass", () => {
    let text = 'services:\n';
    for (let i = 0; i < 3000; i++) text += `  s${i % 2900}:\n    image: x\n    image: y\n`;
    const want = theirs(text);
    assert.strictEqual(want[0].length, 3100);
    assert.deepStrictEqual(shown(parseComposeDocuments(text)), want);
  });

  it("the corpus's and the examples' YAML, and 20 mutations of each", function () {
    const files = [...yamlFiles(CORPUS), ...yamlFiles(path.join(ROOT, 'examples'))];
    if (!fs.existsSync(CORPUS)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${CORPUS}`);
      console.log(`      skipped: corpus not found at ${CORPUS}`);
      this.skip();
    }
    const random = rng(7);
    let texts = 0;
    let duplicates = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (let k = 0; k <= 20; k++) {
        const t = k === 0 ? text : mutate(text, random);
        const want = theirs(t);
        duplicates += want.flat().filter((e) => e.startsWith('DUPLICATE_KEY')).length;
        assert.deepStrictEqual(shown(parseComposeDocuments(t)), want, `${file}, mutation ${k}`);
        texts++;
      }
    }
    console.log(`      ${files.length} files, ${texts} texts, ${duplicates} duplicate keys, every error list equal`);
    assert.ok(duplicates > 100);
  });
});
