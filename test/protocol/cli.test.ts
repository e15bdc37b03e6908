/**
 * `portolan check` as a user runs it: the built server/out/cli.js in a child process. Text output,
 * every exit status (0, 1 by threshold and by --max-warnings, 2 for usage and configuration errors),
 * --quiet and --list-files.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const cli = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });

function tree(files: Record<string, string | Buffer>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-cli-')));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Findings lines (the summary line dropped). */
const findingLines = (stdout: string) => stdout.trim().split('\n').slice(0, -1);

describe('portolan check (command line)', () => {
  const dirs: string[] = [];
  const make = (files: Record<string, string | Buffer>) => {
    const d = tree(files);
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('prints file:line:col severity code message for the examples and exits 1 on errors', () => {
    const r = cli(['check', 'examples']);
    assert.strictEqual(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const findings = lines.slice(0, -1);
    assert.ok(findings.length >= 5);
    for (const l of findings) assert.match(l, /^examples\/\S+:\d+:\d+ (error|warning|information|hint) [a-z-]+ \S/);
    assert.match(lines[lines.length - 1], /^\d+ files checked: \d+ errors, \d+ warnings, \d+ notes$/);
    assert.ok(findings.some((l) => l.startsWith('examples/etc/ssh/sshd_config.d/10-extra.conf:2:6 error invalid-port')));
    assert.ok(
      findings.includes(
        'examples/etc/nginx/sites-enabled/shop.example.com:5:19 warning upstream-unbound Upstream web is named after compose service web, which publishes 8080 (srv/shop/compose.yaml:11), not 8000 (its container port); nothing in the workspace binds 127.0.0.1:8000.',
      ),
    );
    assert.strictEqual(lines[lines.length - 1], '19 files checked: 9 errors, 11 warnings, 6 notes');
    assert.strictEqual(r.stderr, '');
  });

  describe('exit status', () => {
    // One warning (ephemeral port), no error.
    const warningOnly = { 'etc/ssh/sshd_config': 'Port 50022\n' };
    // Two warnings: two ephemeral ports.
    const twoWarnings = { 'etc/ssh/sshd_config': 'Port 50022\nPort 50023\n' };

    it('0 on a clean tree', () => {
      const dir = make({ 'etc/ssh/sshd_config': 'Port 2222\n' });
      const r = cli(['check', dir]);
      assert.strictEqual(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^1 files checked: 0 errors, 0 warnings, 0 notes\n$/);
    });

    it('1 on an error; 0 on warnings alone, unless --severity-threshold warning', () => {
      const errors = cli(['check', make({ 'etc/ssh/sshd_config': 'Port 70000\n' })]);
      assert.strictEqual(errors.status, 1, errors.stdout);
      const dir = make(warningOnly);
      const plain = cli(['check', dir]);
      assert.strictEqual(plain.status, 0, plain.stdout);
      assert.match(plain.stdout, /warning ephemeral-port/);
      const strict = cli(['check', '--severity-threshold', 'warning', dir]);
      assert.strictEqual(strict.status, 1, strict.stdout);
      assert.strictEqual(cli(['check', '--severity-threshold=warning', dir]).status, 1);
      assert.strictEqual(cli(['check', '--severity-threshold', 'error', dir]).status, 0);
    });

    it('1 when the warnings outnumber --max-warnings N, 0 up to N', () => {
      const dir = make(twoWarnings);
      assert.strictEqual(findingLines(cli(['check', dir]).stdout).length, 2);
      assert.strictEqual(cli(['check', '--max-warnings', '1', dir]).status, 1);
      assert.strictEqual(cli(['check', '--max-warnings', '2', dir]).status, 0);
      assert.strictEqual(cli(['check', '--max-warnings=0', dir]).status, 1);
    });

    it('--quiet prints errors only and counts nothing else (no --max-warnings or threshold trip on warnings)', () => {
      const dir = make({ 'etc/ssh/sshd_config': 'Port 50022\nPort 70000\n' });
      const all = cli(['check', dir]);
      assert.deepStrictEqual(
        findingLines(all.stdout).map((l) => l.split(' ').slice(1, 3).join(' ')),
        ['warning ephemeral-port', 'error invalid-port'],
      );
      const quiet = cli(['check', '--quiet', dir]);
      assert.strictEqual(quiet.status, 1);
      assert.deepStrictEqual(
        findingLines(quiet.stdout).map((l) => l.split(' ').slice(1, 3).join(' ')),
        ['error invalid-port'],
      );
      assert.match(quiet.stdout, /1 files checked: 1 errors \(--quiet: warnings and notes not shown\)\n$/);
      const warnOnly = make(warningOnly);
      const q = cli(['check', '--quiet', '--max-warnings', '0', '--severity-threshold', 'warning', warnOnly]);
      assert.strictEqual(q.status, 0, q.stdout);
      assert.doesNotMatch(q.stdout, /ephemeral-port/);
      // ...and the same in JSON
      const json = JSON.parse(cli(['check', '--quiet', '--format', 'json', dir]).stdout);
      assert.deepStrictEqual(
        json.findings.map((f: { code: string }) => f.code),
        ['invalid-port'],
      );
      assert.strictEqual(json.summary.warnings, 0);
    });

    it('2 on usage errors, with the reason and the usage on stderr', () => {
      const dir = make(warningOnly);
      for (const args of [
        ['check', '--format', 'xml', dir],
        ['check', '--severity-threshold', 'fatal', dir],
        ['check', '--max-warnings', '-1', dir],
        ['check', '--max-warnings'],
        ['check', '--frobnicate', dir],
        ['check', '--quiet=yes', dir],
        ['check', '--list-files', '--format', 'sarif', dir],
        ['lint', dir],
        [],
      ]) {
        const r = cli(args);
        assert.strictEqual(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^portolan: .+\nusage: portolan check/, args.join(' '));
        assert.strictEqual(r.stdout, '', args.join(' '));
      }
      assert.match(cli(['check', '--format', 'xml']).stderr, /--format must be one of text, json, sarif \(not 'xml'\)/);
      assert.match(cli(['check', '--frobnicate']).stderr, /unknown option --frobnicate/);
    });

    it('2 on a missing path', () => {
      const missing = cli(['check', path.join(make({}), 'nope')]);
      assert.strictEqual(missing.status, 2);
      assert.match(missing.stderr, /^portolan: .*nope: no such file or directory\n$/);
    });

    it('2 on a broken .portolan.json (bad JSON, or a value of the wrong shape), naming the file and the place', () => {
      const cases: [string, RegExp][] = [
        ['{"hosts": {"web1": ["web1/**"],}}', /\.portolan\.json:1:32: not valid JSON \(/],
        ['{"hosts": {"web1": "web1/**"}}', /\.portolan\.json:1:20: "hosts\.web1" must be an array of glob strings\n/],
        ['{"hosts": ["web1"]}', /\.portolan\.json:1:11: "hosts" must map host names to arrays of globs\n/],
        ['[]', /\.portolan\.json:1:1: must hold a JSON object/],
        ['{"oneHost": "yes"}', /\.portolan\.json:1:13: "oneHost" must be true or an array of arrays of globs\n/],
      ];
      for (const [text, message] of cases) {
        const dir = make({ ...warningOnly, '.portolan.json': text });
        const r = cli(['check', dir]);
        assert.strictEqual(r.status, 2, text);
        assert.strictEqual(r.stdout, '', text);
        assert.match(r.stderr, message, text);
        assert.ok(r.stderr.startsWith(`portolan: ${dir}/.portolan.json:`), r.stderr);
        assert.strictEqual(r.stderr.split('\n').length, 2, 'one line');
      }
      // A valid one without hosts, and one with hosts, are fine.
      assert.strictEqual(cli(['check', make({ ...warningOnly, '.portolan.json': '{}' })]).status, 0);
      assert.strictEqual(cli(['check', make({ ...warningOnly, '.portolan.json': '{"hosts": {"a": ["etc/**"]}}' })]).status, 0);
    });

    it('--list-files exits 0 although there are errors (it lists, it does not judge), in text and JSON', () => {
      assert.strictEqual(cli(['check', 'examples']).status, 1);
      const text = cli(['check', '--list-files', 'examples']);
      assert.strictEqual(text.status, 0, text.stderr);
      assert.doesNotMatch(text.stdout, / error /);
      const json = cli(['check', '--list-files', '--format', 'json', 'examples']);
      assert.strictEqual(json.status, 0, json.stderr);
      assert.ok(JSON.parse(json.stdout).summary.errors > 0);
    });

    it('--version prints the package version', () => {
      const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
      for (const args of [['--version'], ['check', '--version']]) {
        const r = cli(args);
        assert.strictEqual(r.status, 0);
        assert.strictEqual(r.stdout, `portolan ${version}\n`);
      }
    });

    it('--help exits 0 and prints the usage on stdout', () => {
      const r = cli(['check', '--help']);
      assert.strictEqual(r.status, 0);
      assert.match(r.stdout, /^usage: portolan check \[options\] \[PATH\.\.\.\]/);
      assert.match(r.stdout, /--severity-threshold/);
    });
  });

  describe('--list-files', () => {
    it('lists every file read with its format, host and program instance, and what the scan skipped and why', () => {
      const dir = make({
        'web1/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\n',
        'web1/etc/ssh/sshd_config.d/10.conf': 'Port 2223\n',
        'web1/etc/nginx/nginx.conf': 'events {}\nhttp {\n  include conf.d/*.conf;\n}\n',
        'web1/etc/nginx/conf.d/site.conf': 'server {\n  listen 8080;\n}\n',
        'web1/etc/nginx/conf.d/blob.conf': Buffer.from([0x6c, 0x69, 0x00, 0x73]),
        'web2/compose.yaml': 'services:\n  a:\n    image: x\n',
        'web2/notes.yaml': 'just: notes\n',
        'node_modules/x/sshd_config': 'Port 70000\n',
        '.portolan.json': JSON.stringify({ hosts: { web1: ['web1/**'], web2: ['web2/**'] } }),
      });
      fs.writeFileSync(path.join(dir, 'web1/etc/nginx/conf.d/huge.conf'), Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
      const r = cli(['check', '--list-files', '.'], dir);
      assert.strictEqual(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.deepStrictEqual(lines, [
        'read .portolan.json format=- host=. instance=-',
        'read web1/etc/nginx/conf.d/site.conf format=nginx host=web1 instance=web1/etc/nginx/nginx.conf',
        'read web1/etc/nginx/nginx.conf format=nginx host=web1 instance=web1/etc/nginx/nginx.conf',
        'read web1/etc/ssh/sshd_config format=sshd host=web1 instance=web1/etc/ssh/sshd_config',
        'read web1/etc/ssh/sshd_config.d/10.conf format=sshd host=web1 instance=web1/etc/ssh/sshd_config',
        'read web2/compose.yaml format=compose host=web2 instance=web2/compose.yaml',
        // Beside a compose file, a YAML is read as compose only when its top level is a compose document.
        `read web2/notes.yaml format=- host=web2 instance=- (not read as compose: not a compose document (top-level key "just" is not one of compose's))`,
        'skipped node_modules (folder never scanned (never holds configuration))',
        'skipped web1/etc/nginx/conf.d/blob.conf (binary (holds NUL bytes))',
        'skipped web1/etc/nginx/conf.d/huge.conf (too large (4194305 bytes; the limit is 4194304))',
        '7 files read, 3 skipped',
      ]);
      // The same in JSON, next to the findings.
      const json = JSON.parse(cli(['check', '--format', 'json', '.'], dir).stdout);
      assert.deepStrictEqual(
        json.files.map((f: { file: string; format: string | null; host: string; instances: string[] }) => [f.file, f.format, f.host, f.instances]),
        [
          ['.portolan.json', null, '.', []],
          ['web1/etc/nginx/conf.d/site.conf', 'nginx', 'web1', ['web1/etc/nginx/nginx.conf']],
          ['web1/etc/nginx/nginx.conf', 'nginx', 'web1', ['web1/etc/nginx/nginx.conf']],
          ['web1/etc/ssh/sshd_config', 'sshd', 'web1', ['web1/etc/ssh/sshd_config']],
          ['web1/etc/ssh/sshd_config.d/10.conf', 'sshd', 'web1', ['web1/etc/ssh/sshd_config']],
          ['web2/compose.yaml', 'compose', 'web2', ['web2/compose.yaml']],
          ['web2/notes.yaml', null, 'web2', []],
        ],
      );
      assert.deepStrictEqual(
        json.skipped.map((s: { file: string }) => s.file),
        ['node_modules', 'web1/etc/nginx/conf.d/blob.conf', 'web1/etc/nginx/conf.d/huge.conf'],
      );
      // Checked, each file the scan could not read carries one note.
      const notes = cli(['check', '.'], dir)
        .stdout.split('\n')
        .filter((l) => /(blob|huge)\.conf/.test(l));
      assert.deepStrictEqual(
        notes.map((l) => l.split(' ').slice(0, 3).join(' ')),
        ['web1/etc/nginx/conf.d/blob.conf:1:1 information syntax', 'web1/etc/nginx/conf.d/huge.conf:1:1 information syntax'],
      );
    });

    it('names a symbolic link and its target: the target is read through the link by nginx.conf', () => {
      const dir = make({
        'etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/sites-enabled/*;\n}\n',
        'etc/nginx/sites-available/app': 'server {\n  listen 8080;\n}\n',
      });
      fs.mkdirSync(path.join(dir, 'etc/nginx/sites-enabled'));
      fs.symlinkSync('../sites-available/app', path.join(dir, 'etc/nginx/sites-enabled/app'));
      fs.symlinkSync('../sites-available/gone', path.join(dir, 'etc/nginx/sites-enabled/gone'));
      const r = cli(['check', '--list-files', '.'], dir);
      assert.strictEqual(r.status, 0, r.stderr);
      const host = path.basename(dir);
      assert.deepStrictEqual(r.stdout.trim().split('\n'), [
        `read etc/nginx/nginx.conf format=nginx host=. instance=etc/nginx/nginx.conf`,
        `read etc/nginx/sites-available/app format=nginx host=. instance=etc/nginx/nginx.conf`,
        `read etc/nginx/sites-enabled/app format=nginx host=. instance=etc/nginx/nginx.conf link-to=etc/nginx/sites-available/app`,
        'skipped etc/nginx/sites-enabled/gone (broken symbolic link (ENOENT))',
        '3 files read, 1 skipped',
      ]);
      // Run from elsewhere, the host is the folder as given.
      const elsewhere = cli(['check', '--list-files', dir], os.tmpdir());
      assert.match(elsewhere.stdout, new RegExp(`^read ${host}/etc/nginx/nginx.conf format=nginx host=${host} `));
    });
  });
});
