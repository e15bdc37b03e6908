/**
 * The server on a cold start and under load (issue 16): work-done progress while the workspace is
 * read and analysed, the open documents' diagnostics published before the rest of the workspace,
 * and a request cancelled before the server reached it answered "cancelled" without being computed.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DidOpenTextDocumentNotification, WorkDoneProgressCreateRequest, type ClientCapabilities } from 'vscode-languageserver-protocol/node';

interface ProgressParams<T> {
  token: string | number;
  value: T;
}
import { TestClient } from '../helpers/lspClient';

function workspace(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-cold-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Three hosts, each with a finding in every file; h0 is small. */
const FILES: Record<string, string> = {
  '.portolan.json': JSON.stringify({ hosts: { h0: ['h0/**'], h1: ['h1/**'], h2: ['h2/**'] } }),
  'h0/etc/ssh/sshd_config': 'Port 70000\n',
  'h1/etc/ssh/sshd_config': 'Port 8080\n',
  'h1/etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
  'h2/etc/ssh/sshd_config': 'Port 9090\n',
  'h2/srv/compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "9090:80"\n',
};

const CAPABILITIES: ClientCapabilities = {
  workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true } },
  window: { workDoneProgress: true },
  textDocument: { hover: { contentFormat: ['markdown'] as const }, publishDiagnostics: { relatedInformation: true } },
};

describe('cold start and cancellation (issue 16)', function () {
  let client: TestClient | undefined;
  afterEach(async () => {
    await client?.stop();
    client = undefined;
  });

  it('reports work-done progress and publishes the open document before the rest of the workspace', async () => {
    const dir = workspace(FILES);
    client = await TestClient.start(dir, { capabilities: CAPABILITIES });
    const created: unknown[] = [];
    const progress: ProgressParams<{ kind: string; title?: string; message?: string }>[] = [];
    client.connection.onRequest(WorkDoneProgressCreateRequest.type, (p) => void created.push(p.token));
    client.connection.onNotification('$/progress', (p: ProgressParams<{ kind: string; title?: string; message?: string }>) => void progress.push(p));
    const open = `file://${dir}/h0/etc/ssh/sshd_config`;
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: open, languageId: 'sshd-config', version: 1, text: FILES['h0/etc/ssh/sshd_config'] },
    });
    const others = ['h1/etc/ssh/sshd_config', 'h1/etc/nginx/nginx.conf', 'h2/etc/ssh/sshd_config', 'h2/srv/compose.yaml'].map((f) => `file://${dir}/${f}`);
    await client.until(() => others.every((u) => client!.diagnostics.has(u)) && progress.some((p) => p.value.kind === 'end'));
    assert.strictEqual([...client.diagnostics.keys()][0], open, 'the open document is published first');
    assert.deepStrictEqual(client.codes(open), ['invalid-port']);
    for (const u of others) assert.ok(client.codes(u).includes('port-conflict'), u);
    assert.strictEqual(created.length, 1);
    assert.ok(progress.every((p) => p.token === created[0]));
    assert.deepStrictEqual(
      progress.map((p) => p.value.kind),
      ['begin', 'report', 'report', 'end'],
    );
    // The five configs and the .portolan.json, which the server holds too (its mistakes are findings on it).
    assert.ok(progress.some((p) => /^Analysing 6 files$/.test(p.value.message ?? '')));
  });

  it('answers a request cancelled before it ran with RequestCancelled', async () => {
    const dir = workspace(FILES);
    client = await TestClient.start(dir);
    const uri = `file://${dir}/h1/etc/ssh/sshd_config`;
    await client.until(() => client!.diagnostics.has(uri));
    let raw = '';
    client.proc.stdout!.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    const frame = (msg: unknown) => {
      const body = JSON.stringify(msg);
      return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    };
    const hover = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'textDocument/hover',
      params: { textDocument: { uri }, position: { line: 0, character: 6 } },
    });
    // One write: the server reads the request and its cancellation together, before it runs the request.
    client.proc.stdin!.write(frame(hover(90001)) + frame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 90001 } }) + frame(hover(90002)));
    const deadline = Date.now() + 10000;
    while (!raw.includes('"id":90002') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const responses = raw.split(/Content-Length: \d+\r\n\r\n/).flatMap((b) => {
      try {
        return [JSON.parse(b) as { id?: number; result?: unknown; error?: { code: number } }];
      } catch {
        return []; // a message cut where listening began
      }
    });
    const cancelled = responses.find((r) => r.id === 90001);
    const answered = responses.find((r) => r.id === 90002);
    assert.strictEqual(cancelled?.error?.code, -32800, 'the cancelled hover is answered RequestCancelled');
    assert.strictEqual(cancelled?.result, undefined);
    assert.ok(answered?.result, 'the next hover is answered');
  });
});
