/**
 * sshd_config in a real VS Code, through the `vscode` API only: language contribution, diagnostics
 * (open and never-opened files), hover, and diagnostics following an edit.
 * Workspace: a copy of test/vscode/fixture (the lines and columns below refer to its files).
 */
import * as assert from 'assert';
import * as vscode from 'vscode';

import { WAIT_MS, codeOf, brief, hoverText, portolanDiagnostics, until, workspaceFile } from './util';

describe('sshd_config in VS Code', function () {
  this.timeout(2 * WAIT_MS);
  const mainConfig = () => workspaceFile('etc/ssh/sshd_config');
  // Included by the main config, and never opened by this suite.
  const closedFragment = () => workspaceFile('etc/ssh/sshd_config.d/20-closed.conf');

  it('publishes diagnostics for a file that was never opened (workspace-wide analysis)', async () => {
    const uri = closedFragment();
    const diagnostics = await until('a diagnostic on the never-opened 20-closed.conf', () => {
      const found = portolanDiagnostics(uri);
      return found.length > 0 ? found : undefined;
    });
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString()), '20-closed.conf must not be open');
    assert.deepStrictEqual(diagnostics.map(brief), ['invalid-port@1:5-1:6']);
    assert.strictEqual(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
  });

  it('gives sshd_config the sshd-config language of the grammar contribution', async () => {
    const document = await vscode.workspace.openTextDocument(mainConfig());
    assert.strictEqual(document.languageId, 'sshd-config');
  });

  it('reports the ephemeral port, the invalid port and Port inside Match, with source, codes and ranges', async () => {
    const uri = mainConfig();
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await until('three portolan diagnostics on sshd_config', () => {
      const found = portolanDiagnostics(uri);
      return found.length >= 3 ? found : undefined;
    });
    const sorted = [...diagnostics].sort((a, b) => a.range.start.compareTo(b.range.start));
    assert.deepStrictEqual(sorted.map(brief), ['ephemeral-port@4:5-4:10', 'invalid-port@5:5-5:10', 'syntax@12:4-12:8']);
    assert.deepStrictEqual(
      sorted.map((d) => d.severity),
      [vscode.DiagnosticSeverity.Warning, vscode.DiagnosticSeverity.Error, vscode.DiagnosticSeverity.Error],
    );
    assert.match(sorted[0].message, /ephemeral range/);
    assert.match(sorted[1].message, /70000/);
    assert.match(sorted[2].message, /Match/);
  });

  it('hovers port 22 with its name and range class', async () => {
    const uri = mainConfig();
    await vscode.workspace.openTextDocument(uri);
    // The first request can arrive before the server has the document: retry until a hover comes.
    const hovers = await until('a hover on Port 22', async () => {
      const result = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(3, 6));
      return result && result.some((h) => hoverText([h]).includes('TCP 22')) ? result : undefined;
    });
    const text = hoverText(hovers);
    assert.match(text, /TCP 22 — SSH/);
    assert.match(text, /Range: well-known \(system\) port/);
    const portolanHover = hovers.find((h) => hoverText([h]).includes('TCP 22'))!;
    assert.ok(portolanHover.range, 'the hover names the range of the port');
    assert.deepStrictEqual(
      [portolanHover.range.start.line, portolanHover.range.start.character, portolanHover.range.end.line, portolanHover.range.end.character],
      [3, 5, 3, 7],
    );
  });

  it('hovers the ephemeral port 50022 naming the ephemeral ranges', async () => {
    const uri = mainConfig();
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(4, 7));
    const text = hoverText(hovers);
    assert.match(text, /TCP 50022/);
    assert.match(text, /Range: dynamic\/ephemeral port \(IANA\)/);
    assert.match(text, /Inside the IANA dynamic\/ephemeral range 49152-65535 and the Linux ephemeral range 32768-60999/);
  });

  it('clears the invalid-port diagnostic when an edit fixes the port, and brings it back on revert', async () => {
    const uri = mainConfig();
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    await until('the invalid-port diagnostic before the edit', () => (portolanDiagnostics(uri).some((d) => codeOf(d) === 'invalid-port') ? true : undefined));
    try {
      const edit = new vscode.WorkspaceEdit();
      const badPort = new vscode.Range(5, 5, 5, 10);
      assert.strictEqual(document.getText(badPort), '70000');
      edit.replace(uri, badPort, '2222');
      assert.ok(await vscode.workspace.applyEdit(edit), 'the edit applies');
      const after = await until('invalid-port to disappear after the edit', () => {
        const found = portolanDiagnostics(uri);
        return found.some((d) => codeOf(d) === 'invalid-port') ? undefined : found;
      });
      // The other findings stay: only the fixed port's diagnostic went away. The new port 2222 is one
      // the host's nftables input chain drops (it accepts 22 and 50022 only), so it is firewall-blocked.
      assert.deepStrictEqual(after.map(codeOf).sort(), ['ephemeral-port', 'firewall-blocked', 'syntax']);
    } finally {
      // Never leave the fixture edited: revert the unsaved change (it is never saved to disk).
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    assert.strictEqual(document.isDirty, false);
    assert.strictEqual(document.lineAt(5).text, 'Port 70000');
    await until('invalid-port to come back after the revert', () => (portolanDiagnostics(uri).some((d) => codeOf(d) === 'invalid-port') ? true : undefined));
  });
});
