/**
 * Oracle: jump loops and jump depth as the kernel judges them. Each ruleset is loaded for real in a
 * network namespace the test makes (nft -f; iptables-restore, the nf_tables backend Debian ships):
 * the program either loads it or names the line it failed on ("Too many links"). Our finding (a
 * `syntax` Error in nftables, an Error for an iptables loop, a Warning for iptables depth, which only
 * the nf_tables backend refuses) must sit on that line, and there must be none when it loads.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineWith, shownFindings } from '../helpers/engine';
import { findProgram, isRoot, run } from '../helpers/programs';
import * as g from '../hostile/generators';

function nftChain(n: number): string {
  const out = ['table inet f {', '  chain input {', '    type filter hook input priority 0; policy drop;', '    jump c0', '  }'];
  for (let i = 0; i < n; i++) out.push(`  chain c${i} {`, i < n - 1 ? `    goto c${i + 1}` : '    tcp dport 22 accept', '  }');
  return [...out, '}', ''].join('\n');
}

function iptChain(n: number): string {
  const out = ['*filter', ':INPUT DROP [0:0]'];
  for (let i = 0; i < n; i++) out.push(`:C${i} - [0:0]`);
  out.push('-A INPUT -j C0');
  for (let i = 0; i < n - 1; i++) out.push(`-A C${i} -j C${i + 1}`);
  out.push(`-A C${n - 1} -p tcp --dport 22 -j ACCEPT`, 'COMMIT', '');
  return out.join('\n');
}

const NFT: Record<string, string> = {
  'chain of 15': nftChain(15),
  'chain of 16 (gotos)': nftChain(16),
  'chain of 40': nftChain(40),
  'diamond 15x4': g.nftDiamond(15, 4),
  'diamond 16x4': g.nftDiamond(16, 4),
  'diamond 20x3': g.nftDiamond(20, 3),
  loop: g.nftJumpLoop(),
};
const IPT: Record<string, string> = {
  'chain of 15': iptChain(15),
  'chain of 16': iptChain(16),
  'chain of 25': iptChain(25),
  'diamond 30x2': g.iptablesDiamond(30, 2),
  'diamond 15x2': g.iptablesDiamond(15, 2),
  loop: g.iptablesJumpLoop(),
};

/** The line the program failed on (its first), or undefined when it loaded the ruleset. */
function programLine(cmd: string[], file: string): number | undefined {
  const r = run('unshare', ['-n', ...cmd, file]);
  if (r.status === 0) return undefined;
  const m = /:(\d+):\d+-\d+: Error/.exec(r.stderr) ?? /line (\d+):/.exec(r.stderr);
  assert.ok(m, `a line in: ${r.stderr}`);
  return Number(m[1]);
}

describe('jump loops and depth: nft -f and iptables-restore (nf_tables) load them for real (oracle)', function () {
  this.timeout(300000);
  let dir: string;
  before(function () {
    const missing = ['unshare', 'nft', 'iptables-restore'].filter((p) => !findProgram([p, `/usr/sbin/${p}`]));
    const why = !isRoot() ? 'needs root (network namespaces)' : missing.length ? `${missing.join(', ')} missing` : undefined;
    if (why) {
      if (process.env.CI === 'true') throw new Error(`jump limits oracle ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    if (!/nf_tables/.test(run('iptables-restore', ['--version']).stdout)) {
      console.log('      skipped: iptables-restore is not the nf_tables backend');
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-jumps-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('our finding sits on the line the kernel refuses, and there is none where it loads', () => {
    let agreed = 0;
    let refused = 0;
    const problems: string[] = [];
    const check = (kind: string, name: string, text: string, file: string, cmd: string[], severity: string) => {
      const onDisk = path.join(dir, `${kind}-${name.replace(/\W+/g, '-')}`);
      fs.writeFileSync(onDisk, text);
      const theirs = programLine(cmd, onDisk);
      const ours = shownFindings(engineWith({ [file]: text })).filter((f) => /Jump (loop|\d+ levels deep)/.test(f.message));
      if (theirs !== undefined) refused++;
      const want = theirs === undefined ? [] : [theirs];
      const got = ours.map((f) => f.line);
      const sev = ours.every((f) => f.severity === (/loop/.test(f.message) ? 'error' : severity));
      if (JSON.stringify(got) === JSON.stringify(want) && sev) agreed++;
      else
        problems.push(
          `${kind} ${name}: the program ${theirs ? `fails on line ${theirs}` : 'loads it'}, ours: ${JSON.stringify(ours.map((f) => [f.line, f.severity]))}`,
        );
    };
    for (const [name, text] of Object.entries(NFT)) check('nft', name, text, '/ws/etc/nftables.conf', ['nft', '-f'], 'error');
    for (const [name, text] of Object.entries(IPT)) check('iptables', name, text, '/ws/etc/iptables/rules.v4', ['iptables-restore'], 'warning');
    const total = Object.keys(NFT).length + Object.keys(IPT).length;
    console.log(`      jump limits: ${agreed}/${total} agree with the kernel (${refused} refused, ${total - refused} loaded)`);
    assert.deepEqual(problems, []);
    assert.ok(refused >= 6 && total - refused >= 3, 'both outcomes are exercised');
  });
});
