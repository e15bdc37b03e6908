#!/usr/bin/env node
/**
 * `npm run fuzz`: a long fuzz campaign (issue 17), beside the suite's short one (test/unit/fuzz.test.ts).
 * Seeds: every file of ../shared/corpus and examples/ that a format claims (by path, else by content),
 * and generated configs (test/hostile/generators.ts at small sizes). Each case mutates one seed
 * (insertions of syntax noise, deletions, truncation, splices, lines swapped or copied from another
 * seed of the same format, a byte-order mark, CRLF, ports replaced by edge values) and runs it through
 * its format's parser and the whole engine (link, host model, rules). Checked per case: nothing throws
 * (no "could not analyse/combine" finding either), every finding and fact span lies inside the text
 * with start <= end, fact ports within 0-65535, and the case takes under 100 ms (a case over it is
 * timed again, and counted slow only if the second run is over too: the machine is shared).
 *
 * Deterministic and resumable: case N of seed S is always the same input; the state file holds the
 * next case and the figures so far, and each failing input is written beside it.
 *
 *   node scripts/fuzz.js [--minutes M] [--cases N] [--seed S] [--state FILE] [--fresh]
 *   defaults: 10 minutes, seed 1, state .fuzz/state.json (resumed unless --fresh)
 */
require('tsx/cjs');
const fs = require('fs');
const path = require('path');
const { Engine } = require('../server/src/core/engine');
const { createFormatModules, detectFormat } = require('../server/src/formats/index');
const { RULES } = require('../server/src/rules/index');
const { loadRegistry } = require('../server/src/workspace/data');
const { loadFirewalldServices } = require('../server/src/workspace/firewalldData');
const g = require('../test/hostile/generators');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MINUTES = Number(arg('minutes', '10'));
const MAX_CASES = Number(arg('cases', 'Infinity'));
const SEED = Number(arg('seed', '1'));
const STATE = path.resolve(arg('state', path.join(ROOT, '.fuzz', 'state.json')));
const SLOW_MS = 100;

const registry = loadRegistry();
const firewalldServices = loadFirewalldServices();
const modules = createFormatModules(registry, { firewalldServices });

function engineFor(file, text) {
  const engine = new Engine(createFormatModules(registry, { firewalldServices }), registry, RULES);
  engine.hosts.setFolders([{ folder: '/ws', hosts: {} }]);
  const hint = modules.some((m) => m.matchesPath(file)) ? undefined : detectFormat(modules, file, text)?.id;
  engine.setFile(file, text, hint);
  return engine;
}

// ---- seeds ----
function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && !entry.isSymbolicLink()) out.push(full);
  }
  return out;
}

function seeds() {
  const list = [];
  const add = (name, text) => {
    const file = `/ws/${name}`;
    const m = engineFor(file, text).moduleFor(file);
    if (m) list.push({ name, file, text, format: m.id });
  };
  const corpus = path.resolve(ROOT, '..', 'shared', 'corpus');
  for (const [base, label] of [
    [corpus, 'corpus'],
    [path.join(ROOT, 'examples'), 'examples'],
  ]) {
    for (const full of walk(base).sort()) {
      const buf = fs.readFileSync(full);
      if (buf.length > 100_000 || buf.includes(0)) continue;
      const rel = path.relative(base, full).split(path.sep).join('/');
      // A corpus file keeps the path a format recognises (its name under etc/..., or the flattened name).
      add(`${label}/${rel}`, buf.toString('utf8'));
    }
  }
  const gen = {
    'gen/compose.yaml': g.yamlMergeChain(4, 3),
    'gen/wide/compose.yaml': g.yamlWideMerge(5, 5),
    'gen/etc/nftables.conf': g.nftDiamond(6, 3),
    'gen/loop/etc/nftables.conf': g.nftJumpLoop(),
    'gen/etc/iptables/rules.v4': g.iptablesDiamond(8, 2),
    'gen/loop/etc/iptables/rules.v4': g.iptablesJumpLoop(),
    'gen/big/etc/iptables/rules.v4': g.bigRulesV4(50),
    'gen/set/etc/nftables.conf': g.bigNftSet(200),
    'gen/etc/nginx/nginx.conf': g.bigNginx(30),
    'gen/deep/etc/nginx/nginx.conf': g.deepNginx(60),
    'gen/big/compose.yaml': g.bigCompose(30),
    'gen/deep/compose.yaml': g.deepYaml(60),
    // Formats the corpus has few or no files of.
    'gen/etc/apache2/apache2.conf':
      'Listen 80\nListen [::]:8443 https\n<IfModule ssl_module>\n  Listen 443\n</IfModule>\nInclude ports.conf\n<VirtualHost *:8080>\n  ServerName a\n</VirtualHost>\n',
    'gen/etc/haproxy/haproxy.cfg':
      'global\n  maxconn 100\ndefaults\n  mode http\nfrontend web\n  bind :80\n  bind [::]:443 ssl crt /x.pem\n  default_backend app\nbackend app\n  server a 127.0.0.1:8080 check\n  server b 10.0.0.2:8081\nlisten stats\n  bind 127.0.0.1:9000\n',
    'gen/etc/systemd/system/web.socket':
      '[Unit]\nDescription=x\n[Socket]\nListenStream=8080\nListenStream=[::1]:8081\nListenDatagram=0.0.0.0:5353\nBindIPv6Only=both\n[Install]\nWantedBy=sockets.target\n',
    'gen/etc/containers/systemd/web.container':
      '[Container]\nImage=nginx\nPublishPort=8080:80\nPublishPort=127.0.0.1:8443:443/tcp\nNetwork=bridge\n[Install]\nWantedBy=default.target\n',
    'gen/etc/systemd/resolved.conf': '[Resolve]\nDNS=1.1.1.1\nDNSStubListener=yes\nDNSStubListenerExtra=127.0.0.1:5353\nDNSStubListenerExtra=udp:[::1]:53\n',
    'gen/Caddyfile': 'example.com, :8080 {\n  reverse_proxy 127.0.0.1:3000\n}\n:9000 {\n  bind 127.0.0.1\n  respond "ok"\n}\n',
    'gen/Dockerfile': 'FROM nginx\nEXPOSE 80 443/tcp 8080-8090/udp\nEXPOSE ${PORT:-3000}\n',
    'gen/etc/ufw/user.rules':
      '*filter\n:ufw-user-input - [0:0]\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
  };
  for (const [name, text] of Object.entries(gen)) add(name, text);
  return list;
}

// ---- mutations ----
const { NOISE } = require('../test/hostile/noise');
const EDGE_PORTS = ['0', '1', '1023', '1024', '32768', '60999', '61000', '65535', '65536', '99999', '-1', '08', '1e3', '22-21', '1-65535'];

/** A seeded generator (xorshift32). */
function rng(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function mutate(seed, same, random) {
  let out = seed.text;
  const pick = (n) => Math.floor(random() * n);
  const steps = 1 + pick(8);
  for (let i = 0; i < steps; i++) {
    const at = pick(out.length + 1);
    const roll = random();
    if (roll < 0.3) out = out.slice(0, at) + NOISE[pick(NOISE.length)] + out.slice(at);
    else if (roll < 0.5) out = out.slice(0, at) + out.slice(at + 1 + pick(40));
    else if (roll < 0.55) out = out.slice(0, at);
    else if (roll < 0.62) out = out.slice(0, at) + out.slice(pick(out.length));
    else if (roll < 0.72) {
      const lines = out.split('\n');
      const a = pick(lines.length);
      const b = pick(lines.length);
      [lines[a], lines[b]] = [lines[b], lines[a]];
      if (random() < 0.5) lines.splice(a, 0, lines[b]);
      out = lines.join('\n');
    } else if (roll < 0.8 && same.length > 0) {
      const other = same[pick(same.length)].text.split('\n');
      const lines = out.split('\n');
      lines.splice(pick(lines.length + 1), 0, ...other.slice(pick(other.length), pick(other.length) + 1 + pick(5)));
      out = lines.join('\n');
    } else if (roll < 0.92) {
      const nums = [...out.matchAll(/\d+/g)];
      if (nums.length > 0) {
        const m = nums[pick(nums.length)];
        out = out.slice(0, m.index) + EDGE_PORTS[pick(EDGE_PORTS.length)] + out.slice(m.index + m[0].length);
      }
    } else if (roll < 0.96) out = '\ufeff' + out;
    else out = out.replace(/\n/g, '\r\n');
  }
  return out;
}

// ---- checks ----
function runCase(seed, text) {
  const t0 = process.hrtime.bigint();
  const engine = engineFor(seed.file, text);
  const result = engine.analyze();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const problems = [];
  for (const [file, findings] of result.findingsByFile) {
    const len = (engine.text(file) ?? '').length;
    for (const f of findings) {
      if (/could not (analyse|combine|show)/.test(f.message)) problems.push(`crash: ${f.message}`);
      if (!(f.span.start >= 0 && f.span.start <= f.span.end && f.span.end <= len))
        problems.push(`finding span ${f.span.start}-${f.span.end} outside 0-${len}: ${f.message}`);
    }
  }
  for (const { fact } of result.facts) {
    const len = (engine.text(fact.file) ?? '').length;
    if (!(fact.span.start >= 0 && fact.span.start <= fact.span.end && fact.span.end <= len))
      problems.push(`fact span ${fact.span.start}-${fact.span.end} outside 0-${len}`);
    if (!(fact.port >= 0 && fact.port <= fact.portEnd && fact.portEnd <= 65535)) problems.push(`fact port ${fact.port}-${fact.portEnd}`);
  }
  return { ms, problems };
}

// ---- campaign ----
function loadState() {
  if (!args.includes('--fresh') && fs.existsSync(STATE)) {
    const s = JSON.parse(fs.readFileSync(STATE, 'utf8'));
    if (s.seed === SEED) return s;
    console.log(`state ${STATE} is for seed ${s.seed}: starting seed ${SEED} afresh`);
  }
  return { seed: SEED, next: 0, cases: 0, elapsedMs: 0, perFormat: {}, crashes: 0, badSpans: 0, slow: 0, slowest: [], failures: [] };
}

function saveState(state) {
  fs.mkdirSync(path.dirname(STATE), { recursive: true });
  fs.writeFileSync(STATE + '.tmp', JSON.stringify(state, null, 1));
  fs.renameSync(STATE + '.tmp', STATE);
}

function record(state, kind, seed, n, text, detail) {
  const name = `${kind}-${state.seed}-${n}-${seed.format}`;
  fs.writeFileSync(path.join(path.dirname(STATE), `${name}.txt`), text);
  state.failures.push({ kind, case: n, seed: seed.name, format: seed.format, detail: detail.slice(0, 300), input: `${name}.txt` });
}

function figures(state) {
  const formats = Object.entries(state.perFormat)
    .sort((a, b) => b[1] - a[1])
    .map(([f, n]) => `${f} ${n.toLocaleString('en')}`)
    .join(', ');
  const slowest = state.slowest
    .slice(0, 5)
    .map((s) => `${s.ms.toFixed(1)} ms (${s.format}, ${s.seed}, case ${s.case})`)
    .join('; ');
  return [
    `fuzz seed ${state.seed}: ${state.cases.toLocaleString('en')} cases in ${(state.elapsedMs / 60000).toFixed(1)} min (${(state.cases / Math.max(1, state.elapsedMs / 1000)).toFixed(0)}/s)`,
    `  per format: ${formats}`,
    `  crashes: ${state.crashes}, invalid spans or ports: ${state.badSpans}, over ${SLOW_MS} ms twice: ${state.slow}`,
    `  slowest: ${slowest || 'none'}`,
  ].join('\n');
}

function main() {
  const all = seeds();
  const byFormat = new Map();
  for (const s of all) byFormat.set(s.format, [...(byFormat.get(s.format) ?? []), s]);
  console.log(`${all.length} seeds: ${[...byFormat].map(([f, l]) => `${f} ${l.length}`).join(', ')}`);
  const formats = [...byFormat.keys()].sort();
  const state = loadState();
  fs.mkdirSync(path.dirname(STATE), { recursive: true });
  const deadline = Date.now() + MINUTES * 60000;
  let lastSave = Date.now();
  let ran = 0;
  while (Date.now() < deadline && ran < MAX_CASES) {
    const n = state.next++;
    const random = rng((state.seed * 0x9e3779b1) ^ (n * 0x85ebca6b));
    // Formats take turns, so a format with few seeds is fuzzed as much as one with many.
    const same = byFormat.get(formats[n % formats.length]);
    const seed = same[Math.floor(random() * same.length)];
    const text = mutate(seed, same, random);
    let outcome;
    try {
      outcome = runCase(seed, text);
      if (outcome.ms > SLOW_MS) {
        const again = runCase(seed, text);
        outcome.ms = Math.min(outcome.ms, again.ms);
      }
    } catch (e) {
      outcome = { ms: 0, problems: [`crash: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`] };
    }
    state.cases++;
    ran++;
    state.perFormat[seed.format] = (state.perFormat[seed.format] ?? 0) + 1;
    for (const p of outcome.problems.slice(0, 1)) {
      if (p.startsWith('crash')) state.crashes++;
      else state.badSpans++;
      record(state, p.startsWith('crash') ? 'crash' : 'span', seed, n, text, p);
    }
    if (outcome.ms > SLOW_MS) {
      state.slow++;
      record(state, 'slow', seed, n, text, `${outcome.ms.toFixed(1)} ms`);
    }
    if (state.slowest.length < 5 || outcome.ms > state.slowest[state.slowest.length - 1].ms) {
      state.slowest.push({ ms: outcome.ms, format: seed.format, seed: seed.name, case: n });
      state.slowest.sort((a, b) => b.ms - a.ms);
      state.slowest.length = Math.min(state.slowest.length, 5);
    }
    if (Date.now() - lastSave > 10000) {
      state.elapsedMs += Date.now() - lastSave;
      lastSave = Date.now();
      saveState(state);
    }
  }
  state.elapsedMs += Date.now() - lastSave;
  saveState(state);
  console.log(figures(state));
  console.log(`state: ${path.relative(process.cwd(), STATE)} (run again to resume; failing inputs beside it)`);
  process.exit(state.crashes + state.badSpans + state.slow > 0 ? 1 : 0);
}

main();
