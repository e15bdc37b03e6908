/**
 * Oracle: `caddy adapt` (Debian's Caddy 2.6) judges our Caddyfile reading. adapt turns a Caddyfile
 * into Caddy's JSON, whose servers list the addresses Caddy listens on, and refuses a port it cannot
 * parse. For each generated case: adapt refuses it ⇔ we report an invalid-port error; when it
 * accepts it, the TCP sockets we read from the site addresses (without the run-time ones adapt does
 * not list: the automatic-redirect socket on http_port and HTTP/3 on UDP) equal its listen addresses.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineWith, shownFindings } from '../helpers/engine';
import { requireProgram } from '../helpers/programs';

const CASES: [string, string][] = [
  ['port only', ':8080 {\n  respond "a"\n}\n'],
  ['host', 'example.com {\n  respond "a"\n}\n'],
  ['http://host', 'http://example.com {\n  respond "a"\n}\n'],
  ['https://host:port', 'https://example.com:8443 {\n  respond "a"\n}\n'],
  ['host:port', 'example.com:9000 {\n  respond "a"\n}\n'],
  ['IP address site (a host matcher, not a bind)', '127.0.0.1:9001 {\n  respond "a"\n}\n'],
  ['[v6]:port site', '[::1]:9002 {\n  respond "a"\n}\n'],
  ['localhost', 'localhost {\n  respond "a"\n}\n'],
  ['two keys on one line', ':8081, :8082 {\n  respond "a"\n}\n'],
  ['keys over two lines', ':8083,\n:8084 {\n  respond "a"\n}\n'],
  ['bind one address', ':8085 {\n  bind 127.0.0.1\n  respond "a"\n}\n'],
  ['bind two addresses', ':8086 {\n  bind 127.0.0.1 [::1]\n  respond "a"\n}\n'],
  ['global http_port and https_port', '{\n  http_port 8000\n  https_port 8443\n}\nexample.com {\n  respond "a"\n}\nhttp://b.example {\n  respond "b"\n}\n'],
  ['global default_bind', '{\n  default_bind 127.0.0.2\n}\n:8087 {\n  respond "a"\n}\n'],
  ['single site without braces', ':8088\nrespond "a"\n'],
  ['several sites on one port', ':8089 {\n  respond "a"\n}\nhttp://x.example:8089 {\n  respond "b"\n}\n'],
  ['reverse_proxy upstreams', ':8090 {\n  reverse_proxy app:3000 10.0.0.2:8080 {\n    to localhost:9000\n  }\n}\n'],
  ['snippet and import', '(common) {\n  encode gzip\n}\n:8091 {\n  import common\n  respond "a"\n}\n'],
  ['path in site address', 'http://example.com/api {\n  respond "a"\n}\n'],
  ['port 70000', ':70000 {\n  respond "a"\n}\n'],
  ['port 99999 on a host', 'example.com:99999 {\n  respond "a"\n}\n'],
  ['https_port 70000', '{\n  https_port 70000\n}\nexample.com {\n  respond "a"\n}\n'],
];

function shortListen(family: string | undefined, address: string | undefined, port: number): string {
  if (address === undefined) return `:${port}`;
  return family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

describe('Caddy oracle: caddy adapt', function () {
  this.timeout(120_000);
  let tmp: string;
  before(function () {
    requireProgram(this, ['caddy', '/usr/bin/caddy'], 'caddy');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-caddy-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('agrees with caddy adapt on every generated case and every Caddyfile of the corpus workspaces', () => {
    const disagree: string[] = [];
    let refused = 0;
    const corpus = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'workspaces');
    const found: [string, string][] = [];
    const walk = (dir: string) => {
      for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules') walk(p);
        else if (e.isFile() && e.name === 'Caddyfile') found.push([`corpus ${path.relative(corpus, p)}`, fs.readFileSync(p, 'utf8')]);
      }
    };
    walk(corpus);
    const all = [...CASES, ...found];
    all.forEach(([name, text], i) => {
      const file = path.join(tmp, `Caddyfile-${i}`);
      fs.writeFileSync(file, text);
      const r = spawnSync('caddy', ['adapt', '--config', file, '--adapter', 'caddyfile'], { encoding: 'utf8', timeout: 30000 });
      const engine = engineWith({ 'etc/caddy/Caddyfile': text });
      const errors = shownFindings(engine).filter((f) => f.severity === 'error');
      if (r.status !== 0) {
        refused++;
        if (!errors.some((e) => e.code === 'invalid-port')) disagree.push(`${name}: caddy adapt refuses it (${r.stderr.trim()}), we say nothing`);
        return;
      }
      if (errors.length > 0) disagree.push(`${name}: caddy adapt accepts it, we say ${errors.map((e) => `${e.code} at line ${e.line}`).join(', ')}`);
      const json = JSON.parse(r.stdout.split('\n')[0]) as { apps?: { http?: { servers?: Record<string, { listen: string[] }> } } };
      const theirs = [...new Set(Object.values(json.apps?.http?.servers ?? {}).flatMap((s) => s.listen))].sort();
      const ours = [
        ...new Set(
          engine
            .analyze()
            .facts.filter(
              ({ fact }) =>
                fact.program === 'caddy' && fact.role === 'listen' && fact.protocol === 'tcp' && fact.context !== 'automatic HTTP to HTTPS redirects',
            )
            .map(({ fact }) => shortListen(fact.family, fact.address, fact.port)),
        ),
      ].sort();
      if (ours.join() !== theirs.join()) disagree.push(`${name}: caddy adapt listens on ${theirs.join(', ')}, we read ${ours.join(', ')}`);
    });
    console.log(
      `      caddy adapt: ${all.length} cases (${found.length} from the corpus), ${all.length - disagree.length} agree (${refused} refused by caddy adapt)`,
    );
    for (const d of disagree) console.log(`      DISAGREE ${d}`);
    assert.strictEqual(disagree.length, 0);
  });
});
