/**
 * Oracle: iptables' own restore programs judge our reading of iptables-restore files, on every file
 * of the corpus and on generated cases. What the programs say is the expected answer:
 * - `iptables-legacy-restore --test` or `iptables-nft-restore --test` refuses the file (either one:
 *   the file fails on a host that uses it): we report an error on the line the program names and
 *   none on the lines before it;
 * - both accept: we report no error, and the rules we read equal, chain by chain and in order, the
 *   rules of the normalized `iptables-nft-save` output after a real restore inside a network
 *   namespace of the test's own (`unshare -n`): protocol, destination/source ports and ranges
 *   (service names resolved, multiport lists), the jump target and NAT target ports.
 * IPv6 files (ip6tables in the name) go through the ip6tables variants.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { createIptablesModule, type IptablesExtra } from '../../server/src/formats/iptables';
import { protoName, type IptRule } from '../../server/src/formats/netfilter/restore';
import { loadRegistry } from '../../server/src/workspace/data';
import { LineIndex } from '../../server/src/core/lineIndex';

const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'firewall', 'iptables');

interface Case {
  name: string;
  text: string;
  v6: boolean;
}

/** Service names in a case: they resolve through the registry, which answers as getservbyname only with Debian's /etc/services data. */
const NAMES = /--(?:d|s)ports? [^ ]*[a-z]{2}|--dports [^ ]*[a-z]{2}/;

const HEAD = '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:SSH - [0:0]\n-A INPUT -i lo -j ACCEPT\n';

function generatedCases(): Case[] {
  const cases: Case[] = [];
  const rule = (r: string) => cases.push({ name: `rule: ${r}`, text: `${HEAD}-A INPUT ${r}\nCOMMIT\n`, v6: false });
  const file = (name: string, text: string, v6 = false) => cases.push({ name, text, v6 });
  const ports = [
    '22',
    '0',
    '65535',
    '65536',
    '70000',
    '-1',
    '022',
    '08',
    '0x16',
    '1024:2048',
    '2048:1024',
    '10:10',
    ':1000',
    '1000:',
    '10-20',
    'ssh',
    'SSH',
    'https',
    'domain',
    'ntp',
    'http',
    'www',
    'http-alt',
    'nosuchsvc',
    'ssh:http',
    '""',
    '"443"',
  ];
  for (const p of ports) rule(`-p tcp --dport ${p} -j ACCEPT`);
  // The udp match reads ports its own way: decimal, wrapping at 65536, reversed ranges kept.
  for (const p of ['53', '70000', '65536', '99999999999', '100:50', '022', '0x16', '08', '-1', 'domain', 'telnet', 'ntp', '22x', ':100'])
    rule(`-p udp --dport ${p} -j ACCEPT`);
  for (const p of ['53', '70000', 'domain']) rule(`-p udp --sport ${p} -j ACCEPT`);
  for (const p of ['70000', '2000:1000', 'ssh', 'telnet']) rule(`-p sctp --dport ${p} -j ACCEPT`);
  rule('-p dccp --dport 70000 -j ACCEPT');
  rule('-p udp -m multiport --dports ssh,domain -j ACCEPT');
  rule('-p tcp -m multiport --dports ntp -j ACCEPT');
  const lists = [
    '22,80,443',
    '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15',
    '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16',
    '1,2,3,4,5,6,7,8,9,10,11,12,13,14:20',
    '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16',
    '8000:9000,22',
    '9000:8000',
    '10:10',
    '22,,23',
    ':10',
    '22,70000',
    'ssh,https',
    '22,ssh,0',
  ];
  for (const l of lists) rule(`-p tcp -m multiport --dports ${l} -j ACCEPT`);
  rule('-p udp -m multiport --sports 53,123 -j ACCEPT');
  rule('-p tcp -m multiport --ports 80,443 -j ACCEPT');
  rule('-p tcp -m multiport --dports 22 --sports 33 -j ACCEPT');
  rule('-p tcp -m multiport --dports 22 -m multiport --sports 1024:65535 -j ACCEPT');
  rule('-m multiport --dports 80,443 -j ACCEPT');
  rule('-p icmp -m multiport --dports 80,443 -j ACCEPT');
  // --dport without a protocol, and the protocol's own match.
  rule('--dport 22 -j ACCEPT');
  rule('-p all --dport 22 -j ACCEPT');
  rule('-p 6 --dport 22 -j ACCEPT');
  rule('-p TCP --dport 22 -j ACCEPT');
  rule('-p tcp -m tcp --dport 22 -j ACCEPT');
  rule('-m tcp --dport 22 -j ACCEPT');
  rule('-p udp -m tcp --dport 22 -j ACCEPT');
  rule('! -p tcp --dport 22 -j ACCEPT');
  rule('-p tcp ! --dport 22 -j DROP');
  rule('-p tcp --dport 22 --dport 23 -j ACCEPT');
  rule('-p tcp --dp 22 -j ACCEPT');
  rule('--protocol tcp --destination-port 22 --jump ACCEPT');
  rule('-p tcp --dport=22 -j ACCEPT');
  rule('-p sctp --dport 3868 -j ACCEPT');
  rule('-p foo -j ACCEPT');
  // Sources, interfaces, states, comments, targets.
  rule('-s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT');
  rule('! -s 10.0.0.0/8 -p udp --dport 53 -j DROP');
  rule('-s 300.0.0.0 -j ACCEPT');
  rule('-s 10.0.0.0/33 -j ACCEPT');
  rule('-s ::1 -j ACCEPT');
  rule('-i eth0 -p tcp --dport 443 -j ACCEPT');
  rule('-o eth0 -p tcp --dport 443 -j ACCEPT');
  rule('-i abcdefghijklmnopq -j ACCEPT');
  rule('-i lo -i eth0 -j ACCEPT');
  rule('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  rule('-m conntrack --ctstate NEW,FOO -j ACCEPT');
  rule('-m state --state NEW -p tcp --dport 80 -j ACCEPT');
  rule('-p tcp --dport 22 -m comment --comment "ssh from anywhere" -j ACCEPT');
  rule('-p tcp --dport 22 -j ACCEPT -m comment --comment "unterminated');
  rule("-p tcp --dport 22 -j ACCEPT -m comment --comment 'single quotes'");
  rule('-p tcp --dport 22 -j SSH');
  rule('-p tcp --dport 22 -j NOSUCHCHAIN');
  rule('-p tcp --dport 22 -j INPUT');
  rule('-p tcp --dport 22 -j ACCEPT -j DROP');
  rule('-p tcp --dport 22 -j REJECT --reject-with tcp-reset');
  rule('-p tcp --dport 22 -j LOG --log-prefix "ssh: "');
  rule('-p tcp --dport 22 -j ACCEPT extra');
  rule('-p tcp --dport 22 -j ACCEPT # comment');
  rule('-p tcp --dport 22 -j ACCEPT --foo');
  rule('-p tcp --dport 22 -m foo -j ACCEPT');
  rule('-p tcp --dport 22 -m recent --name ssh --set');
  rule('-p tcp --dport 22 -m limit --limit 3/min -j ACCEPT');
  rule('-p tcp --dport');
  rule('-p tcp --dport 22 -j');
  rule('-p tcp --syn --dport 22 -j ACCEPT');
  // Whole files: structure, order, NAT, user chains.
  file('missing COMMIT', `${HEAD}-A INPUT -p tcp --dport 22 -j ACCEPT\n`);
  file('COMMIT without final newline', `${HEAD}-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT`);
  file('COMMIT with trailing blank', `${HEAD}-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT \n`);
  file('CRLF', `${HEAD}-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n`.replace(/\n/g, '\r\n'));
  file('rule outside a table', '-A INPUT -j ACCEPT\n');
  file('unknown table', '*foo\nCOMMIT\n');
  file('table opened twice', '*filter\n*filter\nCOMMIT\n');
  file('indented comment', '*filter\n  # note\nCOMMIT\n');
  file('blank-only line', '*filter\n   \nCOMMIT\n');
  file('policy on a user chain', '*filter\n:FOO ACCEPT [0:0]\nCOMMIT\n');
  file('bad policy', '*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n');
  file('chain without policy', '*filter\n:INPUT\nCOMMIT\n');
  file('chain declared twice', '*filter\n:FOO - [0:0]\n:FOO - [0:0]\nCOMMIT\n');
  file('rule in undeclared chain', '*filter\n-A FOO -j ACCEPT\nCOMMIT\n');
  file('jump before declaration', '*filter\n-A INPUT -j FOO\n:FOO - [0:0]\nCOMMIT\n');
  file('-N and -P lines', '*filter\n-P INPUT DROP\n-N WEB\n-A WEB -p tcp -m multiport --dports 80,443 -j ACCEPT\n-A INPUT -j WEB\nCOMMIT\n');
  file(
    '-I inserts at the top and at a position',
    '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 1 -j ACCEPT\n-A INPUT -p tcp --dport 2 -j ACCEPT\n-I INPUT -p tcp --dport 3 -j ACCEPT\n-I INPUT 3 -p tcp --dport 4 -j ACCEPT\nCOMMIT\n',
  );
  file('counters before rules', '*filter\n:INPUT ACCEPT [10:20]\n[1:2] -A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n');
  file('two filter blocks', '*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n');
  const nat = (r: string) => file(`nat: ${r}`, `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING ${r}\nCOMMIT\n`);
  nat('-p tcp --dport 8443 -j DNAT --to-destination 10.0.0.2:443');
  nat('-i eth0 -p udp --dport 5353 -j DNAT --to-destination 10.0.0.3');
  nat('-p tcp --dport 81 -j DNAT --to-destination 10.0.0.1:80-90');
  nat('-p tcp --dport 81 -j DNAT --to-destination 10.0.0.1:90-80');
  nat('-p tcp --dport 81 -j DNAT --to-destination 10.0.0.1:70000');
  nat('-j DNAT --to-destination 10.0.0.2:80');
  nat('-p tcp --dport 80 -j REDIRECT --to-ports 8080');
  nat('-p tcp --dport 80 -j REDIRECT --to-ports 9000-8000');
  nat('-p tcp -m multiport --dports 80,443 -j REDIRECT --to-ports 8443');
  nat('--dport 80 -j REDIRECT --to-ports 9000');
  file(
    'rules.v6 with ports',
    '*filter\n:INPUT DROP [0:0]\n-A INPUT -s 2001:db8::/32 -p tcp --dport 22 -j ACCEPT\n-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p udp -m multiport --dports 546,547 -j ACCEPT\nCOMMIT\n',
    true,
  );
  file('rules.v6 with an IPv4 source', '*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n', true);
  return cases;
}

function corpusCases(): Case[] {
  if (!fs.existsSync(corpusDir)) return [];
  return fs
    .readdirSync(corpusDir)
    .sort()
    .map((f) => ({ name: `corpus: ${f}`, text: fs.readFileSync(path.join(corpusDir, f), 'utf8'), v6: /ip6tables/.test(f) }));
}

interface ToolVerdict {
  accepted: boolean;
  /** 1-based line the program names, when it names one. */
  lines: number[];
  message: string;
}

/** One key per rule: what iptables-save prints about ports and targets, normalized. */
function ruleKey(p: {
  proto?: string;
  negProto: boolean;
  dport?: string;
  negDport: boolean;
  sport?: string;
  negSport: boolean;
  multi?: string;
  negMulti: boolean;
  multiKind?: string;
  target?: string;
  toPorts?: string;
}): string {
  return [
    p.proto ? `${p.negProto ? '!' : ''}p=${p.proto}` : '',
    p.dport ? `${p.negDport ? '!' : ''}dport=${p.dport}` : '',
    p.sport ? `${p.negSport ? '!' : ''}sport=${p.sport}` : '',
    p.multi ? `${p.negMulti ? '!' : ''}${p.multiKind}=${p.multi}` : '',
    p.target ? `j=${p.target}` : '',
    p.toPorts ? `to=${p.toPorts}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Reads `iptables-save` output with plain patterns of its own (independent of our parser). */
function savedRules(save: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = '';
  // A quoted comment may hold a newline: join such lines back.
  const lines: string[] = [];
  for (const l of save.split('\n')) {
    const prev = lines[lines.length - 1];
    if (prev !== undefined && (prev.split('"').length - 1) % 2 === 1) lines[lines.length - 1] = `${prev}\n${l}`;
    else lines.push(l);
  }
  for (const line of lines) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const m = /^-A (\S+) ([\s\S]*)$/.exec(line);
    if (!m) continue;
    const body = ` ${m[2]} `;
    const get = (re: RegExp) => re.exec(body) ?? undefined;
    const proto = get(/ (!\s)?-p (\S+)/);
    const dport = get(/ (!\s)?--dport (\S+)/);
    const sport = get(/ (!\s)?--sport (\S+)/);
    const multi = get(/ (!\s)?--(dports|sports|ports) (\S+)/);
    const target = get(/ -[jg] (\S+)/);
    const toDest = get(/ --to-destination (\S+)/);
    const toPorts = get(/ --to-ports (\S+)/);
    const destPort = toDest ? /:(\d+(?:-\d+)?)$/.exec(toDest[1])?.[1] : undefined;
    const key = ruleKey({
      proto: proto?.[2],
      negProto: !!proto?.[1],
      dport: dport?.[2],
      negDport: !!dport?.[1],
      sport: sport?.[2],
      negSport: !!sport?.[1],
      multi: multi?.[3],
      negMulti: !!multi?.[1],
      multiKind: multi?.[2],
      target: target?.[1],
      toPorts: toPorts?.[1] ?? destPort,
    });
    const k = `${table} ${m[1]}`;
    out.set(k, [...(out.get(k) ?? []), key]);
  }
  return out;
}

const portText = (elems: { from: number; to: number }[]) => elems.map((e) => (e.from === e.to ? String(e.from) : `${e.from}:${e.to}`)).join(',');

function ourRules(extra: IptablesExtra): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const table of extra.doc.tables.values()) {
    for (const [chain, rules] of table.rules) {
      const keys = rules.map((r: IptRule) => {
        const d = r.ports.find((p) => p.kind === 'dport' && p.option.text !== '--dports' && !/ports$/.test(p.option.text));
        const s = r.ports.find((p) => p.kind === 'sport' && !/ports$/.test(p.option.text));
        const multi = r.ports.find((p) => /ports$/.test(p.option.text) || p.option.text === '--ports');
        const multiKind = multi ? (multi.kind === 'dport' ? 'dports' : multi.kind === 'sport' ? 'sports' : 'ports') : undefined;
        const to =
          r.targetArgs['to-ports']?.text ?? (r.targetArgs['to-destination'] ? /:(\d+(?:-\d+)?)$/.exec(r.targetArgs['to-destination'].text)?.[1] : undefined);
        return ruleKey({
          proto: r.protocol ? (protoName(r.protocol.text) ?? r.protocol.text) : undefined,
          negProto: !!r.protocol?.negated,
          dport: d ? portText(d.elems) : undefined,
          negDport: !!d?.negated,
          sport: s ? portText(s.elems) : undefined,
          negSport: !!s?.negated,
          multi: multi ? portText(multi.elems) : undefined,
          negMulti: !!multi?.negated,
          multiKind,
          target: r.target?.name,
          toPorts: to,
        });
      });
      if (keys.length > 0) out.set(`${table.name} ${chain}`, keys);
    }
  }
  return out;
}

describe('oracle: iptables-restore judges our iptables reading', function () {
  this.timeout(120000);
  const registry = loadRegistry();
  const module = createIptablesModule((n, p) => registry.serviceToPort(n, p));
  const cases = [...corpusCases(), ...generatedCases()];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-iptables-'));
  const tally = { cases: 0, verdictAgree: 0, rulesCompared: 0, rulesAgree: 0, skippedNames: 0 };
  // getservbyname semantics need /etc/services as Debian ships it: "www" is TCP 80, "ntp" only UDP.
  const exactServices = registry.serviceToPort('www', 'tcp') === 80 && registry.serviceToPort('ntp', 'tcp') === undefined;
  let tools: Record<string, string> = {};

  before(function () {
    tools = {
      legacy4: requireProgram(this, ['iptables-legacy-restore', '/usr/sbin/iptables-legacy-restore'], 'iptables'),
      nft4: requireProgram(this, ['iptables-nft-restore', '/usr/sbin/iptables-nft-restore'], 'iptables'),
      legacy6: requireProgram(this, ['ip6tables-legacy-restore', '/usr/sbin/ip6tables-legacy-restore'], 'iptables'),
      nft6: requireProgram(this, ['ip6tables-nft-restore', '/usr/sbin/ip6tables-nft-restore'], 'iptables'),
      unshare: requireProgram(this, ['unshare', '/usr/bin/unshare'], 'util-linux'),
    };
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('iptables-restore --test needs root; CI runs as root');
      console.log('      skipped: iptables-restore --test needs root');
      this.skip();
    }
  });

  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    console.log(
      `      iptables oracle: ${tally.cases} files, verdict agreement ${tally.verdictAgree}/${tally.cases}; rules compared with iptables-nft-save ${tally.rulesAgree}/${tally.rulesCompared}`,
    );
    if (tally.skippedNames > 0) console.log(`      ${tally.skippedNames} cases with service names not judged: the registry has no /etc/services data`);
  });

  const verdictOf = (bin: string, f: string): ToolVerdict => {
    const r = run('sh', ['-c', `"$0" --test < "$1"`, bin, f]);
    const lines = [...(r.stderr + r.stdout).matchAll(/line:? (\d+)/g)].map((m) => Number(m[1]));
    return { accepted: r.status === 0, lines, message: (r.stderr + r.stdout).split('\n')[0] };
  };

  cases.forEach((c, n) => {
    it(c.name, function () {
      const f = path.join(tmp, `case${n}${c.v6 ? '.v6' : '.v4'}`);
      fs.writeFileSync(f, c.text);
      const legacy = verdictOf(c.v6 ? tools.legacy6 : tools.legacy4, f);
      const nft = verdictOf(c.v6 ? tools.nft6 : tools.nft4, f);
      const parse = module.parse(c.text, c.v6 ? '/etc/iptables/rules.v6' : '/etc/iptables/rules.v4');
      const index = new LineIndex(c.text);
      const errorLines = parse.findings.filter((x) => x.severity === 'error').map((x) => index.position(x.span.start).line + 1);
      const problems: string[] = [];
      const accepted = legacy.accepted && nft.accepted;
      if (accepted) {
        if (errorLines.length > 0)
          problems.push(
            `both programs accept, we report errors: ${parse.findings.map((x) => `line ${index.position(x.span.start).line + 1}: ${x.message}`).join(' | ')}`,
          );
      } else {
        const named = [...(legacy.accepted ? [] : legacy.lines), ...(nft.accepted ? [] : nft.lines)];
        const lastLine = c.text.split('\n').length;
        // "COMMIT expected at line N" names the line after the end: any error of ours answers it.
        const wanted = named.filter((l) => l <= lastLine - (c.text.endsWith('\n') ? 1 : 0));
        const hit = wanted.length === 0 ? errorLines.length > 0 : wanted.some((l) => errorLines.includes(l));
        if (!hit)
          problems.push(
            `refused (${legacy.accepted ? '' : `legacy: ${legacy.message}`}${nft.accepted ? '' : ` nft: ${nft.message}`}), we report no error on line ${wanted.join('/') || '(any)'}; ours: ${errorLines.join(',') || 'none'}`,
          );
        const first = Math.min(...wanted);
        const early = wanted.length > 0 ? errorLines.filter((l) => l < first) : [];
        if (early.length > 0) problems.push(`we report errors on lines ${early.join(',')} before the line the program names (${first})`);
      }
      tally.cases++;
      if (problems.length === 0) tally.verdictAgree++;
      if (accepted) {
        const save = run(tools.unshare, [
          '-n',
          'sh',
          '-c',
          `"$0" < "$1" && "$2"`,
          c.v6 ? 'ip6tables-nft-restore' : 'iptables-nft-restore',
          f,
          c.v6 ? 'ip6tables-nft-save' : 'iptables-nft-save',
        ]);
        assert.strictEqual(save.status, 0, `restore in a namespace failed: ${save.stderr}`);
        const theirs = savedRules(save.stdout);
        const ours = ourRules(parse.extra as IptablesExtra);
        for (const key of new Set([...theirs.keys(), ...ours.keys()])) {
          const t = theirs.get(key) ?? [];
          const o = ours.get(key) ?? [];
          tally.rulesCompared += Math.max(t.length, o.length);
          t.forEach((rule, i) => {
            if (o[i] === rule) tally.rulesAgree++;
          });
          if (JSON.stringify(t) !== JSON.stringify(o)) problems.push(`chain ${key}: iptables-save ${JSON.stringify(t)}, ours ${JSON.stringify(o)}`);
        }
      }
      if (!exactServices && NAMES.test(c.text)) {
        // Without data/etc-services.json the registry is IANA's, whose names differ from /etc/services.
        tally.skippedNames++;
        return;
      }
      assert.deepStrictEqual(problems, []);
    });
  });
});
