/**
 * .portolan.json: the quick fixes of an if-one-host conflict write it (created, or edited from its
 * text on disk), and the result read back by our own loader changes the findings as the title says;
 * its mistakes are findings on the file.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CodeAction, CreateFile, TextDocumentEdit } from 'vscode-languageserver';
import { collect } from '../../server/src/cli/collect';
import { applyEdits } from '../../server/src/core/fixes';
import { LineIndex } from '../../server/src/core/lineIndex';
import { CONFIG_MESSAGES, portolanJsonFindings, readPortolanJson, withOneHost } from '../../server/src/core/portolanJson';
import { provideCodeActions } from '../../server/src/features/codeActions';
import { folderHostsOf } from '../../server/src/workspace/files';
import { engineWith } from '../helpers/engine';

const publish = (service: string, port: string) => `services:\n  ${service}:\n    image: x\n    ports:\n      - "${port}"\n`;
const SIBLINGS = { 'pihole/docker-compose.yml': publish('pihole', '53:53/udp'), 'adguard/docker-compose.yml': publish('adguard', '53:53/udp') };

function workspace(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-hosts-')));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The port-conflict findings the command line reports on the folder, as "file severity". */
const conflictsOf = (dir: string) =>
  collect([dir], dir)
    .findings.filter((f) => f.finding.code === 'port-conflict')
    .map((f) => `${f.shown} ${f.finding.severity}`)
    .sort();

/** The code actions on pihole's publish, from an engine that holds the workspace's config files (not .portolan.json). */
function actionsOn(dir: string, files: Record<string, string>, canCreateFiles = true): CodeAction[] {
  const engine = engineWith(files, dir);
  const disk = path.join(dir, '.portolan.json');
  if (fs.existsSync(disk)) engine.hosts.setFolders([folderHostsOf(dir, fs.readFileSync(disk, 'utf8')) ?? { folder: dir, hosts: {} }]);
  const file = `${dir}/pihole/docker-compose.yml`;
  const line = { start: { line: 4, character: 9 }, end: { line: 4, character: 9 } };
  return provideCodeActions(engine, file, line, (f) => ({ range: line, message: f.message }), undefined, {
    readFile: (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined),
    canCreateFiles,
  });
}

/** Applies a code action's edit to the disk (a created file, or a whole-text replacement). */
function applyToDisk(action: CodeAction): void {
  const edit = action.edit!;
  for (const change of edit.documentChanges ?? []) {
    if ((change as CreateFile).kind === 'create') {
      const file = new URL((change as CreateFile).uri).pathname;
      assert.ok(!fs.existsSync(file), 'create only a file that does not exist');
      fs.writeFileSync(file, '');
      continue;
    }
    const { textDocument, edits } = change as TextDocumentEdit;
    const file = new URL(textDocument.uri).pathname;
    const text = fs.readFileSync(file, 'utf8');
    const index = new LineIndex(text);
    const spans = edits.map((e) => ({
      span: { start: index.offset(e.range.start.line, e.range.start.character), end: index.offset(e.range.end.line, e.range.end.character) },
      newText: (e as { newText: string }).newText,
    }));
    fs.writeFileSync(file, applyEdits(text, spans));
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    const file = new URL(uri).pathname;
    const text = fs.readFileSync(file, 'utf8');
    const index = new LineIndex(text);
    fs.writeFileSync(
      file,
      applyEdits(
        text,
        edits.map((e) => ({
          span: { start: index.offset(e.range.start.line, e.range.start.character), end: index.offset(e.range.end.line, e.range.end.character) },
          newText: e.newText,
        })),
      ),
    );
  }
}

describe('.portolan.json quick fixes on an if-one-host conflict', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const fresh = (extra: Record<string, string> = {}) => {
    const dir = workspace({ ...SIBLINGS, ...extra });
    dirs.push(dir);
    return dir;
  };
  const titles = (actions: CodeAction[]) => actions.map((a) => a.title);

  it('offers both fixes and no "Use port N" on the Information', () => {
    const dir = fresh();
    assert.deepStrictEqual(conflictsOf(dir), ['adguard/docker-compose.yml information', 'pihole/docker-compose.yml information']);
    const got = titles(actionsOn(dir, SIBLINGS));
    assert.ok(got.includes('These run on one host: oneHost pihole/**, adguard/** in .portolan.json'), got.join('\n'));
    assert.ok(got.includes('One host per project: hostPerProject in .portolan.json (silences these)'), got.join('\n'));
    assert.deepStrictEqual(
      got.filter((t) => t.startsWith('Use port')),
      [],
    );
  });

  it('"These run on one host" creates .portolan.json; read back, the two sides are Errors', () => {
    const dir = fresh();
    const action = actionsOn(dir, SIBLINGS).find((a) => a.title.startsWith('These run on one host'))!;
    assert.ok(action.edit?.documentChanges, 'a create-file edit');
    applyToDisk(action);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, '.portolan.json'), 'utf8')), { oneHost: [['pihole/**', 'adguard/**']] });
    assert.deepStrictEqual(conflictsOf(dir), ['adguard/docker-compose.yml error', 'pihole/docker-compose.yml error']);
    assert.deepStrictEqual(
      collect([dir], dir).findings.filter((f) => f.finding.code === 'portolan-json'),
      [],
    );
  });

  it('"One host per project" on a .portolan.json on disk (not in the engine) keeps what it says; read back, silent', () => {
    const dir = fresh({ 'web/compose.yaml': publish('web', '8080:80'), '.portolan.json': '{\n  "hosts": { "web": ["web/**"] }\n}\n' });
    const action = actionsOn(dir, { ...SIBLINGS, 'web/compose.yaml': publish('web', '8080:80') }).find((a) => a.title.startsWith('One host per project'))!;
    assert.ok(action.edit?.changes, 'an edit of the existing file');
    applyToDisk(action);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, '.portolan.json'), 'utf8')), { hosts: { web: ['web/**'] }, hostPerProject: true });
    assert.deepStrictEqual(conflictsOf(dir), []);
  });

  it('"These run on one host" merges with a group that already names one side', () => {
    assert.deepStrictEqual(JSON.parse(withOneHost('{"oneHost": [["pihole/**", "unbound/**"], ["x/**"]]}', ['pihole/**', 'adguard/**'])!), {
      oneHost: [['x/**'], ['pihole/**', 'adguard/**', 'unbound/**']],
    });
  });

  it('never edits a broken .portolan.json, and creates none where the client cannot create files', () => {
    const dir = fresh({ '.portolan.json': '{ "hosts": { ' });
    assert.deepStrictEqual(
      titles(actionsOn(dir, SIBLINGS)).filter((t) => t.includes('.portolan.json')),
      [],
    );
    const other = fresh();
    assert.deepStrictEqual(
      titles(actionsOn(other, SIBLINGS, false)).filter((t) => t.includes('.portolan.json')),
      [],
    );
  });
});

describe('.portolan.json mistakes are findings on the file', () => {
  const FILES = ['/ws/web/nginx.conf', '/ws/db/compose.yaml'];
  const findings = (text: string) => portolanJsonFindings('/ws/.portolan.json', readPortolanJson(text), '/ws', FILES);
  const at = (text: string, f: { span: { start: number; end: number } }) => text.slice(f.span.start, f.span.end);

  it('invalid JSON, at the place the reader stopped; nothing of it applies', () => {
    const text = '{\n  "hosts": { "web": ["web/**"], }\n}\n';
    const [f] = findings(text);
    assert.strictEqual(f.messageId, CONFIG_MESSAGES.invalidJson);
    assert.strictEqual(f.severity, 'error');
    assert.strictEqual(text.slice(f.span.start, f.span.start + 1), '}');
    assert.strictEqual(readPortolanJson(text).config, undefined);
  });

  it('unknown keys and values of the wrong shape, each at its place; the valid part applies', () => {
    const text = '{ "host": {}, "hosts": { "web": "web/**", "db": ["db/**", 3] }, "oneHost": "yes", "hostPerProject": 1 }';
    const got = findings(text).map((f) => [f.messageId, at(text, f)]);
    assert.deepStrictEqual(got, [
      [CONFIG_MESSAGES.unknownKey, '"host"'],
      [CONFIG_MESSAGES.wrongShape, '"web/**"'],
      [CONFIG_MESSAGES.wrongShape, '3'],
      [CONFIG_MESSAGES.wrongShape, '"yes"'],
      [CONFIG_MESSAGES.wrongShape, '1'],
    ]);
    assert.deepStrictEqual(readPortolanJson(text).config, { hosts: { db: ['db/**'] } });
  });

  it('kubernetes.nodePortRange: low-high, low+count or one port, as kube-apiserver reads it; anything else at its place', () => {
    assert.deepStrictEqual(readPortolanJson('{"kubernetes": {"nodePortRange": "20000-40000"}}').config?.kubernetes, {
      nodePortRange: { from: 20000, to: 40000 },
    });
    assert.deepStrictEqual(readPortolanJson('{"kubernetes": {"nodePortRange": "30000+100"}}').config?.kubernetes, {
      nodePortRange: { from: 30000, to: 30100 },
    });
    assert.deepStrictEqual(readPortolanJson('{"kubernetes": {"nodePortRange": "31000"}}').config?.kubernetes, { nodePortRange: { from: 31000, to: 31000 } });
    assert.deepStrictEqual(findings('{"kubernetes": {"nodePortRange": "20000-40000"}}'), []);
    for (const bad of ['"40000-20000"', '"0-100"', '"30000-70000"', '"30000:32767"', '30000', '["30000-32767"]']) {
      const text = `{"kubernetes": {"nodePortRange": ${bad}}}`;
      assert.deepStrictEqual(
        findings(text).map((f) => [f.messageId, f.severity, at(text, f)]),
        [[CONFIG_MESSAGES.wrongShape, 'error', bad]],
        bad,
      );
      assert.strictEqual(readPortolanJson(text).config?.kubernetes, undefined, bad);
    }
    const text = '{"kubernetes": {"nodeportRange": "20000-40000"}, "hosts": {}}';
    assert.deepStrictEqual(
      findings(text).map((f) => [f.messageId, f.severity, at(text, f)]),
      [[CONFIG_MESSAGES.unknownKey, 'warning', '"nodeportRange"']],
    );
    assert.deepStrictEqual(
      findings('{"kubernetes": "wide"}').map((f) => f.messageId),
      [CONFIG_MESSAGES.wrongShape],
    );
  });

  it('a glob that matches no file, and a file two hosts claim', () => {
    const text = '{ "hosts": { "web": ["web/**"], "all": ["**/*.conf"] }, "oneHost": [["dbs/**", "db/**"]] }';
    const got = findings(text).map((f) => [f.messageId, at(text, f), f.message]);
    assert.deepStrictEqual(got, [
      [CONFIG_MESSAGES.matchesNothing, '"dbs/**"', '"dbs/**" matches no file Portolan reads in this folder.'],
      [CONFIG_MESSAGES.claimedTwice, '"**/*.conf"', 'Hosts "web" and "all" both claim web/nginx.conf: it is on "web", the first.'],
    ]);
  });

  it('globs past a plain directory: negated, braces, ./, escapes, empty segments, prefixes of other names', () => {
    const files = ['/ws/a/etc/sshd_config', '/ws/b/etc/sshd_config', '/ws/ab/x.conf', '/ws/c/compose.yaml', '/ws/.hidden/etc/sshd_config'];
    const text = JSON.stringify({
      hosts: { one: ['!b/**'], two: ['{a,b}/etc/**'], three: ['./c/**', 'a'], four: ['a\\/etc/**', 'a//etc/*', 'b/'], five: ['ab/**', '.hidden/**'] },
    });
    const got = portolanJsonFindings('/ws/.portolan.json', readPortolanJson(text), '/ws', files).map((f) => f.message);
    assert.deepStrictEqual(got, [
      '"!b/**" only takes files out: name the files first (["**", "!b/**"]).',
      '"a" matches no file Portolan reads in this folder.',
      '"a//etc/*" matches no file Portolan reads in this folder.',
      '"b/" matches no file Portolan reads in this folder.',
      'Hosts "two" and "four" both claim a/etc/sshd_config: it is on "two", the first.',
    ]);
  });

  it('a negated glob takes files out of its host, as the host map places them', () => {
    const files = ['/ws/web/nginx.conf', '/ws/web/tmp/nginx.conf', '/ws/db/compose.yaml', '/ws/b/etc/sshd_config'];
    const config = { hosts: { web: ['web/**', '!web/tmp/**', '!web/old/**'], b: ['b/**', '!web/**'], rest: ['**', '!b/**', '!web/**'] } };
    const read = readPortolanJson(JSON.stringify(config));
    const got = portolanJsonFindings('/ws/.portolan.json', read, '/ws', files).map((f) => [f.messageId, f.message]);
    assert.deepStrictEqual(got, [
      [CONFIG_MESSAGES.matchesNothing, '"!web/old/**" takes out none of the files the other globs match.'],
      [CONFIG_MESSAGES.matchesNothing, '"!web/**" takes out none of the files the other globs match.'],
      // web/tmp/ is taken out of web and of rest, and b never had it: no host claims it twice.
    ]);
    const engine = engineWith({
      '.portolan.json': JSON.stringify(config),
      ...Object.fromEntries(files.map((f) => [f.slice(4), f.endsWith('.yaml') ? 'services: {}\n' : f.includes('sshd') ? 'Port 22\n' : 'events {}\n'])),
    });
    engine.hosts.setFolders([{ folder: '/ws', ...read.config! }]);
    engine.analyze();
    const hostOf = (f: string) => engine.hostModelOf(f)?.host;
    // web/tmp/ is on no named host: the folder's own.
    assert.deepStrictEqual(files.map(hostOf), ['/ws#web', '/ws', '/ws#rest', '/ws#b']);
  });

  it('the engine checks them again when a file comes or goes, not on every analysis', () => {
    const engine = engineWith({ 'web/nginx.conf': 'events {}\n', '.portolan.json': '{ "hosts": { "web": ["web/**"], "db": ["db/**"] } }\n' });
    const messages = () => (engine.analyze().findingsByFile.get('/ws/.portolan.json') ?? []).map((f) => f.message);
    assert.deepStrictEqual(messages(), ['"db/**" matches no file Portolan reads in this folder.']);
    engine.setFile('/ws/web/nginx.conf', 'events { }\n');
    assert.deepStrictEqual(messages(), ['"db/**" matches no file Portolan reads in this folder.']);
    engine.setFile('/ws/db/compose.yaml', 'services: {}\n');
    assert.deepStrictEqual(messages(), []);
    engine.deleteFile('/ws/db/compose.yaml');
    assert.deepStrictEqual(messages(), ['"db/**" matches no file Portolan reads in this folder.']);
  });

  it('a good file says nothing', () => {
    assert.deepStrictEqual(findings('{ "$schema": "x", "hosts": { "web": ["web/**"] }, "oneHost": [["web/**", "db/**"]], "hostPerProject": false }'), []);
  });

  it('the engine reports them on the folder .portolan.json it holds, and the command line prints them', () => {
    const engine = engineWith({ 'web/nginx.conf': 'events {}\n', '.portolan.json': '{ "hots": {} }\n' });
    const list = engine.analyze().findingsByFile.get('/ws/.portolan.json') ?? [];
    assert.deepStrictEqual(
      list.map((f) => [f.code, f.messageId, f.severity]),
      [['portolan-json', CONFIG_MESSAGES.unknownKey, 'warning']],
    );
    const dir = workspace({ 'web/nginx.conf': 'events {}\n', '.portolan.json': '{ "hosts": { "web": ["nothing/**"] } }\n' });
    try {
      const report = collect([dir], dir).findings.filter((f) => f.finding.code === 'portolan-json');
      assert.deepStrictEqual(
        report.map((f) => [f.shown, f.start.line, f.start.column, f.finding.messageId]),
        [['.portolan.json', 1, 22, CONFIG_MESSAGES.matchesNothing]],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
