/**
 * The upstream-unbound "Point to P" fixes, applied, judged by nginx itself (HAProxy's by `haproxy -c`, Caddy's by `caddy adapt`, which must dial the new port): every fix the engine offers on the
 * cases below (a proxy in a compose container reaching a sibling at its published port, an upstream named after a
 * compose service, a container port published elsewhere, a listener one port away; proxy_pass, upstream servers,
 * fastcgi/grpc/uwsgi/scgi_pass, stream proxy_pass, an implied port) and across the corpus workspaces. Each fix
 * changes only the port of the upstream address (the digits, or `:P` written after a host whose port the scheme
 * implies); `nginx -t` (test/helpers/nginx.ts: names given loopback addresses, certificates a test pair, nothing else) accepts the result; re-analysed,
 * the finding is gone and no error or warning is new. Prints the counts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyEdits } from '../../server/src/core/fixes';
import type { Finding, Fix } from '../../server/src/core/types';
import { engineWith } from '../helpers/engine';
import { folderFixView, newSerious } from '../helpers/fixOracles';
import { NginxT } from '../helpers/nginx';
import { isRoot, requireProgram, run } from '../helpers/programs';

const CORPUS = process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus');
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const loadStream = fs.existsSync(STREAM_MODULE) ? `load_module ${STREAM_MODULE};\n` : '';

const http = (inner: string) => `events {}\nhttp {\n    access_log off;\n${inner}}\n`;
const site = (location: string) => http(`    server {\n        listen 8000;\n        location / {\n            ${location}\n        }\n    }\n`);
/** nginx in the `proxy` service's container (./nginx.conf mounted), beside `services`. */
const container = (nginx: string, services: string) => ({
  'compose.yaml': `services:\n  proxy:\n    image: nginx\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n${services}`,
  'nginx.conf': nginx,
});
const onHost = (nginx: string, compose: string, more: Record<string, string> = {}) => ({
  'etc/nginx/nginx.conf': nginx,
  'srv/compose.yaml': `services:\n${compose}`,
  ...more,
});
const APP = '  app:\n    image: example/app\n    ports: ["8080:80", "127.0.0.1:9443:443"]\n';

const CASES: Record<string, string>[] = [
  container(site('proxy_pass http://app:8080/api/;'), APP),
  container(site('proxy_pass https://app:9443;'), APP),
  container(site('proxy_pass http://app;'), '  app:\n    image: example/app\n    ports: ["80:8080"]\n'),
  container(
    http(
      '    upstream backend {\n        server app:8080 max_fails=3 fail_timeout=5s;\n    }\n    server {\n        listen 8000;\n        location / { proxy_pass http://backend; }\n    }\n',
    ),
    APP,
  ),
  container(site('fastcgi_pass app:8080;'), APP),
  container(site('uwsgi_pass app:8080;'), APP),
  container(site('scgi_pass app:8080;'), APP),
  container(site('grpc_pass grpc://app:8080;'), APP),
  container(
    `${loadStream}events {}\nstream {\n    server {\n        listen 5432;\n        proxy_pass db:15432;\n    }\n}\n`,
    '  db:\n    image: postgres\n    ports: ["15432:5432"]\n',
  ),
  container(site('proxy_pass http://api:3001;'), '  api:\n    image: example/api\n    expose: ["3000", "9100"]\n'),
  onHost(
    http(
      '    upstream grafana {\n        server 127.0.0.1:3001;\n    }\n    server {\n        listen 80;\n        location / { proxy_pass http://grafana; }\n    }\n',
    ),
    '  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000"]\n',
  ),
  onHost(
    http(
      '    upstream grafana {\n        server localhost:3001;\n    }\n    server {\n        listen 80;\n        location / { proxy_pass http://grafana; }\n    }\n',
    ),
    '  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000", "127.0.0.1:3005:3005"]\n',
  ),
  onHost(
    http(
      '    upstream web {\n        server 127.0.0.1:8000 weight=2;\n    }\n    server {\n        listen 80;\n        location / { proxy_pass http://web; }\n    }\n',
    ),
    '  web:\n    build: .\n    ports: ["8080:8000"]\n',
  ),
  onHost(site('proxy_pass http://127.0.0.1:3000;'), '  app:\n    image: x\n    ports: ["3001:3000"]\n'),
  onHost(site('proxy_pass http://[::1]:3000;'), '  app:\n    image: x\n    ports: ["3001:3000"]\n'),
  onHost(site('fastcgi_pass 127.0.0.1:9001;'), '  php:\n    image: php:fpm\n    ports: ["127.0.0.1:9000:9000"]\n'),
  onHost(site('proxy_pass http://localhost:8080;'), '  other:\n    image: x\n', { 'etc/apache2/ports.conf': 'Listen 8081\n' }),
];

const HAPROXY = 'etc/haproxy/haproxy.cfg';
const haproxyHead = 'global\n  log stdout local0\ndefaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n';
/** HAProxy on the host: its fixes are judged by `haproxy -c`. */
const HAPROXY_CASES: Record<string, string>[] = [
  {
    [HAPROXY]: `${haproxyHead}frontend f\n  bind :8000\n  default_backend grafana\nbackend grafana\n  server g1 127.0.0.1:3001 check inter 2s\n`,
    'srv/compose.yaml': 'services:\n  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000"]\n',
  },
  {
    [HAPROXY]: `${haproxyHead}listen app\n  bind 127.0.0.1:8000\n  server a1 127.0.0.1:3000\n`,
    'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports: ["3001:3000"]\n',
  },
  { [HAPROXY]: `${haproxyHead}listen web\n  bind :8000\n  server w1 localhost:8080 maxconn 32\n`, 'etc/apache2/ports.conf': 'Listen 8081\n' },
];

/** Caddy on the host (/etc/caddy) and in a compose container: its fixes are judged by `caddy adapt`. */
const CADDY_CASES: Record<string, string>[] = [
  {
    'etc/caddy/Caddyfile': 'example.com {\n  reverse_proxy 127.0.0.1:3000\n}\n',
    'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports: ["3001:3000"]\n',
  },
  {
    'compose.yaml':
      'services:\n  caddy:\n    image: caddy\n    volumes:\n      - ./Caddyfile:/etc/caddy/Caddyfile\n  app:\n    image: x\n    ports: ["8080:80"]\n',
    Caddyfile: ':8000 {\n  reverse_proxy /api/* http://app:8080 {\n    header_up Host {host}\n  }\n}\n',
  },
  {
    'compose.yaml':
      'services:\n  caddy:\n    image: caddy\n    volumes:\n      - ./caddy:/etc/caddy\n  grafana:\n    image: grafana/grafana\n    expose: ["3000"]\n',
    'caddy/Caddyfile': ':3000 {\n  reverse_proxy grafana:3001\n}\n',
  },
];

const serious = (list: Finding[]) => list.filter((f) => f.severity === 'error' || f.severity === 'warning');

describe('upstream-unbound "Point to P" fixes against nginx -t', function () {
  this.timeout(600000);
  let nginxT: NginxT;
  let dir: string;
  const counts = { offered: 0, applied: 0, accepted: 0, nginx: 0, haproxy: 0, caddy: 0, gone: 0, warnings: 0, information: 0 };
  let haproxy: string;
  let caddy: string;

  before(function () {
    const nginx = requireProgram(this, ['/usr/sbin/nginx', 'nginx'], 'nginx');
    haproxy = requireProgram(this, ['/usr/sbin/haproxy', 'haproxy'], 'haproxy');
    caddy = requireProgram(this, ['/usr/bin/caddy', 'caddy'], 'caddy');
    const openssl = requireProgram(this, ['openssl'], 'openssl');
    requireProgram(this, ['unshare'], 'util-linux');
    requireProgram(this, ['ip', '/usr/sbin/ip'], 'iproute2');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nginx -t in namespaces of its own needs root; CI runs as root');
      console.log('      skipped: nginx -t in namespaces of its own needs root');
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-upstream-fix-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    const made = run(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=portolan.test', '-days', '2']);
    assert.strictEqual(made.status, 0, made.stderr);
    nginxT = new NginxT(nginx, dir, cert, key);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  /** The whole file compared: only the upstream's port changes, to the port of the title. */
  function assertOnlyThePort(original: string, fixed: string, finding: Finding, fix: Fix): void {
    const port = /^Point to (\d+) \(bound by .+\)$/.exec(fix.title)?.[1];
    assert.ok(port, `title: ${fix.title}`);
    assert.strictEqual(fix.edits.length, 1, `${fix.title}: one edit`);
    const [e] = fix.edits;
    assert.strictEqual(e.file, finding.file, `${fix.title}: edits the finding's file`);
    const written = original.slice(finding.span.start, finding.span.end);
    if (/^\d+$/.test(written)) {
      assert.deepStrictEqual(e.span, finding.span, `${fix.title}: replaces the port digits`);
      assert.strictEqual(fixed, original.slice(0, e.span.start) + port + original.slice(e.span.end), `${fix.title}: the file changes only there`);
    } else {
      // An implied port: `:P` after the host, nothing else.
      assert.deepStrictEqual(e.span, { start: finding.span.end, end: finding.span.end }, `${fix.title}: writes after the host`);
      assert.strictEqual(fixed, original.slice(0, e.span.start) + `:${port}` + original.slice(e.span.start), `${fix.title}: the file changes only there`);
    }
  }

  function judgeAll(name: string, before: Finding[], textOf: (file: string) => string, reanalyse: (file: string, text: string) => Finding[]): void {
    for (const finding of before.filter((f) => f.code === 'upstream-unbound')) {
      if (finding.severity === 'warning') counts.warnings++;
      else counts.information++;
      const original = textOf(finding.file);
      for (const fix of (finding.fixes ?? []).filter((x) => x.title.startsWith('Point to '))) {
        counts.offered++;
        const fixed = applyEdits(original, fix.edits);
        assertOnlyThePort(original, fixed, finding, fix);
        counts.applied++;
        if (finding.data?.program === 'haproxy') {
          const file = path.join(dir, `haproxy-${counts.applied}.cfg`);
          fs.writeFileSync(file, fixed);
          const r = run(haproxy, ['-c', '-f', file]);
          assert.strictEqual(r.status, 0, `${name}: ${fix.title}: haproxy -c refuses:\n${r.stdout}${r.stderr}\n--- fixed:\n${fixed}`);
          counts.haproxy++;
        } else if (finding.data?.program === 'caddy') {
          const file = path.join(dir, `Caddyfile-${counts.applied}`);
          fs.writeFileSync(file, fixed);
          const r = run(caddy, ['adapt', '--config', file, '--adapter', 'caddyfile']);
          assert.strictEqual(r.status, 0, `${name}: ${fix.title}: caddy adapt refuses:\n${r.stderr}\n--- fixed:\n${fixed}`);
          // Caddy's own reading of the fixed file dials the new port.
          const port = /^Point to (\d+)/.exec(fix.title)![1];
          assert.ok(r.stdout.includes(`:${port}"`), `${name}: ${fix.title}: caddy adapt dials no :${port}:\n${r.stdout}`);
          counts.caddy++;
        } else {
          const v = nginxT.test(fixed);
          assert.ok(
            v.ok,
            `${name}: ${fix.title}: nginx -t refuses: ${v.message} (neutralized: ${v.neutralized.join('; ') || 'nothing'})\n--- fixed:\n${fixed}`,
          );
          assert.ok(
            v.neutralized.every((n) => /^(host \S+ given a loopback address|certificate \S+ replaced by a test one)$/.test(n)),
            `${name}: ${fix.title}: nginx -t needed more than loopback names and test certificates: ${v.neutralized.join('; ')}`,
          );
          counts.nginx++;
        }
        counts.accepted++;
        const after = reanalyse(finding.file, fixed);
        assert.ok(
          !after.some((f) => f.code === finding.code && f.file === finding.file && f.span.start === finding.span.start),
          `${name}: ${fix.title}: ${finding.code} still there`,
        );
        const key = (f: Finding) => `${f.code}|${f.file}|${f.span.start}`;
        assert.deepStrictEqual(newSerious(before, after, key), [], `${name}: ${fix.title}: new findings`);
        counts.gone++;
      }
    }
  }

  it('the cases: each fires, every fix is accepted by nginx -t (haproxy -c for HAProxy, caddy adapt for Caddy), its finding gone, nothing new', () => {
    for (const [i, files] of [...CASES, ...HAPROXY_CASES, ...CADDY_CASES].entries()) {
      const findings = [...engineWith(files).analyze().findingsByFile.values()].flat();
      const offered = counts.offered;
      judgeAll(
        `case ${i + 1}`,
        findings,
        (file) => files[file.slice('/ws/'.length)],
        (file, fixed) =>
          [
            ...engineWith({ ...files, [file.slice('/ws/'.length)]: fixed })
              .analyze()
              .findingsByFile.values(),
          ].flat(),
      );
      assert.ok(counts.offered > offered, `case ${i + 1}: a "Point to" fix is offered`);
      // Each case is otherwise clean: the oracle judges the fix, not other findings.
      assert.deepStrictEqual(
        serious(findings)
          .filter((f) => f.code !== 'upstream-unbound')
          .map((f) => f.message),
        [],
        `case ${i + 1}`,
      );
    }
  });

  it("the examples: the shop's upstream web (its container port 8000) pointed to 8080 is accepted, its warning gone, nothing new", () => {
    const examples = folderFixView(path.resolve(__dirname, '../../examples'));
    const offered = counts.offered;
    judgeAll('examples', examples.findings(), examples.textOf, examples.reanalyse);
    assert.strictEqual(counts.offered - offered, 1, 'the examples offer one "Point to" fix');
  });

  it('the corpus workspaces: every "Point to" fix offered is accepted, its finding gone, nothing new', function () {
    const workspaces = path.join(CORPUS, 'workspaces');
    if (!fs.existsSync(workspaces)) this.skip();
    const before = counts.offered;
    for (const name of fs.readdirSync(workspaces).sort()) {
      if (!fs.statSync(path.join(workspaces, name)).isDirectory()) continue;
      const folder = folderFixView(path.join(workspaces, name));
      judgeAll(name, folder.findings(), folder.textOf, folder.reanalyse);
    }
    console.log(`      corpus: ${counts.offered - before} "Point to" fixes offered`);
  });

  after(() =>
    console.log(
      `      upstream-unbound: ${counts.warnings} warnings, ${counts.information} information; "Point to P": ${counts.offered} offered, ${counts.applied} applied (only the port changed), ${counts.accepted} accepted (nginx -t ${counts.nginx}, haproxy -c ${counts.haproxy}, caddy adapt ${counts.caddy}), ${counts.gone} findings gone with nothing new`,
    ),
  );
});
