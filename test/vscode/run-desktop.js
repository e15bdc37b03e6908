#!/usr/bin/env node
/**
 * Runs the real-VS-Code suite (test/vscode/out/index.js) in desktop VS Code through
 * @vscode/test-electron (`npm run test:desktop`). It downloads VS Code into .vscode-test/, so it
 * needs the internet; offline, the same suite runs in code-server: test/vscode/run-code-server.js.
 *
 * On Linux without a display, run it under a virtual one: `xvfb-run -a npm run test:desktop`.
 * Env: PORTOLAN_VSCODE_VERSION (default "stable"; e.g. "1.91.0", the oldest our engines allow),
 * PORTOLAN_VSCODE_EXECUTABLE (use an installed VS Code instead of downloading one).
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runTests } = require('@vscode/test-electron');

const ROOT = path.resolve(__dirname, '..', '..');
const SUITE_INDEX = path.join(__dirname, 'out', 'index.js');
const FIXTURE = path.join(__dirname, 'fixture');
const RESULTS_FILE = 'portolan-vscode-results.json'; // test/vscode/suite/index.ts derives the same name

async function main() {
  if (!fs.existsSync(SUITE_INDEX)) {
    console.error(`FAILED: ${path.relative(ROOT, SUITE_INDEX)} is missing: build first (npx tsc -b).`);
    return 1;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-vscode-desktop-'));
  const workspace = path.join(work, 'workspace');
  const results = path.join(work, RESULTS_FILE);
  // A copy, so that nothing the suite does can touch the repository's fixture.
  fs.cpSync(FIXTURE, workspace, { recursive: true });
  let exitCode = 1;
  try {
    await runTests({
      version: process.env.PORTOLAN_VSCODE_VERSION || 'stable',
      vscodeExecutablePath: process.env.PORTOLAN_VSCODE_EXECUTABLE || undefined,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: SUITE_INDEX,
      extensionTestsEnv: { PORTOLAN_VSCODE_RESULTS: results },
      launchArgs: [
        workspace,
        '--disable-extensions', // only ours (the extension under development is still loaded)
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir',
        path.join(work, 'user-data'),
      ],
    });
    exitCode = 0;
  } catch (err) {
    console.error(`VS Code reported a failed run: ${err && err.message ? err.message : err}`);
  }
  if (fs.existsSync(results)) {
    const suite = JSON.parse(fs.readFileSync(results, 'utf8'));
    const failed = suite.tests.filter((t) => t.state === 'failed');
    failed.forEach((t, i) => console.log(`  ${i + 1}) ${t.fullTitle}:\n     ${String(t.error).split('\n').join('\n     ')}\n`));
    if (suite.error) console.log(`  The suite could not run in the extension host:\n     ${suite.error.split('\n').join('\n     ')}\n`);
    console.log(`VS Code ${suite.vscodeVersion} (${suite.appName}); suite took ${(suite.durationMs / 1000).toFixed(1)}s`);
    console.log(`${suite.passes} passed, ${failed.length + (suite.error ? 1 : 0)} failed`);
    if (failed.length > 0 || suite.error || suite.passes === 0) exitCode = 1;
  } else {
    console.log('0 passed, 1 failed');
    console.error(`FAILED: the suite wrote no results (${results}): VS Code did not start or did not run it.`);
    exitCode = 1;
  }
  fs.rmSync(work, { recursive: true, force: true });
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
