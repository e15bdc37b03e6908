/**
 * The language server driven by a real editor that is not VS Code: headless Neovim 0.7 (Debian's
 * `neovim`) with its built-in LSP client, as a user would start it (`vim.lsp.start_client`, default
 * capabilities, no settings). test/protocol/neovim/drive.lua opens etc/ssh/sshd_config, waits for
 * diagnostics (recording every publishDiagnostics, also for files Neovim never opened), hovers a
 * port, edits the buffer (Neovim sends an incremental didChange), hovers again, writes what it saw
 * as JSON and quits; quitting stops the server.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { requireProgram } from '../helpers/programs';

const repo = path.resolve(__dirname, '../..');
const serverJs = path.join(repo, 'server/out/server.js');
const driver = path.join(__dirname, 'neovim/drive.lua');
/** Neovim is killed (by PID) if it has not quit by then; a healthy run takes about 2 s. */
const NVIM_TIMEOUT_MS = 30000;

interface LspDiagnostic {
  code?: string | number;
  severity?: number;
  source?: string;
  message: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
/** vim.diagnostic's shape: 0-based lnum, byte columns, severity 1 = ERROR, 2 = WARN. */
interface NeovimDiagnostic {
  code?: string;
  severity: number;
  source?: string;
  lnum: number;
  col: number;
  end_lnum: number;
  end_col: number;
  message: string;
}
interface Hover {
  contents: { kind: string; value: string };
  range?: LspDiagnostic['range'];
}
/** What drive.lua writes (an empty Lua table is encoded as []). */
interface NeovimReport {
  steps: string[];
  error?: string;
  uri: string;
  serverPid?: number;
  initialized?: boolean;
  waitedForDiagnostics?: boolean;
  waitedForEdit?: boolean;
  before?: { published: Record<string, LspDiagnostic[]>; buffer: NeovimDiagnostic[]; compose: NeovimDiagnostic[]; composeLoaded: boolean };
  after?: { published: Record<string, LspDiagnostic[]>; buffer: NeovimDiagnostic[] };
  hover?: Hover | { error: string } | null;
  hoverAfterEdit?: Hover | { error: string } | null;
}

function writeWorkspace(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-nvim-')));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs Neovim on `file` inside `dir`; resolves when it exits or has been killed on timeout. */
function runNeovim(
  nvim: string,
  dir: string,
  file: string,
  out: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; timedOut: boolean }> {
  const home = path.join(dir, '.nvim-home'); // Neovim's log, state and cache stay in the temp dir
  fs.mkdirSync(home);
  const child = spawn(nvim, ['--headless', '--clean', '-u', 'NONE', '-n', '-c', 'lua dofile(os.getenv("PORTOLAN_DRIVER"))', file], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: home,
      XDG_CACHE_HOME: home,
      XDG_STATE_HOME: home,
      XDG_DATA_HOME: home,
      PORTOLAN_DRIVER: driver,
      PORTOLAN_NODE: process.execPath,
      PORTOLAN_SERVER: serverJs,
      PORTOLAN_ROOT: dir,
      PORTOLAN_OUT: out,
    },
  });
  let stderr = '';
  child.stdout.on('data', () => undefined);
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) process.kill(child.pid, 'SIGKILL');
  }, NVIM_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, timedOut });
    });
  });
}

function isHover(h: NeovimReport['hover']): h is Hover {
  return !!h && typeof h === 'object' && 'contents' in h;
}

describe('language server in a real Neovim (headless, built-in LSP client)', function () {
  let dir: string | undefined;
  let report: NeovimReport;
  let exit: Awaited<ReturnType<typeof runNeovim>>;
  let serverGone = true;

  before(async function () {
    const nvim = requireProgram(this, ['nvim'], 'neovim');
    assert.ok(fs.existsSync(serverJs), `${serverJs} is missing: build with 'npx tsc -b'`);
    dir = writeWorkspace({
      'etc/ssh/sshd_config': 'Port 70000\nPort 50022\n',
      // nginx and a compose service both bind TCP 8080 on every address of this host
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    listen 8080;\n  }\n}\n',
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n',
    });
    const out = path.join(dir, 'neovim-report.json');
    exit = await runNeovim(nvim, dir, 'etc/ssh/sshd_config', out);
    assert.ok(fs.existsSync(out), `Neovim wrote no report (exit ${exit.code}/${exit.signal}${exit.timedOut ? ', killed on timeout' : ''}): ${exit.stderr}`);
    report = JSON.parse(fs.readFileSync(out, 'utf8')) as NeovimReport;
    // Neovim stops the server when it quits (shutdown, exit, SIGTERM after 500 ms); give it a moment.
    const pid = report.serverPid;
    if (pid) {
      const deadline = Date.now() + 3000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      serverGone = !alive(pid);
      if (!serverGone) process.kill(pid, 'SIGKILL');
    }
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const uriOf = (rel: string) => pathToFileURL(path.join(dir!, rel)).href;
  const codes = (list: { code?: string | number }[] | undefined) => (list ?? []).map((d) => d.code).sort();

  it('runs the whole script, and quitting Neovim stops the server', () => {
    assert.strictEqual(report.error, undefined, report.error);
    assert.ok(!exit.timedOut, 'Neovim had to be killed');
    assert.strictEqual(exit.code, 0, exit.stderr);
    assert.deepStrictEqual(report.steps, ['started', 'diagnostics', 'hover', 'edited', 'done']);
    assert.strictEqual(report.uri, uriOf('etc/ssh/sshd_config'));
    assert.strictEqual(report.initialized, true);
    assert.ok(typeof report.serverPid === 'number', 'the client knows the server PID');
    assert.ok(serverGone, `server ${report.serverPid} outlived Neovim (killed by the test)`);
  });

  it('shows invalid-port (error) and ephemeral-port (warning) on the open sshd_config', () => {
    const published = report.before!.published[report.uri];
    assert.deepStrictEqual(codes(published), ['ephemeral-port', 'invalid-port']);
    const invalid = published.find((d) => d.code === 'invalid-port')!;
    assert.strictEqual(invalid.severity, 1);
    assert.strictEqual(invalid.source, 'portolan');
    assert.deepStrictEqual(invalid.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 10 } });
    const ephemeral = published.find((d) => d.code === 'ephemeral-port')!;
    assert.strictEqual(ephemeral.severity, 2);
    assert.deepStrictEqual(ephemeral.range, { start: { line: 1, character: 5 }, end: { line: 1, character: 10 } });
    // ...and as Neovim's diagnostic module holds them for the buffer
    const shown = report.before!.buffer.map((d) => [d.code, d.severity, d.source, d.lnum, d.col, d.end_lnum, d.end_col]);
    assert.deepStrictEqual(shown.sort(), [
      ['ephemeral-port', 2, 'portolan', 1, 5, 1, 10],
      ['invalid-port', 1, 'portolan', 0, 5, 0, 10],
    ]);
  });

  it('receives port-conflict on compose.yaml and nginx.conf, which were never opened', () => {
    assert.ok(
      report.waitedForDiagnostics,
      `timed out waiting; Neovim received diagnostics for: ${JSON.stringify(Object.keys(report.before?.published ?? {}))}`,
    );
    const compose = report.before!.published[uriOf('compose.yaml')];
    const nginx = report.before!.published[uriOf('etc/nginx/nginx.conf')];
    assert.deepStrictEqual(codes(compose), ['port-conflict']);
    assert.deepStrictEqual(codes(nginx), ['port-conflict']);
    assert.match(compose[0].message, /nginx/);
    assert.match(nginx[0].message, /docker/);
    assert.deepStrictEqual(compose[0].range.start.line, 4);
    assert.deepStrictEqual(nginx[0].range.start.line, 3);
    // Neovim files them under a buffer it creates but does not load
    assert.strictEqual(report.before!.composeLoaded, false);
    assert.deepStrictEqual(codes(report.before!.compose), ['port-conflict']);
  });

  it('hovers the port under the cursor with markdown', () => {
    assert.ok(isHover(report.hover), `hover: ${JSON.stringify(report.hover)}`);
    assert.strictEqual(report.hover.contents.kind, 'markdown');
    assert.match(report.hover.contents.value, /TCP 50022/);
    assert.match(report.hover.contents.value, /ephemeral/);
    assert.deepStrictEqual(report.hover.range, { start: { line: 1, character: 5 }, end: { line: 1, character: 10 } });
  });

  it("follows Neovim's incremental didChange: the fixed port loses invalid-port", () => {
    assert.ok(report.waitedForEdit, 'timed out waiting for diagnostics after the edit');
    assert.deepStrictEqual(codes(report.after!.published[report.uri]), ['ephemeral-port']);
    assert.deepStrictEqual(codes(report.after!.buffer), ['ephemeral-port']);
    assert.strictEqual(report.after!.buffer[0].lnum, 1);
    // The server's copy of the text is Neovim's: the new port hovers where it now stands.
    assert.ok(isHover(report.hoverAfterEdit), `hover: ${JSON.stringify(report.hoverAfterEdit)}`);
    assert.match(report.hoverAfterEdit.contents.value, /TCP 2222\b/);
    assert.deepStrictEqual(report.hoverAfterEdit.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 9 } });
  });
});
