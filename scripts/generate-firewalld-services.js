#!/usr/bin/env node
// Regenerates data/firewalld-services.json from the stock service definitions that Debian's firewalld
// package installs in /usr/lib/firewalld/services/*.xml (GPL-2.0-or-later).
// Run: node scripts/generate-firewalld-services.js [SERVICES_DIR]   (needs the firewalld package)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { SaxesParser } = require('saxes');

const dir = process.argv[2] || '/usr/lib/firewalld/services';
let version = 'unknown version';
try {
  version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'firewalld'], { encoding: 'utf8' }).trim();
} catch {
  // not a Debian system: the source line says so
}

/** The parts of a service definition that decide what it opens, in firewalld's own field names. */
function readService(text) {
  const service = { short: '', ports: [], protocols: [], sourcePorts: [], includes: [], helpers: [], modules: [], destination: {} };
  const parser = new SaxesParser();
  let inShort = false;
  parser.on('opentag', (tag) => {
    const a = tag.attributes;
    if (tag.name === 'short') inShort = true;
    else if (tag.name === 'port') service.ports.push({ port: a.port, protocol: a.protocol });
    else if (tag.name === 'source-port') service.sourcePorts.push({ port: a.port, protocol: a.protocol });
    else if (tag.name === 'protocol') service.protocols.push(a.value);
    else if (tag.name === 'include') service.includes.push(a.service);
    else if (tag.name === 'helper') service.helpers.push(a.name);
    else if (tag.name === 'module') service.modules.push(a.name);
    else if (tag.name === 'destination') {
      if (a.ipv4) service.destination.ipv4 = a.ipv4;
      if (a.ipv6) service.destination.ipv6 = a.ipv6;
    }
  });
  parser.on('text', (t) => {
    if (inShort) service.short += t;
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'short') inShort = false;
  });
  parser.write(text).close();
  return service;
}

const services = {};
for (const name of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.xml'))
  .sort()) {
  services[name.slice(0, -4)] = readService(fs.readFileSync(path.join(dir, name), 'utf8'));
}
const out = {
  source: `Debian package firewalld ${version}: ${dir}/*.xml (GPL-2.0-or-later); regenerate with scripts/generate-firewalld-services.js`,
  services,
};
const target = path.join(__dirname, '..', 'data', 'firewalld-services.json');
fs.writeFileSync(target, JSON.stringify(out, null, 0) + '\n');
console.log(`wrote ${Object.keys(services).length} services to ${path.relative(process.cwd(), target)}`);
