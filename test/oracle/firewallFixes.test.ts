/**
 * The firewall quick fixes (firewall-blocked, ssh-lockout), applied over the cases below and every
 * corpus firewall (test/oracle/netfilter/corpus.ts) with a listener on the ports it names, judged by
 * the programs that read each file: `iptables-restore --test` / `ip6tables-restore --test` (iptables
 * files, ufw's user rules), `ufw show added` (ufw reads the tuple back as `ufw allow P/tcp`),
 * `nft -c -f`, `firewall-offline-cmd` (the zone lists the port, --check-config passes), `sshd -T` (the
 * kept port). Each edit is an insertion (or, for the kept port, the digits), and re-analysed the
 * finding is gone and no error or warning is new. A corpus file the program refuses before any fix is
 * not judged (counted). Real netfilter opening the port: test/oracle/netfilter.test.ts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Finding, Fix } from '../../server/src/core/types';
import { engineWith, withFix } from '../helpers/engine';
import { run } from '../helpers/programs';
import { firewalldConfig, requireFirewallPrograms, ufwShowAdded } from '../helpers/fixOracles';
import { SshdOracle } from '../helpers/sshd';
import { corpusCases } from './netfilter/corpus';

const PORTS = [22, 80, 443, 8080, 9100];
const listener = (ports: number[]) => `events {}\nhttp {\n  server {\n${ports.map((p) => `    listen ${p};\n    listen [::]:${p};\n`).join('')}  }\n}\n`;
const V4 = 'etc/iptables/rules.v4';
const CASES: Record<string, string>[] = [
  { [V4]: '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n', 'etc/ssh/sshd_config': 'Port 2222\nAddressFamily inet\n' },
  { [V4]: '*filter\n:INPUT ACCEPT [0:0]\n:web - [0:0]\n-A INPUT -j web\n-A web -p tcp --dport 22 -j ACCEPT\n-A web -p tcp -j REJECT\nCOMMIT\n' },
  { 'etc/iptables/rules.v6': '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -j ACCEPT\nCOMMIT\n' },
  { 'etc/nftables.conf': 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n' },
  { 'etc/nftables.conf': 'table ip f {\n  chain input { type filter hook input priority 0; policy drop; }\n}\n', 'etc/ssh/sshd_config': 'Port 2200\n' },
  {
    'etc/nftables.conf':
      'add table inet f\nadd chain inet f input { type filter hook input priority 0; policy accept; }\nadd rule inet f input tcp dport 22 accept\nadd rule inet f input drop\n',
  },
  {
    'etc/ufw/user.rules':
      '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### deny tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 80 -j DROP\n\n### END RULES ###\nCOMMIT\n',
    'etc/ufw/user6.rules': '*filter\n:ufw6-user-input - [0:0]\n### RULES ###\n\n### END RULES ###\nCOMMIT\n',
    'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\nIPV6=yes\n',
    'etc/ufw/ufw.conf': 'ENABLED=yes\n',
  },
  {
    'etc/firewalld/zones/public.xml':
      '<?xml version="1.0" encoding="utf-8"?>\n<zone target="DROP">\n  <short>Public</short>\n  <service name="ssh"/>\n</zone>\n',
    'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
    'etc/ssh/sshd_config': 'Port 2022\n',
  },
];

const serious = (l: Finding[]) => l.filter((f) => f.severity === 'error' || f.severity === 'warning');

describe('firewall quick fixes against iptables-restore, ufw, nft, firewall-offline-cmd and sshd -T', function () {
  // firewall-offline-cmd is a Python program of a second or more a call: the corpus's zones take minutes.
  this.timeout(1_800_000);
  let dir: string;
  let sshd: SshdOracle;
  let tools: Record<string, string> = {};
  const counts = { applied: 0, accepted: 0, gone: 0, notJudged: 0, byProgram: {} as Record<string, number> };

  before(function () {
    ({ tools, sshd } = requireFirewallPrograms(this));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-fw-fix-'));
  });
  after(() => {
    sshd?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const scratch = (name: string, text: string) => {
    const f = path.join(dir, `${n++}-${name}`);
    fs.writeFileSync(f, text);
    return f;
  };

  /** The program's word on one file of the case (undefined: accepted), after or before the fix. */
  async function refusal(rel: string, files: Record<string, string>, fix?: Fix): Promise<string | undefined> {
    const text = files[rel];
    const port = fix ? /(?:Allow TCP|Keep SSH on port) (\d+)/.exec(fix.title)?.[1] : undefined;
    const tally = (program: string) => (counts.byProgram[program] = (counts.byProgram[program] ?? 0) + (fix ? 1 : 0));
    if (/(^|\/)(rules\.v[46]|user6?\.rules)$/.test(rel)) {
      const v6 = /rules\.v6$|user6\.rules$/.test(rel);
      const r = run(tools.unshare, ['-n', 'sh', '-c', '"$0" --test < "$1"', v6 ? tools.ip6t : tools.ipt, scratch('rules', text)]);
      if (r.status !== 0) return `${v6 ? 'ip6tables' : 'iptables'}-restore --test: ${r.stderr}`;
      tally(v6 ? 'ip6tables-restore' : 'iptables-restore');
      if (/user6?\.rules$/.test(rel) && fix) {
        const shown = ufwShowAdded(tools.ufw, path.join(dir, `ufw-${n++}`), files);
        if (shown.status !== 0 || !shown.out.includes(`ufw allow ${port}/tcp`)) return `ufw show added: ${shown.out}`;
        tally('ufw');
      }
      return undefined;
    }
    if (/nftables\.conf$|\.nft$/.test(rel)) {
      const r = run(tools.unshare, ['-n', tools.nft, '-c', '-f', scratch('ruleset.nft', text)]);
      if (r.status !== 0) return `nft -c: ${r.stderr}`;
      tally('nft');
      return undefined;
    }
    if (/firewalld\/zones\/[^/]+\.xml$/.test(rel)) {
      // With the zones a firewalld.conf: without one firewall-offline-cmd says 'ERROR: Failed to load firewalld.conf' (every fix was not judged).
      const conf = firewalldConfig(path.join(dir, `fwd-${n++}`), files, 'public');
      const zone = path.basename(rel, '.xml');
      const list = run(tools.fwd, [`--system-config=${conf}`, `--zone=${zone}`, '--list-ports']);
      const check = run(tools.fwd, [`--system-config=${conf}`, '--check-config']);
      const said = list.stdout + list.stderr + check.stdout + check.stderr;
      if (list.status !== 0 || check.status !== 0 || /ERROR|WARNING: (INVALID|PARSE)/.test(said)) return `firewall-offline-cmd: ${said}`;
      if (port && !list.stdout.split(/\s+/).includes(`${port}/tcp`)) return `firewall-offline-cmd --list-ports: ${list.stdout}`;
      tally('firewall-offline-cmd');
      return undefined;
    }
    if (/sshd_config$/.test(rel)) {
      const v = await sshd.judge(sshd.materialize({ name: 'keep', config: text }));
      if (v.status !== 0) return `sshd -T: ${v.stderr}`;
      if (port && !v.ports.includes(Number(port))) return `sshd -T prints ports ${v.ports}`;
      tally('sshd -T');
      return undefined;
    }
    return `no program judges ${rel}`;
  }

  /** The program's word on a file before any fix, once per text (a corpus file offers a fix per listener port). */
  const refusedBefore = new Map<string, string | undefined>();
  async function refusalBefore(rel: string, files: Record<string, string>): Promise<string | undefined> {
    const key = `${rel}\n${rel.includes('firewalld/') ? JSON.stringify(files) : files[rel]}`;
    if (!refusedBefore.has(key)) refusedBefore.set(key, await refusal(rel, files));
    return refusedBefore.get(key);
  }

  async function judgeCase(name: string, files: Record<string, string>): Promise<void> {
    const all = (f: Record<string, string>) => [...engineWith(f).analyze().findingsByFile.values()].flat();
    const before = all(files);
    for (const finding of before.filter((f) => f.code === 'firewall-blocked' || f.code === 'ssh-lockout')) {
      for (const fix of (finding.fixes ?? []).filter((x) => /^(Allow|Keep SSH)/.test(x.title))) {
        const edited = [...new Set(fix.edits.map((e) => e.file.slice('/ws/'.length)))];
        if (fix.title.startsWith('Allow'))
          assert.ok(
            fix.edits.every((e) => e.span.start === e.span.end && e.newText.includes(/\d+/.exec(fix.title.slice(10))![0])),
            `${name}: ${fix.title}: insertions`,
          );
        else
          assert.ok(
            fix.edits.every((e) => /^\d+$/.test(e.newText) && /^\d+$/.test(files[e.file.slice(4)].slice(e.span.start, e.span.end))),
            `${name}: ${fix.title}: the digits only`,
          );
        let judged = true;
        for (const rel of edited) if ((await refusalBefore(rel, files)) !== undefined) judged = false;
        if (!judged) {
          counts.notJudged++;
          continue;
        }
        counts.applied++;
        const fixed = withFix(files, fix);
        for (const rel of edited) {
          const why = await refusal(rel, fixed, fix);
          assert.strictEqual(why, undefined, `${name}: ${fix.title}: ${why}\n--- ${rel}:\n${fixed[rel]}`);
        }
        counts.accepted++;
        const after = all(fixed);
        assert.ok(
          !after.some((f) => f.code === finding.code && f.file === finding.file && f.span.start === finding.span.start),
          `${name}: ${fix.title}: ${finding.code} still there`,
        );
        const key = (f: Finding) => `${f.code}|${f.file}|${f.message}`;
        const had = new Set(serious(before).map(key));
        assert.deepStrictEqual(
          serious(after)
            .filter((f) => !had.has(key(f)) && f.code !== 'firewall-blocked')
            .map((f) => f.message),
          [],
          `${name}: ${fix.title}: new findings`,
        );
        counts.gone++;
      }
    }
  }

  it('the cases: every fix accepted, its finding gone, nothing new', async () => {
    // Beside sshd, the listener leaves 22 free: "Keep SSH on port 22" is offered only for a port nothing else binds.
    for (const [i, files] of CASES.entries())
      await judgeCase(`case ${i + 1}`, { ...files, 'etc/nginx/nginx.conf': listener(files['etc/ssh/sshd_config'] ? PORTS.filter((p) => p !== 22) : PORTS) });
    assert.ok(counts.applied >= 20, `fixes applied: ${counts.applied}`);
    assert.ok((counts.byProgram['sshd -T'] ?? 0) >= 2, `Keep SSH fixes judged by sshd -T: ${counts.byProgram['sshd -T'] ?? 0}`);
    assert.ok((counts.byProgram['firewall-offline-cmd'] ?? 0) >= 1, 'firewalld allow fixes judged by firewall-offline-cmd');
  });

  it('the corpus firewalls with a listener on the ports they name: every fix accepted, its finding gone, nothing new', async function () {
    const cases = corpusCases().filter((c) => !c.ufwCommands);
    if (cases.length === 0) {
      console.log('      skipped: no corpus firewalls found (../shared/corpus)');
      this.skip();
    }
    const before = counts.applied;
    for (const c of cases) {
      const named = new Set<number>(PORTS);
      for (const facts of engineWith(c.files).analyze().factsByFile.values())
        for (const f of facts) if (f.role === 'firewall' && f.port > 0 && f.port === f.portEnd && named.size < 12) named.add(f.port);
      await judgeCase(c.id, { ...c.files, 'etc/nginx/nginx.conf': listener([...named]) });
    }
    assert.ok(counts.applied - before >= 50, `corpus fixes applied: ${counts.applied - before}`);
  });

  after(() =>
    console.log(
      `      firewall fixes: ${counts.applied} applied, ${counts.accepted} accepted (${Object.entries(counts.byProgram)
        .map(([p, k]) => `${p} ${k}`)
        .join(', ')}), ${counts.gone} findings gone with nothing new; ${counts.notJudged} not judged (the program refuses the file before the fix)`,
    ),
  );
});
