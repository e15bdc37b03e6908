/**
 * Entry point of the real-VS-Code test level, called by the extension host (`extensionTestsPath`),
 * both in desktop VS Code (@vscode/test-electron, test/vscode/run-desktop.js) and in code-server
 * (test/vscode/run-code-server.js). Runs mocha over every compiled `*.test.js` next to this file.
 *
 * The browser gives the code-server driver no exit code, and that extension host may not see the
 * driver's environment, so the results also go to a file whose path is derived from the workspace
 * folder: `<parent of the workspace folder>/portolan-vscode-results.json` (the drivers open a copy of
 * the fixture in a temporary directory), unless PORTOLAN_VSCODE_RESULTS names another path.
 * While the suite runs, one JSON line per finished test is appended to `<results>.progress`.
 * If `<results>.hold` exists when the suite ends, run() waits (up to 5 minutes) until the driver
 * deletes it, so the driver can check the live UI before the extension host shuts down.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'portolan.portolan';
export const RESULTS_FILE = 'portolan-vscode-results.json';
const HOLD_LIMIT_MS = 5 * 60_000;

export interface TestResult {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface SuiteResults {
  passes: number;
  failures: number;
  pending: number;
  tests: TestResult[];
  /** Set when the suite could not run at all (extension missing, activation failed, ...). */
  error?: string;
  durationMs: number;
  vscodeVersion: string;
  appName: string;
}

export function resultsPath(): string {
  if (process.env.PORTOLAN_VSCODE_RESULTS) return process.env.PORTOLAN_VSCODE_RESULTS;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('The real-VS-Code suite needs a workspace folder (the fixture) and found none.');
  return path.join(path.dirname(folder.uri.fsPath), RESULTS_FILE);
}

/** mocha 12 is an ES module: import() loads it in any Node; require() only where Node has require(esm). */
async function loadMocha(): Promise<typeof Mocha> {
  let mod: { default?: typeof Mocha } & typeof Mocha;
  try {
    mod = (await import('mocha')) as unknown as typeof mod;
  } catch (importError) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require('mocha');
    } catch {
      throw importError;
    }
  }
  return mod.default ?? mod;
}

function writeAtomically(file: string, text: string): void {
  fs.writeFileSync(`${file}.partial`, text);
  fs.renameSync(`${file}.partial`, file);
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

async function runMocha(out: string, tests: TestResult[]): Promise<void> {
  const MochaClass = await loadMocha();
  const mocha = new MochaClass({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const files = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  for (const name of files) mocha.addFile(path.join(__dirname, name));
  const record = (result: TestResult) => {
    tests.push(result);
    fs.appendFileSync(`${out}.progress`, JSON.stringify(result) + '\n');
  };
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (test) => record({ title: test.title, fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration }));
    runner.on('pending', (test) => record({ title: test.title, fullTitle: test.fullTitle(), state: 'pending' }));
    // Also fires for failing hooks, whose "title" names the hook.
    runner.on('fail', (test, err) =>
      record({ title: test.title, fullTitle: test.fullTitle(), state: 'failed', durationMs: test.duration, error: describeError(err) }),
    );
  });
}

async function waitWhileHeld(out: string): Promise<void> {
  const hold = `${out}.hold`;
  const until = Date.now() + HOLD_LIMIT_MS;
  while (fs.existsSync(hold) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
}

export async function run(): Promise<void> {
  const started = Date.now();
  const out = resultsPath();
  fs.rmSync(`${out}.progress`, { force: true });
  const tests: TestResult[] = [];
  let error: string | undefined;
  try {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    if (!extension) throw new Error(`Extension ${EXTENSION_ID} is not loaded: is extensionDevelopmentPath the repository root?`);
    await extension.activate();
    await runMocha(out, tests);
  } catch (err) {
    error = describeError(err);
  }
  const results: SuiteResults = {
    passes: tests.filter((t) => t.state === 'passed').length,
    failures: tests.filter((t) => t.state === 'failed').length,
    pending: tests.filter((t) => t.state === 'pending').length,
    tests,
    error,
    durationMs: Date.now() - started,
    vscodeVersion: vscode.version,
    appName: vscode.env.appName,
  };
  writeAtomically(out, JSON.stringify(results, null, 2));
  await waitWhileHeld(out);
  // For @vscode/test-electron, a rejected run() is the failing exit code.
  if (error) throw new Error(`The real-VS-Code suite could not run: ${error}`);
  if (results.failures > 0) throw new Error(`${results.failures} real-VS-Code test(s) failed.`);
  if (results.passes === 0) throw new Error('No real-VS-Code test ran.');
}
