#!/usr/bin/env node
// The README's test command after the build: mocha (unit, protocol, oracle), the grammar fixtures, then the real-VS-Code
// suite; prints one total line "N passed, N failed, N skipped" and fails if anything failed.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function counts(out) {
  const lines = out
    .split('\n')
    .map((l) => /^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(l.trim()))
    .filter(Boolean);
  const last = lines[lines.length - 1];
  return last ? { passed: +last[1], failed: +last[2], skipped: +(last[3] ?? 0) } : undefined;
}

(async () => {
  const mocha = await run(process.execPath, [require.resolve('mocha/bin/mocha.js')]);
  const grammar = await run(process.execPath, ['scripts/test-grammars.js']);
  const vscode = await run(process.execPath, ['test/vscode/run-code-server.js']);
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const [name, r] of [
    ['mocha', mocha],
    ['grammar', grammar],
    ['vscode', vscode],
  ]) {
    const c = counts(r.out);
    if (!c) {
      console.error(`${name}: no summary line (exit ${r.code})`);
      total.failed++;
      continue;
    }
    total.passed += c.passed;
    total.failed += c.failed + (r.code !== 0 && c.failed === 0 ? 1 : 0);
    total.skipped += c.skipped;
  }
  console.log(`\ntotal: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  process.exitCode = total.failed > 0 || mocha.code !== 0 || grammar.code !== 0 || vscode.code !== 0 ? 1 : 0;
})();
