#!/usr/bin/env node
/**
 * Grammar tests: every fixture in test/grammar/ (`<name>.test.<file name it stands for>`, vscode-tmgrammar-test
 * format: `# SYNTAX TEST "scope"` header, `^^^ scope` assertion lines) tokenized with the grammars
 * package.json contributes, as VS Code loads them. Prints one line per fixture and closes with
 * "grammar: N passed, N failed" (counted by scripts/test.js).
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'grammar');

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const grammars = manifest.contributes.grammars.map((g) => path.join(ROOT, g.path));
const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.includes('.test.'))
  .sort();
const cli = require.resolve('vscode-tmgrammar-test/dist/unit.js');

let passed = 0;
let failed = 0;
console.log(`\n  TextMate grammars (vscode-tmgrammar-test, ${grammars.length} grammars)`);
for (const fixture of fixtures) {
  const file = path.join(FIXTURES, fixture);
  const assertions = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^#\s*(\^|<-)/.test(l)).length;
  const run = spawnSync(process.execPath, [cli, ...grammars.flatMap((g) => ['-g', g]), '--config', path.join(ROOT, 'package.json'), file], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const output = `${run.stdout}${run.stderr}`;
  const ok = run.status === 0 && /run successfuly/.test(output) && !/failed/.test(output);
  if (ok && assertions > 0) {
    passed++;
    console.log(`    ✔ ${fixture} (${assertions} assertions)`);
  } else {
    failed++;
    console.log(`    ✖ ${fixture}${assertions === 0 ? ' has no assertion' : ''}\n${output.replace(/^/gm, '      ')}`);
  }
}
console.log(`grammar: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
