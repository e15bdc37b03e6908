/**
 * The .portolan.json quick fixes over stdio: an if-one-host Information offers them, the created
 * file (applied as the client would) is read back by the server, and the conflict becomes an Error;
 * an open .portolan.json is what the server reads, its mistakes are diagnostics on it, and a broken
 * one gets no fix.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CodeActionRequest,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  type CodeAction,
  type CreateFile,
  type TextDocumentEdit,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

const publish = (service: string) => `services:\n  ${service}:\n    image: x\n    ports:\n      - "53:53/udp"\n`;

describe('.portolan.json quick fixes over stdio', function () {
  let client: TestClient | undefined;
  let dir = '';
  after(async () => {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Information on sibling projects, "These run on one host" creates .portolan.json, and the server reads it back: Errors', async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-hostfix-')));
    for (const s of ['pihole', 'adguard']) {
      fs.mkdirSync(path.join(dir, s));
      fs.writeFileSync(path.join(dir, s, 'docker-compose.yml'), publish(s));
    }
    client = await TestClient.start(dir, {
      capabilities: {
        workspace: {
          configuration: true,
          didChangeWatchedFiles: { dynamicRegistration: true },
          workspaceEdit: { documentChanges: true, resourceOperations: ['create'] },
        },
        textDocument: { publishDiagnostics: { relatedInformation: true } },
      },
    });
    const uri = `file://${dir}/pihole/docker-compose.yml`;
    const severities = () => (client!.diagnostics.get(uri)?.diagnostics ?? []).filter((d) => d.code === 'port-conflict').map((d) => d.severity);
    await client.until(() => severities().length > 0);
    assert.deepStrictEqual(severities(), [3]);
    const diagnostic = client.diagnostics.get(uri)!.diagnostics.find((d) => d.code === 'port-conflict')!;
    assert.strictEqual(diagnostic.relatedInformation?.[0].location.uri, `file://${dir}/adguard/docker-compose.yml`);
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as CodeAction[];
    const together = actions.find((a) => a.title.startsWith('These run on one host'))!;
    assert.ok(together, actions.map((a) => a.title).join('\n'));
    assert.ok(actions.some((a) => a.title.startsWith('One host per project')));
    assert.ok(!actions.some((a) => a.title.startsWith('Use port')));
    const [create, insert] = together.edit!.documentChanges! as [CreateFile, TextDocumentEdit];
    const config = `file://${dir}/.portolan.json`;
    assert.strictEqual(create.kind, 'create');
    assert.strictEqual(create.uri, config);
    assert.strictEqual(insert.textDocument.uri, config);
    // Applied as the client would: the file created with the inserted text, then a watched-file event.
    fs.writeFileSync(path.join(dir, '.portolan.json'), (insert.edits[0] as { newText: string }).newText);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: config, type: FileChangeType.Created }] });
    await client.until(() => severities()[0] === 1);
    assert.deepStrictEqual(client.codes(config), []);
  });

  it('an open .portolan.json wins over the disk: a typo is a diagnostic on it, broken JSON applies nothing and gets no fix', async () => {
    const config = `file://${dir}/.portolan.json`;
    const uri = `file://${dir}/pihole/docker-compose.yml`;
    const severities = () => (client!.diagnostics.get(uri)?.diagnostics ?? []).filter((d) => d.code === 'port-conflict').map((d) => d.severity);
    const text = '{ "oneHost": [["pihole/**", "adguard/**"]], "hostPerProjet": true }\n';
    await client!.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: config, languageId: 'json', version: 1, text } });
    await client!.until(() => client!.codes(config).includes('portolan-json'));
    const typo = client!.diagnostics.get(config)!.diagnostics[0];
    assert.deepStrictEqual(typo.range.start, { line: 0, character: 44 });
    assert.match(String(typo.message), /Unknown key "hostPerProjet"/);
    assert.deepStrictEqual(severities(), [1]);
    await client!.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: config, version: 2 },
      contentChanges: [{ text: '{ "oneHost": [["pihole/**", "adguard/**"]' }],
    });
    await client!.until(() => severities()[0] === 3 && client!.diagnostics.get(config)!.diagnostics[0]?.severity === 1);
    const broken = client!.diagnostics.get(config)!.diagnostics;
    assert.deepStrictEqual(
      broken.map((d) => [d.code, d.severity]),
      [['portolan-json', 1]],
    );
    const diagnostic = client!.diagnostics.get(uri)!.diagnostics.find((d) => d.code === 'port-conflict')!;
    const actions = (await client!.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as CodeAction[];
    assert.deepStrictEqual(
      actions.filter((a) => a.title.includes('.portolan.json')),
      [],
    );
  });
});
