/**
 * The invalid-port "Swap to LOW:HIGH" and unknown-service "Use NAME" fixes, applied one at a time over
 * a generated spread and over every corpus file whose findings offer them, judged by the program that
 * reads the file: `iptables-restore --test` / `ip6tables-restore --test`, `ufw show added` (a ufw
 * tuple: ufw reads the rule back) and then iptables-restore on its -A lines, `nft -c -f`,
 * `firewall-offline-cmd --check-config` (a system-config directory with the zone, the workspace's
 * services and firewalld.conf), `docker-compose config`, `sshd -T`. Each fix must be accepted,
 * re-analysed its finding is gone, and no error or warning is new. ufw's own user.rules/user6.rules for
 * ranged commands (written by the real ufw, a range then reversed by hand) must come back exactly as
 * ufw wrote them from the one fix. The counts are printed. firewalld itself swaps a reversed
 * `<port port="9000-8000">` (no finding, so no fix).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyEdits } from '../../server/src/core/fixes';
import { engineWith } from '../helpers/engine';
import { run } from '../helpers/programs';
import { firewalldConfig, newSerious, requireFirewallPrograms, serious, ufwShowAdded } from '../helpers/fixOracles';
import { stockUfwRoot } from '../helpers/firewall';
import { SshdOracle } from '../helpers/sshd';
import { loadRegistry } from '../../server/src/workspace/data';
import { corpusCases, corpusRoot } from './netfilter/corpus';

const V4 = 'etc/iptables/rules.v4';
const V6 = 'etc/iptables/rules.v6';
const NFT = 'etc/nftables.conf';
const ZONE = 'etc/firewalld/zones/public.xml';
const COMPOSE = 'srv/app/compose.yaml';
const SSHD = 'etc/ssh/sshd_config';
const USER = 'etc/ufw/user.rules';

const filter = (lines: string[]) => `*filter\n:INPUT DROP [0:0]\n${lines.join('\n')}\nCOMMIT\n`;
const nat = (lines: string[]) => `*nat\n:PREROUTING ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n`;
const nft = (rules: string[]) =>
  `table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`;
const zone = (body: string) => `<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <short>Public</short>\n${body}</zone>\n`;
const compose = (ports: string) => `services:\n  app:\n    image: example/app\n${ports}`;
const ufw = (tuple: string, aLine: string) =>
  `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### ${tuple}\n${aLine}\n\n### END RULES ###\nCOMMIT\n`;

/** The generated spread: reversed ranges and misspelled names in every syntax that reads them. */
function generated(): { name: string; files: Record<string, string> }[] {
  const out: { name: string; files: Record<string, string> }[] = [];
  const add = (name: string, files: Record<string, string>) => out.push({ name, files });
  for (const r of ['9000:8000', '65535:1', '1025:1024', 'https:http'])
    add(`iptables tcp --dport ${r}`, { [V4]: filter([`-A INPUT -p tcp --dport ${r} -j ACCEPT`]) });
  add('iptables udp --dport 9000:8000 (accepted, matches nothing)', { [V4]: filter(['-A INPUT -p udp --dport 9000:8000 -j ACCEPT']) });
  add('iptables multiport', { [V4]: filter(['-A INPUT -p tcp -m multiport --dports 22,9000:8000,443 -j ACCEPT']) });
  add('iptables --sport', { [V4]: filter(['-A INPUT -p tcp --sport 2000:1000 -j ACCEPT']) });
  add('ip6tables --dport', { [V6]: filter(['-A INPUT -p tcp --dport 9000:8000 -j ACCEPT']) });
  add('iptables REDIRECT --to-ports', { [V4]: nat(['-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 9000-8000']) });
  add('iptables DNAT --to-destination', { [V4]: nat(['-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.1:9000-8000']) });
  for (const [p, n] of [
    ['tcp', 'postgress'],
    ['tcp', 'SSH'],
    ['tcp', 'telent'],
    ['tcp', 'htps'],
    ['udp', 'domian'],
  ])
    add(`iptables ${p} --dport ${n}`, { [V4]: filter([`-A INPUT -p ${p} --dport ${n} -j ACCEPT`]) });
  add('iptables multiport name', { [V4]: filter(['-A INPUT -p tcp -m multiport --dports 22,telent -j ACCEPT']) });
  for (const r of ['tcp dport 9000-8000 accept', 'tcp dport { 22, 9000-8000 } accept', 'udp dport 61000-60000 accept', 'tcp sport 2000-1000 accept'])
    add(`nft ${r}`, { [NFT]: nft([r]) });
  for (const n of ['postgress', 'SSH', 'imap2s', 'telent']) add(`nft tcp dport ${n}`, { [NFT]: nft([`tcp dport ${n} accept`]) });
  const conf = { 'etc/firewalld/firewalld.conf': 'DefaultZone=public\n' };
  for (const s of ['postgres', 'mysq', 'sssh', 'htps'])
    add(`firewalld service ${s}`, { ...conf, [ZONE]: zone(`  <service name="${s}"/>\n  <service name="ssh"/>\n`) });
  add('firewalld service of the workspace', {
    ...conf,
    'etc/firewalld/services/shopapi.xml': '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <port port="9000" protocol="tcp"/>\n</service>\n',
    [ZONE]: zone('  <service name="shopap"/>\n'),
  });
  add('firewalld port name', { ...conf, [ZONE]: zone('  <port port="postgress" protocol="tcp"/>\n') });
  add('firewalld rich rule service', {
    ...conf,
    [ZONE]: zone('  <rule family="ipv4"><source address="10.0.0.0/8"/><service name="postgres"/><accept/></rule>\n'),
  });
  for (const p of ['"9000-8000:80"', '"127.0.0.1:9000-8000:80"', '"9001-9000:8001-8002"', '"8080-8081:81-80/udp"'])
    add(`compose ${p}`, { [COMPOSE]: compose(`    ports:\n      - ${p}\n`) });
  // Long syntax's published: docker-compose 1.29 refuses any range there, so no swap is offered.
  add('compose long published', { [COMPOSE]: compose('    ports:\n      - target: 80\n        published: "9000-8000"\n') });
  add('compose expose', { [COMPOSE]: compose('    expose:\n      - "3001-3000"\n') });
  add('ufw tuple and -A line reversed', {
    [USER]: ufw('allow tcp 2000:1000 0.0.0.0/0 any 0.0.0.0/0 in', '-A ufw-user-input -p tcp --dport 2000:1000 -j ACCEPT'),
  });
  add('ufw tuple and -A line misspelled', { [USER]: ufw('allow tcp sshh 0.0.0.0/0 any 0.0.0.0/0 in', '-A ufw-user-input -p tcp --dport sshh -j ACCEPT') });
  for (const c of ['Port SSH\n', 'Port sshh\n', 'ListenAddress 127.0.0.1:htps\n', 'Port 22\nMatch LocalPort telent\n  PasswordAuthentication no\n'])
    add(`sshd ${JSON.stringify(c)}`, { [SSHD]: c });
  return out;
}

/** ufw commands whose rule holds a range, each run by the real ufw; the case reverses the range by hand in its rules files. */
const UFW_RANGES: [string, string][] = [
  ['allow 1000:2000/tcp', '1000:2000'],
  ['allow log 3000:4000/udp', '3000:4000'],
  ['limit 5000:5001/tcp', '5000:5001'],
  ['allow 80,7000:7100/tcp', '7000:7100'],
  ['allow from 10.0.0.0/8 port 6000:6100 proto tcp', '6000:6100'],
];

/**
 * For each UFW_RANGES command: user.rules (and user6.rules when ufw writes the rule there) as the real
 * ufw wrote them, with the range reversed in the tuple and every -A line; `want` is ufw's own text,
 * which the one "Swap to" fix must give back exactly.
 */
function ufwWrittenCases(ufw: string, dir: string): { name: string; cmd: string; files: Record<string, string>; want: Record<string, string> }[] {
  return UFW_RANGES.flatMap(([cmd, range], i) => {
    const root = path.join(dir, `ufw-written-${i}`);
    stockUfwRoot(root);
    const r = run(ufw, [`--rootdir=${root}`, `--datadir=${root}`, ...cmd.split(' ')]);
    assert.strictEqual(r.status, 0, `ufw ${cmd}: ${r.stdout}${r.stderr}`);
    const reversed = range.split(':').reverse().join(':');
    return ['etc/ufw/user.rules', 'etc/ufw/user6.rules'].flatMap((rel) => {
      const written = fs.readFileSync(path.join(root, rel), 'utf8');
      if (!written.includes(range)) return [];
      return [{ name: `ufw ${cmd} (${rel}, reversed by hand)`, cmd, files: { [rel]: written.split(range).join(reversed) }, want: { [rel]: written } }];
    });
  });
}

/** Every corpus file that some program here judges: the firewalls (as the netfilter oracle reads them), compose files, sshd_configs. */
function corpus(): { name: string; files: Record<string, string> }[] {
  const out = corpusCases().map((c) => ({ name: c.id, files: c.files }));
  for (const [dir, rel] of [
    ['compose', COMPOSE],
    ['sshd', SSHD],
  ] as const) {
    const d = path.join(corpusRoot(), dir);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) out.push({ name: `corpus-${dir}-${f}`, files: { [rel]: fs.readFileSync(path.join(d, f), 'utf8') } });
  }
  return out;
}

const FIX = /^(Swap to|Use) /;
const registry = loadRegistry();

describe('invalid-port and unknown-service fixes against the real programs', function () {
  this.timeout(900000);
  let dir: string;
  let sshd: SshdOracle;
  let tools: Record<string, string> = {};
  const counts = { offered: 0, applied: 0, accepted: 0, gone: 0, notJudged: 0, byProgram: {} as Record<string, number>, byFix: {} as Record<string, number> };

  before(function () {
    ({ tools, sshd } = requireFirewallPrograms(this, true));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-value-fix-'));
  });
  after(() => {
    sshd?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const notJudged: string[] = [];
  let n = 0;
  const scratch = (name: string, text: string) => {
    const f = path.join(dir, `${n++}-${name}`);
    fs.writeFileSync(f, text);
    return f;
  };

  /**
   * The program's word on file `rel` of `files` (undefined: accepted). `listed`: a ufw rules file whose
   * tuple ufw must read back, as one of these lines of `ufw show added`; its -A lines then go to iptables-restore.
   */
  async function refusal(rel: string, files: Record<string, string>, listed?: string[]): Promise<[string, string | undefined]> {
    const text = files[rel];
    if (/(^|\/)(rules\.v[46]|user6?\.rules)$/.test(rel)) {
      if (listed !== undefined) {
        const shown = ufwShowAdded(tools.ufw, path.join(dir, `ufw-${n++}`), files);
        const lines = shown.out.split('\n').map((l) => l.trim());
        if (shown.status !== 0 || !listed.some((w) => lines.includes(w)) || /Skipping/.test(shown.out))
          return ['ufw show added', `wanted "${listed[0]}": ${shown.out}`];
        // The -A lines are the kernel's part: ufw-init loads the file with iptables-restore.
        const [program, why] = await refusal(rel, files);
        return [`ufw show added + ${program}`, why];
      }
      const v6 = /rules\.v6$|user6\.rules$/.test(rel);
      const r = run(tools.unshare, ['-n', 'sh', '-c', '"$0" --test < "$1"', v6 ? tools.ip6t : tools.ipt, scratch('rules', text)]);
      return [v6 ? 'ip6tables-restore' : 'iptables-restore', r.status === 0 ? undefined : r.stderr];
    }
    if (/nftables\.conf$|\.nft$/.test(rel)) {
      const r = run(tools.unshare, ['-n', tools.nft, '-c', '-f', scratch('ruleset.nft', text)]);
      return ['nft -c', r.status === 0 ? undefined : r.stderr];
    }
    if (/firewalld\/zones\/[^/]+\.xml$/.test(rel)) {
      const conf = firewalldConfig(path.join(dir, `fwd-${n++}`), files, path.basename(rel, '.xml'));
      const check = run(tools.fwd, [`--system-config=${conf}`, '--check-config']);
      const said = check.stdout + check.stderr;
      return ['firewall-offline-cmd', check.status === 0 && !/ERROR|WARNING: (INVALID|PARSE)|Configuration error/.test(said) ? undefined : said];
    }
    if (/compose\.ya?ml$/.test(rel)) {
      const d = fs.mkdtempSync(path.join(dir, 'compose-'));
      fs.writeFileSync(path.join(d, 'compose.yaml'), text);
      const r = run(tools.compose, ['-f', path.join(d, 'compose.yaml'), 'config', '-q'], { cwd: d });
      return ['docker-compose config', r.status === 0 ? undefined : r.stderr];
    }
    if (/sshd_config$/.test(rel)) {
      const v = await sshd.judge(sshd.materialize({ name: 'fix', config: text }));
      return ['sshd -T', v.status === 0 ? undefined : v.stderr];
    }
    return ['none', `no program judges ${rel}`];
  }

  /**
   * `want`: the whole text a fixed file must have (what the real program wrote before the range was
   * reversed); `shown`: the line `ufw show added` must list for a fixed ufw rules file.
   */
  async function judgeCase(name: string, files: Record<string, string>, want?: Record<string, string>, shown?: string[]): Promise<void> {
    const all = (f: Record<string, string>) => [...engineWith(f).analyze().findingsByFile.values()].flat();
    const before = all(files);
    for (const finding of before.filter((f) => f.code === 'invalid-port' || f.code === 'unknown-service')) {
      for (const fix of (finding.fixes ?? []).filter((x) => FIX.test(x.title))) {
        counts.offered++;
        const rel = finding.file.slice('/ws/'.length);
        // One edit, or for a ufw tuple one per -A line ufw writes from it: all on the finding's file, one of them the finding's text.
        assert.ok(fix.edits.length >= 1 && fix.edits.every((e) => e.file === finding.file), `${name}: ${fix.title}: edits on the finding's file`);
        assert.ok(fix.edits.length === 1 || /user6?\.rules$/.test(rel), `${name}: ${fix.title}: one edit`);
        const edit = fix.edits.find((e) => e.span.start === finding.span.start && e.span.end === finding.span.end);
        assert.ok(edit, `${name}: ${fix.title}: rewrites exactly the text the finding covers`);
        const fixed = { ...files, [rel]: applyEdits(files[rel], fix.edits) };
        if (want?.[rel] !== undefined) assert.strictEqual(fixed[rel], want[rel], `${name}: ${fix.title}: the whole file as ufw wrote it`);
        const lineAt = (at: number) => fixed[rel].slice(fixed[rel].lastIndexOf('\n', at) + 1, fixed[rel].indexOf('\n', at));
        const tuple = fix.edits.map((e) => /^### tuple ### allow (\w+) (\S+) /.exec(lineAt(e.span.start))).find((m) => m);
        // ufw show added lists the rule as its command (a service name as its port: ufw allow ssh/tcp is listed as ufw allow 22/tcp).
        const resolved = tuple && /^[a-z]/.test(tuple[2]) ? registry.serviceToPort(tuple[2], tuple[1] === 'udp' ? 'udp' : 'tcp') : undefined;
        const listed = shown ?? (tuple ? [`ufw allow ${tuple[2]}/${tuple[1]}`, `ufw allow ${resolved}/${tuple[1]}`] : undefined);
        const [program, why] = await refusal(rel, fixed, listed);
        if (why !== undefined) {
          // Another error of the file (not this finding) may make the program refuse it: counted, not judged.
          const others = serious(all(fixed)).filter((f) => f.file === finding.file && f.severity === 'error' && f.span.start !== finding.span.start);
          if (others.length > 0) {
            counts.notJudged++;
            notJudged.push(`${name}: ${fix.title} (${others.map((o) => o.message).join('; ')})`);
            continue;
          }
        }
        counts.applied++;
        assert.strictEqual(why, undefined, `${name}: ${fix.title}: ${program} refuses the result: ${why}\n--- ${rel}:\n${fixed[rel]}`);
        counts.accepted++;
        counts.byProgram[program] = (counts.byProgram[program] ?? 0) + 1;
        const kind = fix.title.startsWith('Swap') ? 'Swap to' : 'Use NAME';
        counts.byFix[kind] = (counts.byFix[kind] ?? 0) + 1;
        const after = all(fixed);
        const end = edit.span.start + edit.newText.length;
        assert.ok(
          !after.some((f) => f.code === finding.code && f.file === finding.file && f.span.start < end && f.span.end > edit.span.start),
          `${name}: ${fix.title}: ${finding.code} still there`,
        );
        assert.deepStrictEqual(newSerious(before, after), [], `${name}: ${fix.title}: new findings`);
        counts.gone++;
      }
    }
  }

  it('the generated spread: every fix accepted, its finding gone, nothing new', async () => {
    for (const c of generated()) await judgeCase(c.name, c.files);
    const offered = counts.offered;
    for (const c of ufwWrittenCases(tools.ufw, dir)) {
      const at = counts.offered;
      await judgeCase(c.name, c.files, c.want, [`ufw ${c.cmd}`]);
      assert.ok(counts.offered > at, `${c.name}: a swap offered`);
    }
    console.log(`      ufw's own files, a range reversed by hand: ${counts.offered - offered} fixes offered, each giving back exactly what ufw wrote`);
    assert.ok(counts.applied >= 40, `fixes applied: ${counts.applied}`);
    assert.deepStrictEqual(notJudged, [], 'every generated case is judged');
  });

  it('the corpus: every such fix its findings offer, accepted, its finding gone, nothing new', async function () {
    const cases = corpus();
    if (cases.length === 0) {
      console.log('      skipped: no corpus found (../shared/corpus)');
      this.skip();
    }
    const before = counts.offered;
    for (const c of cases) await judgeCase(c.name, c.files);
    console.log(`      corpus: ${cases.length} cases read, ${counts.offered - before} fixes offered`);
  });

  after(() =>
    console.log(
      `      invalid-port/unknown-service fixes: ${counts.offered} offered, ${counts.applied} applied, ${counts.accepted} accepted (${Object.entries(
        counts.byProgram,
      )
        .map(([p, k]) => `${p} ${k}`)
        .join(', ')}; ${Object.entries(counts.byFix)
        .map(([p, k]) => `${p} ${k}`)
        .join(', ')}), ${counts.gone} findings gone with nothing new; ${counts.notJudged} not judged (another error of the file makes the program refuse it)`,
    ),
  );
});
