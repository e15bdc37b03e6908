/**
 * Quick fixes in a real VS Code: the code actions offered on a diagnostic, applied through the
 * editor, repair the file and the diagnostic goes away. Works on the fixture's sshd_config (Port
 * inside Match, line 13) and reverts the document afterwards.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { WAIT_MS, codeOf, portolanDiagnostics, until, workspaceFile } from './util';

describe('quick fixes in VS Code', function () {
  this.timeout(2 * WAIT_MS);

  it('offers the Match-block fixes on the diagnostic, and applying the move clears it', async () => {
    const uri = workspaceFile('etc/ssh/sshd_config');
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const diagnostic = await until('the Port-inside-Match diagnostic', () => portolanDiagnostics(uri).find((d) => codeOf(d) === 'syntax'));
    const actions = await until('code actions on it', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        diagnostic.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      return found && found.some((a) => a.title.startsWith('Move')) ? found : undefined;
    });
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes("Move 'Port 2200' above the first Match block (sshd then applies it to every connection)"), titles.join(' | '));
    assert.ok(titles.includes("Delete 'Port 2200'"));
    assert.ok(titles.includes('Ignore syntax on this line (portolan-ignore comment)'));
    const move = actions.find((a) => a.title.startsWith('Move'))!;
    assert.ok(move.edit, 'the fix carries a workspace edit');
    try {
      assert.ok(await vscode.workspace.applyEdit(move.edit!));
      assert.strictEqual(document.lineAt(11).text, 'Port 2200');
      assert.strictEqual(document.lineAt(12).text, 'Match User backup');
      assert.strictEqual(document.lineAt(13).text, '    ForceCommand internal-sftp');
      await until('the syntax diagnostic to go away', () => (portolanDiagnostics(uri).some((d) => codeOf(d) === 'syntax') ? undefined : true));
    } finally {
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await until('the diagnostic to come back after the revert', () => (portolanDiagnostics(uri).some((d) => codeOf(d) === 'syntax') ? true : undefined));
  });
});
