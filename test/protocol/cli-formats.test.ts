/**
 * `portolan check --format json|sarif`: the JSON document validated against
 * docs/portolan-output.schema.json, the SARIF log against the SARIF 2.1.0 schema
 * (test/fixtures/sarif-schema-2.1.0.json, draft-04), a golden SARIF file for a small host, and
 * fingerprints that survive runs and unrelated edits.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv07 from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { ruleInfos } from '../../server/src/cli/ruleMeta';
import { sarifReport } from '../../server/src/cli/sarif';
import { DIAGNOSTIC_CODES } from '../../server/src/rules/index';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'cli-host');
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'cli-host.sarif.json');
const cli = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const readJson = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

function sarifValidator() {
  const ajv = new AjvDraft04({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile<any>(readJson(path.join(ROOT, 'test', 'fixtures', 'sarif-schema-2.1.0.json')));
}
function jsonValidator() {
  const ajv = new Ajv07({ allErrors: true, strict: true });
  return ajv.compile<any>(readJson(path.join(ROOT, 'docs', 'portolan-output.schema.json')));
}

/** The text output's findings as [file, line, col, severity, code]. */
function textFindings(args: string[], cwd = ROOT): string[][] {
  const lines = cli(['check', ...args], cwd)
    .stdout.trim()
    .split('\n')
    .slice(0, -1);
  return lines.map((l) => {
    const m = /^(\S+):(\d+):(\d+) (\S+) (\S+) /.exec(l)!;
    return m.slice(1, 6);
  });
}

function copyTree(from: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-fmt-')));
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

/** The golden file's view of a log: the absolute SRCROOT and the version replaced. */
function normalise(log: any): any {
  const copy = JSON.parse(JSON.stringify(log));
  for (const run of copy.runs) {
    run.originalUriBaseIds.SRCROOT.uri = 'file:///SRCROOT/';
    run.tool.driver.version = run.tool.driver.semanticVersion = '<version>';
  }
  return copy;
}

describe('portolan check --format json', () => {
  const validate = jsonValidator();

  for (const [name, args, cwd] of [
    ['the examples', ['examples'], ROOT],
    ['the cli-host fixture', ['.'], FIXTURE],
  ] as const) {
    it(`is valid against docs/portolan-output.schema.json and says what the text says (${name})`, () => {
      const r = cli(['check', '--format', 'json', ...args], cwd);
      assert.strictEqual(r.status, 1, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
      assert.deepStrictEqual(
        doc.findings.map((f: any) => [f.file, String(f.line), String(f.column), f.severity, f.code]),
        textFindings([...args], cwd),
      );
      assert.strictEqual(doc.summary.errors, doc.findings.filter((f: any) => f.severity === 'error').length);
      assert.strictEqual(doc.cwd, fs.realpathSync(cwd));
      for (const f of doc.findings) assert.strictEqual(f.path, path.join(fs.realpathSync(cwd), f.file));
    });
  }

  it("the schema's code list is the public one (DIAGNOSTIC_CODES): a new or removed code updates docs/portolan-output.schema.json", () => {
    const schema = readJson(path.join(ROOT, 'docs', 'portolan-output.schema.json'));
    assert.deepStrictEqual([...schema.definitions.code.enum].sort(), [...DIAGNOSTIC_CODES].sort());
  });

  it('the schema rejects what it should (a missing field, an unknown code, a bad fingerprint)', () => {
    const doc = JSON.parse(cli(['check', '--format', 'json', '.'], FIXTURE).stdout);
    assert.ok(validate(doc));
    const broken = [
      (d: any) => delete d.findings[0].fingerprint,
      (d: any) => (d.findings[0].code = 'no-such-code'),
      (d: any) => (d.findings[0].fingerprint = '12:0'),
      (d: any) => (d.findings[0].line = 0),
      (d: any) => (d.summary.extra = 1),
    ];
    for (const mutate of broken) {
      const copy = JSON.parse(JSON.stringify(doc));
      mutate(copy);
      assert.ok(!validate(copy), mutate.toString());
    }
  });

  it('carries related locations and quick fixes with 1-based UTF-16 positions', () => {
    const doc = JSON.parse(cli(['check', '--format', 'json', '.'], FIXTURE).stdout);
    const quote = doc.findings.find((f: any) => f.code === 'invalid-port' && f.file === 'srv/app/compose.yaml');
    assert.ok(quote, 'the unquoted 22:22');
    assert.deepStrictEqual([quote.line, quote.column, quote.endLine, quote.endColumn], [9, 9, 9, 14]);
    assert.strictEqual(quote.fixes.length, 1);
    assert.deepStrictEqual(quote.fixes[0].edits[0].newText, '"22:22"');
    const conflict = doc.findings.find((f: any) => f.code === 'port-conflict' && f.file === 'etc/nginx/sites-enabled/app');
    assert.deepStrictEqual(
      conflict.related.map((r: any) => [r.file, r.line, r.column]),
      [['srv/app/compose.yaml', 5, 10]],
    );
    // A column after non-ASCII characters on the same line counts UTF-16 units (é is one, 🚀 two).
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-fmt-')));
    fs.mkdirSync(path.join(dir, 'etc/nginx'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'etc/nginx/nginx.conf'), 'events {}\nhttp { server { server_name é🚀.example; listen 70000; } }\n');
    const u = JSON.parse(cli(['check', '--format', 'json', dir]).stdout);
    const offset = 'http { server { server_name é🚀.example; listen '.length; // 48 UTF-16 units, 47 code points
    assert.deepStrictEqual(
      u.findings.map((f: any) => [f.code, f.line, f.column, f.endColumn]),
      [['invalid-port', 2, offset + 1, offset + 6]],
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('portolan check --format sarif', () => {
  const validate = sarifValidator();

  it('the SARIF 2.1.0 schema rejects a broken log (the validator can fail)', () => {
    const log = JSON.parse(cli(['check', '--format', 'sarif', '.'], FIXTURE).stdout);
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const broken = [
      (l: any) => (l.version = '2.0.0'),
      (l: any) => (l.runs[0].results[0].level = 'fatal'),
      (l: any) => (l.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0),
      (l: any) => delete l.runs[0].tool.driver.name,
      (l: any) => (l.runs[0].results[0].message = 'text'),
    ];
    for (const mutate of broken) {
      const copy = JSON.parse(JSON.stringify(log));
      mutate(copy);
      assert.ok(!validate(copy), mutate.toString());
    }
  });

  it('is valid SARIF 2.1.0 for the examples, one result per text finding, rules for every code', () => {
    const r = cli(['check', '--format', 'sarif', 'examples']);
    assert.strictEqual(r.status, 1, r.stderr);
    const log = JSON.parse(r.stdout);
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const run = log.runs[0];
    assert.deepStrictEqual(
      run.tool.driver.rules.map((x: any) => x.id),
      [...DIAGNOSTIC_CODES],
    );
    assert.deepStrictEqual(
      run.results.map((x: any) => {
        const loc = x.locations[0].physicalLocation;
        const severity = x.level === 'note' ? 'information' : x.level;
        return [decodeURIComponent(loc.artifactLocation.uri), String(loc.region.startLine), String(loc.region.startColumn), severity, x.ruleId];
      }),
      // SARIF's "note" stands for information and hints alike.
      textFindings(['examples']).map(([file, line, col, severity, code]) => [file, line, col, severity === 'hint' ? 'information' : severity, code]),
    );
    for (const x of run.results) {
      assert.strictEqual(run.tool.driver.rules[x.ruleIndex].id, x.ruleId);
      assert.strictEqual(x.locations[0].physicalLocation.artifactLocation.uriBaseId, 'SRCROOT');
    }
    assert.strictEqual(run.originalUriBaseIds.SRCROOT.uri, `file://${ROOT}/`);
  });

  it('matches the golden file for the cli-host fixture (paths relative to SRCROOT)', () => {
    const r = cli(['check', '--format', 'sarif', '.'], FIXTURE);
    const log = normalise(JSON.parse(r.stdout));
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, JSON.stringify(log, null, 2) + '\n');
    assert.deepStrictEqual(log, readJson(GOLDEN));
  });

  it('files outside the working directory get absolute file: URIs; --quiet keeps errors only', () => {
    // A fresh folder is never an ancestor of the fixture, wherever the repository is cloned (even under /tmp).
    const r = cli(['check', '--format', 'sarif', '--quiet', FIXTURE], fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-cwd-')));
    const log = JSON.parse(r.stdout);
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const uris = log.runs[0].results.map((x: any) => x.locations[0].physicalLocation.artifactLocation);
    assert.ok(uris.length > 0);
    for (const u of uris) {
      assert.ok(u.uri.startsWith(`file://${FIXTURE}/`), u.uri);
      assert.strictEqual(u.uriBaseId, undefined);
    }
    assert.deepStrictEqual([...new Set(log.runs[0].results.map((x: any) => x.level))], ['error']);
  });
});

describe('finding fingerprints (JSON fingerprint, SARIF partialFingerprints)', () => {
  const prints = (dir: string) => {
    const log = JSON.parse(cli(['check', '--format', 'sarif', '.'], dir).stdout);
    return log.runs[0].results.map((x: any) => ({
      key: `${x.ruleId} ${x.locations[0].physicalLocation.artifactLocation.uri}`,
      line: x.locations[0].physicalLocation.region.startLine,
      print: x.partialFingerprints['portolanFindingHash/v1'],
    }));
  };

  it('are the same on a second run, and after lines are added above and an unrelated line is edited', () => {
    const dir = copyTree(FIXTURE);
    const before = prints(dir);
    assert.deepStrictEqual(prints(dir), before);
    const sshd = path.join(dir, 'etc/ssh/sshd_config');
    fs.writeFileSync(sshd, '# moved down\n\n' + fs.readFileSync(sshd, 'utf8').replace('# a high port', '# a high, high port'));
    const compose = path.join(dir, 'srv/app/compose.yaml');
    fs.writeFileSync(compose, fs.readFileSync(compose, 'utf8').replace('image: nginx', 'image: nginx:1.27'));
    const after = prints(dir);
    assert.deepStrictEqual(after.map((x: any) => [x.key, x.print]).sort(), before.map((x: any) => [x.key, x.print]).sort());
    // ...although the sshd findings moved down two lines
    const lineOf = (list: any[], key: string) => list.filter((x) => x.key === key).map((x) => x.line);
    assert.deepStrictEqual(
      lineOf(after, 'invalid-port etc/ssh/sshd_config'),
      lineOf(before, 'invalid-port etc/ssh/sshd_config').map((l: number) => l + 2),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tell identical findings apart by occurrence, and change when the finding itself changes', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-fmt-')));
    fs.mkdirSync(path.join(dir, 'etc/ssh'), { recursive: true });
    const sshd = path.join(dir, 'etc/ssh/sshd_config');
    fs.writeFileSync(sshd, 'Port 70000\nPort 70000\n');
    const twins = prints(dir).filter((x: any) => x.key.startsWith('invalid-port'));
    assert.strictEqual(twins.length, 2);
    assert.strictEqual(twins[0].print.split(':')[0], twins[1].print.split(':')[0]);
    assert.deepStrictEqual(
      twins.map((x: any) => x.print.split(':')[1]),
      ['0', '1'],
    );
    fs.writeFileSync(sshd, 'Port 70000\nPort 70001\n');
    const changed = prints(dir).filter((x: any) => x.key.startsWith('invalid-port'));
    assert.strictEqual(changed[0].print, twins[0].print);
    assert.notStrictEqual(changed[1].print.split(':')[0], twins[1].print.split(':')[0]);
    // The JSON output carries the same values.
    const json = JSON.parse(cli(['check', '--format', 'json', '.'], dir).stdout);
    assert.deepStrictEqual(
      json.findings.filter((f: any) => f.code === 'invalid-port').map((f: any) => f.fingerprint),
      changed.map((x: any) => x.print),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('SARIF rule help', () => {
  it('names a rule docs page (and links it with a repository URL) only when the page exists', () => {
    const report = { cwd: '/ws', files: [], skipped: [], findings: [] };
    const rulesOf = (tool: Parameters<typeof sarifReport>[3]) => JSON.parse(sarifReport(report, [], ruleInfos(), tool)).runs[0].tool.driver.rules;
    const only = (docs: string) => docs === 'docs/rules/port-conflict.md';
    const rules = rulesOf({ name: 'portolan', version: '1.0.0', repository: 'https://example.invalid/portolan.git', hasDocs: only });
    const conflict = rules.find((r: any) => r.id === 'port-conflict');
    assert.match(conflict.help.text, /Documentation: docs\/rules\/port-conflict\.md/);
    assert.strictEqual(conflict.helpUri, 'https://example.invalid/portolan/blob/main/docs/rules/port-conflict.md');
    const syntax = rules.find((r: any) => r.id === 'syntax');
    assert.doesNotMatch(syntax.help.text, /Documentation/);
    assert.strictEqual(syntax.helpUri, undefined);
    // No repository URL: no helpUri even for a page that exists.
    assert.strictEqual(rulesOf({ name: 'portolan', version: '1.0.0', hasDocs: only }).find((r: any) => r.id === 'port-conflict').helpUri, undefined);
  });
});

describe('JSON and SARIF on the real-world corpus workspaces', () => {
  const corpus = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(ROOT, '..', 'shared', 'corpus'), 'workspaces');

  it('every workspace gives a valid SARIF log and a valid JSON document that agree, with unique fingerprints', function () {
    if (!fs.existsSync(corpus)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${corpus}`);
      console.log(`      skipped: corpus not found at ${corpus}`);
      this.skip();
    }
    const validateSarif = sarifValidator();
    const validateJson = jsonValidator();
    const workspaces = fs
      .readdirSync(corpus, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    assert.ok(workspaces.length >= 5, `only ${workspaces.length} workspaces`);
    let results = 0;
    let filesRead = 0;
    for (const name of workspaces) {
      const dir = path.join(corpus, name);
      const sarif = cli(['check', '--format', 'sarif', '.'], dir);
      const json = cli(['check', '--format', 'json', '.'], dir);
      assert.ok(sarif.status === 0 || sarif.status === 1, `${name}: exit ${sarif.status}: ${sarif.stderr}`);
      assert.strictEqual(json.status, sarif.status, name);
      const log = JSON.parse(sarif.stdout);
      const doc = JSON.parse(json.stdout);
      assert.ok(validateSarif(log), `${name}: ${JSON.stringify(validateSarif.errors?.slice(0, 3))}`);
      assert.ok(validateJson(doc), `${name}: ${JSON.stringify(validateJson.errors?.slice(0, 3))}`);
      const fromSarif = log.runs[0].results.map((x: any) => x.partialFingerprints['portolanFindingHash/v1']);
      assert.deepStrictEqual(
        fromSarif,
        doc.findings.map((f: any) => f.fingerprint),
        name,
      );
      assert.strictEqual(new Set(fromSarif).size, fromSarif.length, `${name}: two findings share a fingerprint`);
      results += fromSarif.length;
      filesRead += doc.files.length;
    }
    assert.ok(results > 0 && filesRead > 0, `the corpus gave ${results} findings on ${filesRead} files`);
    console.log(`      ${workspaces.length} workspaces, ${filesRead} files read, ${results} results: all valid`);
  });
});
