/**
 * Oracle: the real ufw (0.36, `ufw --rootdir=R --datadir=R`, no kernel needed) writes the files we read.
 * - For a spread of commands (ports, ranges, lists, service names, application profiles, limit,
 *   deny, reject, out, interfaces, sources, IPv6) ufw writes user.rules and user6.rules under a
 *   temporary root; our reading of them must equal what the command asked for: the inbound rules
 *   (action, protocol, ports, source, interface) of each family, no inbound rule for `out`, and
 *   the ports of the -A lines ufw wrote equal to those the command named.
 * - Commands ufw refuses (`ERROR: Bad port`) leave nothing to compare; the same port hand-edited
 *   into a user.rules that ufw wrote must give invalid-port (unknown-service for a name) on the tuple and on the -A line.
 * - Application profiles: for every profile file of the corpus (and ufw's stock ones), the
 *   profiles we accept and their ports equal what `ufw app info all` lists when the file is the
 *   only one in applications.d.
 * - Every ufw file of the corpus is read without throwing.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { requireProgram, run } from '../helpers/programs';
import { engineWith } from '../helpers/engine';
import { stockUfwRoot } from '../helpers/firewall';
import { isIgnoredProfileFile, parseUfwConfig, parseUfwProfiles, parseUserRules, type UfwAppExtra, type UfwRulesExtra } from '../../server/src/formats/ufw';
import { loadRegistry } from '../../server/src/workspace/data';
import { LineIndex } from '../../server/src/core/lineIndex';
import type { FileParse, FirewallRule } from '../../server/src/core/types';

const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'firewall', 'ufw');

/** What one ufw command asks for, per family it applies to. */
interface Want {
  action: 'accept' | 'drop' | 'reject' | 'limit';
  protocols: string[];
  ports?: string;
  source?: string;
  iface?: string;
  direction?: 'in' | 'out';
}

interface CommandCase {
  args: string[];
  /** One Want per tuple ufw writes (a profile with ports of two protocols makes two). */
  v4?: Want | Want[];
  v6?: Want | Want[];
}

const OUR_PROFILE = '[Portolan Test]\ntitle=Portolan test service\ndescription=A profile the oracle test writes\nports=8080,8443/tcp|9000:9100/udp\n';

const tcp = ['tcp'];
const both = ['tcp', 'udp'];
const w = (action: Want['action'], protocols: string[], ports?: string, more: Partial<Want> = {}): Want => ({ action, protocols, ports, ...more });
const dual = (want: Want): Partial<CommandCase> => ({ v4: want, v6: { ...want } });

const COMMANDS: CommandCase[] = [
  { args: ['allow', '22/tcp'], ...dual(w('accept', tcp, '22')) },
  { args: ['allow', '443'], ...dual(w('accept', both, '443')) },
  { args: ['allow', '2222'], ...dual(w('accept', both, '2222')) },
  { args: ['deny', '23/tcp'], ...dual(w('drop', tcp, '23')) },
  { args: ['reject', '25/tcp'], ...dual(w('reject', tcp, '25')) },
  { args: ['limit', '22/tcp'], ...dual(w('limit', tcp, '22')) },
  { args: ['limit', 'ssh'], ...dual(w('limit', tcp, '22')) },
  // Debian's /etc/services lists https for TCP and UDP, so ufw opens both.
  { args: ['allow', 'https'], ...dual(w('accept', both, '443')) },
  { args: ['allow', 'domain'], ...dual(w('accept', both, '53')) },
  { args: ['allow', '60000:61000/udp'], ...dual(w('accept', ['udp'], '60000-61000')) },
  { args: ['allow', '80,443/tcp'], ...dual(w('accept', tcp, '80,443')) },
  { args: ['allow', '80,443,8000:8100/tcp'], ...dual(w('accept', tcp, '80,443,8000-8100')) },
  { args: ['allow', 'proto', 'udp', 'to', 'any', 'port', '1194'], ...dual(w('accept', ['udp'], '1194')) },
  { args: ['allow', 'from', '10.0.0.0/8', 'to', 'any', 'port', '5432', 'proto', 'tcp'], v4: w('accept', tcp, '5432', { source: '10.0.0.0/8' }) },
  { args: ['deny', 'proto', 'udp', 'from', '10.0.0.0/8', 'to', 'any', 'port', '53'], v4: w('drop', ['udp'], '53', { source: '10.0.0.0/8' }) },
  { args: ['allow', 'from', '2001:db8::/32', 'to', 'any', 'port', '5000', 'proto', 'tcp'], v6: w('accept', tcp, '5000', { source: '2001:db8::/32' }) },
  { args: ['allow', 'from', '192.168.1.10'], v4: w('accept', ['any'], undefined, { source: '192.168.1.10' }) },
  { args: ['allow', 'in', 'on', 'eth0', 'to', 'any', 'port', '8080', 'proto', 'tcp'], ...dual(w('accept', tcp, '8080', { iface: 'eth0' })) },
  { args: ['deny', 'in', 'on', 'eth1'], ...dual(w('drop', ['any'], undefined, { iface: 'eth1' })) },
  { args: ['allow', 'in', 'on', 'lo'], ...dual(w('accept', ['any'], undefined, { iface: 'lo' })) },
  { args: ['allow', 'out', '53'], ...dual(w('accept', both, '53', { direction: 'out' })) },
  { args: ['reject', 'out', '25/tcp'], ...dual(w('reject', tcp, '25', { direction: 'out' })) },
  { args: ['allow', 'OpenSSH'], ...dual(w('accept', tcp, '22')) },
  { args: ['allow', 'Nginx Full'], ...dual(w('accept', tcp, '80,443')) },
  { args: ['limit', 'OpenSSH'], ...dual(w('limit', tcp, '22')) },
  {
    args: ['allow', 'Portolan Test'],
    v4: [w('accept', tcp, '8080,8443'), w('accept', ['udp'], '9000-9100')],
    v6: [w('accept', tcp, '8080,8443'), w('accept', ['udp'], '9000-9100')],
  },
  { args: ['allow', 'from', '10.1.0.0/16', 'to', 'any', 'app', 'OpenSSH'], v4: w('accept', tcp, '22', { source: '10.1.0.0/16' }) },
  { args: ['allow', 'DNS'], ...dual(w('accept', both, '53')) },
];

/** Commands ufw refuses with "ERROR: Bad port", and the port we hand-edit into a written user.rules instead. */
/** Ports ufw refuses, and the code we report on them: a name /etc/services does not know is unknown-service. */
const BAD_PORTS: { args: string[]; edit: string; code: 'invalid-port' | 'unknown-service' }[] = [
  { args: ['allow', '70000'], edit: '70000', code: 'invalid-port' },
  { args: ['allow', '0/tcp'], edit: '0', code: 'invalid-port' },
  { args: ['allow', '2000:1000/tcp'], edit: '2000:1000', code: 'invalid-port' },
  { args: ['allow', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16/tcp'], edit: '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', code: 'invalid-port' },
  { args: ['allow', 'nosuchservice/tcp'], edit: 'nosuchservice', code: 'unknown-service' },
];

const GOOD = ['allow', '2222/tcp'];
const APP_INFO = ['app', 'info', 'all'];

/** Profile files: the corpus's, ufw's stock ones and one of ours. */
const profileFiles: { name: string; text: string }[] = [];
if (fs.existsSync(corpusDir)) {
  for (const f of fs.readdirSync(corpusDir).sort())
    if (!/\.rules$/.test(f)) profileFiles.push({ name: f, text: fs.readFileSync(path.join(corpusDir, f), 'utf8') });
}
if (fs.existsSync('/etc/ufw/applications.d')) {
  for (const f of fs.readdirSync('/etc/ufw/applications.d').sort())
    profileFiles.push({ name: `stock: ${f}`, text: fs.readFileSync(path.join('/etc/ufw/applications.d', f), 'utf8') });
}
profileFiles.push({ name: 'ours: portolan-test', text: OUR_PROFILE });
/** The file's own name (the part after the corpus prefix): ufw skips some names (*.dpkg-dist, ...). */
const profileBase = (name: string) =>
  name
    .replace(/^(stock|ours): /, '')
    .split('__')
    .pop()!;

describe('oracle: ufw writes what we read', function () {
  this.timeout(180000);
  const registry = loadRegistry();
  const resolve = (n: string, p?: 'tcp' | 'udp' | 'sctp') => registry.serviceToPort(n, p);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-ufw-'));
  const template = path.join(tmp, 'template');
  let ufw = '';
  let iptablesRestore = '';
  const tally = { commands: 0, commandsAgree: 0, refusals: 0, refusalsAgree: 0, profileFiles: 0, profilesAgree: 0 };

  before(async function () {
    ufw = requireProgram(this, ['ufw', '/usr/sbin/ufw'], 'ufw');
    iptablesRestore = requireProgram(this, ['iptables-legacy-restore', '/usr/sbin/iptables-legacy-restore'], 'iptables');
    // A root of ufw's own files, as oracles.md describes; copied afresh for every case.
    stockUfwRoot(template);
    fs.writeFileSync(path.join(template, 'etc/ufw/applications.d/portolan-test'), OUR_PROFILE);
    // ufw is a Python program (a quarter second a call): run every case's commands up front, in parallel.
    const jobs: (() => Promise<void>)[] = [];
    COMMANDS.forEach((c, n) => {
      const root = freshRoot(`cmd${n}`);
      jobs.push(async () => void results.set(key(root, c.args), await ufwAsync(root, c.args)));
    });
    BAD_PORTS.forEach((c, n) => {
      const root = freshRoot(`bad${n}`);
      jobs.push(async () => {
        results.set(key(root, c.args), await ufwAsync(root, c.args));
        results.set(key(root, GOOD), await ufwAsync(root, GOOD));
      });
    });
    profileFiles.forEach((p, n) => {
      const root = freshRoot(`app${n}`);
      const dir = path.join(root, 'etc/ufw/applications.d');
      fs.rmSync(dir, { recursive: true });
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, profileBase(p.name)), p.text);
      jobs.push(async () => void results.set(key(root, APP_INFO), await ufwAsync(root, APP_INFO)));
    });
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) await jobs[next++]();
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  });

  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    console.log(
      `      ufw oracle: commands ${tally.commandsAgree}/${tally.commands} read as asked; refused ports ${tally.refusalsAgree}/${tally.refusals} flagged when hand-edited; profile files ${tally.profilesAgree}/${tally.profileFiles} equal to \`ufw app info all\``,
    );
  });

  const freshRoot = (name: string) => {
    const root = path.join(tmp, name);
    fs.cpSync(template, root, { recursive: true, verbatimSymlinks: true });
    return root;
  };
  type Result = { status: number; stdout: string; stderr: string };
  const results = new Map<string, Result>();
  const key = (root: string, args: string[]) => `${root}\u0000${args.join('\u0000')}`;
  const ufwAsync = (root: string, args: string[]) =>
    new Promise<Result>((done) =>
      execFile(ufw, [`--rootdir=${root}`, `--datadir=${root}`, ...args], { timeout: 60000 }, (error, stdout, stderr) =>
        done({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      ),
    );
  /** What ufw said for these arguments under this root (run in before()). */
  const ufwRun = (root: string, args: string[]): Result => results.get(key(root, args)) ?? { status: -1, stdout: '', stderr: 'not run' };
  const rootOf = (name: string) => path.join(tmp, name);
  const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

  /** Our inbound rules, as comparable text. */
  const shownRules = (rules: FirewallRule[]) =>
    rules
      .map((r) =>
        [r.action, r.protocol, r.ports?.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(',') ?? '', r.source ?? '', r.iface ?? ''].join(
          ' ',
        ),
      )
      .sort();
  const wantedRules = (wants: Want[]) =>
    wants
      .flatMap((want) =>
        want.direction === 'out' ? [] : want.protocols.map((p) => [want.action, p, want.ports ?? '', want.source ?? '', want.iface ?? ''].join(' ')),
      )
      .sort();

  describe('commands', () => {
    COMMANDS.forEach((c, n) => {
      it(`ufw ${c.args.join(' ')}`, () => {
        tally.commands++;
        const root = rootOf(`cmd${n}`);
        const r = ufwRun(root, c.args);
        assert.strictEqual(r.status, 0, `ufw refused: ${r.stdout}${r.stderr}`);
        for (const [fam, rel, given] of [
          ['v4', 'etc/ufw/user.rules', c.v4],
          ['v6', 'etc/ufw/user6.rules', c.v6],
        ] as const) {
          const wants = given === undefined ? [] : Array.isArray(given) ? given : [given];
          const text = read(root, rel);
          const parse = parseUserRules(text, `/etc/ufw/${path.basename(rel)}`, resolve);
          assert.deepStrictEqual(
            parse.findings.filter((f) => f.severity === 'error'),
            [],
            `${fam}: errors on a file ufw wrote`,
          );
          assert.deepStrictEqual(shownRules(parse.firewall!.inputRules), wantedRules(wants), `${fam}: inbound rules`);
          const x = parse.extra as UfwRulesExtra;
          assert.strictEqual(x.tuples.length, wants.length, `${fam}: tuples`);
          wants.forEach((want, ti) => {
            const t = x.tuples[ti];
            assert.strictEqual(t.direction, want.direction ?? 'in', `${fam}: direction`);
            // The -A lines ufw wrote carry the ports the command named, for each protocol it named.
            const aLineFacts = parse.facts.filter((f, i) => x.factTuple[i] === ti && !(t.dport ?? []).some((e) => e.span === f.span));
            const seen = [...new Set(aLineFacts.map((f) => `${f.protocol} ${f.port === f.portEnd ? f.port : `${f.port}-${f.portEnd}`}`))].sort();
            const expected = want.ports
              ? want.protocols
                  .filter((p) => p !== 'any')
                  .flatMap((p) => want.ports!.split(',').map((q) => `${p} ${q}`))
                  .sort()
              : [];
            assert.deepStrictEqual(seen, expected, `${fam}: ports of the -A lines`);
          });
        }
        tally.commandsAgree++;
      });
    });
  });

  describe('refused ports', () => {
    BAD_PORTS.forEach((c, n) => {
      it(`ufw ${c.args.join(' ')} is refused, and the port hand-edited into user.rules gives ${c.code}`, () => {
        tally.refusals++;
        const root = rootOf(`bad${n}`);
        const r = ufwRun(root, c.args);
        assert.notStrictEqual(r.status, 0, 'ufw accepted the command');
        assert.match(r.stdout + r.stderr, /ERROR: Bad port/);
        // A rule ufw accepts, with its port replaced by the refused one in the tuple and the -A line.
        assert.strictEqual(ufwRun(root, GOOD).status, 0);
        const edited = read(root, 'etc/ufw/user.rules')
          .replace('### tuple ### allow tcp 2222 ', `### tuple ### allow tcp ${c.edit} `)
          .replace(/-p tcp --dport 2222 /, c.edit.includes(',') ? `-p tcp -m multiport --dports ${c.edit} ` : `-p tcp --dport ${c.edit} `);
        const parse = parseUserRules(edited, '/etc/ufw/user.rules', resolve);
        const index = new LineIndex(edited);
        const lineOf = (needle: string) => edited.split('\n').findIndex((l) => l.includes(needle)) + 1;
        const invalid = parse.findings.filter((f) => f.code === c.code && f.severity === 'error').map((f) => index.position(f.span.start).line + 1);
        assert.ok(
          invalid.includes(lineOf('### tuple ### allow tcp')),
          `no ${c.code} on the tuple: ${parse.findings.map((f) => `${f.code} ${f.message}`).join(' | ')}`,
        );
        // The -A line is judged by iptables-restore, which ufw-init runs: 0 is a port to it.
        fs.writeFileSync(path.join(root, 'etc/ufw/user.rules.edited'), edited);
        const verdict = run('sh', ['-c', '"$0" --test < "$1"', iptablesRestore, path.join(root, 'etc/ufw/user.rules.edited')]);
        const aLine = lineOf('-A ufw-user-input -p tcp');
        assert.strictEqual(
          invalid.includes(aLine),
          verdict.status !== 0,
          `-A line: iptables-restore ${verdict.status === 0 ? 'accepts' : 'refuses'} it, we ${invalid.includes(aLine) ? 'do not' : 'do'}`,
        );
        tally.refusalsAgree++;
      });
    });
  });

  describe('application profiles', () => {
    profileFiles.forEach((p, n) => {
      it(p.name, () => {
        tally.profileFiles++;
        const root = rootOf(`app${n}`);
        const base = profileBase(p.name);
        const r = ufwRun(root, APP_INFO);
        const theirs = new Map<string, string[]>();
        let current = '';
        let inPorts = false;
        for (const line of r.stdout.split('\n')) {
          const m = /^Profile: (.*)$/.exec(line);
          if (m) {
            current = m[1];
            theirs.set(current, []);
            inPorts = false;
          } else if (/^Ports?:$/.test(line)) inPorts = true;
          else if (inPorts && /^ {2}\S/.test(line)) theirs.get(current)!.push(line.trim());
          else if (line.trim() === '' || line === '--') inPorts = false;
        }
        const parse = parseUfwProfiles(p.text, `/etc/ufw/applications.d/${base}`, resolve);
        const ours = new Map<string, string[]>();
        if (!isIgnoredProfileFile(base)) {
          for (const prof of (parse.extra as UfwAppExtra).profiles)
            ours.set(
              prof.name,
              prof.ports.map((g) => `${g.elems.map((e) => e.text).join(',')}${g.protocol === 'any' ? '' : `/${g.protocol}`}`),
            );
        }
        const sorted = (m: Map<string, string[]>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
        assert.deepStrictEqual(sorted(ours), sorted(theirs), `ufw app info all said:\n${r.stdout}${r.stderr}`);
        tally.profilesAgree++;
      });
    });
  });

  describe('corpus files are read without throwing', () => {
    const files = fs.existsSync(corpusDir) ? fs.readdirSync(corpusDir).sort() : [];
    it(`${files.length} files`, () => {
      for (const f of files) {
        const text = fs.readFileSync(path.join(corpusDir, f), 'utf8');
        const parses: FileParse[] = /\.rules$/.test(f)
          ? [parseUserRules(text, `/etc/ufw/${f.split('__').pop()}`, resolve)]
          : [parseUfwProfiles(text, `/etc/ufw/applications.d/${f}`, resolve), parseUfwConfig(text, `/etc/ufw/${f}`)];
        for (const p of parses) for (const x of p.findings) assert.ok(x.span.start <= x.span.end && x.span.end <= text.length, `${f}: span out of the text`);
      }
      // And through the engine, as a workspace mirroring /etc.
      const ws: Record<string, string> = {};
      for (const f of files) {
        const base = f.split('__').pop()!;
        ws[/\.rules$/.test(f) ? `${f}/etc/ufw/${base}` : `etc/ufw/applications.d/${f}`] = fs.readFileSync(path.join(corpusDir, f), 'utf8');
      }
      const result = engineWith(ws).analyze();
      assert.ok(result.facts.length > 0);
    });
  });
});
