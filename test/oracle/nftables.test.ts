/**
 * Oracle: nft 1.0.6 judges our reading of nftables rulesets, on every file of the corpus and on
 * generated cases. What nft says is the expected answer:
 * - `nft -c -f FILE` (inside `unshare -n`) accepts the file exactly when we report no error.
 *   A corpus file that nft rejects only for reasons outside a config file's text (host names that
 *   need DNS, interfaces or kernel objects that do not exist here, include files that are not there)
 *   or in statement grammar we skip is counted "not comparable", with nft's reason.
 * - For each file nft loads, the ports each base chain on the input hook lets in, drops, rejects or
 *   returns equal ours: (protocol, port ranges, verdict), following jump/goto and verdict maps, read
 *   from the normalized `nft -j list ruleset` after a real load in a network namespace of our own;
 *   and the dnat/redirect rules (protocol, ports, target address and port) equal ours.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { createNftablesModule, mergeRanges, type NftExtra } from '../../server/src/formats/nftables';
import { loadRegistry } from '../../server/src/workspace/data';
import type { FirewallRule, PortRange } from '../../server/src/core/types';

const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'firewall', 'nftables');

/** nft errors that a config file's text alone cannot decide, or grammar we deliberately skip. */
const NOT_COMPARABLE: [RegExp, string][] = [
  [/Could not resolve hostname/, 'needs DNS for a host name'],
  [/Interface does not exist/, 'names an interface this host does not have'],
  [
    /Could not process rule: (No such file or directory|Invalid argument|Operation not supported)/,
    'the kernel refuses an object (missing chain, set, secmark or helper)',
  ],
  [/File not found|No such file or directory/, 'includes a file that is not there'],
  [/syntax error/, 'statement grammar we skip (nft 1.0.6 parses it differently)'],
  [
    /transport protocol mapping|lacks typeof serialization|missing statement in map declaration|set definition does not specify key|Expression is not a map with objects|No symbol type information|did you mean set/,
    'evaluation of maps, objects and typeof we do not model',
  ],
  [/User does not exist/, 'names a user this host does not have'],
];

/**
 * Cases where we knowingly differ from nft, and why. A known case that starts agreeing fails,
 * so this list cannot go stale.
 */
const KNOWN: Record<string, string> = {};

interface Case {
  name: string;
  text: string;
}

const HEAD = 'flush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    iif lo accept\n';
const TAIL = '  }\n}\n';

function generatedCases(): Case[] {
  const cases: Case[] = [];
  const rule = (r: string) => cases.push({ name: `rule: ${r}`, text: `${HEAD}    ${r}\n${TAIL}` });
  const file = (name: string, text: string) => cases.push({ name, text });
  for (const p of [
    '22',
    '0',
    '65535',
    '65536',
    '70000',
    '010',
    '080',
    '0x16',
    '1024-2048',
    '2048-1024',
    '10-10',
    'ssh',
    'https',
    'domain',
    'http',
    'www',
    'http-alt',
    'nosuchsvc',
    '"443"',
    '-1',
  ]) {
    rule(`tcp dport ${p} accept`);
  }
  for (const r of [
    'tcp dport { 80, 443, 8000-8100 } accept',
    'tcp dport { 22, 70000 } accept',
    'udp dport { 53, 5353 } drop',
    'tcp dport 22,80 accept',
    'tcp dport != 22 drop',
    'tcp dport != { 22, 80 } reject',
    'tcp dport >= 1024 accept',
    'tcp dport < 1024 drop',
    'meta l4proto { tcp, udp } th dport 53 accept',
    'meta l4proto udp th dport { 67, 68 } accept',
    'ip protocol tcp th dport 25 accept',
    'th dport 9999 accept',
    'sctp dport 3868 accept',
    'tcp dport 22 ct state new limit rate 10/minute accept',
    'tcp dport 22 ip saddr 10.0.0.0/8 accept',
    'iifname "eth0" tcp dport 443 counter accept comment "web"',
    'tcp dport vmap { 22 : accept, 23 : drop, 8000-8010 : reject }',
    'ct state vmap { established : accept, related : accept, invalid : drop }',
    'ct state established,related accept',
    'tcp dport 22 log prefix "ssh " accept',
    'tcp dport 443 reject with tcp reset',
    'tcp sport 53 accept',
    'tcp flags syn tcp dport 80 accept',
    'ip saddr . tcp dport { 10.0.0.1 . 22 } accept',
    'tcp dport 22 accept }',
  ]) {
    rule(r);
  }
  file(
    'defines and named sets',
    'flush ruleset\ndefine web = { 80, 443 }\ndefine ssh_port = 2222\ntable inet filter {\n  set admin {\n    type inet_service\n    flags interval\n    elements = { 9000-9100, 22 }\n  }\n  chain input {\n    type filter hook input priority filter; policy drop;\n    tcp dport $web accept\n    tcp dport $ssh_port accept\n    tcp dport @admin accept\n    udp dport @admin drop\n  }\n}\n',
  );
  file(
    'jumps, gotos and returns',
    'flush ruleset\ntable inet filter {\n  chain web {\n    tcp dport { 80, 443 } accept\n    return\n  }\n  chain ssh {\n    ip saddr 10.0.0.0/8 accept\n    drop\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    jump web\n    tcp dport 22 goto ssh\n    udp dport 53 jump dns\n  }\n  chain dns {\n    ip saddr 10.0.0.0/8 accept\n  }\n}\n',
  );
  file(
    'two tables, ip and ip6, add rule commands',
    'flush ruleset\nadd table ip f4\nadd chain ip f4 input { type filter hook input priority 0; policy accept; }\nadd rule ip f4 input tcp dport 8080 drop\ninsert rule ip f4 input udp dport 161 drop\ntable ip6 f6 {\n  chain input {\n    type filter hook input priority 10; policy drop;\n    tcp dport 22 accept\n  }\n}\n',
  );
  file(
    'nat prerouting with dnat and redirect',
    'flush ruleset\ntable ip nat {\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport 8443 dnat to 10.0.0.2:443\n    tcp dport { 2222, 2200-2210 } redirect to :22\n    udp dport 53 dnat to 10.0.0.3\n    tcp dport 8080 redirect to 80\n  }\n}\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n',
  );
  file(
    'verdict map by name',
    'flush ruleset\ntable inet filter {\n  map ports {\n    type inet_service : verdict\n    elements = { 22 : accept, 25 : drop }\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport vmap @ports\n  }\n}\n',
  );
  file(
    'conflicting intervals',
    'flush ruleset\ntable inet filter {\n  set s {\n    type inet_service\n    flags interval\n    elements = { 20-30, 25-35 }\n  }\n}\n',
  );
  file(
    'auto-merge intervals',
    'flush ruleset\ntable inet filter {\n  set s {\n    type inet_service\n    flags interval\n    auto-merge\n    elements = { 20-30, 25-35 }\n  }\n  chain input {\n    type filter hook input priority 0;\n    tcp dport @s accept\n  }\n}\n',
  );
  file('unknown variable', 'flush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport $nope accept\n  }\n}\n');
  file('missing separator after chain block', 'table inet filter {\n  chain input { type filter hook input priority 0; policy drop; } }\n');
  file('separators present on one line', 'table inet filter { chain input { type filter hook input priority 0; policy drop; tcp dport 22 accept; }; }\n');
  file('unclosed brace', 'table inet filter {\n  chain input {\n    tcp dport 22 accept\n  }\n');
  file('extra closing brace', 'table inet filter {\n  chain input {\n    tcp dport 22 accept\n  }\n}\n}\n');
  file('unknown command', 'flush ruleset\nallow tcp 22\n');
  file('unknown family', 'table inte filter {\n}\n');
  file('bad policy', 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy reject;\n  }\n}\n');
  file('unterminated string', 'table inet filter {\n  chain input {\n    tcp dport 22 accept comment "ssh\n  }\n}\n');
  file('rule in a table body', 'table inet filter {\n  tcp dport 22 accept\n}\n');
  file(
    'comments, continuation lines and blank lines',
    '#!/usr/sbin/nft -f\n# firewall\nflush ruleset\n\ntable inet filter { # main\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport \\\n      { 22, 443 } accept # ssh and web\n  }\n}\n',
  );
  return cases;
}

interface Tuple {
  proto: string;
  verdict: string;
  ranges: PortRange[];
}

function key(tuples: Tuple[]): string[] {
  const groups = new Map<string, PortRange[]>();
  for (const t of tuples) {
    const k = `${t.proto} ${t.verdict}`;
    groups.set(k, [...(groups.get(k) ?? []), ...t.ranges]);
  }
  return [...groups]
    .map(
      ([k, r]) =>
        `${k} ${mergeRanges(r)
          .map((x) => (x.from === x.to ? x.from : `${x.from}-${x.to}`))
          .join(',')}`,
    )
    .sort();
}

function ourTuples(rules: FirewallRule[]): Tuple[] {
  return rules
    .filter((r) => r.ports && ['accept', 'drop', 'reject', 'return', 'limit'].includes(r.action))
    .map((r) => ({ proto: r.protocol, verdict: r.action === 'limit' ? 'accept' : r.action, ranges: r.ports! }));
}

// --- the reading of nft's JSON: the same walk over what nft itself normalized -------------------

type Json = any;
const PROTOS = ['tcp', 'udp', 'sctp', 'dccp', 'udplite'];
const PROTO_NUM: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '33': 'dccp', '136': 'udplite' };

function jsonTuples(ruleset: Json[], opaque: Set<string>): Map<string, Tuple[]> {
  const chains = new Map<string, Json>();
  const rules = new Map<string, Json[]>();
  const sets = new Map<string, Json>();
  for (const item of ruleset) {
    if (item.chain) chains.set(`${item.chain.family} ${item.chain.table} ${item.chain.name}`, item.chain);
    if (item.rule) {
      const k = `${item.rule.family} ${item.rule.table} ${item.rule.chain}`;
      rules.set(k, [...(rules.get(k) ?? []), item.rule]);
    }
    if (item.set) sets.set(`${item.set.family} ${item.set.table} ${item.set.name}`, item.set);
    if (item.map) sets.set(`${item.map.family} ${item.map.table} ${item.map.name}`, item.map);
  }
  const out = new Map<string, Tuple[]>();
  let sawInline = false;
  const toRanges = (v: Json, fam: string, table: string): PortRange[] | undefined => {
    if (typeof v === 'number') return [{ from: v, to: v }];
    if (typeof v === 'string' && v.startsWith('@')) {
      const s = sets.get(`${fam} ${table} ${v.slice(1)}`);
      return s ? (s.elem ?? []).flatMap((e: Json) => toRanges(e, fam, table) ?? []) : undefined;
    }
    if (v && v.range) return [{ from: v.range[0], to: v.range[1] }];
    if (v && v.set) return v.set.flatMap((e: Json) => toRanges(e, fam, table) ?? []);
    if (v && v.elem) return toRanges(v.elem.val, fam, table);
    return undefined;
  };
  const complement = (r: PortRange[]): PortRange[] => {
    const res: PortRange[] = [];
    let at = 0;
    for (const x of mergeRanges(r)) {
      if (x.from > at) res.push({ from: at, to: x.from - 1 });
      at = x.to + 1;
    }
    if (at <= 65535) res.push({ from: at, to: 65535 });
    return res;
  };
  const cmp = (op: string, r: PortRange[]): PortRange[] => {
    const v = r[0].from;
    if (op === '!=') return complement(r);
    if (op === '<') return v > 0 ? [{ from: 0, to: v - 1 }] : [];
    if (op === '<=') return [{ from: 0, to: v }];
    if (op === '>') return v < 65535 ? [{ from: v + 1, to: 65535 }] : [];
    if (op === '>=') return [{ from: v, to: 65535 }];
    return r;
  };
  const inter = (a: PortRange[] | undefined, b: PortRange[] | undefined) => {
    if (!a) return b;
    if (!b) return a;
    const res: PortRange[] = [];
    for (const x of a)
      for (const y of b) if (Math.max(x.from, y.from) <= Math.min(x.to, y.to)) res.push({ from: Math.max(x.from, y.from), to: Math.min(x.to, y.to) });
    return mergeRanges(res);
  };
  const interP = (a: string[] | undefined, b: string[] | undefined) => (!a ? b : !b ? a : a.filter((x) => b.includes(x)));
  const protoNames = (v: Json): string[] => {
    const list = typeof v === 'object' && v?.set ? v.set : [v];
    return list.map((x: Json) => PROTO_NUM[String(x)] ?? String(x)).filter((x: string) => PROTOS.includes(x));
  };
  const verdictOf = (s: Json): { kind: string; target?: string } | undefined => {
    for (const k of ['accept', 'drop', 'reject', 'return', 'queue', 'continue']) if (k in s) return { kind: k };
    if (s.jump) return { kind: 'jump', target: s.jump.target };
    if (s.goto) return { kind: 'goto', target: s.goto.target };
    return undefined;
  };
  const walk = (tuples: Tuple[], chain: Json, ctx: { protos?: string[]; ports?: PortRange[] }, depth: number, pathSet: Set<string>) => {
    const ck = `${chain.family} ${chain.table} ${chain.name}`;
    if (depth > 16 || pathSet.has(ck)) return;
    pathSet.add(ck);
    for (const rule of rules.get(ck) ?? []) {
      let protos: string[] | undefined;
      let ports: PortRange[] | undefined;
      let verdict: { kind: string; target?: string } | undefined;
      let vmap: { ports: PortRange[] | undefined; verdict: Json }[] | undefined;
      for (const s of rule.expr) {
        if (typeof s === 'string') {
          // nft 1.0.6 prints inline chains (`jump { ... }`) as text: "stmt ops chain have no json callback".
          sawInline = true;
          continue;
        }
        if (s.match) {
          const left = s.match.left;
          const right = s.match.right;
          if (left?.payload && left.payload.field === 'dport' && PROTOS.concat('th').includes(left.payload.protocol)) {
            if (left.payload.protocol !== 'th') protos = interP(protos, [left.payload.protocol]);
            const r = toRanges(right, chain.family, chain.table);
            if (r) ports = inter(ports, cmp(s.match.op, mergeRanges(r)));
          } else if (left?.payload && PROTOS.includes(left.payload.protocol) && left.payload.field === 'sport') {
            protos = interP(protos, [left.payload.protocol]);
          } else if (
            left?.meta?.key === 'l4proto' ||
            (left?.payload?.protocol === 'ip' && left.payload.field === 'protocol') ||
            (left?.payload?.protocol === 'ip6' && left.payload.field === 'nexthdr')
          ) {
            const names = protoNames(right);
            protos = interP(protos, s.match.op === '!=' ? PROTOS.filter((p) => !names.includes(p)) : names);
          }
        } else if (s.vmap) {
          const k = s.vmap.key;
          const isDport = k?.payload?.field === 'dport';
          if (isDport && k.payload.protocol !== 'th') protos = interP(protos, [k.payload.protocol]);
          let data = s.vmap.data;
          if (typeof data === 'string' && data.startsWith('@')) data = { set: sets.get(`${chain.family} ${chain.table} ${data.slice(1)}`)?.elem ?? [] };
          vmap = (data?.set ?? []).map((pair: Json) => ({ ports: isDport ? toRanges(pair[0], chain.family, chain.table) : undefined, verdict: pair[1] }));
        } else {
          verdict = verdictOf(s) ?? verdict;
        }
      }
      const entries = vmap ?? [{ ports: undefined, verdict: verdict ? { [verdict.kind]: verdict.target ? { target: verdict.target } : null } : undefined }];
      for (const e of entries) {
        const v = e.verdict ? verdictOf(e.verdict) : undefined;
        if (!v) continue;
        const p = inter(inter(ctx.ports, ports), e.ports ? mergeRanges(e.ports) : undefined);
        const pr = interP(ctx.protos, protos);
        if ((p && p.length === 0) || (pr && pr.length === 0)) continue;
        if (v.kind === 'jump' || v.kind === 'goto') {
          const target = chains.get(`${chain.family} ${chain.table} ${v.target}`);
          if (target) walk(tuples, target, { protos: pr, ports: p }, depth + 1, pathSet);
          // After a goto the packet returns from this chain too (ours lists that as a return).
          if (target && v.kind === 'goto' && p)
            for (const proto of pr ? pr.filter((x) => ['tcp', 'udp', 'sctp'].includes(x)) : ['any']) tuples.push({ proto, verdict: 'return', ranges: p });
          continue;
        }
        if (!p || !['accept', 'drop', 'reject', 'return'].includes(v.kind)) continue;
        const plist = pr ? pr.filter((x) => ['tcp', 'udp', 'sctp'].includes(x)) : ['any'];
        for (const proto of plist) tuples.push({ proto, verdict: v.kind, ranges: p });
      }
    }
    pathSet.delete(ck);
  };
  for (const [k, chain] of chains) {
    if (chain.hook !== 'input' || !['ip', 'ip6', 'inet'].includes(chain.family) || chain.type !== 'filter') continue;
    const tuples: Tuple[] = [];
    sawInline = false;
    walk(tuples, chain, {}, 0, new Set());
    if (sawInline) opaque.add(k);
    else out.set(k, tuples);
  }
  return out;
}

/** dnat/redirect rules of the whole ruleset: "proto dports -> addr:port". */
function jsonForwards(ruleset: Json[]): string[] {
  const out: string[] = [];
  for (const item of ruleset) {
    if (!item.rule) continue;
    let proto = 'any';
    let ports: PortRange[] | undefined;
    for (const s of item.rule.expr) {
      if (s?.match?.left?.payload?.field === 'dport' && s.match.op === '==') {
        proto = s.match.left.payload.protocol === 'th' ? 'any' : s.match.left.payload.protocol;
        const r = s.match.right;
        const list = typeof r === 'number' ? [r] : r?.range ? [r] : (r?.set ?? []);
        ports = list.map((x: Json) => (typeof x === 'number' ? { from: x, to: x } : x?.range ? { from: x.range[0], to: x.range[1] } : { from: -1, to: -1 }));
      }
      if (!s || typeof s !== 'object' || !('dnat' in s || 'redirect' in s)) continue;
      const nat = s.dnat ?? s.redirect ?? {}; // a bare `redirect` is {"redirect": null}
      if (typeof nat.port !== 'object' && typeof nat.addr !== 'object')
        out.push(forwardKey('dnat' in s ? 'dnat' : 'redirect', proto, ports, nat.addr, nat.port));
    }
  }
  return out.sort();
}

function forwardKey(kind: string, proto: string, ports: PortRange[] | undefined, addr: string | undefined, port: number | undefined): string {
  const p = ports
    ? mergeRanges(ports)
        .map((x) => (x.from === x.to ? x.from : `${x.from}-${x.to}`))
        .join(',')
    : '*';
  return `${kind} ${proto} ${p} -> ${addr ?? 'local'}:${port ?? 'same'}`;
}

describe('nftables against nft 1.0.6 (oracle)', function () {
  this.timeout(120000);
  let nft = '';
  let unshare = '';
  const registry = loadRegistry();
  const module = createNftablesModule((n) => registry.serviceToPort(n));
  let tmp = '';

  before(function () {
    nft = requireProgram(this, ['nft', '/usr/sbin/nft'], 'nftables');
    unshare = requireProgram(this, ['unshare', '/usr/bin/unshare'], 'util-linux');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nft needs root (CI runs as root)');
      console.log('      skipped: nft needs root');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-nft-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  function judge(
    name: string,
    text: string,
  ): { verdict: 'agree' | 'disagree' | 'not-comparable'; why: string; tuples?: { ours: string[]; theirs: string[]; chain: string }[] } {
    const file = path.join(tmp, 'case.nft');
    fs.writeFileSync(file, text);
    const check = run(unshare, ['-n', nft, '-c', '-f', file]);
    const parsed = module.parse(text, '/etc/nftables.conf');
    const ours = parsed.findings.filter((f) => f.severity === 'error');
    const nftErrors = check.stderr
      .split('\n')
      .filter((l) => /Error:/.test(l))
      .map((l) => l.replace(/^.*?Error: /, ''));
    if (check.status !== 0) {
      if (ours.length > 0) return { verdict: 'agree', why: `both reject: nft "${nftErrors[0] ?? check.stderr.trim()}", we "${ours[0].message}"` };
      const reasons = nftErrors.map((e) => NOT_COMPARABLE.find(([re]) => re.test(e))?.[1]);
      if (name.startsWith('corpus') && nftErrors.length > 0 && reasons.every((r) => r !== undefined))
        return { verdict: 'not-comparable', why: [...new Set(reasons)].join('; ') };
      return { verdict: 'disagree', why: `nft rejects ("${nftErrors.join(' | ')}"), we report nothing` };
    }
    if (ours.length > 0)
      return { verdict: 'disagree', why: `nft accepts, we report ${ours.map((f) => `"${f.message}" at ${text.slice(f.span.start, f.span.end)}`).join(', ')}` };
    const load = run(unshare, ['-n', 'sh', '-c', `${nft} -f "$1" && ${nft} -j list ruleset`, 'sh', file]);
    if (load.status !== 0) return { verdict: 'not-comparable', why: `nft -c accepts but a real load fails: ${load.stderr.trim().split('\n')[0]}` };
    const opaque = new Set<string>();
    const theirs = jsonTuples(JSON.parse(load.stdout).nftables, opaque);
    const mine = new Map((parsed.extra as NftExtra).inputChains.map((c) => [`${c.family} ${c.table} ${c.chain}`, key(ourTuples(c.rules))]));
    const tuples: { ours: string[]; theirs: string[]; chain: string }[] = [];
    for (const chain of new Set([...theirs.keys(), ...mine.keys()])) {
      if (!opaque.has(chain))
        tuples.push({ chain, ours: mine.get(chain) ?? ['(no such chain)'], theirs: theirs.has(chain) ? key(theirs.get(chain)!) : ['(no such chain)'] });
    }
    if (tuples.length === 0 && opaque.size > 0)
      return { verdict: 'not-comparable', why: `both accept; nft's JSON cannot show the inline chain (jump { ... }) reached from ${[...opaque].join(', ')}` };
    const ruleset = JSON.parse(load.stdout).nftables;
    const theirForwards = jsonForwards(ruleset);
    const ourForwards = (parsed.firewall?.forwards ?? []).map((f) => forwardKey(f.kind, f.protocol, f.ports, f.toAddress, f.toPorts?.from)).sort();
    if (JSON.stringify(theirForwards) !== JSON.stringify(ourForwards))
      return { verdict: 'disagree', why: `forwards: ours [${ourForwards.join('; ')}] nft [${theirForwards.join('; ')}]` };
    const bad = tuples.filter((t) => JSON.stringify(t.ours) !== JSON.stringify(t.theirs));
    if (bad.length > 0)
      return { verdict: 'disagree', why: bad.map((t) => `${t.chain}: ours [${t.ours.join('; ')}] nft [${t.theirs.join('; ')}]`).join(' / '), tuples };
    const skipped = opaque.size > 0 ? ` (${opaque.size} more not comparable: nft's JSON cannot show inline chains)` : '';
    return {
      verdict: 'agree',
      why: `both accept; ${tuples.length} input chain(s), ${tuples.reduce((n, t) => n + t.theirs.length, 0)} (protocol, verdict) port sets equal${skipped}`,
      tuples,
    };
  }

  function runAll(cases: Case[], label: string): void {
    let agree = 0;
    let portChains = 0;
    const notComparable: string[] = [];
    const disagreements: string[] = [];
    const knownSeen: string[] = [];
    for (const c of cases) {
      const r = judge(c.name, c.text);
      if (r.verdict === 'agree') {
        agree++;
        portChains += r.tuples?.length ?? 0;
        if (KNOWN[c.name]) disagreements.push(`${c.name}: listed as a known difference but now agrees: remove it from KNOWN`);
      } else if (r.verdict === 'not-comparable') notComparable.push(`${c.name}: ${r.why}`);
      else if (KNOWN[c.name]) knownSeen.push(`${c.name}: ${KNOWN[c.name]}`);
      else disagreements.push(`${c.name}: ${r.why}`);
    }
    console.log(
      `      ${label}: ${cases.length} cases, ${agree} agree (${portChains} input chains with equal port sets), ${notComparable.length} not comparable, ${knownSeen.length} known differences, ${disagreements.length} disagreements`,
    );
    for (const n of notComparable) console.log(`        not comparable: ${n}`);
    for (const k of knownSeen) console.log(`        known: ${k}`);
    assert.deepStrictEqual(disagreements, []);
  }

  it('agrees with nft on every corpus file', function () {
    if (!fs.existsSync(corpusDir)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${corpusDir}`);
      this.skip();
    }
    const cases = fs
      .readdirSync(corpusDir)
      .sort()
      .map((f) => ({ name: `corpus ${f}`, text: fs.readFileSync(path.join(corpusDir, f), 'utf8') }));
    runAll(cases, 'corpus');
  });

  it('agrees with nft on generated cases', () => {
    runAll(generatedCases(), 'generated');
  });
});
