/**
 * The language server driven by Emacs with Eglot (Debian's `emacs-nox` and `elpa-eglot`), set up
 * as the README says (a major mode for sshd_config, an `eglot-server-programs` entry) and started
 * with M-x eglot in a git repository, the project Eglot finds. test/protocol/emacs/drive.el opens
 * etc/ssh/sshd_config, waits for diagnostics (recording every publishDiagnostics, also for files
 * Emacs never visited) and for Flymake to show them, hovers a port, edits the buffer, shuts the
 * server down and writes what it saw as JSON.
 */
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { requireProgram } from '../helpers/programs';

const repo = path.resolve(__dirname, '../..');
const serverJs = path.join(repo, 'server/out/server.js');
const driver = path.join(__dirname, 'emacs/drive.el');
/** Emacs is killed (by PID) if it has not quit by then (drive.el waits at most 30 s for the connection and 4 x 20 s after it); a healthy run takes about 2 s. */
const EMACS_TIMEOUT_MS = 130000;

interface LspDiagnostic {
  code?: string;
  severity?: number;
  source?: string;
  message: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
/** Flymake's view: 1-based line, 0-based column (Emacs' current-column). */
interface FlymakeDiagnostic {
  type: string;
  text: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}
interface EmacsReport {
  steps: string[];
  error?: string;
  mode?: string;
  uri?: string;
  waitedForConnection?: boolean | null;
  serverPid?: number;
  projectRoot?: string;
  waitedForDiagnostics?: boolean | null;
  waitedForFlymake?: boolean | null;
  flymake?: FlymakeDiagnostic[];
  unvisited?: { path: string; count: number }[];
  composeVisited?: boolean | null;
  hover?: { contents: { kind: string; value: string }; range?: LspDiagnostic['range'] };
  waitedForEdit?: boolean | null;
  waitedForFlymakeAfterEdit?: boolean | null;
  flymakeAfterEdit?: FlymakeDiagnostic[];
  serverRunning?: boolean | null;
  /** Every uri's last publishDiagnostics before the edit, and at the end. */
  before?: Record<string, LspDiagnostic[]>;
  published: Record<string, LspDiagnostic[]>;
}

function writeWorkspace(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-emacs-')));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  // A git repository: the project Eglot finds through project.el (its root is the workspace folder).
  const git = spawnSync('git', ['init', '-q', dir], { encoding: 'utf8' });
  assert.strictEqual(git.status, 0, `git init: ${git.stderr}`);
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

function runEmacs(
  emacs: string,
  dir: string,
  file: string,
  out: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; timedOut: boolean }> {
  const home = path.join(dir, '.emacs-home'); // ~/.emacs.d and the like stay in the temp dir
  fs.mkdirSync(home);
  // -q: no init file, but Debian's site-start (which makes the elpa-* packages loadable) runs.
  const child = spawn(emacs, ['--batch', '-q', '-l', driver], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOME: home,
      PORTOLAN_NODE: process.execPath,
      PORTOLAN_SERVER: serverJs,
      PORTOLAN_ROOT: dir,
      PORTOLAN_FILE: file,
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
  }, EMACS_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, timedOut });
    });
  });
}

/** Skips (fails under CI) when Emacs is there but Eglot is not. */
function requireEglot(ctx: Mocha.Context, emacs: string): void {
  const r = spawnSync(emacs, ['--batch', '-q', '--eval', "(require 'eglot)"], { encoding: 'utf8', env: { ...process.env, HOME: os.tmpdir() } });
  if (r.status === 0) return;
  const msg = `Eglot not found by ${emacs}: install it with 'apt-get install elpa-eglot' (as root)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI must have it (.ci/run installs it)`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}

describe('language server in a real Emacs (batch, Eglot)', function () {
  let dir: string | undefined;
  let report: EmacsReport;
  let exit: Awaited<ReturnType<typeof runEmacs>>;

  before(async function () {
    this.timeout(EMACS_TIMEOUT_MS + 20000);
    const emacs = requireProgram(this, ['emacs'], 'emacs-nox elpa-eglot');
    requireEglot(this, emacs);
    assert.ok(fs.existsSync(serverJs), `${serverJs} is missing: build with 'npx tsc -b'`);
    dir = writeWorkspace({
      'etc/ssh/sshd_config': 'Port 70000\nPort 50022\n',
      // nginx and a compose service both bind TCP 8080 on every address of this host
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    listen 8080;\n  }\n}\n',
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n',
    });
    const out = path.join(dir, 'emacs-report.json');
    exit = await runEmacs(emacs, dir, 'etc/ssh/sshd_config', out);
    assert.ok(fs.existsSync(out), `Emacs wrote no report (exit ${exit.code}/${exit.signal}${exit.timedOut ? ', killed on timeout' : ''}): ${exit.stderr}`);
    report = JSON.parse(fs.readFileSync(out, 'utf8')) as EmacsReport;
    // Eglot's shutdown ends the server; a server still there would be a leak: stop it by PID.
    if (report.serverPid && alive(report.serverPid)) process.kill(report.serverPid, 'SIGKILL');
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const uriOf = (rel: string) => pathToFileURL(path.join(dir!, rel)).href;
  const codes = (list: { code?: string }[] | undefined) => (list ?? []).map((d) => d.code).sort();

  it('runs the whole script with M-x eglot on the project Eglot finds, and shuts the server down', () => {
    assert.ok(report.waitedForConnection, `Eglot did not connect within 30 s: ${exit.stderr}`);
    assert.strictEqual(report.error, undefined, `${report.error}\n${exit.stderr}`);
    assert.ok(!exit.timedOut, 'Emacs had to be killed');
    assert.strictEqual(exit.code, 0, exit.stderr);
    assert.deepStrictEqual(report.steps, ['started', 'diagnostics', 'hover', 'edited', 'done']);
    assert.strictEqual(report.mode, 'sshd-config-mode');
    assert.strictEqual(report.uri, uriOf('etc/ssh/sshd_config'));
    assert.strictEqual(report.projectRoot, dir + '/');
    assert.ok(typeof report.serverPid === 'number', 'Eglot knows the server PID');
    assert.strictEqual(report.serverRunning, null, 'jsonrpc-running-p after eglot-shutdown');
    assert.ok(!alive(report.serverPid), `server ${report.serverPid} outlived the shutdown`);
  });

  it('shows invalid-port (error) and ephemeral-port (warning) on the open sshd_config, in Flymake too', () => {
    assert.ok(report.waitedForDiagnostics, `timed out; diagnostics received for: ${JSON.stringify(Object.keys(report.published ?? {}))}`);
    const published = report.before![report.uri!];
    assert.deepStrictEqual(codes(published), ['ephemeral-port', 'invalid-port']);
    const invalid = published.find((d) => d.code === 'invalid-port')!;
    assert.strictEqual(invalid.severity, 1);
    assert.strictEqual(invalid.source, 'portolan');
    assert.deepStrictEqual(invalid.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 10 } });
    // ...and as Flymake holds them for the buffer (what the user sees underlined)
    assert.ok(report.waitedForFlymake, `Flymake shows: ${JSON.stringify(report.flymake)}`);
    assert.deepStrictEqual(
      report.flymake!.map((d) => [d.type, d.line, d.column, d.endLine, d.endColumn]),
      [
        ['eglot-error', 1, 5, 1, 10],
        ['eglot-warning', 2, 5, 2, 10],
      ],
    );
    assert.match(report.flymake![0].text, /^portolan \[invalid-port\]: Badly formatted port number "70000"/);
  });

  it('receives port-conflict on compose.yaml and nginx.conf, which Emacs never visited', () => {
    const compose = report.before![uriOf('compose.yaml')];
    const nginx = report.before![uriOf('etc/nginx/nginx.conf')];
    assert.deepStrictEqual(codes(compose), ['port-conflict']);
    assert.deepStrictEqual(codes(nginx), ['port-conflict']);
    assert.match(compose[0].message, /nginx/);
    assert.match(nginx[0].message, /docker/);
    assert.strictEqual(compose[0].range.start.line, 4);
    assert.strictEqual(nginx[0].range.start.line, 3);
    assert.strictEqual(report.composeVisited, null, 'compose.yaml was not visited');
    // Eglot files them for Flymake's project diagnostics (M-x flymake-show-project-diagnostics).
    assert.deepStrictEqual((report.unvisited ?? []).map((u) => [u.path, u.count]).sort(), [
      [path.join(dir!, 'compose.yaml'), 1],
      [path.join(dir!, 'etc/nginx/nginx.conf'), 1],
    ]);
  });

  it('hovers the port at point with markdown', () => {
    assert.ok(report.hover, 'no hover');
    assert.strictEqual(report.hover.contents.kind, 'markdown');
    assert.match(report.hover.contents.value, /TCP 50022/);
    assert.match(report.hover.contents.value, /ephemeral/);
    assert.deepStrictEqual(report.hover.range, { start: { line: 1, character: 5 }, end: { line: 1, character: 10 } });
  });

  it("follows Eglot's didChange: the fixed port loses invalid-port, in Flymake too", () => {
    assert.ok(report.waitedForEdit, `after the edit: ${JSON.stringify(report.published[report.uri!])}`);
    assert.deepStrictEqual(codes(report.published[report.uri!]), ['ephemeral-port']);
    assert.ok(report.waitedForFlymakeAfterEdit, JSON.stringify(report.flymakeAfterEdit));
    assert.deepStrictEqual(
      report.flymakeAfterEdit!.map((d) => [d.type, d.line, d.column]),
      [['eglot-warning', 2, 5]],
    );
  });
});
