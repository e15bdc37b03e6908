/**
 * The compose quick fix for an unquoted `HH:MM` port, applied, gives a file that docker-compose
 * (a YAML 1.1 reader) publishes as written, and that we no longer flag.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { applyEdits, engineWith } from '../helpers/engine';
import { requireProgram, run } from '../helpers/programs';

/** YAML 1.1 reads `22:22` as 1342 (base 60: every part after the first is 0-59); `80:80` stays a string. */
const FIRES = ['22:22', '53:53', '25:25'];
const SILENT = ['80:80', '5432:5432', '127.0.0.1:53:53'];

function composeConfig(compose: string, text: string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-compose-fix-'));
  fs.writeFileSync(path.join(dir, 'compose.yaml'), text);
  const r = run(compose, ['-f', path.join(dir, 'compose.yaml'), 'config'], { cwd: dir });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.strictEqual(r.status, 0, r.stderr);
  // docker-compose 1.29 prints long syntax, or the short string when a host IP is given.
  const ports = parseYaml(r.stdout).services.app.ports as (string | { published?: number | string; target: number })[];
  return ports.map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.published ?? ''}:${p.target}`)).sort();
}

describe('compose quick fixes against docker-compose config', function () {
  this.timeout(120000);
  let compose: string;
  before(function () {
    compose = requireProgram(this, ['docker-compose'], 'docker-compose');
  });

  const file = (spec: string) => `services:\n  app:\n    image: example/app\n    ports:\n      - ${spec}\n      - "8080:80"\n`;

  for (const spec of FIRES) {
    it(`unquoted ${spec}: docker-compose misreads it; quoting it (our fix) makes it publish what is written`, () => {
      const text = file(spec);
      assert.notDeepStrictEqual(composeConfig(compose, text), [spec, '8080:80'].sort(), 'YAML 1.1 reads the unquoted form as a number');
      const unquoted = (engineWith({ 'srv/compose.yaml': text }).analyze().findingsByFile.get('/ws/srv/compose.yaml') ?? []).find(
        (f) => f.code === 'invalid-port' && f.fixes?.length,
      );
      assert.ok(unquoted, 'the warning offers a fix');
      const fixed = applyEdits(text, unquoted.fixes![0].edits);
      assert.strictEqual(fixed, text.replace(`- ${spec}`, `- "${spec}"`));
      assert.deepStrictEqual(composeConfig(compose, fixed), [spec, '8080:80'].sort());
      const after = engineWith({ 'srv/compose.yaml': fixed }).analyze().findingsByFile.get('/ws/srv/compose.yaml') ?? [];
      assert.deepStrictEqual(
        after.filter((f) => f.code === 'invalid-port'),
        [],
      );
    });
  }

  for (const spec of SILENT) {
    it(`unquoted ${spec}: docker-compose reads it as written, and we stay silent`, () => {
      const text = file(spec);
      assert.deepStrictEqual(composeConfig(compose, text), [spec, '8080:80'].sort());
      const findings = engineWith({ 'srv/compose.yaml': text }).analyze().findingsByFile.get('/ws/srv/compose.yaml') ?? [];
      assert.deepStrictEqual(
        findings.filter((f) => f.code === 'invalid-port'),
        [],
      );
    });
  }
});
