/**
 * What the extension adds to the workbench, through the `vscode` API and the extension's exports: the
 * installed package is the one under test, the firewall languages, the Port Map tree and chart, the
 * status bar item, the output channel and `portolan.severity`.
 * Workspace: a copy of test/vscode/fixture (.portolan.json maps web/** to the host "web").
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PortMapNode, PortMapTree } from '../../../client/out/portMapTree';
import type { PortolanApi } from '../../../client/out/extension';
import { EXTENSION_ID } from './index';
import { WAIT_MS, codeOf, portolanDiagnostics, until, workspaceFile } from './util';

function api(): PortolanApi {
  const extension = vscode.extensions.getExtension<PortolanApi>(EXTENSION_ID);
  assert.ok(extension?.isActive, 'the extension is active');
  return extension.exports;
}

function label(tree: PortMapTree, node: PortMapNode): string {
  const item = tree.getTreeItem(node);
  const text = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  return item.description ? `${text} — ${String(item.description)}` : text;
}

describe('the installed extension in VS Code', function () {
  this.timeout(2 * WAIT_MS);

  it('is the installed .vsix, not the development folder (when the driver installed one)', function () {
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const expectFile = path.join(path.dirname(folder), 'portolan-vscode-expect.json');
    if (!fs.existsSync(expectFile)) this.skip(); // desktop runs (test:desktop) load the development folder
    const expected = JSON.parse(fs.readFileSync(expectFile, 'utf8')) as { extensionsDir: string; version: string };
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.ok(extension.extensionPath.startsWith(expected.extensionsDir + path.sep), `${extension.extensionPath} is under ${expected.extensionsDir}`);
    assert.strictEqual(extension.packageJSON.version, expected.version);
    // The package holds the bundles, not the sources or the tests.
    assert.ok(fs.existsSync(path.join(extension.extensionPath, 'server', 'out', 'server.js')));
    assert.ok(!fs.existsSync(path.join(extension.extensionPath, 'server', 'src')));
    assert.ok(!fs.existsSync(path.join(extension.extensionPath, 'node_modules')));
    assert.ok(!fs.existsSync(path.join(extension.extensionPath, 'test')));
  });

  it('opens nftables.conf (first line #!/usr/sbin/nft -f) as nftables and rules.v4 as iptables', async () => {
    const nft = await vscode.workspace.openTextDocument(workspaceFile('etc/nftables.conf'));
    assert.strictEqual(nft.languageId, 'nftables');
    const rules = await vscode.workspace.openTextDocument(workspaceFile('web/etc/iptables/rules.v4'));
    assert.strictEqual(rules.languageId, 'iptables');
  });

  it('the Port Map tree: each host, its ports, and who binds each port, what the firewall does, the findings', async () => {
    const { tree } = api();
    // Earlier suites edit and revert the fixture: wait until the tree shows the files as they are on disk.
    const hosts = await until('the two hosts of the fixture in the port map', async () => {
      // The copies the navigation suite and the driver make under nav/ are hosts of their own (rootfs/ trees).
      const roots = (await tree.getChildren()).filter((r) => !(r.kind === 'host' && r.host.id.includes('#nav/')));
      const shown = roots.map((r) => label(tree, r));
      return shown.includes('web — 3 ports · 3 errors · 3 warnings') && shown.includes('workspace — 2 ports · 3 errors · 1 warning') ? roots : undefined;
    });
    assert.strictEqual(hosts.length, 2);
    const web = hosts.find((h) => h.kind === 'host' && h.host.label === 'web')!;
    const ports = await tree.getChildren(web);
    assert.deepStrictEqual(
      ports.map((p) => label(tree, p)),
      ['tcp 80 — HTTP · nginx', 'tcp 443 — HTTPS · docker, nginx · conflict', 'tcp 8080 — HTTP alternate · docker'],
    );
    const https = (await tree.getChildren(ports[1])).map((n) => label(tree, n));
    assert.ok(
      https.some((l) => /^nginx listens on 0\.0\.0\.0:443\/tcp — web\/etc\/nginx\/sites-enabled\/shop:3$/.test(l)),
      https.join('\n'),
    );
    assert.ok(
      https.some((l) => /^docker publishes .*443\/tcp — web\/srv\/app\/compose\.yaml:6$/.test(l)),
      https.join('\n'),
    );
    assert.ok(
      https.some((l) => /^iptables: accept by the rule at line 6 — web\/etc\/iptables\/rules\.v4$/.test(l)),
      https.join('\n'),
    );
    assert.ok(
      https.some((l) => /— port-conflict$/.test(l)),
      https.join('\n'),
    );
    const http = (await tree.getChildren(ports[0])).map((n) => label(tree, n));
    assert.ok(
      http.some((l) => /^iptables: drop by the default policy/.test(l)),
      http.join('\n'),
    );
  });

  it('a port map line jumps to its place in the file', async () => {
    const { tree } = api();
    const web = (await tree.getChildren()).find((h) => h.kind === 'host' && h.host.label === 'web')!;
    const https = (await tree.getChildren(web))[1];
    const bind = (await tree.getChildren(https)).find((n) => n.kind === 'leaf' && n.label.startsWith('docker'))!;
    const item = tree.getTreeItem(bind);
    assert.ok(item.command, 'the line has a command');
    await vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
    const editor = await until('the compose file in the editor', () =>
      vscode.window.activeTextEditor?.document.uri.path.endsWith('/web/srv/app/compose.yaml') ? vscode.window.activeTextEditor : undefined,
    );
    assert.strictEqual(editor.selection.start.line, 5);
    assert.strictEqual(editor.document.getText(editor.selection), '443');
  });

  it('the tree follows an edit: a new Port line shows up under its host, and goes away on revert', async () => {
    const { tree } = api();
    const uri = workspaceFile('etc/ssh/sshd_config');
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const portsOf = async (hostLabel: string) => {
      const host = (await tree.getChildren()).find((h) => h.kind === 'host' && h.host.label === hostLabel);
      return host ? (await tree.getChildren(host)).map((p) => label(tree, p)) : [];
    };
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, new vscode.Position(3, 0), 'Port 2222\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      const ports = await until('tcp 2222 in the tree', async () => {
        const shown = await portsOf('workspace');
        return shown.some((l) => l.startsWith('tcp 2222')) ? shown : undefined;
      });
      assert.ok(
        ports.some((l) => /^tcp 2222 — (.+ · )?sshd$/.test(l)),
        ports.join(', '),
      );
    } finally {
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await until('tcp 2222 gone after the revert', async () => ((await portsOf('workspace')).some((l) => l.startsWith('tcp 2222')) ? undefined : true));
  });

  it('the status bar names the active file host and its findings', async () => {
    const { status } = api();
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceFile('web/srv/app/compose.yaml')));
    await until('the status bar on host web', () => (/Portolan web: 3 errors, 3 warnings$/.test(status.text) ? true : undefined));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceFile('etc/ssh/sshd_config')));
    const text = await until('the status bar on the fixture host', () =>
      /Portolan workspace: 3 errors, 1 warning$/.test(status.text) ? status.text : undefined,
    );
    assert.match(text, /^\$\(error\) /);
  });

  it('the chart draws the host of the active file; the output channel was written', async () => {
    const { chart, output } = api();
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceFile('web/srv/app/compose.yaml')));
    await vscode.commands.executeCommand('portolan.showPortMap');
    assert.ok(chart.visible);
    assert.strictEqual(chart.host?.label, 'web');
    assert.strictEqual(output.name, 'Portolan');
  });

  it('portolan.severity turns the ephemeral-port warning into information, and back', async () => {
    const uri = workspaceFile('etc/ssh/sshd_config');
    const config = vscode.workspace.getConfiguration('portolan');
    const ephemeral = () => portolanDiagnostics(uri).find((d) => codeOf(d) === 'ephemeral-port');
    await until('the ephemeral-port warning', () => (ephemeral()?.severity === vscode.DiagnosticSeverity.Warning ? true : undefined));
    await config.update('severity', { 'ephemeral-port': 'information' }, vscode.ConfigurationTarget.Workspace);
    try {
      await until('ephemeral-port as information', () => (ephemeral()?.severity === vscode.DiagnosticSeverity.Information ? true : undefined));
      assert.strictEqual(portolanDiagnostics(uri).find((d) => codeOf(d) === 'invalid-port')?.severity, vscode.DiagnosticSeverity.Error);
    } finally {
      await config.update('severity', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await until('the ephemeral-port warning again', () => (ephemeral()?.severity === vscode.DiagnosticSeverity.Warning ? true : undefined));
  });
  it('haproxy.cfg opens as HAProxy; an Apache sites-enabled file is not taken for nginx', async () => {
    // Outside the workspace, so that the fixture's hosts stay as the other tests expect them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-languages-'));
    const file = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
      return vscode.Uri.file(path.join(dir, rel));
    };
    const haproxy = await vscode.workspace.openTextDocument(file('etc/haproxy/haproxy.cfg', 'frontend www\n    bind :8081\n'));
    assert.strictEqual(haproxy.languageId, 'haproxy');
    const apache = await vscode.workspace.openTextDocument(file('etc/apache2/sites-enabled/000-default.conf', '<VirtualHost *:8082>\n</VirtualHost>\n'));
    assert.notStrictEqual(apache.languageId, 'nginx');
    const nginx = await vscode.workspace.openTextDocument(file('etc/nginx/sites-enabled/default', 'server { listen 8083; }\n'));
    assert.strictEqual(nginx.languageId, 'nginx');
  });
});
