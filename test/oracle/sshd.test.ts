/**
 * Oracle: OpenSSH's own reader (`sshd -T`) judges our sshd_config analysis, on every config of the
 * corpus and on generated cases. What sshd prints is the expected answer:
 * - sshd accepts: our listen binds equal its `listenaddress` lines (the rdomain is not compared: our
 *   facts do not carry it), the ports of our binds from Port lines equal its `port` lines, and we
 *   report no error;
 * - sshd refuses: we report an error on every line it names, with the code the message calls for
 *   (`invalid-port` for a bad port or address, `syntax` for the rest, such as Port inside Match),
 *   and none on lines it read without complaint.
 * How sshd runs (namespaces, the pinned /etc/hosts) is described in test/helpers/sshd.ts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { isRoot, requireProgram } from '../helpers/programs';
import { ourVerdict, pool, SshdOracle, STOCK_SSHD_CONFIG, type MaterializedCase, type OurVerdict, type SshdCase, type SshdVerdict } from '../helpers/sshd';
import type { ShownFinding } from '../helpers/engine';
import { looksLikeServiceName } from '../../server/src/core/serviceNames';

const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'sshd');

/** Keywords that decide what sshd listens on; every other keyword is irrelevant to ports. */
const PORT_KEYWORDS = new Set(['port', 'listenaddress', 'addressfamily', 'include', 'match']);

/** The code each sshd complaint calls for; the message of an error and the line-less ones just before it. */
const CODE_FOR_MESSAGE: [RegExp, 'syntax' | 'invalid-port'][] = [
  [/Badly formatted port number|bad port number|Invalid LocalPort|bad address:port usage|bad addr or host/, 'invalid-port'],
  [
    /not allowed within a Match block|extra arguments|bad ListenAddress syntax|no argument after keyword|missing|invalid quotes|unsupported option|Bad Match condition|empty argument|bad routing domain/,
    'syntax',
  ],
];

/**
 * Cases where we knowingly differ from sshd, and why. A known case that starts agreeing fails, so
 * this list cannot go stale.
 */
const KNOWN: Record<string, string> = {};

// ---------------------------------------------------------------------------------------------
// Generated cases: deterministic combinations of what sshd_config can say about ports.

function generatedCases(): SshdCase[] {
  const cases: SshdCase[] = [];
  const seen = new Set<string>();
  const visible = (config: string) =>
    config.replace(/\n$/, '').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\f/g, '\\f').replace(/ $/gm, '␠').replace(/\n/g, ' ⏎ ');
  const add = (config: string, files?: Record<string, string>, name?: string) => {
    // Combinations may produce a config an earlier group already has: keep the first.
    const key = JSON.stringify([config, files]);
    if (seen.has(key)) return;
    seen.add(key);
    cases.push({ name: name ?? visible(config), config, files });
  };

  // Port values: numbers, bounds, signs, bases, service names, quoting, several on one line.
  const portValues = [
    '22',
    '2222',
    '1',
    '65535',
    '0',
    '65536',
    '70000',
    '-1',
    '+22',
    '022',
    '0x16',
    '1e3',
    'abc',
    '99999999999999999999',
    'ssh',
    'SSH',
    'https',
    'telnet',
    'domain',
    'http',
    'www',
    'webcache',
    'http-alt',
    'nosuchservice',
    '""',
    '"2222"',
    "'2222'",
    '"22 "',
    '" 22"',
    '\\22',
    '22 23',
    '22,23',
    '22-25',
    '22#c',
  ];
  for (const v of portValues) add(`Port ${v}\n`);

  // Keyword spelling and line syntax around one Port line.
  const portLines = [
    'port 2222',
    'PORT 2222',
    'Port=2222',
    'Port = 2222',
    'Port =2222',
    'Port= 2222',
    'Port==2222',
    'Port = = 2222',
    '  Port 2222',
    '\tPort\t2222',
    'Port 2222 # moved',
    '#Port 2222',
    'Port#2222',
    'Port',
    'Port   ',
    'Port "2222',
    '"Port" 2222',
    'Port 2222\r',
    '=Port 2222',
    'Port 2222 \f',
  ];
  for (const l of portLines) add(`${l}\n`);
  add('# comment\n\n   \nPort 2222\n#ListenAddress 10.0.0.1\n');
  add('Port 2222\r\nListenAddress 127.0.0.1\r\n', undefined, 'CRLF line ends');

  // ListenAddress in every form, with no Port, with a Port after it, and with two Ports before it.
  const hosts = [
    '0.0.0.0',
    '::',
    '127.0.0.1',
    '::1',
    'localhost',
    'LOCALHOST',
    'ip6-localhost',
    '127.1',
    '0x7f.1',
    '2130706433',
    '010.0.0.1',
    '0',
    '1.2.3.4.5',
    '256.1.1.1',
    '[::1]',
    '[127.0.0.1]',
    '[localhost]',
    'fe80::1%lo',
    '::ffff:1.2.3.4',
    '::1:22',
    'a:b:c',
    '[::1',
    '[]',
    '""',
  ];
  for (const h of hosts) {
    add(`ListenAddress ${h}\n`);
    add(`ListenAddress ${h}\nPort 2222\n`);
  }
  for (const h of ['127.0.0.1', '::1', 'localhost']) add(`Port 2201\nPort 2202\nListenAddress ${h}\n`);
  const hostPorts = [
    '127.0.0.1:2200',
    '127.0.0.1:ssh',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:',
    '127.0.0.1:x',
    '127.0.0.1:+2200',
    '[::1]:2200',
    '[::]:2200',
    '[::1]:',
    '[::1]:0',
    '[fe80::1%lo]:2200',
    '[127.0.0.1]:2200',
    'localhost:2200',
    '[localhost]:2200',
    '0.0.0.0:2200',
    '127.0.0.1/2200',
    '[::1]/2200',
    '[::1]x',
    ':2200',
    '[]:2200',
    '"127.0.0.1:2200"',
    '127.0.0.1\\ :2200',
  ];
  for (const hp of hostPorts) add(`Port 2222\nListenAddress ${hp}\n`);
  // Other host names resolve on the target machine only: out of scope, listed as such.
  add('ListenAddress ssh.example.invalid\n');
  add('ListenAddress ssh.example.invalid:2200\n');
  const rdomains = [
    '127.0.0.1 rdomain lo',
    '[::1]:2200 rdomain lo',
    '127.0.0.1 rdomain',
    '127.0.0.1 Rdomain lo',
    '127.0.0.1 vrf lo',
    '127.0.0.1 rdomain lo extra',
    '127.0.0.1:0 rdomain',
    '127.0.0.1 # comment',
    '127.0.0.1 rdomain lo # comment',
  ];
  for (const r of rdomains) add(`ListenAddress ${r}\n`);

  // AddressFamily with and without ListenAddress, before and after it, and the first one winning.
  const listenSets = [
    '',
    'ListenAddress ::1\n',
    'ListenAddress 127.0.0.1\n',
    'ListenAddress localhost\n',
    'ListenAddress ::\n',
    'ListenAddress 0.0.0.0\n',
    'ListenAddress [::1]:2200\n',
    'ListenAddress ip6-localhost\n',
    'ListenAddress 127.0.0.1\nListenAddress ::1\n',
  ];
  for (const af of ['inet', 'inet6', 'any', 'INET6']) {
    for (const ls of listenSets) add(`AddressFamily ${af}\n${ls}Port 2222\n`);
  }
  add('ListenAddress ::1\nAddressFamily inet\n');
  add('ListenAddress 127.0.0.1\nAddressFamily inet6\n');
  add('AddressFamily inet6\nAddressFamily inet\nListenAddress ::1\n');
  add('AddressFamily inet\nAddressFamily inet6\nListenAddress ::1\n');
  add('AddressFamily foo\n');
  add('AddressFamily inet inet6\n');
  add('AddressFamily ""\n');

  // Several Ports and ListenAddresses, in both orders.
  const portSets = [[], ['22'], ['2222', '2223'], ['2222', '2222']];
  const listenLists = [[], ['127.0.0.1'], ['127.0.0.1', '[::1]:2200'], ['localhost:2201', '::1'], ['0.0.0.0', '::']];
  for (const ps of portSets) {
    for (const ls of listenLists) {
      if (ps.length === 0 && ls.length === 0) continue;
      const portText = ps.map((p) => `Port ${p}\n`).join('');
      const listenText = ls.map((l) => `ListenAddress ${l}\n`).join('');
      add(portText + listenText);
      if (ps.length && ls.length) add(listenText + portText);
    }
  }

  // Match blocks: Port, ListenAddress and AddressFamily are global; only `Match all` reopens the global scope.
  const matchCases = [
    'Port 2222\nMatch User bob\n  Port 2200\n',
    'Port 2222\nMatch User bob\n  ListenAddress 127.0.0.1\n',
    'Match User bob\n  AddressFamily inet\n',
    'Match User bob\n  PasswordAuthentication no\nMatch all\nPort 2200\n',
    'Match all\nPort 2200\n',
    'match ALL\nport 2200\n',
    'Match all # everyone\nPort 2200\n',
    'Match User=bob\nPort 2200\n',
    'Match Address 10.0.0.0/8\n  PasswordAuthentication yes\nMatch all\nListenAddress 127.0.0.1:2200\n',
    'Match\nPort 2200\n',
    'Match all User bob\nPort 2200\n',
    'Match User\nPort 2200\n',
    'Match Foo bar\n',
    'Match LocalPort 70000\n',
    'Match LocalPort 0\n',
    'Match LocalPort ssh\n',
    'Match LocalPort 2222\n  PasswordAuthentication no\n',
    'Match LocalPort x\n',
    'Port 2222\nMatch User bob # comment\n  X11Forwarding no\n',
  ];
  for (const m of matchCases) add(m);

  // Include: absolute paths with globs into the case directory, relative ones under /etc/ssh.
  const two = { 'inc/a.conf': 'Port 2201\n', 'inc/b.conf': 'Port 2202\n' };
  add('Include {DIR}/inc/*.conf\n', two, 'Include DIR/inc/*.conf');
  add('Include {DIR}/inc/?.conf\n', { ...two, 'inc/ab.conf': 'Port 2203\n' }, 'Include DIR/inc/?.conf');
  add('Include {DIR}/inc/[a].conf\n', two, 'Include DIR/inc/[a].conf');
  add('Include {DIR}/inc/{a,b}.conf\n', { ...two, 'inc/{a,b}.conf': 'Port 2204\n' }, 'Include DIR/inc/{a,b}.conf (glob(3) has no braces)');
  add('Include {DIR}/inc/*.conf\n', { 'inc/.hidden.conf': 'Port 2205\n', 'inc/a.conf': 'Port 2201\n' }, 'Include DIR/inc/*.conf skips dot files');
  add('Include {DIR}/*/a.conf\n', { 'inc/a.conf': 'Port 2201\n', 'other/a.conf': 'Port 2202\n' }, 'Include DIR/*/a.conf');
  add('Include {DIR}/**.conf\n', { 'x.conf': 'Port 2201\n', 'inc/a.conf': 'Port 2202\n' }, 'Include DIR/**.conf');
  add(
    'Include {DIR}/**/a.conf\n',
    { 'a.conf': 'Port 2201\n', 'inc/a.conf': 'Port 2202\n', 'inc/sub/a.conf': 'Port 2203\n' },
    'Include DIR/**/a.conf (glob(3) has no globstar)',
  );
  add('Include {DIR}/inc/[!a].conf\n', two, 'Include DIR/inc/[!a].conf');
  add('Include {DIR}/inc/[^a].conf\n', two, 'Include DIR/inc/[^a].conf');
  add('Include {DIR}/inc/+(a).conf\n', { ...two, 'inc/+(a).conf': 'Port 2204\n' }, 'Include DIR/inc/+(a).conf (glob(3) has no extglob)');
  add('Include {DIR}/inc/a\\*.conf\n', { ...two, 'inc/a*.conf': 'Port 2204\n' }, 'Include DIR/inc/a\\*.conf (escaped star)');
  add('Include {DIR}/inc/a.conf {DIR}/inc/b.conf\n', two, 'Include with two paths');
  add('Include {DIR}/inc/absent.conf\nPort 2222\n', undefined, 'Include of an absent file');
  add('Include rel.conf\n', { '/etc/ssh/rel.conf': 'Port 2206\n' }, 'Include rel.conf (under /etc/ssh)');
  add(
    'Include sshd_config.d/*.conf\n',
    { '/etc/ssh/sshd_config.d/10-port.conf': 'Port 2207\n', '/etc/ssh/sshd_config.d/20-listen.conf': 'ListenAddress 127.0.0.1\n' },
    'Include sshd_config.d/*.conf (under /etc/ssh)',
  );
  add(
    'Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\n',
    { '/etc/ssh/sshd_config.d/a.conf': 'ListenAddress [::1]\n' },
    'Include /etc/ssh/sshd_config.d/*.conf',
  );
  add(
    'Include {DIR}/inc/l.conf\nPort 2222\n',
    { 'inc/l.conf': 'ListenAddress 127.0.0.1\nListenAddress [::1]:2200\n' },
    'ListenAddress from an include takes the Port written after the Include',
  );
  add('Include {DIR}/inc/n1.conf\n', { 'inc/n1.conf': 'Include {DIR}/inc/n2.conf\nPort 2201\n', 'inc/n2.conf': 'Port 2202\n' }, 'nested Include');
  add('Include {DIR}/inc/bad.conf\nPort 2222\n', { 'inc/bad.conf': 'Port 2201\nPort 0\n' }, 'bad Port inside an included file');
  add('Include {DIR}/inc/bad.conf\n', { 'inc/bad.conf': 'ListenAddress 127.0.0.1:99999\n' }, 'bad ListenAddress port inside an included file');
  add('Match User bob\n  Include {DIR}/inc/p.conf\n', { 'inc/p.conf': 'Port 2200\n' }, 'Include inside Match: its Port is inside the block');
  add(
    'Match User bob\n  Include {DIR}/inc/p.conf\n',
    { 'inc/p.conf': 'Match all\nPort 2200\n' },
    'Include inside Match: Match all in the included file stays inside the block',
  );
  add('Match all\nInclude {DIR}/inc/p.conf\n', { 'inc/p.conf': 'Port 2200\n' }, 'Include after Match all');
  add(
    'Include {DIR}/inc/m.conf\nPort 2222\n',
    { 'inc/m.conf': 'Port 2201\nMatch User bob\n  X11Forwarding no\n' },
    'a Match block in an included file ends with that file',
  );
  add(
    'Include {DIR}/inc/af.conf\nAddressFamily inet\nListenAddress ::1\n',
    { 'inc/af.conf': 'AddressFamily inet6\n' },
    'the first AddressFamily read wins, across Include',
  );
  add(
    'AddressFamily inet\nInclude {DIR}/inc/af.conf\nListenAddress ::1\n',
    { 'inc/af.conf': 'AddressFamily inet6\n' },
    'the first AddressFamily read wins, before Include',
  );
  add(
    'Include {DIR}/inc/af.conf\nListenAddress 127.0.0.1\n',
    { 'inc/af.conf': 'AddressFamily inet6\n' },
    'AddressFamily from an include refuses an IPv4 ListenAddress',
  );
  add('Include {DIR}/sshd_config\nPort 2222\n', undefined, 'Include of the config itself');
  add('Include {DIR}/inc/*.conf\n', { 'inc/loop.conf': 'Include {DIR}/inc/*.conf\nPort 2201\n' }, 'Include cycle through a glob');
  add('Include ""\n', undefined, 'Include of an empty path');
  add('Include\n', undefined, 'Include without path');
  add('Include # nothing\n', undefined, 'Include with only a comment');
  // Drop-ins with no main file in the workspace: sshd runs with the stock main file, whose first line
  // includes them (issue 9, mechanism 7); our engine sees the drop-ins only.
  const stock = (name: string, files: Record<string, string>) =>
    cases.push({ name: `stock sshd_config + ${name}`, config: STOCK_SSHD_CONFIG, files, stockMain: true });
  stock('a drop-in without Port', { 'sshd_config.d/10-custom.conf': 'PasswordAuthentication no\nPermitRootLogin no\n' });
  stock('a drop-in with Port 2222', { 'sshd_config.d/10-port.conf': 'Port 2222\n' });
  stock('two drop-ins with Port', { 'sshd_config.d/10-a.conf': 'Port 2201\n', 'sshd_config.d/20-b.conf': 'Port 2202\n' });
  stock('ListenAddress without Port', { 'sshd_config.d/10-listen.conf': 'ListenAddress 127.0.0.1\n' });
  stock('ListenAddress with a port and a Port', {
    'sshd_config.d/a.conf': 'ListenAddress 127.0.0.1:2200\nListenAddress ::1\n',
    'sshd_config.d/b.conf': 'Port 2201\n',
  });
  stock('AddressFamily inet in the second drop-in', { 'sshd_config.d/a.conf': 'PermitRootLogin no\n', 'sshd_config.d/b.conf': 'AddressFamily inet\n' });
  stock('a drop-in not named *.conf beside one', { 'sshd_config.d/a.conf': 'Port 2201\n', 'sshd_config.d/readme': 'Port 2202\n' });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Comparison.

interface Comparison {
  outOfScope?: string;
  problems: string[];
}

function codeFor(message: string): 'syntax' | 'invalid-port' | undefined {
  return CODE_FOR_MESSAGE.find(([re]) => re.test(message))?.[1];
}

function lineOf(m: MaterializedCase, file: string, line: number): string {
  return (m.files[file] ?? '').split('\n')[line - 1] ?? '';
}

function compare(m: MaterializedCase, sshd: SshdVerdict, ours: OurVerdict): Comparison {
  if (ours.unresolved.length > 0) {
    return { outOfScope: `host name ${ours.unresolved.join(', ')} resolves only on the target machine`, problems: [] };
  }
  const problems: string[] = [];
  const show = (e: { file: string; line: number; code: string; message: string }) => `${path.basename(e.file)}:${e.line} ${e.code} ${e.message}`;
  if (sshd.status === 0) {
    for (const e of ours.errors) problems.push(`sshd accepts the config, we report ${show(e)}`);
    const theirs = new Set(sshd.listens);
    const mine = new Set(ours.listens);
    for (const l of theirs) if (!mine.has(l)) problems.push(`sshd listens on ${l}, we do not`);
    for (const l of mine) if (!theirs.has(l)) problems.push(`we listen on ${l}, sshd does not`);
    if (ours.portLinePorts.length > 0) {
      const a = [...new Set(sshd.ports)].sort((x, y) => x - y).join(',');
      const b = [...new Set(ours.portLinePorts)].sort((x, y) => x - y).join(',');
      if (a !== b) problems.push(`sshd's ports are ${a}, ours are ${b}`);
    }
    return { problems };
  }

  const key = (file: string, line: number) => `${file}:${line}`;
  const oursAt = new Map<string, typeof ours.errors>();
  for (const e of ours.errors) oursAt.set(key(e.file, e.line), [...(oursAt.get(key(e.file, e.line)) ?? []), e]);
  const named = new Set<string>();
  let stop: { file: string; line: number } | 'everything' | undefined;
  let before: string[] = [];
  for (const e of sshd.errors) {
    if (e.file !== undefined && e.line !== undefined) {
      named.add(key(e.file, e.line));
      const expected = codeFor([...before, e.message].join(' '));
      const got = oursAt.get(key(e.file, e.line)) ?? [];
      const what = `sshd: ${path.basename(e.file)} line ${e.line}: ${[...before, e.message].join(' / ')} ("${lineOf(m, e.file, e.line).trim()}")`;
      if (got.length === 0) problems.push(`${what}; we report nothing on that line`);
      // sshd says "Badly formatted port number" for a name getservbyname does not know too: that is unknown-service.
      const want = (g: ShownFinding) => (expected === 'invalid-port' && looksLikeServiceName(g.text) ? 'unknown-service' : expected);
      if (expected && !got.some((g) => g.code === want(g)))
        problems.push(`${what}; we report ${got.map((g) => `${g.code} on "${g.text}"`).join(', ')}, expected ${expected} (unknown-service for a name)`);
      stop = { file: e.file, line: e.line };
      before = [];
      continue;
    }
    const terminating = /^(.*): terminating, \d+ bad configuration options$/.exec(e.message);
    if (terminating) {
      stop = { file: terminating[1], line: Infinity };
      continue;
    }
    const badAddr = /^bad addr or host: (.*) \((.*)\)$/.exec(e.message);
    if (badAddr) {
      // Raised after the whole config is read, with no line: it is about one of the ListenAddress lines naming that host.
      const host = badAddr[1].trim();
      const candidates: string[] = [];
      for (const [file, text] of Object.entries(m.files)) {
        text.split('\n').forEach((l, i) => {
          if (/^[ \t]*"?listenaddress/i.test(l) && l.includes(host)) candidates.push(key(file, i + 1));
        });
      }
      for (const c of candidates) named.add(c);
      if (!candidates.some((c) => (oursAt.get(c) ?? []).some((g) => g.code === 'invalid-port'))) {
        problems.push(
          `sshd: ${e.message}; we report no invalid-port on ${candidates.length ? candidates.map((c) => path.basename(c)).join(', ') : 'any ListenAddress line'}`,
        );
      }
      stop = 'everything';
      continue;
    }
    before.push(e.message);
  }
  if (stop === undefined && ours.errors.length === 0) problems.push(`sshd refuses the config (${sshd.stderr.trim()}), we report nothing`);
  // Lines sshd read without complaint must not get errors from us. A fatal error stops sshd: what
  // comes after it in that file (or in other files) was never judged.
  for (const e of ours.errors) {
    if (named.has(key(e.file, e.line))) continue;
    const listenLine = /^[ \t]*"?listenaddress/i.test(lineOf(m, e.file, e.line));
    const judged = stop === 'everything' ? !listenLine : stop !== undefined && e.file === stop.file && e.line < stop.line;
    if (judged) problems.push(`we report ${show(e)}, sshd read that line without complaint`);
  }
  return { problems };
}

// ---------------------------------------------------------------------------------------------
// Corpus files: lines sshd refuses for reasons that have nothing to do with ports (an option or a
// value this OpenSSH does not know) are commented out in a temporary copy, which both sides read.

interface Prepared {
  label: string;
  m: MaterializedCase;
  sshd: SshdVerdict;
  rewritten: string[];
}

async function prepareCorpusFile(oracle: SshdOracle, file: string): Promise<Prepared> {
  let text = fs.readFileSync(file, 'utf8');
  const rewritten: string[] = [];
  for (;;) {
    const m = oracle.materialize({ name: path.basename(file), config: text });
    const sshd = await oracle.judge(m);
    const lines = text.split('\n');
    const irrelevant =
      sshd.status === 0
        ? []
        : sshd.errors.filter(
            (e) => e.file === m.root && e.line !== undefined && !PORT_KEYWORDS.has(/^[ \t\r]*"?([^\s="]*)/.exec(lines[e.line - 1] ?? '')![1].toLowerCase()),
          );
    if (irrelevant.length === 0 || rewritten.length > 50) return { label: path.basename(file), m, sshd, rewritten };
    for (const e of irrelevant) {
      rewritten.push(`line ${e.line} (${e.message})`);
      lines[e.line! - 1] = `#${lines[e.line! - 1]}`;
    }
    text = lines.join('\n');
  }
}

// ---------------------------------------------------------------------------------------------

interface Outcome {
  label: string;
  comparison: Comparison;
  note?: string;
  notComparable?: string;
}

describe('sshd -T oracle', function () {
  this.timeout(180000);
  const generated = generatedCases();
  const corpusFiles = fs.existsSync(corpusDir)
    ? fs
        .readdirSync(corpusDir)
        .sort()
        .map((f) => path.join(corpusDir, f))
    : [];
  const outcomes = new Map<string, Outcome>();
  let oracle: SshdOracle | undefined;

  before(async function () {
    const sshd = requireProgram(this, ['/usr/sbin/sshd', 'sshd'], 'openssh-server');
    const keygen = requireProgram(this, ['ssh-keygen'], 'openssh-client');
    const unshare = requireProgram(this, ['unshare'], 'util-linux');
    if (!isRoot()) {
      const msg = 'the sshd -T oracle needs root (unshare -m to mount a private /run, /etc/ssh and /etc/hosts)';
      if (process.env.CI === 'true') throw new Error(msg);
      console.log(`      skipped: ${msg}`);
      this.skip();
    }
    oracle = new SshdOracle(sshd, keygen, unshare);
    const o = oracle;
    // The namespaces may be refused (a container without CAP_SYS_ADMIN): say so instead of 270 disagreements.
    const preflight = await o.judge(o.materialize({ name: 'preflight', config: '' }));
    if (preflight.status !== 0 || !preflight.ports.includes(22)) throw new Error(`sshd -T does not run in private namespaces here: ${preflight.stderr.trim()}`);
    const started = Date.now();
    const corpus = await pool(corpusFiles, 2, (f) => prepareCorpusFile(o, f));
    for (const p of corpus) {
      const outcome: Outcome = { label: p.label, comparison: compare(p.m, p.sshd, ourVerdict(p.m)) };
      if (p.rewritten.length) outcome.note = `compared with ${p.rewritten.length} line(s) commented out, irrelevant to ports: ${p.rewritten.join('; ')}`;
      // Refused for a reason that is not about any line (a lineless error other than an address).
      if (p.sshd.status !== 0 && !p.sshd.errors.some((e) => e.line !== undefined || /bad addr or host/.test(e.message)))
        outcome.notComparable = `sshd refuses it: ${p.sshd.stderr.trim()}`;
      outcomes.set(`corpus:${p.label}`, outcome);
    }
    const materialized = generated.map((c) => o.materialize(c));
    const verdicts = await pool(materialized, 2, (m) => o.judge(m));
    generated.forEach((c, i) =>
      outcomes.set(`generated:${c.name}`, { label: c.name, comparison: compare(materialized[i], verdicts[i], ourVerdict(materialized[i])) }),
    );

    const all = [...outcomes.values()];
    const comparable = all.filter((x) => !x.notComparable && !x.comparison.outOfScope);
    const agree = comparable.filter((x) => x.comparison.problems.length === 0);
    const corpusAll = all.filter((_, i) => i < corpus.length);
    const corpusComparable = corpusAll.filter((x) => !x.notComparable && !x.comparison.outOfScope);
    console.log(
      `      sshd -T oracle: ${comparable.length} cases, ${agree.length} agree (corpus ${corpusComparable.length} comparable of ${corpusFiles.length}) in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    const outOfScope = all.filter((x) => x.comparison.outOfScope);
    for (const x of outOfScope) console.log(`      out of scope: ${x.label}: ${x.comparison.outOfScope}`);
    for (const x of all.filter((y) => y.notComparable)) console.log(`      not comparable: ${x.label}: ${x.notComparable}`);
  });

  after(() => oracle?.dispose());

  const check = (id: string) =>
    function (this: Mocha.Context) {
      const outcome = outcomes.get(id)!;
      if (outcome.note) console.log(`        ${outcome.note}`);
      if (outcome.notComparable || outcome.comparison.outOfScope) {
        console.log(`        not compared: ${outcome.notComparable ?? outcome.comparison.outOfScope}`);
        this.skip();
      }
      const known = KNOWN[outcome.label];
      const problems = outcome.comparison.problems;
      if (known) {
        assert.ok(problems.length > 0, `"${outcome.label}" now agrees with sshd: remove it from KNOWN (${known})`);
        console.log(`        known disagreement: ${known}: ${problems.join('; ')}`);
        this.skip();
      }
      assert.deepStrictEqual(problems, [], `sshd -T disagrees on ${outcome.label}:\n  ${problems.join('\n  ')}`);
    };

  describe('corpus', () => {
    it('has the sshd corpus', function () {
      if (corpusFiles.length > 0) return;
      const msg = `no files in ${corpusDir} (set PORTOLAN_CORPUS to the corpus folder)`;
      if (process.env.CI === 'true') assert.fail(msg);
      console.log(`        skipped: ${msg}`);
      this.skip();
    });
    for (const f of corpusFiles) it(path.basename(f), check(`corpus:${path.basename(f)}`));
  });

  describe('generated', () => {
    it('has more than 100 cases with distinct names', () => {
      assert.ok(generated.length > 100);
      const names = generated.map((c) => c.name);
      assert.deepStrictEqual(
        names.filter((n, i) => names.indexOf(n) !== i),
        [],
      );
    });
    for (const c of generated) it(c.name, check(`generated:${c.name}`));
  });
});
