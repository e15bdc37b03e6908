import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  HoverRequest,
  CodeActionRequest,
  DidChangeWorkspaceFoldersNotification,
  type MarkupContent,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

function workspace(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-lsp-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('language server over stdio', function () {
  let client: TestClient | undefined;
  afterEach(async () => {
    await client?.stop();
    client = undefined;
  });

  it('publishes diagnostics for files that are not open, found in the workspace', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 70000\nPort 50000\n', 'node_modules/x/sshd_config': 'Port 99999\n' });
    client = await TestClient.start(dir);
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    await client.until(() => client!.diagnostics.has(uri));
    const diags = client.diagnostics.get(uri)!.diagnostics;
    assert.deepStrictEqual(client.codes(uri), ['ephemeral-port', 'invalid-port']);
    for (const d of diags) assert.strictEqual(d.source, 'portolan');
    const invalid = diags.find((d) => d.code === 'invalid-port')!;
    assert.deepStrictEqual(invalid.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 10 } });
    assert.strictEqual(invalid.severity, 1);
    assert.ok(!client.diagnostics.has(`file://${dir}/node_modules/x/sshd_config`), 'node_modules is skipped');
    assert.ok(client.registrations.includes('workspace/didChangeWatchedFiles'));
  });

  it('hovers a port, open document overrides disk, edits update diagnostics, close reverts to disk', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 22\n' });
    client = await TestClient.start(dir);
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    // plaintext: formats are detected by path, not by languageId
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'plaintext', version: 1, text: 'Port 22\nPort 0\n' },
    });
    await client.until(() => client!.codes(uri).includes('invalid-port'));
    const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 6 } });
    const md = (hover!.contents as MarkupContent).value;
    assert.match(md, /TCP 22 — SSH/);
    assert.match(md, /well-known/);
    assert.deepStrictEqual(hover!.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 7 } });
    const none = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 1 } });
    assert.strictEqual(none, null);

    await client.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 1, character: 5 }, end: { line: 1, character: 6 } }, text: '2222' }],
    });
    await client.until(() => client!.codes(uri).length === 0);

    fs.writeFileSync(path.join(dir, 'etc/ssh/sshd_config'), 'Port 123456\n');
    await client.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await client.until(() => client!.codes(uri).includes('invalid-port'));
  });

  it('picks up closed files changed, created and deleted on disk through didChangeWatchedFiles', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 22\n' });
    client = await TestClient.start(dir);
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    const created = `file://${dir}/other/sshd_config`;
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(path.join(dir, 'etc/ssh/sshd_config'), 'Port 65536\n');
    fs.mkdirSync(path.join(dir, 'other'));
    fs.writeFileSync(path.join(dir, 'other/sshd_config'), 'Port 70000\n');
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [
        { uri, type: FileChangeType.Changed },
        { uri: created, type: FileChangeType.Created },
      ],
    });
    await client.until(() => client!.codes(uri).includes('invalid-port') && client!.codes(created).includes('invalid-port'));
    fs.rmSync(path.join(dir, 'other'), { recursive: true });
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: created, type: FileChangeType.Deleted }] });
    await client.until(() => client!.codes(created).length === 0);
  });

  it('reads a folder created at once (a copy, a checkout) when the watcher names only the folder', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 70000\n' });
    client = await TestClient.start(dir);
    await client.until(() => client!.codes(`file://${dir}/etc/ssh/sshd_config`).includes('invalid-port'));
    for (const [name, text] of Object.entries({
      'srv/a/etc/ssh/sshd_config': 'Port 70000\n',
      'srv/a/etc/nginx/conf.d/x.conf': 'server {\n  listen 99999;\n}\n',
    })) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    const created = (name: string) => `file://${dir}/${name}`;
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: created('srv'), type: FileChangeType.Created }] });
    await client.until(
      () =>
        client!.codes(created('srv/a/etc/ssh/sshd_config')).includes('invalid-port') &&
        client!.codes(created('srv/a/etc/nginx/conf.d/x.conf')).includes('invalid-port'),
    );
  });

  it('reads portolan.ephemeralRanges through workspace/configuration', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 40000\nPort 20000\n' });
    client = await TestClient.start(dir, { settings: { ephemeralRanges: ['19000-21000'] } });
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    await client.until(() => client!.diagnostics.has(uri));
    const diags = client.diagnostics.get(uri)!.diagnostics;
    assert.deepStrictEqual(
      diags.map((d) => [d.code, d.range.start.line]),
      [['ephemeral-port', 1]],
    );
    assert.ok(client.configurationRequests > 0);
  });

  it('gives a client without workspace/configuration the defaults, and one host per folder', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 40000\n', 'opt/jump/sshd_config': 'Port 40000\n' });
    client = await TestClient.start(dir, { capabilities: {} });
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    await client.until(() => client!.diagnostics.has(uri));
    await client.until(() => client!.codes(uri).includes('port-conflict'));
    assert.deepStrictEqual(client.codes(uri), ['ephemeral-port', 'port-conflict']);
    assert.match(String(client.diagnostics.get(uri)!.diagnostics.find((d) => d.code === 'ephemeral-port')!.message), /Linux ephemeral range 32768-60999/);
    assert.strictEqual(client.configurationRequests, 0);
  });

  it('detects sshd_config by content when the path says nothing', async () => {
    const dir = workspace({});
    client = await TestClient.start(dir);
    const uri = `file://${dir}/notes/server-ssh.txt`;
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'plaintext', version: 1, text: 'PermitRootLogin no\nPort 99999\n' },
    });
    await client.until(() => client!.codes(uri).includes('invalid-port'));
  });

  it('offers quick fixes as workspace edits for the diagnostic under the cursor', async () => {
    const dir = workspace({ 'etc/ssh/sshd_config': 'Port 22\nMatch User bob\n  Port 2200\n' });
    client = await TestClient.start(dir);
    const uri = `file://${dir}/etc/ssh/sshd_config`;
    await client.until(() => client!.codes(uri).includes('syntax'));
    const diagnostic = client.diagnostics.get(uri)!.diagnostics.find((d) => d.code === 'syntax')!;
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as { title: string; kind?: string; edit?: { changes?: Record<string, { range: unknown; newText: string }[]> } }[];
    assert.deepStrictEqual(
      actions.map((a) => a.title),
      [
        "Move 'Port 2200' above the first Match block (sshd then applies it to every connection)",
        "Delete 'Port 2200'",
        'Ignore syntax on this line (portolan-ignore comment)',
        'Ignore syntax in this file (portolan-ignore-file comment)',
      ],
    );
    assert.deepStrictEqual(actions[2].edit!.changes![uri], [
      { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, newText: '  # portolan-ignore syntax\n' },
    ]);
    assert.strictEqual(actions[0].kind, 'quickfix');
    assert.deepStrictEqual(actions[0].edit!.changes![uri], [
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, newText: 'Port 2200\n' },
      { range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, newText: '' },
    ]);
    const elsewhere = await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      context: { diagnostics: [] },
    });
    assert.deepStrictEqual(elsewhere, []);
  });

  it('follows workspace folders added and removed', async () => {
    const first = workspace({ 'etc/ssh/sshd_config': 'Port 22\n' });
    const second = workspace({ 'etc/ssh/sshd_config': 'Port 99999\n' });
    client = await TestClient.start(first, {
      capabilities: { workspace: { configuration: true, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } } },
    });
    const uri = `file://${second}/etc/ssh/sshd_config`;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!client.diagnostics.has(uri));
    await client.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, {
      event: { added: [{ uri: `file://${second}`, name: 'second' }], removed: [] },
    });
    await client.until(() => client!.codes(uri).includes('invalid-port'));
    await client.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, {
      event: { added: [], removed: [{ uri: `file://${second}`, name: 'second' }] },
    });
    await client.until(() => client!.codes(uri).length === 0);
  });
});
