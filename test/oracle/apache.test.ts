/**
 * Oracle: `apache2 -t` (Debian's httpd 2.4) judges our Apache reading, on Debian's stock
 * /etc/apache2 tree and on generated cases covering each Listen form, duplicate Listens, sections,
 * IfModule/IfDefine and includes. apache2 -t reads the configuration and binds nothing, so it runs
 * on a copy of the tree in a temporary directory (-d, -f). What it says is the answer:
 * - it refuses the configuration: we report an error of the same code on the line it names;
 * - it accepts it: we report no syntax or invalid-port error anywhere.
 * Each case also states the Listen sockets we expect, so the comparison cannot pass by saying nothing.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineWith, shownFindings } from '../helpers/engine';
import { spawnSync } from 'child_process';
import { requireProgram } from '../helpers/programs';

const MPM = 'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so';
const HEAD = `${MPM}\nErrorLog /dev/null\n`;

interface Case {
  name: string;
  /** Files relative to the ServerRoot; apache2.conf is the main file (HEAD is put in front of it). */
  files: Record<string, string>;
  /** The sockets we read: "addr:port" sorted, or undefined when apache refuses (not compared). */
  binds?: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const listen = (name: string, lines: string, binds?: string[]) => out.push({ name, files: { 'apache2.conf': lines }, binds });
  listen('Listen port', 'Listen 8080\n', ['[::]:8080 dual-stack']);
  listen('Listen *:port', 'Listen *:8080\n', ['[::]:8080 dual-stack']);
  listen('Listen 0.0.0.0:port', 'Listen 0.0.0.0:8080\n', ['0.0.0.0:8080']);
  listen('Listen [::]:port', 'Listen [::]:8080\n', ['[::]:8080 dual-stack']);
  listen('Listen IPv4:port protocol', 'Listen 127.0.0.1:8443 https\n', ['127.0.0.1:8443']);
  listen('Listen [IPv6]:port', 'Listen [::1]:8080\n', ['[::1]:8080']);
  listen('Listen localhost:port', 'Listen localhost:8080\n', ['127.0.0.1:8080', '[::1]:8080']);
  listen('Listen 080 (leading zero)', 'Listen 080\n', ['[::]:80 dual-stack']);
  listen('Listen 1 and 65535', 'Listen 1\nListen 65535\n', ['[::]:1 dual-stack', '[::]:65535 dual-stack']);
  listen('Listen 0', 'Listen 0\n');
  listen('Listen 65536', 'Listen 65536\n');
  listen('Listen 70000', 'Listen 70000\n');
  listen('Listen address without port', 'Listen 127.0.0.1\n');
  listen('Listen +80', 'Listen +80\n');
  listen('Listen :80', 'Listen :80\n');
  listen('Listen 127.0.0.1:', 'Listen 127.0.0.1:\n');
  listen('Listen [::1]', 'Listen [::1]\n');
  listen('Listen [::1 (unclosed bracket)', 'Listen [::1:80\n');
  listen('Listen 80x', 'Listen 80x\n');
  listen('Listen with three arguments', 'Listen 80 http extra\n');
  listen('Listen with a trailing comment', 'Listen 80 # web\n');
  listen('Listen with no argument', 'Listen\n');
  listen('Listen [fe80::1%lo]:80 (scope id)', 'Listen [fe80::1%lo]:80\n', ['[fe80::1%lo]:80']);
  listen('Listen twice', 'Listen 8080\nListen 8080\n');
  listen('Listen 8080 and [::]:8080', 'Listen 8080\nListen [::]:8080\n', ['[::]:8080 dual-stack']);
  listen('Listen 8080 and 0.0.0.0:8080', 'Listen 8080\nListen 0.0.0.0:8080\n', ['[::]:8080 dual-stack']);
  listen('Listen 127.0.0.1:8080 twice', 'Listen 127.0.0.1:8080\nListen 127.0.0.1:8080\n');
  listen('Listen on two addresses of one port', 'Listen 127.0.0.1:8080\nListen 127.0.0.2:8080\n', ['127.0.0.1:8080', '127.0.0.2:8080']);
  listen('Listen inside VirtualHost', 'Listen 8080\n<VirtualHost *:8080>\n  Listen 8081\n</VirtualHost>\n');
  listen('VirtualHost on a Listen', 'Listen 8080\n<VirtualHost *:8080>\n  ServerName a\n</VirtualHost>\n', ['[::]:8080 dual-stack']);
  listen('unclosed VirtualHost', 'Listen 8080\n<VirtualHost *:8080>\n  ServerName a\n');
  listen('stray closing section', 'Listen 8080\n</VirtualHost>\n');
  listen('mismatched closing section', 'Listen 8080\n<IfModule mod_ssl.c>\n</VirtualHost>\n');
  listen('section without closing bracket', 'Listen 8080\n<VirtualHost *:8080\n</VirtualHost>\n');
  listen('Listen under IfModule of a module not loaded', 'Listen 8080\n<IfModule ssl_module>\n  Listen 8443\n</IfModule>\n', ['[::]:8080 dual-stack']);
  listen('Listen under IfModule of a compiled-in module', 'Listen 8080\n<IfModule mod_version.c>\n  Listen 8081\n</IfModule>\n', [
    '[::]:8080 dual-stack',
    '[::]:8081 dual-stack',
  ]);
  listen('Listen under negated IfModule', 'Listen 8080\n<IfModule !ssl_module>\n  Listen 8081\n</IfModule>\n', [
    '[::]:8080 dual-stack',
    '[::]:8081 dual-stack',
  ]);
  listen(
    'Listen under IfModule of a loaded module',
    'LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\nListen 8080\n<IfModule mod_headers.c>\n  Listen 8081\n</IfModule>\n',
    ['[::]:8080 dual-stack', '[::]:8081 dual-stack'],
  );
  listen('duplicate Listen hidden by IfModule', 'Listen 8080\n<IfModule ssl_module>\n  Listen 8080\n</IfModule>\n', ['[::]:8080 dual-stack']);
  listen('Listen under IfDefine', 'Listen 8080\n<IfDefine SSL>\n  Listen 8443\n</IfDefine>\n<IfDefine !SSL>\n  Listen 8081\n</IfDefine>\n', [
    '[::]:8080 dual-stack',
    '[::]:8081 dual-stack',
  ]);
  listen('Define and ${VAR}', 'Define WEBPORT 8088\nListen ${WEBPORT}\n', ['[::]:8088 dual-stack']);
  listen('continuation line', 'Listen \\\n  8080\n', ['[::]:8080 dual-stack']);
  listen('case-insensitive directive', 'LISTEN 8080\nlisten 127.0.0.1:8081\n', ['127.0.0.1:8081', '[::]:8080 dual-stack']);
  out.push({
    name: 'Include of a file and a glob, relative to ServerRoot',
    files: {
      'apache2.conf': 'Include ports.conf\nIncludeOptional sites-enabled/*.conf\n',
      'ports.conf': 'Listen 8080\n',
      'sites-enabled/a.conf': 'Listen 127.0.0.1:8081\n',
    },
    binds: ['127.0.0.1:8081', '[::]:8080 dual-stack'],
  });
  out.push({
    name: 'Include of a directory',
    files: { 'apache2.conf': 'Include conf.d\n', 'conf.d/a.conf': 'Listen 8080\n', 'conf.d/b.conf': 'Listen 8081\n' },
    binds: ['[::]:8080 dual-stack', '[::]:8081 dual-stack'],
  });
  out.push({
    name: 'duplicate Listen across included files',
    files: { 'apache2.conf': 'Listen 8080\nInclude ports.conf\n', 'ports.conf': 'Listen 8080\n' },
  });
  out.push({
    name: 'Include inside VirtualHost brings a Listen in',
    files: { 'apache2.conf': 'Listen 8080\n<VirtualHost *:8080>\n  Include extra.conf\n</VirtualHost>\n', 'extra.conf': 'Listen 8081\n' },
  });
  out.push({
    name: 'Include under IfModule of a module not loaded',
    files: { 'apache2.conf': 'Listen 8080\n<IfModule ssl_module>\n  Include ssl-ports.conf\n</IfModule>\n', 'ssl-ports.conf': 'Listen 8080\n' },
    binds: ['[::]:8080 dual-stack'],
  });
  out.push({
    name: 'bad Listen in an included file',
    files: { 'apache2.conf': 'Listen 8080\nInclude ports.conf\n', 'ports.conf': '# ports\nListen 99999\n' },
  });
  return out;
}

function shortBind(f: { family?: string; address?: string; port: number; v6only?: boolean }): string {
  const addr = f.family === 'ipv6' ? `[${f.address ?? '::'}]` : (f.address ?? '0.0.0.0');
  return `${addr}:${f.port}${f.family === 'ipv6' && f.address === undefined && f.v6only === false ? ' dual-stack' : ''}`;
}

/** apache2 -t on a tree: undefined when it accepts, else the file and line it names and its message. */
function apacheT(root: string, main: string, env: NodeJS.ProcessEnv = {}): { file: string; line: number; message: string } | undefined | string {
  const r = spawnSync('apache2', ['-t', '-d', root, '-f', main], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status === 0) return undefined;
  const m = /Syntax error on line (\d+) of ([^:]+):\s*(.*)/.exec(out);
  if (!m) return `apache2 -t failed without naming a line: ${out.trim()}`;
  return { line: Number(m[1]), file: m[2], message: m[3] };
}

describe('Apache oracle: apache2 -t', function () {
  this.timeout(120_000);
  let tmp: string;

  before(function () {
    requireProgram(this, ['apache2', '/usr/sbin/apache2'], 'apache2');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-apache-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('agrees with apache2 -t on every generated case, and reads the sockets each case states', () => {
    const all = cases();
    const disagree: string[] = [];
    let refused = 0;
    all.forEach((c, i) => {
      const root = path.join(tmp, `case-${i}`);
      const files = { ...c.files, 'apache2.conf': HEAD + c.files['apache2.conf'] };
      for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        fs.writeFileSync(path.join(root, name), text);
      }
      const theirs = apacheT(root, path.join(root, 'apache2.conf'));
      if (typeof theirs === 'string') return void disagree.push(`${c.name}: ${theirs}`);
      const ws = Object.fromEntries(Object.entries(files).map(([n, t]) => [`etc/apache2/${n}`, t]));
      const engine = engineWith(ws);
      const errors = shownFindings(engine).filter((f) => f.severity === 'error' && (f.code === 'syntax' || f.code === 'invalid-port'));
      if (!theirs) {
        if (errors.length > 0)
          disagree.push(`${c.name}: apache2 -t accepts it, we say ${errors.map((e) => `${e.code} at ${path.basename(e.file)}:${e.line}`).join(', ')}`);
        const got = engine
          .analyze()
          .facts.filter(({ fact }) => fact.program === 'apache')
          .map(({ fact }) => shortBind(fact))
          .sort();
        if (c.binds === undefined) disagree.push(`${c.name}: apache2 -t accepts it; the case states no sockets (we read ${got.join(', ')})`);
        else if (got.join() !== [...c.binds].sort().join())
          disagree.push(`${c.name}: we read ${got.join(', ') || 'nothing'}, the case states ${c.binds.join(', ')}`);
      } else {
        refused++;
        const file = path.relative(root, theirs.file);
        const ours = errors.filter((e) => e.file === `/ws/etc/apache2/${file}` && e.line === theirs.line);
        if (ours.length === 0)
          disagree.push(
            `${c.name}: apache2 -t refuses ${file}:${theirs.line} (${theirs.message}); we say ${errors.map((e) => `${e.code} at ${path.basename(e.file)}:${e.line}`).join(', ') || 'nothing'}`,
          );
        if (c.binds !== undefined) disagree.push(`${c.name}: apache2 -t refuses it (${theirs.message}) but the case states sockets`);
      }
    });
    console.log(`      apache2 -t: ${all.length} cases, ${all.length - disagree.length} agree (${refused} refused by apache2 -t)`);
    for (const d of disagree) console.log(`      DISAGREE ${d}`);
    assert.strictEqual(disagree.length, 0);
  });

  it("Debian's stock /etc/apache2 tree: apache2 -t accepts it and we read Listen 80 and no error", function () {
    if (!fs.existsSync('/etc/apache2/apache2.conf')) {
      console.log('      skipped: no /etc/apache2/apache2.conf (install apache2: scripts/install-test-deps.sh)');
      this.skip();
    }
    const root = path.join(tmp, 'stock');
    fs.cpSync('/etc/apache2', root, { recursive: true, dereference: true });
    const runDir = path.join(tmp, 'stock-run');
    fs.mkdirSync(runDir, { recursive: true });
    const env = {
      APACHE_RUN_USER: 'www-data',
      APACHE_RUN_GROUP: 'www-data',
      APACHE_PID_FILE: path.join(runDir, 'apache2.pid'),
      APACHE_RUN_DIR: runDir,
      APACHE_LOCK_DIR: runDir,
      APACHE_LOG_DIR: runDir,
    };
    assert.strictEqual(apacheT(root, path.join(root, 'apache2.conf'), env), undefined);
    const ws: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else ws[`etc/apache2/${path.relative(root, p)}`] = fs.readFileSync(p, 'utf8');
      }
    };
    walk(root);
    const engine = engineWith(ws);
    assert.deepStrictEqual(
      shownFindings(engine).filter((f) => f.severity === 'error' || f.severity === 'warning'),
      [],
    );
    const got = engine
      .analyze()
      .facts.filter(({ fact }) => fact.program === 'apache')
      .map(({ fact }) => `${shortBind(fact)} ${path.basename(fact.file)}`);
    // ports.conf: Listen 80; Listen 443 stands under <IfModule ssl_module> / <IfModule mod_gnutls.c>, not enabled by default.
    assert.deepStrictEqual(got, ['[::]:80 dual-stack ports.conf']);
  });
});
