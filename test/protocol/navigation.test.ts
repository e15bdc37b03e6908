/**
 * Navigation by port (issue 12) over stdio with a real LSP client: every request on the host of
 * test/fixtures/nav-host (nginx with an include, sshd on its default port, a compose service, an
 * iptables ruleset), copied to a temporary folder. Each request is checked where it answers and where
 * it must stay empty or refuse; a rename's WorkspaceEdit is written to the files, the server told,
 * and its re-analysis must find the port moved.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CodeLensRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeWatchedFilesNotification,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  FileChangeType,
  InlayHintRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  WorkspaceSymbolRequest,
  type CompletionItem,
  type CompletionList,
  type DocumentSymbol,
  type Location,
  type Position,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'nav-host');
const NGINX = 'etc/nginx/conf.d/app.conf';
const COMPOSE = 'srv/app/compose.yaml';
const RULES = 'etc/iptables/rules.v4';
const SSHD = 'etc/ssh/sshd_config';
const DEPLOY = 'srv/k8s/deployment.yaml';
const SERVICE = 'srv/k8s/service.yaml';

const CAPABILITIES = {
  workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true }, symbol: {}, workspaceEdit: { documentChanges: false } },
  textDocument: {
    hover: { contentFormat: ['markdown' as const] },
    publishDiagnostics: {},
    references: {},
    definition: { linkSupport: false },
    rename: { prepareSupport: true },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    completion: { completionItem: { labelDetailsSupport: true } },
    codeLens: {},
    inlayHint: {},
    documentLink: {},
  },
};

/** The 0-based position of the `nth` occurrence of `needle` in a file, `delta` characters in. */
function at(dir: string, file: string, needle: string, nth = 0, delta = 1): Position {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  let offset = -1;
  for (let i = 0; i <= nth; i++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`"${needle}" #${nth} not in ${file}`);
  }
  offset += delta;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Locations as "file:line:col" (1-based), relative to the folder, sorted. */
function shown(dir: string, locations: readonly Location[] | null): string[] {
  return (locations ?? []).map((l) => `${l.uri.replace(`file://${dir}/`, '')}:${l.range.start.line + 1}:${l.range.start.character + 1}`).sort();
}

/** Applies one file's LSP text edits (non-overlapping) to its text. */
function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: Position) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const sorted = edits.map((e) => ({ start: offset(e.range.start), end: offset(e.range.end), newText: e.newText })).sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

/** Asks again (every 100 ms, 100 times at most) until the answer satisfies `ok`; returns the last answer. */
async function poll<T>(ask: () => Promise<T>, ok: (answer: T) => boolean): Promise<T> {
  let answer = await ask();
  for (let i = 0; i < 100 && !ok(answer); i++) {
    await new Promise((r) => setTimeout(r, 100));
    answer = await ask();
  }
  return answer;
}

describe('navigation by port over stdio (real LSP client)', function () {
  this.timeout(60000);
  let dir: string;
  let client: TestClient;
  const uri = (file: string) => `file://${dir}/${file}`;
  const doc = (file: string) => ({ textDocument: { uri: uri(file) } });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-nav-'));
    fs.cpSync(FIXTURE, dir, { recursive: true });
    client = await TestClient.start(dir, { capabilities: CAPABILITIES, settings: { codeLens: { enabled: true }, inlayHints: { enabled: true } } });
    // The workspace is clean (no diagnostics to wait for): ask until the analysis holds the compose publish.
    await poll(
      () =>
        client.connection.sendRequest(ReferencesRequest.type, { ...doc(COMPOSE), position: at(dir, COMPOSE, '8080'), context: { includeDeclaration: true } }),
      (l) => (l ?? []).length > 0,
    );
  });
  after(async () => {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const references = (file: string, position: Position, includeDeclaration = true) =>
    client.connection.sendRequest(ReferencesRequest.type, { ...doc(file), position, context: { includeDeclaration } });

  it('references: a published port reaches the container port behind it, the proxy_pass to it and the firewall rule', async () => {
    assert.deepStrictEqual(shown(dir, await references(COMPOSE, at(dir, COMPOSE, '8080'))), [
      `${RULES}:7:42`,
      `${NGINX}:6:37`,
      `${COMPOSE}:5:10`,
      `${COMPOSE}:5:15`,
    ]);
    // From the proxy_pass, without the declaration: the others only.
    assert.deepStrictEqual(shown(dir, await references(NGINX, at(dir, NGINX, '8080'), false)), [`${RULES}:7:42`, `${COMPOSE}:5:10`, `${COMPOSE}:5:15`]);
    // A rule for the default sshd port: the rule and sshd's implicit listen (at the file's start).
    assert.deepStrictEqual(shown(dir, await references(RULES, at(dir, RULES, '22'))), [`${RULES}:6:25`, `${SSHD}:1:1`]);
    assert.deepStrictEqual(await references(NGINX, at(dir, NGINX, 'server_name')), []);
  });

  it('definition: from a proxy_pass and a firewall rule to the bind; nothing from the bind itself', async () => {
    const definition = (file: string, position: Position) => client.connection.sendRequest(DefinitionRequest.type, { ...doc(file), position });
    assert.deepStrictEqual(shown(dir, (await definition(NGINX, at(dir, NGINX, '8080'))) as Location[]), [`${COMPOSE}:5:10`]);
    assert.deepStrictEqual(shown(dir, (await definition(RULES, at(dir, RULES, '80,'))) as Location[]), [`${NGINX}:2:12`]);
    assert.deepStrictEqual(await definition(COMPOSE, at(dir, COMPOSE, '8080')), []);
    assert.deepStrictEqual(await definition(RULES, at(dir, RULES, 'INPUT')), []);
  });

  it('prepareRename: the range and placeholder, or a refusal with the reason', async () => {
    const prepare = (file: string, position: Position) => client.connection.sendRequest(PrepareRenameRequest.type, { ...doc(file), position });
    assert.deepStrictEqual(await prepare(NGINX, at(dir, NGINX, '80;')), {
      range: { start: { line: 1, character: 11 }, end: { line: 1, character: 13 } },
      placeholder: '80',
    });
    const refusal = async (file: string, position: Position) => {
      try {
        await prepare(file, position);
      } catch (err) {
        return String((err as Error).message);
      }
      return 'no refusal';
    };
    assert.match(
      await refusal(NGINX, at(dir, NGINX, '8443')),
      /^Ambiguous: TCP 8443 is bound by (nginx .*etc\/nginx\/conf\.d\/app\.conf:3.* and docker .*compose\.yaml:6|docker .* and nginx .*)\)/,
    );
    assert.match(await refusal(COMPOSE, at(dir, COMPOSE, '3000')), /^A container port/);
    assert.match(await refusal(NGINX, at(dir, NGINX, 'server_name')), /^No port here\.$/);
  });

  /** A rename's WorkspaceEdit: file (relative) -> its edits. */
  async function rename(file: string, position: Position, newName: string): Promise<Record<string, TextEdit[]>> {
    const edit = (await client.connection.sendRequest(RenameRequest.type, { ...doc(file), position, newName })) as WorkspaceEdit;
    return Object.fromEntries(Object.entries(edit.changes ?? {}).map(([u, edits]) => [u.replace(`file://${dir}/`, ''), edits]));
  }
  async function renameRefusal(file: string, position: Position, newName: string): Promise<string> {
    try {
      await rename(file, position, newName);
    } catch (err) {
      return String((err as Error).message);
    }
    return 'no refusal';
  }

  it('rename refuses a default port, a new port already bound and an ambiguous socket', async () => {
    assert.strictEqual(
      await renameRefusal(RULES, at(dir, RULES, '22'), '2222'),
      "sshd's default port 22 (etc/ssh/sshd_config:1) is not written: write it first.",
    );
    assert.strictEqual(await renameRefusal(NGINX, at(dir, NGINX, '80;'), '22'), 'TCP 22 is already bound by sshd (etc/ssh/sshd_config:1).');
    assert.strictEqual(await renameRefusal(NGINX, at(dir, NGINX, '80;'), '8080'), `TCP 8080 is already bound by docker (${COMPOSE}:5).`);
    assert.match(await renameRefusal(COMPOSE, at(dir, COMPOSE, '8443'), '9443'), /^Ambiguous: TCP 8443/);
    assert.match(await renameRefusal(NGINX, at(dir, NGINX, '80;'), 'http'), /not a port/);
  });

  it('rename across files: applied to the files, the server re-reads them and finds the port moved', async () => {
    const before = await references(COMPOSE, at(dir, COMPOSE, '8080'));
    const changes = await rename(COMPOSE, at(dir, COMPOSE, '8080'), '8081');
    assert.deepStrictEqual(Object.keys(changes).sort(), [RULES, NGINX, COMPOSE].sort());
    // One edit per host-side mention: the container port 3000 stays.
    assert.deepStrictEqual(
      Object.values(changes)
        .flat()
        .map((e) => e.newText),
      ['8081', '8081', '8081'],
    );
    const texts: Record<string, string> = {};
    for (const [file, edits] of Object.entries(changes)) {
      texts[file] = applyTextEdits(fs.readFileSync(path.join(dir, file), 'utf8'), edits);
      fs.writeFileSync(path.join(dir, file), texts[file]);
    }
    assert.match(texts[COMPOSE], /- "8081:3000"\n/);
    assert.match(texts[NGINX], /proxy_pass http:\/\/127\.0\.0\.1:8081;/);
    assert.match(texts[RULES], /--dports 80,8081 -j ACCEPT/);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: Object.keys(changes).map((f) => ({ uri: uri(f), type: FileChangeType.Changed as FileChangeType })),
    });
    // The server re-reads the files; the new port has as many uses as the old one had.
    const after = await poll(
      () => references(COMPOSE, at(dir, COMPOSE, '8081')),
      (l) => (l ?? []).length === before!.length,
    );
    assert.deepStrictEqual(shown(dir, after), shown(dir, before));
    assert.deepStrictEqual(await references(RULES, at(dir, RULES, '8081')).then((l) => l?.length), before!.length);
    assert.deepStrictEqual(await references(NGINX, at(dir, NGINX, '80;')).then((l) => shown(dir, l)), [`${RULES}:7:39`, `${NGINX}:2:12`]);
  });

  it('Kubernetes: references follow the cluster across the manifests of a directory; definition goes one step on', async () => {
    const chain = [`${DEPLOY}:19:30`, `${SERVICE}:11:13`, `${SERVICE}:12:19`, `${SERVICE}:13:17`];
    assert.deepStrictEqual(shown(dir, await references(DEPLOY, at(dir, DEPLOY, '7070'))), chain);
    assert.deepStrictEqual(shown(dir, await references(SERVICE, at(dir, SERVICE, '30090'))), chain);
    const definition = (file: string, position: Position) => client.connection.sendRequest(DefinitionRequest.type, { ...doc(file), position });
    assert.deepStrictEqual(shown(dir, (await definition(SERVICE, at(dir, SERVICE, 'targetPort: web', 0, 13))) as Location[]), [`${DEPLOY}:19:30`]);
    assert.deepStrictEqual(shown(dir, (await definition(SERVICE, at(dir, SERVICE, '30090'))) as Location[]), [`${SERVICE}:11:13`]);
    assert.deepStrictEqual(await definition(DEPLOY, at(dir, DEPLOY, '7070')), []);
  });

  it('Kubernetes: renaming a container port rewrites the numeric targetPort pointing at it; the server finds them linked again', async () => {
    const rename = (file: string, position: Position, newName: string) =>
      client.connection.sendRequest(RenameRequest.type, { ...doc(file), position, newName }) as Promise<WorkspaceEdit>;
    const before = shown(dir, await references(DEPLOY, at(dir, DEPLOY, '7071')));
    assert.deepStrictEqual(before, [`${DEPLOY}:20:30`, `${SERVICE}:15:13`, `${SERVICE}:16:19`]);
    const changes = Object.fromEntries(
      Object.entries((await rename(DEPLOY, at(dir, DEPLOY, '7071'), '7072')).changes ?? {}).map(([u, e]) => [u.replace(`file://${dir}/`, ''), e]),
    );
    assert.deepStrictEqual(Object.keys(changes).sort(), [DEPLOY, SERVICE]);
    for (const [file, edits] of Object.entries(changes))
      fs.writeFileSync(path.join(dir, file), applyTextEdits(fs.readFileSync(path.join(dir, file), 'utf8'), edits));
    assert.match(fs.readFileSync(path.join(dir, SERVICE), 'utf8'), /port: 7171\n {6}targetPort: 7072\n/);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: Object.keys(changes).map((f) => ({ uri: uri(f), type: FileChangeType.Changed as FileChangeType })),
    });
    const after = await poll(
      () => references(DEPLOY, at(dir, DEPLOY, '7072')),
      (l) => (l ?? []).length === before.length,
    );
    assert.deepStrictEqual(shown(dir, after), before);
  });

  it('documentSymbol: the server block with its ports, the compose service, the chain', async () => {
    const symbols = (file: string) => client.connection.sendRequest(DocumentSymbolRequest.type, doc(file)) as Promise<DocumentSymbol[]>;
    const outline = (list: DocumentSymbol[]) => list.map((s) => [s.name, (s.children ?? []).map((c) => `${c.name} ${c.detail}`)]);
    assert.deepStrictEqual(outline(await symbols(NGINX)), [
      [
        'server block at line 1 of app.conf (server_name app.example)',
        ['80/tcp listen · HTTP', '8443/tcp listen 127.0.0.1 · HTTPS alternate', '8081/tcp points at 127.0.0.1 · sunproxyadmin'],
      ],
    ]);
    const compose = await symbols(COMPOSE);
    assert.deepStrictEqual(
      compose.map((s) => [s.name, s.children!.map((c) => c.name)]),
      [['service app', ['8081/tcp', '3000/tcp', '8443/tcp', '443/tcp']]],
    );
    for (const c of compose[0].children!) assert.ok(c.range.start.line >= compose[0].range.start.line && c.range.end.line <= compose[0].range.end.line);
    assert.deepStrictEqual(
      (await symbols(RULES)).map((s) => [s.name, s.children!.map((c) => c.name)]),
      [['filter INPUT', ['22/tcp', '80/tcp', '8081/tcp']]],
    );
    assert.deepStrictEqual(await symbols('etc/nginx/nginx.conf'), []);
  });

  it('workspace/symbol: by number and by name, nothing for what the host does not hold', async () => {
    const find = async (query: string) =>
      ((await client.connection.sendRequest(WorkspaceSymbolRequest.type, { query })) as { name: string; location: Location; containerName?: string }[]).map(
        (s) => `${s.name} ${shown(dir, [s.location as Location])[0]}`,
      );
    assert.deepStrictEqual((await find('8443')).sort(), [`8443/tcp HTTPS alternate ${NGINX}:3:22`, `8443/tcp HTTPS alternate ${COMPOSE}:6:20`]);
    assert.deepStrictEqual((await find('https')).sort(), [
      `443/tcp HTTPS ${COMPOSE}:6:25`,
      `8443/tcp HTTPS alternate ${NGINX}:3:22`,
      `8443/tcp HTTPS alternate ${COMPOSE}:6:20`,
    ]);
    assert.deepStrictEqual(await find('postgres'), []);
  });

  it('completion: free ports first after listen, the taken ones saying by whom; nothing elsewhere', async () => {
    const file = 'etc/nginx/conf.d/new.conf';
    fs.writeFileSync(path.join(dir, file), 'server {\n    listen \n}\n');
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri(file), type: FileChangeType.Created }] });
    const complete = async (position: Position): Promise<CompletionItem[]> => {
      const r = (await client.connection.sendRequest(CompletionRequest.type, { ...doc(file), position })) as CompletionItem[] | CompletionList | null;
      return Array.isArray(r) ? r : (r?.items ?? []);
    };
    const items = await poll(
      () => complete({ line: 1, character: 11 }),
      (list) => list.length > 0,
    );
    const sorted = [...items].sort((a, b) => a.sortText!.localeCompare(b.sortText!));
    const rank = (label: string) => sorted.findIndex((i) => i.label === label);
    assert.ok(rank('8082') >= 0 && rank('8082') < rank('8081'), 'the free 8082 before the taken 8081');
    assert.match(sorted[rank('8081')].detail!, /taken by docker \(srv\/app\/compose\.yaml:5\)/);
    assert.match(sorted[rank('22')].detail!, /taken by sshd/);
    assert.match(sorted[rank('8082')].detail!, /free on this host/);
    assert.ok(!items.some((i) => i.label === 'ssh'), 'nginx takes no service names');
    assert.deepStrictEqual(await complete({ line: 0, character: 3 }), []);
  });

  it('codeLens: over each bind, the count of other uses and the firewall; its command carries the references', async () => {
    const lenses = await client.connection.sendRequest(CodeLensRequest.type, doc(COMPOSE));
    assert.deepStrictEqual(
      lenses!.map((l) => [l.range.start.line + 1, l.command!.title]),
      [
        [5, '3 uses · open in iptables'],
        // 127.0.0.2 is loopback: no firewall decides; the other use is nginx's 127.0.0.1:8443 and the container port.
        [6, '2 uses'],
      ],
    );
    const [first] = lenses!;
    assert.strictEqual(first.command!.command, 'portolan.showReferences');
    const [lensUri, position, locations] = first.command!.arguments as [string, Position, Location[]];
    assert.strictEqual(lensUri, uri(COMPOSE));
    assert.deepStrictEqual(position, first.range.start);
    // The command shows exactly the references without the declaration.
    assert.deepStrictEqual(shown(dir, locations), shown(dir, await references(COMPOSE, position, false)));
    assert.deepStrictEqual(await client.connection.sendRequest(CodeLensRequest.type, doc(RULES)), [], 'rules bind nothing');
  });

  it('inlayHint: the service after bare numbers in the range asked', async () => {
    const hints = await client.connection.sendRequest(InlayHintRequest.type, {
      ...doc(RULES),
      range: { start: { line: 0, character: 0 }, end: { line: 8, character: 0 } },
    });
    assert.deepStrictEqual(
      hints!.map((h) => [h.position.line + 1, h.position.character + 1, h.label]),
      [
        [6, 27, '‹ssh›'],
        [7, 41, '‹HTTP›'],
        [7, 46, '‹sunproxyadmin›'],
      ],
    );
    const none = await client.connection.sendRequest(InlayHintRequest.type, {
      ...doc(RULES),
      range: { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } },
    });
    assert.deepStrictEqual(none, []);
  });

  it('codeLens and inlayHint stay empty when their settings turn them off (inlay hints are off by default)', async () => {
    const off = await TestClient.start(dir, { capabilities: CAPABILITIES, settings: { codeLens: { enabled: false } } });
    try {
      // Once the server has read the folder (a reference answers), neither request gives anything.
      await poll(
        () =>
          off.connection.sendRequest(ReferencesRequest.type, { ...doc(COMPOSE), position: at(dir, COMPOSE, '8081'), context: { includeDeclaration: true } }),
        (l) => (l ?? []).length > 0,
      );
      assert.deepStrictEqual(await off.connection.sendRequest(CodeLensRequest.type, doc(COMPOSE)), []);
      const range = { start: { line: 0, character: 0 }, end: { line: 8, character: 0 } };
      assert.deepStrictEqual(await off.connection.sendRequest(InlayHintRequest.type, { ...doc(RULES), range }), []);
    } finally {
      await off.stop();
    }
  });

  it('documentLink: nginx include and sshd Include open the files they read; none elsewhere', async () => {
    const links = async (file: string) =>
      ((await client.connection.sendRequest(DocumentLinkRequest.type, doc(file))) ?? []).map((l) => [
        l.range.start.line + 1,
        l.target?.replace(`file://${dir}/`, ''),
      ]);
    assert.deepStrictEqual(await links('etc/nginx/nginx.conf'), [[3, 'etc/nginx/conf.d/app.conf']]);
    assert.deepStrictEqual(await links(SSHD), [[1, 'etc/ssh/sshd_config.d/10-local.conf']]);
    assert.deepStrictEqual(await links(NGINX), []);
  });
});
