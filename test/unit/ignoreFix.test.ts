/**
 * "Ignore CODE on this line" writes a comment the format accepts: applied to every finding of the
 * examples (every format), it silences exactly that finding and adds none.
 */
import * as assert from 'assert';
import * as path from 'path';
import { ignoreFix } from '../../server/src/core/ignore';
import { applyEdits, engineWith, readTree } from '../helpers/engine';

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');

const key = (f: { file: string; code: string; message: string }) => `${f.file} ${f.code} ${f.message}`;

describe('ignore quick fix', () => {
  const files = readTree(EXAMPLES);
  const engine = engineWith(files);
  const result = engine.analyze();
  const all = [...result.findingsByFile.values()].flat();

  it("is offered on the examples' findings of every format that has findings", () => {
    const formats = new Set(all.map((f) => result.formatOf.get(f.file)));
    assert.ok(formats.size >= 5, `formats with findings: ${[...formats].join(', ')}`);
    for (const f of all) assert.ok(ignoreFix(engine.text(f.file)!, engine.lineIndex(f.file), f, result.formatOf.get(f.file)), `no ignore fix for ${key(f)}`);
  });

  it('applied, silences exactly its finding and adds none', () => {
    for (const f of all) {
      const fix = ignoreFix(engine.text(f.file)!, engine.lineIndex(f.file), f, result.formatOf.get(f.file))!;
      const rel = f.file.replace('/ws/', '');
      const edited = engineWith({ ...files, [rel]: applyEdits(files[rel], fix.edits) }).analyze();
      const after = [...edited.findingsByFile.values()].flat();
      const onLine = (x: typeof f) => x.file === f.file && x.code === f.code;
      // The finding's own line moved down by one: compare by file, code and message, not by offsets.
      assert.ok(!after.some((x) => onLine(x) && x.message === f.message), `${key(f)} is still reported after: ${fix.edits[0].newText.trim()}`);
      const before = new Set(all.filter((x) => x !== f).map(key));
      const added = after.filter((x) => !before.has(key(x)) && !/:\d+/.test(x.message));
      assert.deepStrictEqual(added.map(key), [], `ignoring ${key(f)} added findings`);
    }
  });

  it('is not offered inside an XML tag that spans lines', () => {
    const text = '<?xml version="1.0"?>\n<zone>\n  <port\n     port="70000" protocol="tcp"/>\n</zone>\n';
    const e = engineWith({ 'etc/firewalld/zones/z.xml': text });
    const r = e.analyze();
    const f = r.findingsByFile.get('/ws/etc/firewalld/zones/z.xml')!.find((x) => x.code === 'invalid-port')!;
    assert.ok(f, 'the bad port is found');
    assert.strictEqual(ignoreFix(text, e.lineIndex(f.file), f, r.formatOf.get(f.file)), undefined);
  });
});
