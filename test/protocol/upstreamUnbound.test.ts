/**
 * upstream-unbound over stdio: nginx in a compose container proxying to a sibling at its published port is a
 * Warning on the port, the hover on it says so, the "Point to 80" code action rewrites only that port, and once
 * the client applies it (an edit of the open document) the diagnostic goes.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CodeActionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  HoverRequest,
  type CodeAction,
  type MarkupContent,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

const COMPOSE =
  'services:\n  proxy:\n    image: nginx\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n  app:\n    image: example/app\n    ports: ["8080:80"]\n';
const NGINX = 'events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      proxy_pass http://app:8080/;\n    }\n  }\n}\n';

describe('upstream-unbound over stdio', function () {
  let client: TestClient | undefined;
  let dir = '';
  after(async () => {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a Warning on the port, the hover names it, "Point to 80" applied clears it', async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-upstream-')));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), COMPOSE);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), NGINX);
    client = await TestClient.start(dir, { capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true } } } });
    const uri = `file://${dir}/nginx.conf`;
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'nginx', version: 1, text: NGINX } });
    const ours = () => (client!.diagnostics.get(uri)?.diagnostics ?? []).filter((d) => d.code === 'upstream-unbound');
    await client.until(() => ours().length > 0);
    const [diagnostic] = ours();
    assert.strictEqual(diagnostic.severity, 2);
    assert.deepStrictEqual(diagnostic.range, { start: { line: 5, character: 28 }, end: { line: 5, character: 32 } });

    const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: 30 } });
    const value = (hover?.contents as MarkupContent).value;
    assert.match(value, /8080 is the host port compose publishes app on/);

    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as CodeAction[];
    const point = actions.find((a) => a.title === "Point to 80 (bound by service app's container)");
    assert.ok(point, actions.map((a) => a.title).join('\n'));
    assert.strictEqual(point.isPreferred, true);
    const edits = point.edit!.changes![uri] as TextEdit[];
    assert.deepStrictEqual(edits, [{ range: diagnostic.range, newText: '80' }]);
    const fixed = NGINX.replace('app:8080/', 'app:80/');
    await client.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    await client.until(() => ours().length === 0);
    assert.ok(
      (client.diagnostics.get(uri)?.diagnostics ?? []).every((d) => d.severity !== 1 && d.severity !== 2),
      'nothing serious after the fix',
    );
  });
});
