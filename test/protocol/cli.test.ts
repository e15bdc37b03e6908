import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const cli = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });

describe('portolan check (command line)', () => {
  it('prints file:line:col severity code message for the examples and exits 1 on errors', () => {
    const r = cli(['check', 'examples']);
    assert.strictEqual(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const findings = lines.slice(0, -1);
    assert.ok(findings.length >= 5);
    for (const l of findings) assert.match(l, /^examples\/\S+:\d+:\d+ (error|warning|information|hint) [a-z-]+ \S/);
    assert.match(lines[lines.length - 1], /^\d+ files checked: \d+ errors, \d+ warnings, \d+ notes$/);
    assert.ok(findings.some((l) => l.startsWith('examples/etc/ssh/sshd_config.d/10-extra.conf:2:6 error invalid-port')));
  });

  it('exits 0 on a clean tree and 2 on a missing path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-cli-'));
    fs.mkdirSync(path.join(dir, 'etc/ssh'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'etc/ssh/sshd_config'), 'Port 2222\n');
    const clean = cli(['check', dir]);
    assert.strictEqual(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /1 files checked: 0 errors, 0 warnings, 0 notes/);
    const missing = cli(['check', path.join(dir, 'nope')]);
    assert.strictEqual(missing.status, 2);
    assert.match(missing.stderr, /no such file or directory/);
  });
});
