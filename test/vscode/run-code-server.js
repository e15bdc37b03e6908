#!/usr/bin/env node
/**
 * Runs the real-VS-Code suite (test/vscode/out/index.js) offline: code-server 4.100.3 (VS Code 1.100.3)
 * serves the workbench on loopback, headless Chromium (playwright-core) opens it as an Extension
 * Development Host with our extension and the suite, and the suite writes its results to a file that
 * this driver waits for. Then, while the extension host is still up, two checks on the live UI
 * (the grammar colours a port apart from its keyword; hovering a port shows our hover widget).
 *
 * Needs: `npx tsc -b` done; code-server from scripts/install-code-server.sh (looked up in
 * $PORTOLAN_CODE_SERVER_DIR, default ~/.cache/portolan/code-server-4.100.3); Chromium at
 * /usr/bin/chromium (or $PORTOLAN_CHROMIUM). Missing programs fail under CI=true and skip elsewhere.
 *
 * Env: PORTOLAN_SCREENSHOT=docs/hover-sshd.png also saves a screenshot of the hover there.
 * Artifacts (screenshots, code-server log, browser console) of the last passing run stay in
 * $TMPDIR/portolan-vscode-last/; a failing run keeps its whole work directory and prints where.
 *
 * Exit code: 0 when every test passed and at least one ran (or when skipped outside CI), 1 otherwise.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const CODE_SERVER_VERSION = '4.100.3';
const INSTALL_DIR =
  process.env.PORTOLAN_CODE_SERVER_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'portolan', `code-server-${CODE_SERVER_VERSION}`);
const CODE_SERVER_ENTRY = path.join(INSTALL_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.PORTOLAN_CHROMIUM || '/usr/bin/chromium';
const FIXTURE = path.join(__dirname, 'fixture');
const SUITE_INDEX = path.join(__dirname, 'out', 'index.js');
const RESULTS_FILE = 'portolan-vscode-results.json'; // test/vscode/suite/index.ts derives the same name
// Artifacts (screenshots, code-server log, browser console) of the last successful run; a failed run keeps its own work directory.
const LAST_ARTIFACTS = path.join(os.tmpdir(), 'portolan-vscode-last');

const START_TIMEOUT_MS = 120_000; // the first start of code-server on a machine is slow
const RESULTS_TIMEOUT_MS = 4 * 60_000;
const UI_TIMEOUT_MS = 30_000;
const CHROMIUM_ARGS = [
  '--no-sandbox', // we run as root in CI
  '--disable-gpu',
  '--disable-dev-shm-usage', // containers often have a tiny /dev/shm
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[vscode ${elapsed()}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function missing(what, how) {
  if (process.env.CI === 'true') {
    console.error(`FAILED: the real-VS-Code tests need ${what}, which is missing. ${how} (.ci/run must install it).`);
    process.exit(1);
  }
  console.log(`SKIPPED real-VS-Code tests: ${what} is missing. ${how}`);
  process.exit(0);
}

function checkPrerequisites() {
  for (const built of [SUITE_INDEX, path.join(ROOT, 'client', 'out', 'extension.js'), path.join(ROOT, 'server', 'out', 'server.js')]) {
    if (!fs.existsSync(built)) {
      console.error(`FAILED: ${path.relative(ROOT, built)} is missing: build first (npx tsc -b).`);
      process.exit(1);
    }
  }
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    missing(`code-server ${CODE_SERVER_VERSION} (looked for ${CODE_SERVER_ENTRY})`, 'Install it with: sudo bash scripts/install-code-server.sh');
  }
  if (!fs.existsSync(CHROMIUM)) {
    missing(`Chromium (looked for ${CHROMIUM}; set PORTOLAN_CHROMIUM to use another)`, 'Install it with: apt-get install chromium');
  }
}

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process and its group (it was started as a group leader): TERM, then KILL after 5 s. */
async function stopGroup(pid, name) {
  if (!pid || !isAlive(pid)) return;
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) {
    log(`${name} (pid ${pid}) ignored SIGTERM: killing it`);
    signal('SIGKILL');
  }
}

function writeSettings(userDataDir) {
  // Quiet, offline workbench: no welcome page, no update/recommendation checks, fast hover.
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'security.workspace.trust.enabled': false,
    'editor.hover.delay': 200,
    'editor.minimap.enabled': false,
    'window.commandCenter': false,
    'chat.commandCenter.enabled': false,
  };
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Reads JSON lines appended since the last call. */
function progressReader(file) {
  let consumed = 0;
  return () => {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const fresh = complete.slice(consumed);
    consumed = complete.length;
    return fresh
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };
}

const printed = [];
function printResult(result) {
  printed.push(result);
  const time = result.durationMs !== undefined && result.durationMs >= 75 ? ` (${result.durationMs}ms)` : '';
  if (result.state === 'passed') console.log(`    ✔ ${result.fullTitle}${time}`);
  else if (result.state === 'pending') console.log(`    - ${result.fullTitle}`);
  else console.log(`    ${printed.filter((r) => r.state === 'failed').length}) ${result.fullTitle}${time}`);
}

/** Finds the editor line `Port <port>` in the page: the classes of the keyword and number tokens, and where the number is. */
async function findPortToken(page, port) {
  return page.evaluate((port) => {
    for (const line of document.querySelectorAll('.monaco-editor .view-line')) {
      if ((line.textContent || '').replace(/\u00a0/g, ' ').trim() !== `Port ${port}`) continue;
      const tokens = [...line.querySelectorAll('span > span')];
      const keyword = tokens.find((s) => s.textContent === 'Port');
      const number = tokens.find((s) => s.textContent === port);
      if (!keyword || !number) return { found: true, tokens: tokens.map((s) => `${s.className}:${s.textContent}`) };
      const r = number.getBoundingClientRect();
      return {
        found: true,
        keywordClass: keyword.className,
        numberClass: number.className,
        keywordColor: getComputedStyle(keyword).color,
        numberColor: getComputedStyle(number).color,
        x: r.x + r.width / 2,
        y: r.y + r.height / 2,
      };
    }
    return { found: false };
  }, port);
}

/** Waits until the line `Port <port>` is on screen and tokenized (the grammar runs after the first paint). */
async function waitForPortToken(page, port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const token = await findPortToken(page, port);
    if (token.x !== undefined || Date.now() > deadline) return token;
    await sleep(200);
  }
}

/** Moves the mouse onto the token until a hover widget containing `text` shows; returns that widget. */
async function showHover(page, port, text) {
  const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: text }).first();
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    // Found again each time: the hover can be dismissed by a late layout change that also moves the text.
    const token = await waitForPortToken(page, port);
    if (token.x === undefined) throw new Error(`the "${port}" token is not on screen (${token.tokens ? token.tokens.join(', ') : 'line not found'})`);
    // Away first (onto the title bar) so that an earlier hover, which may cover this line, closes.
    await page.mouse.move(640, 10);
    await page.keyboard.press('Escape');
    await page
      .locator('.monaco-hover:not(.hidden)')
      .first()
      .waitFor({ state: 'hidden', timeout: 2000 })
      .catch(() => {});
    await page.mouse.move(token.x - 20, token.y);
    await page.mouse.move(token.x, token.y, { steps: 5 });
    try {
      await hover.waitFor({ state: 'visible', timeout: 3000 });
      await sleep(300); // let the widget finish fading in
      return hover;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** The suite leaves sshd_config open; when it did not (e.g. it ran no test), Quick Open it. */
async function openMainConfigInEditor(page) {
  if ((await findPortToken(page, '22')).found) return waitForPortToken(page, '22');
  await page
    .locator('.monaco-workbench')
    .click({ position: { x: 600, y: 300 } })
    .catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('etc/ssh/sshd_config');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  return waitForPortToken(page, '22');
}

/** UI checks on the live workbench; each returns a result like the suite's. */
async function uiChecks(page, artifacts, screenshotPath) {
  const results = [];
  const check = async (title, body) => {
    const t0 = Date.now();
    const fullTitle = `UI (Chromium) ${title}`;
    try {
      await body();
      results.push({ title, fullTitle, state: 'passed', durationMs: Date.now() - t0 });
    } catch (err) {
      results.push({ title, fullTitle, state: 'failed', durationMs: Date.now() - t0, error: err && err.stack ? err.stack : String(err) });
    }
    printResult(results[results.length - 1]);
  };
  await check('the sshd-config grammar colours the port number apart from the Port keyword', async () => {
    const token = await openMainConfigInEditor(page);
    if (!token.found) throw new Error('no editor line "Port 22" is visible');
    if (!token.numberClass) throw new Error(`tokens of "Port 22": ${token.tokens.join(', ')}`);
    if (token.keywordClass === token.numberClass || token.keywordColor === token.numberColor) {
      throw new Error(`"Port" (${token.keywordClass}, ${token.keywordColor}) and "22" (${token.numberClass}, ${token.numberColor}) look the same`);
    }
  });
  await check('hovering port 50022 shows its ephemeral-port warning and the port in one widget', async () => {
    const hover = await showHover(page, '50022', 'TCP 50022');
    const text = await hover.innerText();
    if (!/ephemeral-port/.test(text) || !/Inside the IANA dynamic\/ephemeral range/.test(text))
      throw new Error(`the hover lacks the warning or the range: ${text}`);
  });
  // Last, so that it is also what the final workbench screenshot shows. Its hover fits on screen
  // (VS Code caps a hover at a quarter of the editor's height), so it is the README's screenshot.
  await check('hovering port 22 shows the hover widget with "TCP 22 — SSH" and its range class', async () => {
    const hover = await showHover(page, '22', 'TCP 22 — SSH');
    const text = await hover.innerText();
    if (!/well-known \(system\) port/.test(text)) throw new Error(`the hover lacks the range class: ${text}`);
    await page.screenshot({ path: path.join(artifacts, 'hover.png') });
    if (screenshotPath) {
      fs.mkdirSync(path.dirname(screenshotPath), { recursive: true });
      fs.copyFileSync(path.join(artifacts, 'hover.png'), screenshotPath);
      log(`hover screenshot saved to ${path.relative(process.cwd(), screenshotPath)}`);
    }
  });
  return results;
}

async function main() {
  checkPrerequisites();
  const { chromium } = require('playwright-core');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-vscode-'));
  const artifacts = path.join(work, 'artifacts');
  fs.mkdirSync(artifacts);
  const workspace = path.join(work, 'workspace');
  const results = path.join(work, RESULTS_FILE); // = <parent of workspace>/portolan-vscode-results.json
  const hold = `${results}.hold`;
  const codeServerLog = path.join(artifacts, 'code-server.log');
  const consoleLog = path.join(artifacts, 'browser-console.log');
  // A copy, so that nothing the suite does can touch the repository's fixture.
  fs.cpSync(FIXTURE, workspace, { recursive: true });
  writeSettings(path.join(work, 'user-data'));
  fs.writeFileSync(hold, 'the driver checks the UI before the extension host ends\n');

  let codeServer;
  let browserServer;
  let browser;
  let exitCode = 1;
  let summary = '0 passed, 1 failed';
  let cleaning;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
      const chromiumPid = browserServer && browserServer.process() && browserServer.process().pid;
      await stopGroup(chromiumPid, 'chromium');
      await stopGroup(codeServer && codeServer.pid, 'code-server');
      if (exitCode === 0) {
        fs.rmSync(LAST_ARTIFACTS, { recursive: true, force: true });
        fs.renameSync(artifacts, LAST_ARTIFACTS);
        fs.rmSync(work, { recursive: true, force: true });
      } else {
        log(`kept the work directory for inspection: ${work} (logs and screenshots in artifacts/)`);
      }
    })());
  for (const [sig, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ]) {
    process.on(sig, () => {
      log(`${sig}: stopping code-server and chromium`);
      exitCode = 128 + number;
      cleanup().finally(() => process.exit(128 + number));
    });
  }

  try {
    const port = await freeLoopbackPort();
    const base = `http://127.0.0.1:${port}`;
    const configFile = path.join(work, 'code-server.yaml');
    // Our own config file, so that the user's ~/.config/code-server (password, bind address) plays no part.
    fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    const logFd = fs.openSync(codeServerLog, 'w');
    log(`starting code-server ${CODE_SERVER_VERSION} on ${base} (the first start on a machine is slow)`);
    codeServer = spawn(
      process.execPath,
      [
        CODE_SERVER_ENTRY,
        '--config',
        configFile,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--user-data-dir',
        path.join(work, 'user-data'),
        '--extensions-dir',
        path.join(work, 'extensions'),
        workspace,
      ],
      // detached: its own process group, so stopping it stops the extension host and our language server too.
      { detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, PORTOLAN_VSCODE_RESULTS: results } },
    );
    fs.closeSync(logFd);
    let codeServerExit;
    codeServer.on('exit', (code, signal) => (codeServerExit = signal || `exit code ${code}`));

    const startDeadline = Date.now() + START_TIMEOUT_MS;
    let lastNote = Date.now();
    while ((await httpStatus(`${base}/healthz`)) !== 200) {
      if (codeServerExit) throw new Error(`code-server stopped (${codeServerExit}) before it was ready:\n${tail(codeServerLog, 30)}`);
      if (Date.now() > startDeadline) throw new Error(`code-server was not ready after ${START_TIMEOUT_MS / 1000}s:\n${tail(codeServerLog, 30)}`);
      if (Date.now() - lastNote > 10_000) {
        log('still waiting for code-server...');
        lastNote = Date.now();
      }
      await sleep(250);
    }
    log(`code-server ready (pid ${codeServer.pid})`);

    browserServer = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    browser = await chromium.connect(browserServer.wsEndpoint());
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const consoleStream = fs.createWriteStream(consoleLog);
    page.on('console', (msg) => consoleStream.write(`[${msg.type()}] ${msg.text()}\n`));
    page.on('pageerror', (err) => consoleStream.write(`[pageerror] ${err.stack || err}\n`));
    let pageCrashed = false;
    page.on('crash', () => (pageCrashed = true));

    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(SUITE_INDEX)],
    ];
    const url = `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    log(`opening the workbench in headless Chromium (pid ${browserServer.process().pid})`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

    const readProgress = progressReader(`${results}.progress`);
    const resultsDeadline = Date.now() + RESULTS_TIMEOUT_MS;
    let headerShown = false;
    let workbenchSeen = false;
    lastNote = Date.now();
    const showHeader = () => {
      if (headerShown) return;
      headerShown = true;
      console.log(`\n  real VS Code: code-server ${CODE_SERVER_VERSION} in headless Chromium`);
    };
    while (!fs.existsSync(results)) {
      for (const r of readProgress()) {
        showHeader();
        printResult(r);
      }
      if (codeServerExit) throw new Error(`code-server stopped (${codeServerExit}) during the suite:\n${tail(codeServerLog, 30)}`);
      if (pageCrashed) throw new Error('the Chromium page crashed during the suite');
      if (Date.now() > resultsDeadline) throw new Error(`no results after ${RESULTS_TIMEOUT_MS / 1000}s (see ${consoleLog} and ${codeServerLog})`);
      if (
        !workbenchSeen &&
        (await page
          .locator('.monaco-workbench')
          .count()
          .catch(() => 0)) > 0
      ) {
        workbenchSeen = true;
        log('workbench loaded; waiting for the extension host to run the suite');
      }
      if (Date.now() - lastNote > 15_000 && !headerShown) {
        log(workbenchSeen ? 'still waiting for the suite to start...' : 'still waiting for the workbench to load...');
        lastNote = Date.now();
      }
      await sleep(250);
    }
    const suite = JSON.parse(fs.readFileSync(results, 'utf8'));
    showHeader();
    for (const r of readProgress()) printResult(r);
    for (const r of suite.tests.slice(printed.length)) printResult(r);

    let uiResults = [];
    if (!suite.error) uiResults = await uiChecks(page, artifacts, process.env.PORTOLAN_SCREENSHOT ? path.resolve(process.env.PORTOLAN_SCREENSHOT) : undefined);
    await page.screenshot({ path: path.join(artifacts, 'workbench.png') }).catch(() => {});
    fs.rmSync(hold, { force: true }); // lets the suite's run() return

    const all = [...suite.tests, ...uiResults];
    const passed = all.filter((r) => r.state === 'passed').length;
    const failed = all.filter((r) => r.state === 'failed');
    const pending = all.filter((r) => r.state === 'pending').length;
    console.log('');
    failed.forEach((r, i) => console.log(`  ${i + 1}) ${r.fullTitle}:\n     ${String(r.error).split('\n').join('\n     ')}\n`));
    if (suite.error) console.log(`  The suite could not run in the extension host:\n     ${suite.error.split('\n').join('\n     ')}\n`);
    log(`VS Code ${suite.vscodeVersion} (${suite.appName}); suite took ${(suite.durationMs / 1000).toFixed(1)}s`);
    if (pending > 0) console.log(`${pending} pending`);
    // The UI checks alone do not count: the suite itself must have run something.
    const noSuiteTest = !suite.error && suite.passes === 0;
    if (noSuiteTest) console.log(`No test of the suite passed: it found no compiled *.test.js in ${path.dirname(SUITE_INDEX)}? (build with npx tsc -b)`);
    const problems = failed.length + (suite.error || noSuiteTest ? 1 : 0);
    summary = `${passed} passed, ${problems} failed`;
    exitCode = problems === 0 ? 0 : 1;
  } catch (err) {
    console.error(`\nFAILED: ${err && err.stack ? err.stack : err}`);
    console.error(`code-server log: ${codeServerLog}; browser console: ${consoleLog}`);
    summary = `${printed.filter((r) => r.state === 'passed').length} passed, ${printed.filter((r) => r.state === 'failed').length + 1} failed`;
    exitCode = 1;
  } finally {
    await cleanup();
  }
  if (exitCode === 0) log(`screenshots and logs: ${LAST_ARTIFACTS}`);
  // The closing line, alone: what CI logs and people look for.
  console.log(summary);
  process.exit(exitCode);
}

main();
