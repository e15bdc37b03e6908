#!/usr/bin/env node
// Regenerates data/etc-services.json: service names and aliases -> ports, as Debian's netbase
// package ships them in /etc/services. Programs resolve names through that file on the target host
// (sshd's `Port ssh`, iptables' `--dport http`), and it knows names the IANA table lost
// (http, www, postgresql, x11). Run: node scripts/generate-services.js [/etc/services]
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const source = process.argv[2] || '/etc/services';
let version = 'unknown';
try {
  version = execSync("dpkg-query -W -f='${Version}' netbase", { encoding: 'utf8' }).trim();
} catch {}
const out = { source: `/etc/services from Debian netbase ${version}`, services: {} };
for (const raw of fs.readFileSync(source, 'utf8').split('\n')) {
  const line = raw.replace(/#.*/, '').trim();
  if (!line) continue;
  const [name, portProto, ...aliases] = line.split(/\s+/);
  const m = /^(\d+)\/(tcp|udp|sctp|dccp|ddp)$/.exec(portProto || '');
  if (!m) continue;
  for (const n of [name, ...aliases]) {
    const entry = (out.services[n] ??= {});
    // The first line naming a service wins, as getservbyname() reads the file top-down.
    if (entry[m[2]] === undefined) entry[m[2]] = Number(m[1]);
  }
}
const target = path.join(__dirname, '..', 'data', 'etc-services.json');
fs.writeFileSync(target, JSON.stringify(out) + '\n');
console.log(`wrote ${Object.keys(out.services).length} names to ${path.relative(process.cwd(), target)}`);
