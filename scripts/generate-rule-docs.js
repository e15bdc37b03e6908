#!/usr/bin/env node
// Writes docs/rules/<code>.md for every rule (and docs/rules/README.md, the index) from the rules'
// metadata in server/src/rules/, through the build in server/out. `npm run generate:rule-docs`.
// test/unit/ruleDocs.test.ts fails when a page is stale.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { RULES } = require(path.join(root, 'server', 'out', 'rules', 'index.js'));
const { renderRuleDoc, renderRuleIndex } = require(path.join(root, 'server', 'out', 'rules', 'docs.js'));

const dir = path.join(root, 'docs', 'rules');
fs.mkdirSync(dir, { recursive: true });
const wanted = new Set(['README.md']);
for (const rule of RULES) {
  const name = `${rule.meta.code}.md`;
  wanted.add(name);
  fs.writeFileSync(path.join(dir, name), renderRuleDoc(rule));
}
fs.writeFileSync(path.join(dir, 'README.md'), renderRuleIndex(RULES));
// A page whose rule is gone goes too.
for (const name of fs.readdirSync(dir)) if (name.endsWith('.md') && !wanted.has(name)) fs.rmSync(path.join(dir, name));
console.log(`docs/rules: ${RULES.length} rule pages and the index`);
