/**
 * What an edit re-does (issue 16): a file whose findings did not change keeps the very same findings
 * array (the server re-publishes only the others), the answers stay those of a fresh engine, and a
 * scoped engine over one host's files (the server's open-files-first pass) answers for that host as
 * the whole workspace does.
 */
import * as assert from 'assert';
import { defaultSettings, type Engine } from '../../server/src/core/engine';
import { engineWith } from '../helpers/engine';

/** Two hosts of a folder (`.portolan.json`-style globs): a conflict on each. */
const FILES: Record<string, string> = {
  'a/etc/ssh/sshd_config': 'Port 8080\n',
  'a/etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
  'b/etc/ssh/sshd_config': 'Port 9090\n# portolan-ignore-file ephemeral-port\n',
  'b/srv/compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "9090:80"\n      - "70000:81"\n',
};

function twoHosts(files: Record<string, string> = FILES): Engine {
  const e = engineWith(files);
  e.hosts.setFolders([{ folder: '/ws', hosts: { a: ['a/**'], b: ['b/**'] } }]);
  return e;
}

function shown(e: Engine, files?: string[]): string {
  const r = e.analyze();
  return JSON.stringify(
    [...r.findingsByFile]
      .filter(([f]) => !files || files.includes(f))
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([f, list]) => [f, list.map((x) => `${x.span.start}-${x.span.end} ${x.severity} ${x.code} ${x.message}`)]),
  );
}

describe('analysis caches (issue 16)', () => {
  it('an edit on one host keeps the findings arrays of the other host, and gives the answers of a fresh engine', () => {
    const e = twoHosts();
    const before = e.analyze().findingsByFile;
    assert.ok(before.get('/ws/a/etc/ssh/sshd_config')!.some((f) => f.code === 'port-conflict'));
    assert.ok(before.get('/ws/b/srv/compose.yaml')!.some((f) => f.code === 'invalid-port'));
    assert.ok(before.get('/ws/b/etc/ssh/sshd_config')!.some((f) => f.code === 'port-conflict'));
    e.setFile('/ws/a/etc/ssh/sshd_config', 'Port 2222\n');
    const after = e.analyze().findingsByFile;
    assert.strictEqual(after.get('/ws/b/srv/compose.yaml'), before.get('/ws/b/srv/compose.yaml'));
    assert.strictEqual(after.get('/ws/b/etc/ssh/sshd_config'), before.get('/ws/b/etc/ssh/sshd_config'));
    assert.notStrictEqual(after.get('/ws/a/etc/nginx/nginx.conf'), before.get('/ws/a/etc/nginx/nginx.conf'));
    assert.ok(!(after.get('/ws/a/etc/ssh/sshd_config') ?? []).some((f) => f.code === 'port-conflict'));
    assert.strictEqual(shown(e), shown(twoHosts({ ...FILES, 'a/etc/ssh/sshd_config': 'Port 2222\n' })));
  });

  it('files come out in the order of their first finding, as a fresh engine gives them', () => {
    const e = twoHosts();
    e.analyze();
    e.setFile('/ws/b/srv/compose.yaml', FILES['b/srv/compose.yaml'].replace('70000', '70001'));
    const fresh = twoHosts({ ...FILES, 'b/srv/compose.yaml': FILES['b/srv/compose.yaml'].replace('70000', '70001') });
    assert.deepStrictEqual([...e.analyze().findingsByFile.keys()], [...fresh.analyze().findingsByFile.keys()]);
  });

  it('an earlier analysis keeps its answers after later edits (its map is not the engine’s current one)', () => {
    const e = twoHosts();
    const first = e.analyze();
    const shownFirst = JSON.stringify([...first.findingsByFile]);
    const sshd = first.findingsByFile.get('/ws/a/etc/ssh/sshd_config');
    e.setFile('/ws/a/etc/ssh/sshd_config', 'Port 2222\n');
    e.analyze();
    e.setFile('/ws/b/srv/compose.yaml', FILES['b/srv/compose.yaml'].replace('70000', '9090'));
    const third = e.analyze();
    assert.notStrictEqual(third.findingsByFile.get('/ws/a/etc/ssh/sshd_config'), sshd);
    assert.strictEqual(first.findingsByFile.get('/ws/a/etc/ssh/sshd_config'), sshd);
    assert.strictEqual(JSON.stringify([...first.findingsByFile]), shownFirst);
    assert.strictEqual(first.findingsByFile.size, JSON.parse(shownFirst).length);
  });

  it('after an edit the result names the files whose findings may have changed; every other file keeps its array', () => {
    const e = twoHosts();
    const before = e.analyze();
    e.setFile('/ws/a/etc/ssh/sshd_config', 'Port 2222\n');
    const after = e.analyze();
    assert.strictEqual(after.changes?.since, before.generation);
    const changed = after.changes!.files;
    assert.ok(changed.has('/ws/a/etc/ssh/sshd_config') && changed.has('/ws/a/etc/nginx/nginx.conf'));
    assert.ok(!changed.has('/ws/b/srv/compose.yaml') && !changed.has('/ws/b/etc/ssh/sshd_config'));
    for (const file of new Set([...before.findingsByFile.keys(), ...after.findingsByFile.keys()]))
      if (!changed.has(file)) assert.strictEqual(after.findingsByFile.get(file), before.findingsByFile.get(file), file);
    // A new file changes the graph: the analysis is made from scratch and names nothing.
    e.setFile('/ws/a/etc/nginx/conf.d/new.conf', 'server { listen 8081; }\n');
    assert.strictEqual(e.analyze().changes, undefined);
  });

  it('a settings change re-collects every file (portolan.ignore, portolan.severity)', () => {
    const e = twoHosts();
    const before = e.analyze().findingsByFile.get('/ws/b/srv/compose.yaml')!;
    e.setSettings({ ...defaultSettings(), ignoreCodes: ['invalid-port'], severity: { 'port-conflict': 'warning' } });
    const after = e.analyze().findingsByFile;
    assert.ok(!(after.get('/ws/b/srv/compose.yaml') ?? []).some((f) => f.code === 'invalid-port'));
    assert.ok(before.some((f) => f.code === 'invalid-port'));
    assert.ok(after.get('/ws/a/etc/ssh/sshd_config')!.every((f) => f.code !== 'port-conflict' || f.severity === 'warning'));
  });

  it('facts by file and the same-host uses are those of the file’s host model', () => {
    const e = twoHosts();
    const r = e.analyze();
    const sshd = r.factsByFile.get('/ws/a/etc/ssh/sshd_config')!;
    assert.deepStrictEqual(
      sshd,
      r.facts.filter(({ fact }) => fact.file === '/ws/a/etc/ssh/sshd_config').map(({ fact }) => fact),
    );
    const uses = e.sameHostUses(sshd.find((f) => f.port === 8080)!);
    assert.deepStrictEqual(
      uses.map((f) => f.file),
      ['/ws/a/etc/nginx/nginx.conf'],
    );
    assert.strictEqual(r.factsByFile.get('/ws/nowhere.conf'), undefined);
  });

  it('a scoped engine over one host’s files answers for them as the whole workspace does', () => {
    const e = twoHosts();
    const hostB = Object.keys(FILES)
      .map((f) => `/ws/${f}`)
      .filter((f) => f.startsWith('/ws/b/'));
    const scoped = e.scoped(hostB);
    assert.deepStrictEqual(scoped.fileNames().sort(), hostB.sort());
    assert.strictEqual(shown(scoped), shown(e, hostB));
    // The scoped engine changes nothing in the one it came from.
    assert.deepStrictEqual(e.fileNames().length, Object.keys(FILES).length);
  });
});
