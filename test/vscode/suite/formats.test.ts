/**
 * nginx, docker-compose and a firewall in a real VS Code: the `web` host of the fixture
 * (.portolan.json maps web/** to it), where nginx and a compose project both want TCP 443.
 * Lines and columns refer to the files under test/vscode/fixture/web.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { WAIT_MS, brief, codeOf, hoverText, portolanDiagnostics, until, workspaceFile } from './util';

async function hoverAt(relative: string, line: number, character: number, expect: RegExp): Promise<string> {
  const uri = workspaceFile(relative);
  await vscode.workspace.openTextDocument(uri);
  return until(`a hover matching ${expect} in ${relative}`, async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, character));
    const text = hoverText(hovers ?? []);
    return expect.test(text) ? text : undefined;
  });
}

async function diagnosticsOf(relative: string, count: number): Promise<vscode.Diagnostic[]> {
  const uri = workspaceFile(relative);
  return until(`${count} portolan diagnostics on ${relative}`, () => {
    const found = portolanDiagnostics(uri);
    return found.length >= count ? [...found].sort((a, b) => a.range.start.compareTo(b.range.start)) : undefined;
  });
}

describe('nginx, compose and firewall rules in VS Code', function () {
  this.timeout(2 * WAIT_MS);

  it('nginx: duplicate default_server as nginx -t reports it, and the conflict with compose on 443', async () => {
    const diagnostics = await diagnosticsOf('web/etc/nginx/sites-enabled/shop', 3);
    assert.deepStrictEqual(
      diagnostics.map(brief), // The web host's iptables drops 80 (INPUT policy DROP, only 443 accepted): nginx's listen 80 is firewall-blocked.
      ['duplicate-default-server@1:11-1:13', 'firewall-blocked@1:11-1:13', 'port-conflict@2:11-2:14'],
    );
    assert.match(diagnostics[0].message, /duplicate default server for 0\.0\.0\.0:80/);
    const conflict = diagnostics.find((d) => codeOf(d) === 'port-conflict')!;
    assert.match(conflict.message, /^Port 443\/tcp is also published by docker service app \(web\/srv\/app\/compose\.yaml:6\)/);
    const related = conflict.relatedInformation ?? [];
    assert.ok(
      related.some((r) => r.location.uri.path.endsWith('web/srv/app/compose.yaml') && r.location.range.start.line === 5),
      'the conflict points at the compose mapping',
    );
  });

  it('nginx: hover on a listen port', async () => {
    const text = await hoverAt('web/etc/nginx/sites-enabled/shop', 2, 12, /TCP 443/);
    assert.match(text, /TCP 443 — HTTPS/);
    assert.match(text, /nginx listens on 0\.0\.0\.0:443\/tcp/);
    assert.match(text, /Also on this host \(web\)/);
  });

  it('compose: the published port that collides with nginx, and nothing on the free one', async () => {
    const diagnostics = await diagnosticsOf('web/srv/app/compose.yaml', 2);
    assert.deepStrictEqual(
      diagnostics.map(brief), // 8080 collides with nothing, but the firewall drops it and Docker's DNAT lets it in anyway.
      ['docker-bypasses-firewall@4:9-4:13', 'port-conflict@5:9-5:12'],
    );
    assert.strictEqual(diagnostics[1].severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostics[1].message, /nginx/);
  });

  it('compose: hover on a published port names the mapping', async () => {
    const text = await hoverAt('web/srv/app/compose.yaml', 4, 11, /TCP 8080/);
    assert.match(text, /TCP 8080 — HTTP alternate/);
    assert.match(text, /docker publishes 0\.0\.0\.0:8080 → app:3000\/tcp/);
  });

  it('firewall: hover on an iptables rule says what the rule does and who listens there', async () => {
    const text = await hoverAt('web/etc/iptables/rules.v4', 5, 25, /TCP 443/);
    assert.match(text, /allows TCP 443 inbound/);
    assert.match(text, /nginx listens on 0\.0\.0\.0:443/);
  });

  it('editing compose to drop the clash clears the error on the nginx side too', async () => {
    const uri = workspaceFile('web/srv/app/compose.yaml');
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const nginx = workspaceFile('web/etc/nginx/sites-enabled/shop');
    await until('the nginx port-conflict', () => (portolanDiagnostics(nginx).some((d) => codeOf(d) === 'port-conflict') ? true : undefined));
    try {
      const edit = new vscode.WorkspaceEdit();
      const published = new vscode.Range(5, 9, 5, 12);
      assert.strictEqual(document.getText(published), '443');
      edit.replace(uri, published, '8443');
      assert.ok(await vscode.workspace.applyEdit(edit));
      await until('the nginx port-conflict to go away', () => (portolanDiagnostics(nginx).some((d) => codeOf(d) === 'port-conflict') ? undefined : true));
      assert.deepStrictEqual(portolanDiagnostics(nginx).map(codeOf), ['duplicate-default-server', 'firewall-blocked']);
    } finally {
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await until('the nginx port-conflict to come back after the revert', () =>
      portolanDiagnostics(nginx).some((d) => codeOf(d) === 'port-conflict') ? true : undefined,
    );
  });
});
