#!/usr/bin/env node
/**
 * Runs the real-VS-Code suite (test/vscode/out/index.js) offline against the INSTALLED extension: the
 * driver builds the .vsix (scripts/package.js, as `npm run package` does), installs it into a fresh
 * extensions directory with `code-server --install-extension`, then code-server 4.100.3 (VS Code 1.100.3)
 * serves the workbench on loopback and headless Chromium (playwright-core) opens it as an Extension
 * Development Host whose development extension is an empty harness (test/vscode/harness), so the
 * Portolan that runs is the installed one. The suite writes its results to a file that this driver
 * waits for. Then, while the extension host is still up, checks on the live UI: grammar colours
 * (sshd_config, nftables), the status bar item, the Port Map tree and chart, a quick fix menu, completion
 * from the keyboard (Ctrl+Space) and a port-conflict fix through the light bulb (Ctrl+.), hovers.
 *
 * Needs: `npx tsc -b` done; code-server from scripts/install-code-server.sh (looked up in
 * $PORTOLAN_CODE_SERVER_DIR, default ~/.cache/portolan/code-server-4.100.3); Chromium at
 * /usr/bin/chromium (or $PORTOLAN_CHROMIUM). Missing programs fail under CI=true and skip elsewhere.
 *
 * Env: PORTOLAN_SCREENSHOTS=docs also copies the README's screenshots there (hover-sshd.png,
 * port-map.png, port-map-chart.png, quick-fix.png). PORTOLAN_SCREENSHOT=FILE copies only the hover.
 * Artifacts (screenshots, code-server log, browser console) of the last passing run stay in
 * test/vscode/artifacts/ (gitignored); a failing run keeps its whole work directory and prints where.
 *
 * Exit code: 0 when every test passed and at least one ran (or when skipped outside CI), 1 otherwise.
 */
'use strict';
const { spawn, spawnSync } = require('child_process');
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
/** The host of test/protocol/navigation.test.ts, which the navigation checks reuse. */
const NAV_FIXTURE = path.join(ROOT, 'test', 'fixtures', 'nav-host');
/** Fresh copies for the UI checks that edit files, each a host of its own (a rootfs/ tree), relative to the workspace. */
const UI_COMPLETION_ROOT = 'nav/ui-completion/rootfs';
const UI_COMPLETION_FILE = 'etc/nginx/conf.d/new.conf';
const UI_QUICKFIX_ROOT = 'nav/ui-quickfix/rootfs';
const SUITE_INDEX = path.join(__dirname, 'out', 'index.js');
const RESULTS_FILE = 'portolan-vscode-results.json'; // test/vscode/suite/index.ts derives the same name
// Artifacts (screenshots, code-server log, browser console) of the last successful run; a failed run keeps its own work directory.
const LAST_ARTIFACTS = path.join(__dirname, 'artifacts');
const HARNESS = path.join(__dirname, 'harness');
/** Screenshots the README shows, by artifact name. */
const README_SHOTS = ['hover-sshd.png', 'port-map.png', 'port-map-chart.png', 'quick-fix.png'];

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

/** Opens a workspace file with Quick Open (Ctrl+P). */
async function quickOpen(page, relative) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(relative);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  await sleep(300); // the list settles on the best match
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Runs a command by its title from the Command Palette. */
async function runCommand(page, title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** Puts the cursor at line:column (1-based) of the active editor with Go to Line (Ctrl+G). */
async function goTo(page, line, column) {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await page
    .locator('.statusbar-item')
    .filter({ hasText: `Ln ${line}, Col ${column}` })
    .first()
    .waitFor({ timeout: UI_TIMEOUT_MS });
}

/** Waits until the status bar item shows the host `label` analysed (its findings counted); returns its text. */
/** Completion after `listen ` in the UI copy: free ports first, each with its name, 8080 taken by compose. */
async function completionCheck(page, artifacts) {
  await goTo(page, 2, 12);
  await page.keyboard.press('Control+Space');
  const widget = page.locator('.editor-widget.suggest-widget.visible');
  await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  const rows = () =>
    widget.locator('.monaco-list-row').evaluateAll((list) =>
      list
        .map((r) => ({
          index: Number(r.getAttribute('data-index')),
          text: r.innerText.replace(/\s+/g, ' ').trim(),
          aria: r.getAttribute('aria-label') || '',
          focused: r.classList.contains('focused'),
        }))
        .sort((a, b) => a.index - b.index),
    );
  // Ctrl+Space again, with the list open: the details of the focused row (its `detail`) show beside it.
  await page.keyboard.press('Control+Space');
  const details = page.locator('.suggest-details-container .suggest-details').first();
  await details.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  const focused = async () => {
    // The details pane follows the focus a moment later: wait until it shows the focused row's item
    // (its detail starts with the row's registry name).
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const row = (await rows()).find((r) => r.focused);
      const text = (await details.innerText()).replace(/\s+/g, ' ').trim();
      const name = row ? row.text.split(' ').slice(1).join(' ') : '';
      if ((row && (!name || text.startsWith(`${name} · `))) || Date.now() > deadline) return { row, details: text };
      await sleep(50);
    }
  };
  const unfiltered = await rows();
  const top = await focused();
  if (top.row.index !== 0 || !/free on this host/.test(top.details)) throw new Error(`the first row is not a free port: ${top.row.text} (${top.details})`);
  // Each row: the port, then its registry name where it has one.
  if (!unfiltered.every((r) => /^\d+( |$)/.test(r.text)) || !unfiltered.some((r) => r.text === '80 HTTP'))
    throw new Error(`rows: ${unfiltered.map((r) => r.text).join(' | ')}`);
  // Typing filters the list: the free 8081 comes before 8080, which compose publishes.
  await page.keyboard.type('808');
  await page.waitForFunction(
    () => [...document.querySelectorAll('.suggest-widget.visible .monaco-list-row')].every((r) => /^808/.test(r.innerText.trim())),
    null,
    { timeout: UI_TIMEOUT_MS },
  );
  const filtered = await rows();
  const at = (label) => filtered.findIndex((r) => r.text.split(' ')[0] === label);
  if (!(at('8081') >= 0 && at('8080') > at('8081'))) throw new Error(`8081 is not before 8080: ${filtered.map((r) => r.text).join(' | ')}`);
  const best = await focused();
  if (!/^8081 /.test(best.row.text) || !/free on this host/.test(best.details)) throw new Error(`focused after typing: ${best.row.text} (${best.details})`);
  for (let i = 0; i < filtered.length && !/^8080 /.test((await focused()).row.text); i++) await page.keyboard.press('ArrowDown');
  const taken = await focused();
  if (!/^8080 /.test(taken.row.text) || !/taken by docker \(nav\/ui-completion\/rootfs\/srv\/app\/compose\.yaml:5\)/.test(taken.details))
    throw new Error(`8080's row: ${taken.row.text} (${taken.details})`);
  await shoot(page, artifacts, 'completion.png');
  await page.keyboard.press('Escape');
  await runCommand(page, 'File: Revert File');
}

async function waitForHostStatus(page, label, counts = '\\d+ errors?, \\d+ warnings?') {
  const pattern = `Portolan ${label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${counts}$`;
  await page.waitForFunction((p) => [...document.querySelectorAll('.statusbar-item')].some((e) => new RegExp(p).test(e.innerText.trim())), pattern, {
    timeout: UI_TIMEOUT_MS,
  });
}

/**
 * Waits until `file` has been saved with new text: no editor tab marked dirty, and the file on disk
 * neither its old text nor empty (a save truncates, then writes); returns the text.
 */
async function savedOnDisk(page, file, before) {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const dirty = await page.locator('.tab.dirty').count();
    const text = fs.readFileSync(file, 'utf8');
    if (dirty === 0 && text !== before && text !== '') return text;
    if (Date.now() > deadline) throw new Error(`${file} was not saved (${dirty} dirty tabs):\n${text}`);
    await sleep(100);
  }
}

/** The colour of each token (trimmed text) on the first editor line whose text is `lineText`, once tokenized. */
async function lineTokens(page, lineText, minTokens = 2, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tokens = await page.evaluate((want) => {
      for (const line of document.querySelectorAll('.monaco-editor .view-line')) {
        if ((line.textContent || '').replace(/\u00a0/g, ' ').trim() !== want) continue;
        return [...line.querySelectorAll('span > span')].map((s) => ({
          text: s.textContent.replace(/\u00a0/g, ' ').trim(),
          cls: s.className,
          color: getComputedStyle(s).color,
        }));
      }
      return undefined;
    }, lineText);
    if ((tokens && tokens.length >= minTokens) || Date.now() > deadline) return tokens;
    await sleep(200);
  }
}

function tokenColour(tokens, text) {
  const t = tokens.find((x) => x.text === text);
  if (!t) throw new Error(`no token "${text}" among ${tokens.map((x) => `${x.text}:${x.color}`).join(', ')}`);
  return t.color;
}

async function shoot(page, artifacts, name, clip) {
  await page.screenshot({ path: path.join(artifacts, name), ...(clip ? { clip } : {}) });
}

/** Rows of the Port Map tree as shown. */
async function treeRows(page) {
  return page.locator('.pane-body .monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => {
      const text = (selector) => (r.querySelector(selector)?.textContent || '').replace(/\s+/g, ' ').trim();
      const description = text('.label-description');
      return description ? `${text('.label-name')} — ${description}` : text('.label-name');
    }),
  );
}

async function expandTreeRow(page, text) {
  const row = page.locator('.pane-body .monaco-list-row').filter({ hasText: text }).first();
  await row.waitFor({ timeout: UI_TIMEOUT_MS });
  if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.pane-body .monaco-list-row')].some((r) => r.innerText.includes(t) && r.getAttribute('aria-expanded') === 'true'),
    text,
    { timeout: UI_TIMEOUT_MS },
  );
}

/**
 * UI checks on the live workbench, in order (each may rely on the layout the one before left):
 * [title, async (page, artifacts) => { throws on failure }].
 */
const UI_CHECKS = [
  [
    'the sshd-config grammar colours the port number apart from the Port keyword',
    async (page, artifacts) => {
      const token = await openMainConfigInEditor(page);
      if (!token.found) throw new Error('no editor line "Port 22" is visible');
      if (!token.numberClass) throw new Error(`tokens of "Port 22": ${token.tokens.join(', ')}`);
      if (token.keywordClass === token.numberClass || token.keywordColor === token.numberColor) {
        throw new Error(`"Port" (${token.keywordClass}, ${token.keywordColor}) and "22" (${token.numberClass}, ${token.numberColor}) look the same`);
      }
    },
  ],
  [
    'hovering port 50022 shows its ephemeral-port warning and the port in one widget',
    async (page, artifacts) => {
      const hover = await showHover(page, '50022', 'TCP 50022');
      const text = await hover.innerText();
      if (!/ephemeral-port/.test(text) || !/Inside the IANA dynamic\/ephemeral range/.test(text))
        throw new Error(`the hover lacks the warning or the range: ${text}`);
    },
  ],
  [
    'the nftables grammar: "; policy drop;" is code, not a comment; a port apart from its verdict',
    async (page, artifacts) => {
      await quickOpen(page, 'etc/nftables.conf');
      const comment = await lineTokens(page, "# The host's firewall: only SSH comes in.", 1);
      const policy = await lineTokens(page, 'type filter hook input priority 0; policy drop;');
      const rule = await lineTokens(page, 'tcp dport { 22, 50022 } accept');
      if (!comment || !policy || !rule) throw new Error('the nftables.conf lines are not on screen');
      const commentColour = comment[comment.length - 1].color;
      for (const word of ['policy', 'drop', 'hook', 'input']) {
        if (tokenColour(policy, word) === commentColour) throw new Error(`"${word}" has the comment colour ${commentColour}`);
      }
      if (tokenColour(rule, '22') === tokenColour(rule, 'accept')) throw new Error('"22" and "accept" look the same');
      if (tokenColour(policy, 'drop') === tokenColour(policy, 'policy')) throw new Error('"drop" and "policy" look the same');
    },
  ],
  [
    'the status bar shows the host of the active file with its errors and warnings',
    async (page, artifacts) => {
      const item = page
        .locator('.statusbar-item')
        .filter({ hasText: /Portolan/ })
        .first();
      await page.waitForFunction(
        () => [...document.querySelectorAll('.statusbar-item')].some((e) => /Portolan workspace: 3 errors, 1 warning/.test(e.innerText)),
        null,
        {
          timeout: UI_TIMEOUT_MS,
        },
      );
      const text = (await item.innerText()).trim();
      if (!/Portolan workspace: 3 errors, 1 warning$/.test(text)) throw new Error(`status bar: "${text}"`);
      await quickOpen(page, 'web/srv/app/compose.yaml');
      await page.waitForFunction(
        () => [...document.querySelectorAll('.statusbar-item')].some((e) => /Portolan web: 3 errors, 3 warnings/.test(e.innerText)),
        null,
        {
          timeout: UI_TIMEOUT_MS,
        },
      );
    },
  ],
  [
    'the Port Map view lists the hosts, their ports, and who binds a port in conflict',
    async (page, artifacts) => {
      await runCommand(page, 'Portolan: Focus on Port Map View');
      await expandTreeRow(page, 'web');
      await expandTreeRow(page, 'tcp 443');
      await page.waitForFunction(() => [...document.querySelectorAll('.pane-body .monaco-list-row')].some((r) => /docker publishes/.test(r.innerText)), null, {
        timeout: UI_TIMEOUT_MS,
      });
      const rows = await treeRows(page);
      const wanted = [
        /^workspace — 2 ports · 3 errors · 1 warning$/,
        /^web — 3 ports · 3 errors · 3 warnings$/,
        /^tcp 80 — HTTP · nginx$/,
        /^tcp 443 — HTTPS · docker, nginx · conflict$/,
        /^nginx listens on 0\.0\.0\.0:443\/tcp — web\/etc\/nginx\/sites-enabled\/shop:3$/,
        /^iptables: accept by the rule at line 6 — web\/etc\/iptables\/rules\.v4$/,
        /— port-conflict$/,
      ];
      for (const want of wanted) {
        if (!rows.some((r) => want.test(r))) throw new Error(`no tree row matches ${want}: ${rows.join(' | ')}`);
      }
      // Wider, so that the screenshot shows whole lines: drag the sash between the side bar and the editor.
      const sash = await page.locator('.part.sidebar').boundingBox();
      if (sash) {
        await page.mouse.move(sash.x + sash.width + 1, 400);
        await page.mouse.down();
        await page.mouse.move(sash.x + sash.width + 330, 400, { steps: 5 });
        await page.mouse.up();
      }
      await page.mouse.move(1200, 650);
      await sleep(400);
      await shoot(page, artifacts, 'port-map.png', { x: 0, y: 0, width: 1040, height: 400 });
    },
  ],
  [
    'the Port Map chart draws every port of the host, the conflict in red, details on hover, a click opens the line',
    async (page, artifacts) => {
      await runCommand(page, 'Portolan: Open Port Map Chart');
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      await frame.locator('.marker').first().waitFor({ timeout: UI_TIMEOUT_MS });
      const count = await frame.locator('.marker').count();
      if (count !== 3) throw new Error(`${count} markers for web's 3 ports`);
      const conflict = frame.locator('.marker.conflict');
      if ((await conflict.count()) !== 1) throw new Error(`${await conflict.count()} conflict markers`);
      const fill = await conflict.locator('circle').evaluate((c) => getComputedStyle(c).fill);
      const okFill = await frame
        .locator('.marker:not(.conflict):not(.error) circle')
        .first()
        .evaluate((c) => getComputedStyle(c).fill)
        .catch(() => undefined);
      if (fill === okFill) throw new Error(`the conflict marker is drawn like the others (${fill})`);
      await conflict.hover();
      const details = await frame.locator('#details').innerText();
      if (!/TCP 443/.test(details) || !/port-conflict/.test(details)) throw new Error(`details on hover: ${details}`);
      await sleep(300);
      await shoot(page, artifacts, 'port-map-chart.png', { x: 300, y: 0, width: 980, height: 420 });
      // A click goes to the first place that binds the port: nginx's listen in web/etc/nginx/sites-enabled/shop, line 3.
      await conflict.click();
      await page.locator('.tab.active').filter({ hasText: 'shop' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await page
        .locator('.statusbar-item')
        .filter({ hasText: /Ln 3, Col/ })
        .first()
        .waitFor({ timeout: UI_TIMEOUT_MS });
    },
  ],
  [
    'a duplicate default_server offers its quick fix in the light bulb menu',
    async (page, artifacts) => {
      await page.keyboard.press('Escape');
      await quickOpen(page, 'web/etc/nginx/sites-enabled/shop');
      await page.keyboard.press('Control+G');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(':2:15');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .squiggly-error').length > 0, null, { timeout: UI_TIMEOUT_MS });
      await sleep(500);
      await page.keyboard.press('Control+.');
      const menu = page
        .locator('.action-widget')
        .filter({ hasText: /default_server/ })
        .first();
      await menu.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      const text = await menu.innerText();
      if (!/Remove .*default_server/i.test(text) || !/Ignore duplicate-default-server/.test(text)) throw new Error(`quick fix menu: ${text}`);
      await sleep(300);
      await shoot(page, artifacts, 'quick-fix.png', { x: 300, y: 0, width: 980, height: 300 });
      await page.keyboard.press('Escape');
    },
  ],
  [
    'Ctrl+Space after `listen ` in an nginx file: the suggest widget lists free ports first, a taken one says by whom',
    async (page, artifacts, { workspace }) => {
      await quickOpen(page, `${UI_COMPLETION_ROOT}/${UI_COMPLETION_FILE}`);
      // The server has analysed the copy's host once the status bar names it.
      await waitForHostStatus(page, UI_COMPLETION_ROOT);
      // The status bar may name the host before the server has read the copy's compose file (its publish
      // gives no finding to wait for): a check that finds 8080 still free is asked again, from scratch.
      for (let attempt = 1; ; attempt++) {
        try {
          await completionCheck(page, artifacts);
          return;
        } catch (e) {
          if (attempt >= 4 || !/8080's row: .*free on this host/.test(String(e))) throw e;
          console.log(`[vscode] completion asked again (attempt ${attempt}: ${String(e).split('\n')[0]})`);
          await page.keyboard.press('Escape');
          await runCommand(page, 'File: Revert File');
          await sleep(2000);
        }
      }
    },
  ],
  [
    'the light bulb on a port conflict (Ctrl+.): "Use port N" rewrites the listen, and only it',
    async (page, artifacts, { workspace }) => {
      const rel = 'etc/nginx/sites-enabled/shop';
      const file = path.join(workspace, UI_QUICKFIX_ROOT, rel);
      const before = fs.readFileSync(file, 'utf8');
      const compose = fs.readFileSync(path.join(workspace, UI_QUICKFIX_ROOT, 'srv/app/compose.yaml'), 'utf8');
      await quickOpen(page, `${UI_QUICKFIX_ROOT}/${rel}`);
      // Before: the duplicate default_server and both sides of the 443 conflict.
      await waitForHostStatus(page, UI_QUICKFIX_ROOT, '3 errors, 3 warnings');
      await goTo(page, 3, 12);
      await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .squiggly-error').length >= 2, null, { timeout: UI_TIMEOUT_MS });
      await page.keyboard.press('Control+.');
      const menu = page
        .locator('.action-widget')
        .filter({ hasText: /Use port \d+/ })
        .first();
      await menu.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      // The keyboard, as a user does: down to the first "Use port N" row (the preferred fix is focused already), Enter.
      const focusedAction = () => menu.locator('.monaco-list-row.focused').first().getAttribute('aria-label');
      const count = await menu.locator('.monaco-list-row').count();
      for (let i = 0; i < count && !/^Use port \d+/.test((await focusedAction()) || ''); i++) await page.keyboard.press('ArrowDown');
      const title = (await focusedAction()) || '';
      if (!/^Use port \d+/.test(title)) throw new Error(`no "Use port N" row in the menu: ${await menu.innerText()}`);
      const port = /^Use port (\d+)/.exec(title)[1];
      if (port === '443') throw new Error(`the fix keeps the port: ${title}`);
      await page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
      // VS Code saves the files a fix edits (files.refactoring.autoSave); Ctrl+S in case it did not.
      await page.keyboard.press('Control+S');
      const after = await savedOnDisk(page, file, before);
      const expected = before.replace('    listen 443 ssl;\n', `    listen ${port} ssl;\n`);
      if (expected === before || after !== expected) throw new Error(`after "${title}" the file reads:\n${after}\nexpected:\n${expected}`);
      if (fs.readFileSync(path.join(workspace, UI_QUICKFIX_ROOT, 'srv/app/compose.yaml'), 'utf8') !== compose)
        throw new Error('the fix changed compose.yaml too');
      // After: both sides of the conflict are gone; the duplicate default_server stays.
      await waitForHostStatus(page, UI_QUICKFIX_ROOT, '1 error, \\d+ warnings?');
    },
  ],
  [
    'clicking the status bar item offers the output and a restart; the output shows the server start and the analysis',
    async (page, artifacts) => {
      await page.keyboard.press('Escape');
      await page
        .locator('.statusbar-item')
        .filter({ hasText: /Portolan/ })
        .first()
        .click();
      const list = page.locator('.quick-input-widget .quick-input-list');
      await list.filter({ hasText: 'Restart Server' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      const menu = await list.innerText();
      if (!/Show Output/.test(menu) || !/Open Port Map/.test(menu)) throw new Error(`status menu: ${menu}`);
      await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Show Output' }).first().click();
      // The output channel is an editor in the panel; its long lines wrap, so the text is read without line breaks.
      const output = () =>
        page.evaluate(() =>
          [...document.querySelectorAll('.view-line')]
            .map((l) => l.textContent)
            .join('')
            .replace(/\u00a0/g, ' '),
        );
      await page.waitForFunction(
        () =>
          /Portolan language server \S+\s*started/.test(
            [...document.querySelectorAll('.view-line')].map((l) => l.textContent.replace(/\u00a0/g, ' ')).join(''),
          ),
        null,
        { timeout: UI_TIMEOUT_MS },
      );
      const text = await output();
      if (!/Portolan 0\.1\.0\s*in\s/.test(text) || !/analysed\s*\d+\s*files\s*in\s*\d+\s*ms:\s*\d+\s*errors,\s*\d+\s*warnings/.test(text))
        throw new Error(`output channel:\n${text}`);
      await page.keyboard.press('Escape');
    },
  ],
  [
    'Restart Server from the status bar menu: the item shows the server coming back',
    async (page, artifacts) => {
      await page
        .locator('.statusbar-item')
        .filter({ hasText: /Portolan/ })
        .first()
        .click();
      await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Restart Server' }).first().click();
      await page
        .waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /Portolan: (starting|analysing)/.test(e.innerText)), null, {
          timeout: UI_TIMEOUT_MS,
          polling: 20,
        })
        .catch(() => {
          /* a fast restart may pass between two polls: what matters is that it comes back */
        });
      await page.waitForFunction(
        () => [...document.querySelectorAll('.statusbar-item')].some((e) => /Portolan \S+: \d+ errors?, \d+ warnings?/.test(e.innerText)),
        null,
        {
          timeout: UI_TIMEOUT_MS,
        },
      );
    },
  ],
  // Last, so that it is also what the final workbench screenshot shows. Its hover fits on screen
  // (VS Code caps a hover at a quarter of the editor's height), so it is the README's screenshot.
  [
    'hovering port 22 shows the hover widget with "TCP 22 — SSH" and its range class',
    async (page, artifacts) => {
      // The layout the README shows: editor only (the checks above opened the side bar and the panel).
      await runCommand(page, 'View: Close Panel').catch(() => {});
      await runCommand(page, 'View: Close Primary Side Bar').catch(() => {});
      await quickOpen(page, 'etc/ssh/sshd_config');
      const hover = await showHover(page, '22', 'TCP 22 — SSH');
      const text = await hover.innerText();
      if (!/well-known \(system\) port/.test(text)) throw new Error(`the hover lacks the range class: ${text}`);
      await shoot(page, artifacts, 'hover-sshd.png', { x: 0, y: 0, width: 1100, height: 440 });
    },
  ],
];

/** Runs UI_CHECKS; each gives a result like the suite's, and a failing one leaves a screenshot. */
async function uiChecks(page, artifacts, context) {
  const results = [];
  for (const [title, body] of UI_CHECKS) {
    const t0 = Date.now();
    const fullTitle = `UI (Chromium) ${title}`;
    try {
      await body(page, artifacts, context);
      results.push({ title, fullTitle, state: 'passed', durationMs: Date.now() - t0 });
    } catch (err) {
      await shoot(page, artifacts, `failed-${results.length + 1}.png`).catch(() => {});
      results.push({ title, fullTitle, state: 'failed', durationMs: Date.now() - t0, error: err && err.stack ? err.stack : String(err) });
    }
    printResult(results[results.length - 1]);
  }
  return results;
}

/** Builds the .vsix as `npm run package` does and installs it with code-server's own CLI; returns its version. */
function installPackage(work, extensionsDir, logFile) {
  const vsix = path.join(work, 'portolan.vsix');
  const t0 = Date.now();
  const pack = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.js'), '--out', vsix, '--stage', path.join(work, 'package')], {
    encoding: 'utf8',
  });
  if (pack.status !== 0) throw new Error(`packaging failed:\n${pack.stdout}${pack.stderr}`);
  const install = spawnSync(
    process.execPath,
    [CODE_SERVER_ENTRY, '--user-data-dir', path.join(work, 'user-data'), '--extensions-dir', extensionsDir, '--install-extension', vsix],
    { encoding: 'utf8', timeout: 120_000 },
  );
  fs.writeFileSync(logFile, `${install.stdout}${install.stderr}`);
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(`code-server --install-extension failed (exit ${install.status}):\n${install.stdout}${install.stderr}`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  log(
    `packaged and installed ${manifest.publisher}.${manifest.name} ${manifest.version} (${Math.round(fs.statSync(vsix).size / 1024)} KiB) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  return manifest.version;
}

function saveReadmeShots(artifacts) {
  const targets = [];
  if (process.env.PORTOLAN_SCREENSHOTS) for (const name of README_SHOTS) targets.push([name, path.resolve(process.env.PORTOLAN_SCREENSHOTS, name)]);
  if (process.env.PORTOLAN_SCREENSHOT) targets.push(['hover-sshd.png', path.resolve(process.env.PORTOLAN_SCREENSHOT)]);
  for (const [name, target] of targets) {
    const from = path.join(artifacts, name);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(from, target);
    log(`screenshot saved to ${path.relative(process.cwd(), target)}`);
  }
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
  // Fresh copies for the UI checks that edit files; the suite makes its own copies under nav/ as it goes.
  fs.cpSync(NAV_FIXTURE, path.join(workspace, UI_COMPLETION_ROOT), { recursive: true });
  fs.writeFileSync(path.join(workspace, UI_COMPLETION_ROOT, UI_COMPLETION_FILE), 'server {\n    listen \n}\n');
  fs.cpSync(path.join(FIXTURE, 'web'), path.join(workspace, UI_QUICKFIX_ROOT), { recursive: true });
  writeSettings(path.join(work, 'user-data'));
  const extensionsDir = path.join(work, 'extensions');
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
        fs.cpSync(artifacts, LAST_ARTIFACTS, { recursive: true });
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
    const version = installPackage(work, extensionsDir, path.join(artifacts, 'install.log'));
    // The suite checks that the Portolan it runs is this package (test/vscode/suite/portmap.test.ts).
    fs.writeFileSync(path.join(work, 'portolan-vscode-expect.json'), JSON.stringify({ extensionsDir, version }));
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
        extensionsDir,
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
      ['extensionDevelopmentPath', remote(HARNESS)],
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
    if (!suite.error) uiResults = await uiChecks(page, artifacts, { workspace });
    saveReadmeShots(artifacts);
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
