/**
 * Navigation by port (issue 12) and the allow-rule fix (issue 11) in a real VS Code, through the
 * editor's own commands (`vscode.executeReferenceProvider`, `vscode.executeDocumentRenameProvider`, ...):
 * what Shift+F12, F2, the Outline, Ctrl+T, F12 and Ctrl+Space ask the extension.
 *
 * Each test works on a fresh copy of a fixture (test/fixtures/nav-host, the host of
 * test/protocol/navigation.test.ts, or this suite's fixture/web) under `nav/<test>/rootfs/` in the
 * workspace: a `rootfs/` tree is a host of its own, so no test sees another's edits. Before asking
 * anything, a test waits until the server holds every file of its copy (the port map of the copy's
 * host counts them) or publishes the diagnostics it needs; no sleeping, no timed assertion.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PortolanApi } from '../../../client/out/extension';
import { EXTENSION_ID } from './index';
import { WAIT_MS, codeOf, portolanDiagnostics, until } from './util';

const NAV_HOST = path.resolve(__dirname, '..', '..', 'fixtures', 'nav-host');
const WEB_HOST = path.resolve(__dirname, '..', 'fixture', 'web');
const NGINX = 'etc/nginx/conf.d/app.conf';
const COMPOSE = 'srv/app/compose.yaml';
const RULES = 'etc/iptables/rules.v4';
const SSHD = 'etc/ssh/sshd_config';

function api(): PortolanApi {
  const extension = vscode.extensions.getExtension<PortolanApi>(EXTENSION_ID);
  assert.ok(extension?.isActive, 'the extension is active');
  return extension.exports;
}

/** Every file under `dir` (readdirSync's `recursive` and `parentPath` need a newer Node than VS Code 1.91 ships). */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []))
    .sort();
}

/** A fresh copy of a fixture in the workspace, a host of its own; positions and texts of its files. */
class Copy {
  readonly root: string;
  private constructor(
    name: string,
    readonly fixture: string,
  ) {
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    this.root = path.join(folder, 'nav', name, 'rootfs');
  }

  /**
   * Copies `fixture` (plus `extra` files), opens each file (the client sends it to the server: a tree
   * copied in at once is not always reported file by file by the file watcher) and waits until the
   * server's port map of the copy's host holds all of them.
   */
  static async make(name: string, fixture: string, extra: Record<string, string> = {}): Promise<Copy> {
    const copy = new Copy(name, fixture);
    assert.ok(!fs.existsSync(copy.root), `${copy.root} is new`);
    fs.cpSync(fixture, copy.root, { recursive: true });
    for (const [rel, text] of Object.entries(extra)) copy.write(rel, text);
    const files = filesUnder(copy.root);
    for (const file of files) await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    let seen = 'no host';
    try {
      await until(`the server to hold the ${files.length} files of nav/${name}/rootfs`, async () => {
        const [host] = (await api().portMap({ uri: vscode.Uri.file(files[0]).toString(), summary: true })).hosts;
        seen = host ? `${host.id}: ${host.files} files` : 'no host';
        return host && host.id.endsWith(`#nav/${name}/rootfs`) && host.files === files.length ? host : undefined;
      });
    } catch (err) {
      throw new Error(`${(err as Error).message} (last seen: ${seen})`);
    }
    return copy;
  }

  uri(rel: string): vscode.Uri {
    return vscode.Uri.file(path.join(this.root, rel));
  }

  /** The path shown for a location: relative to the copy when inside it. */
  rel(file: string): string {
    return file.startsWith(this.root + '/') ? file.slice(this.root.length + 1) : file;
  }

  original(rel: string): string {
    return fs.readFileSync(path.join(this.fixture, rel), 'utf8');
  }

  write(rel: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(this.root, rel)), { recursive: true });
    fs.writeFileSync(path.join(this.root, rel), text);
  }

  /** The position of the `nth` occurrence of `needle` in the file as the fixture has it, `delta` characters in. */
  at(rel: string, needle: string, nth = 0, delta = 1): vscode.Position {
    const text = fs.readFileSync(path.join(this.root, rel), 'utf8');
    let offset = -1;
    for (let i = 0; i <= nth; i++) {
      offset = text.indexOf(needle, offset + 1);
      assert.ok(offset >= 0, `"${needle}" #${nth} in ${rel}`);
    }
    const before = text.slice(0, offset + delta).split('\n');
    return new vscode.Position(before.length - 1, before[before.length - 1].length);
  }

  /** Locations as "file:line:col" (1-based, relative to the copy), sorted. */
  shown(locations: readonly (vscode.Location | vscode.LocationLink)[] | undefined): string[] {
    return (locations ?? [])
      .map((l) => ('targetUri' in l ? { uri: l.targetUri, range: l.targetSelectionRange ?? l.targetRange } : l))
      .map((l) => `${this.rel(l.uri.fsPath)}:${l.range.start.line + 1}:${l.range.start.character + 1}`)
      .sort();
  }
}

const references = (uri: vscode.Uri, position: vscode.Position) =>
  vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', uri, position);

describe('navigation by port in VS Code (the editor commands)', function () {
  this.timeout(2 * WAIT_MS);

  it('references: a published port reaches the container port, the proxy_pass to it and the firewall rule', async () => {
    const c = await Copy.make('references', NAV_HOST);
    assert.deepStrictEqual(c.shown(await references(c.uri(COMPOSE), c.at(COMPOSE, '8080'))), [
      `${RULES}:7:42`,
      `${NGINX}:6:37`,
      `${COMPOSE}:5:10`,
      `${COMPOSE}:5:15`,
    ]);
    // A rule for sshd's default port: the rule and sshd's implicit listen (at the start of its file).
    assert.deepStrictEqual(c.shown(await references(c.uri(RULES), c.at(RULES, '22'))), [`${RULES}:6:25`, `${SSHD}:1:1`]);
    assert.deepStrictEqual(c.shown(await references(c.uri(NGINX), c.at(NGINX, 'server_name'))), []);
  });

  it('definition: from a proxy_pass and a firewall rule to the bind; nothing from the bind itself', async () => {
    const c = await Copy.make('definition', NAV_HOST);
    const definition = async (rel: string, needle: string) =>
      c.shown(
        await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', c.uri(rel), c.at(rel, needle)),
      );
    assert.deepStrictEqual(await definition(NGINX, '8080'), [`${COMPOSE}:5:10`]);
    assert.deepStrictEqual(await definition(RULES, '80,'), [`${NGINX}:2:12`]);
    assert.deepStrictEqual(await definition(COMPOSE, '8080'), []);
  });

  it('rename across two files: the WorkspaceEdit, applied and saved, changes the nginx listen and the firewall rule, nothing else', async () => {
    const c = await Copy.make('rename', NAV_HOST);
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', c.uri(NGINX), c.at(NGINX, '80;'), '8000');
    assert.ok(edit, 'a rename edit');
    assert.deepStrictEqual(
      edit
        .entries()
        .map(([uri]) => c.rel(uri.fsPath))
        .sort(),
      [RULES, NGINX].sort(),
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    const expected: Record<string, string> = {
      [NGINX]: c.original(NGINX).replace('    listen 80;\n', '    listen 8000;\n'),
      [RULES]: c.original(RULES).replace('--dports 80,8080 -j ACCEPT', '--dports 8000,8080 -j ACCEPT'),
    };
    for (const [rel, text] of Object.entries(expected)) {
      assert.notStrictEqual(text, c.original(rel), `the expectation for ${rel} differs from the fixture`);
      const document = await vscode.workspace.openTextDocument(c.uri(rel));
      assert.strictEqual(document.getText(), text, `${rel} after the rename`);
      assert.ok(await document.save(), `${rel} saved`);
      assert.strictEqual(fs.readFileSync(path.join(c.root, rel), 'utf8'), text, `${rel} on disk`);
    }
    for (const rel of [COMPOSE, SSHD, 'etc/nginx/nginx.conf']) assert.strictEqual(fs.readFileSync(path.join(c.root, rel), 'utf8'), c.original(rel));
    // The server analyses the edited files: the port map of the host has 8000 where 80 was.
    await until('tcp 8000 in the port map of the copy', async () => {
      const [host] = (await api().portMap({ uri: c.uri(NGINX).toString() })).hosts;
      return host?.ports.some((p) => p.port === 8000) && !host.ports.some((p) => p.port === 80) ? true : undefined;
    });
    assert.deepStrictEqual(c.shown(await references(c.uri(NGINX), c.at(NGINX, '8000;'))), [`${RULES}:7:39`, `${NGINX}:2:12`]);
  });

  it('rename: an ambiguous socket is refused with the reason', async () => {
    const c = await Copy.make('rename-refused', NAV_HOST);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('vscode.executeDocumentRenameProvider', c.uri(COMPOSE), c.at(COMPOSE, '8443'), '9443')),
      /Ambiguous: TCP 8443/,
    );
    for (const rel of [COMPOSE, NGINX]) assert.strictEqual((await vscode.workspace.openTextDocument(c.uri(rel))).getText(), c.original(rel));
  });

  it('the outline: the server block with its ports, the compose service, the chain', async () => {
    const c = await Copy.make('outline', NAV_HOST);
    const symbols = (rel: string) => vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', c.uri(rel));
    const outline = (list: vscode.DocumentSymbol[] | undefined) => (list ?? []).map((s) => [s.name, s.children.map((k) => `${k.name} ${k.detail}`.trim())]);
    assert.deepStrictEqual(outline(await symbols(NGINX)), [
      [
        'server block at line 1 of app.conf (server_name app.example)',
        ['80/tcp listen · HTTP', '8443/tcp listen 127.0.0.1 · HTTPS alternate', '8080/tcp points at 127.0.0.1 · HTTP alternate'],
      ],
    ]);
    const compose = (await symbols(COMPOSE)) ?? [];
    assert.deepStrictEqual(
      compose.map((s) => [s.name, s.children.map((k) => k.name)]),
      [['service app', ['8080/tcp', '3000/tcp', '8443/tcp', '443/tcp']]],
    );
    for (const k of compose[0].children) assert.ok(compose[0].range.contains(k.range), `${k.name} lies inside its service`);
    assert.deepStrictEqual(
      ((await symbols(RULES)) ?? []).map((s) => [s.name, s.children.map((k) => k.name)]),
      [['filter INPUT', ['22/tcp', '80/tcp', '8080/tcp']]],
    );
    assert.deepStrictEqual(outline(await symbols('etc/nginx/nginx.conf')), []);
  });

  it('workspace symbols: by number and by service name, nothing for what no host holds', async () => {
    const c = await Copy.make('symbols', NAV_HOST);
    const find = async (query: string) =>
      ((await vscode.commands.executeCommand<vscode.SymbolInformation[]>('vscode.executeWorkspaceSymbolProvider', query)) ?? [])
        .filter((s) => s.location.uri.fsPath.startsWith(c.root + '/'))
        .map((s) => `${s.name} ${c.shown([s.location])[0]}`)
        .sort();
    assert.deepStrictEqual(await find('8443'), [`8443/tcp HTTPS alternate ${NGINX}:3:22`, `8443/tcp HTTPS alternate ${COMPOSE}:6:20`]);
    assert.deepStrictEqual(await find('https'), [
      `443/tcp HTTPS ${COMPOSE}:6:25`,
      `8443/tcp HTTPS alternate ${NGINX}:3:22`,
      `8443/tcp HTTPS alternate ${COMPOSE}:6:20`,
    ]);
    const everywhere = await vscode.commands.executeCommand<vscode.SymbolInformation[]>('vscode.executeWorkspaceSymbolProvider', 'postgres');
    assert.deepStrictEqual(everywhere ?? [], []);
  });

  it('completion after `listen `: free ports first, the taken ones saying by whom; nothing where no port goes', async () => {
    const file = 'etc/nginx/conf.d/new.conf';
    const c = await Copy.make('completion', NAV_HOST, { [file]: 'server {\n    listen \n}\n' });
    const complete = async (position: vscode.Position) => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', c.uri(file), position);
      return (list?.items ?? []).filter((i) => i.kind === vscode.CompletionItemKind.Value || i.kind === vscode.CompletionItemKind.EnumMember);
    };
    const items = (await complete(new vscode.Position(1, 11))).sort((a, b) => (a.sortText ?? '').localeCompare(b.sortText ?? ''));
    const label = (i: vscode.CompletionItem) => (typeof i.label === 'string' ? i.label : i.label.label);
    const rank = (l: string) => items.findIndex((i) => label(i) === l);
    assert.ok(rank('8081') >= 0 && rank('8081') < rank('8080'), `the free 8081 before the taken 8080: ${items.map(label).join(' ')}`);
    assert.match(String(items[rank('8080')].detail), /taken by docker \(.*srv\/app\/compose\.yaml:5\)/);
    assert.match(String(items[rank('22')].detail), /taken by sshd/);
    assert.match(String(items[rank('8081')].detail), /free on this host/);
    assert.match(String(items[0].detail), /free on this host/);
    assert.ok(!items.some((i) => label(i) === 'ssh'), 'nginx takes no service names');
    assert.deepStrictEqual((await complete(new vscode.Position(0, 3))).map(label), []);
  });
});

describe('the allow-rule quick fix in VS Code', function () {
  this.timeout(2 * WAIT_MS);

  it('"Allow TCP 80 in …rules.v4" on a firewall-blocked listen adds the ACCEPT rule before COMMIT, and the finding goes', async () => {
    const c = await Copy.make('allow-rule', WEB_HOST);
    const blog = c.uri('etc/nginx/sites-enabled/blog');
    const blocked = await until('the firewall-blocked warning on blog', () => portolanDiagnostics(blog).find((d) => codeOf(d) === 'firewall-blocked'));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      blog,
      blocked.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const titles = (actions ?? []).map((a) => a.title);
    const allow = (actions ?? []).find((a) => /^Allow TCP 80 in /.test(a.title));
    assert.ok(allow?.edit, `an allow fix with an edit among: ${titles.join(' | ')}`);
    assert.match(allow.title, /^Allow TCP 80 in rules\.v4$/);
    assert.deepStrictEqual(
      allow.edit.entries().map(([uri]) => c.rel(uri.fsPath)),
      [RULES],
    );
    assert.ok(await vscode.workspace.applyEdit(allow.edit));
    const rules = await vscode.workspace.openTextDocument(c.uri(RULES));
    const expected = c.original(RULES).replace('COMMIT\n', '-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n');
    assert.notStrictEqual(expected, c.original(RULES));
    assert.strictEqual(rules.getText(), expected);
    assert.ok(await rules.save());
    await until('the firewall-blocked warnings on port 80 to go', () =>
      portolanDiagnostics(blog).some((d) => codeOf(d) === 'firewall-blocked') ? undefined : true,
    );
    for (const rel of ['etc/nginx/sites-enabled/blog', 'etc/nginx/sites-enabled/shop', COMPOSE])
      assert.strictEqual(fs.readFileSync(path.join(c.root, rel), 'utf8'), c.original(rel), `${rel} unchanged`);
  });
});
