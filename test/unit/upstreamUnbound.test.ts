/** upstream-unbound (issue 11): a proxy's upstream the workspace shows pointing at the wrong port, and its "Point to P" fix. */
import * as assert from 'assert';
import type { Finding } from '../../server/src/core/types';
import { applyEdits, engineWith, shownFindings } from '../helpers/engine';

const CODE = 'upstream-unbound';

const found = (files: Record<string, string>) =>
  shownFindings(engineWith(files))
    .filter((f) => f.code === CODE)
    .map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, f.text, f.messageId]);

function findingsOf(files: Record<string, string>): Finding[] {
  const out: Finding[] = [];
  for (const list of engineWith(files).analyze().findingsByFile.values()) for (const f of list) if (f.code === CODE) out.push(f);
  return out;
}

/** A compose project whose `proxy` service runs nginx with ./nginx.conf mounted, beside `services` (YAML under services:). */
const inContainer = (nginx: string, services: string, proxy = '') => ({
  'compose.yaml': `services:\n  proxy:\n    image: nginx\n    ports: ["80:80"]\n${proxy}    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n${services}`,
  'nginx.conf': nginx,
});
const http = (inner: string) => `events {}\nhttp {\n${inner}}\n`;
const site = (location: string, extra = '') => http(`${extra}  server {\n    listen 80;\n    location / {\n      ${location}\n    }\n  }\n`);
const APP_8080_80 = '  app:\n    image: example/app\n    ports: ["8080:80"]\n';

/** nginx on the host (etc/nginx/nginx.conf) beside a compose project of the host. */
const onHost = (nginx: string, compose?: string, more: Record<string, string> = {}) => ({
  'etc/nginx/nginx.conf': nginx,
  ...(compose ? { 'srv/compose.yaml': `services:\n${compose}` } : {}),
  ...more,
});

describe('upstream-unbound: a proxy inside a compose container reaching a sibling service', () => {
  it('warns when the upstream names the sibling at the host port compose publishes it on, and the fix points to the container port', () => {
    const files = inContainer(site('proxy_pass http://app:8080/api/;'), APP_8080_80);
    assert.deepStrictEqual(found(files), [['nginx.conf', 6, 'warning', '8080', 'published-port']]);
    const [f] = findingsOf(files);
    assert.strictEqual(
      f.message,
      '8080 is the host port compose publishes app on (8080:80): from another container nginx reaches app at its container port, 80; app does not declare 8080.',
    );
    assert.deepStrictEqual(
      f.fixes?.map((x) => [x.title, x.preferred]),
      [["Point to 80 (bound by service app's container)", true]],
    );
    assert.strictEqual(applyEdits(files['nginx.conf'], f.fixes![0].edits), site('proxy_pass http://app:80/api/;'));
    assert.deepStrictEqual(f.data, { port: 8080, portEnd: 8080, protocol: 'tcp', program: 'nginx', service: 'app', other: [] });
  });

  it('the same for an upstream {} server, grpc_pass, fastcgi_pass and a stream proxy_pass; the fix rewrites only that port', () => {
    const cases: [string, string, string][] = [
      [
        http('  upstream backend {\n    server app:8080 max_fails=3;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://backend; }\n  }\n'),
        '8080',
        '80',
      ],
      [site('grpc_pass grpc://app:8080;'), '8080', '80'],
      [site('fastcgi_pass app:8080;'), '8080', '80'],
    ];
    for (const [nginx, from, to] of cases) {
      const files = inContainer(nginx, APP_8080_80);
      const fs = findingsOf(files);
      assert.deepStrictEqual(
        fs.map((f) => f.messageId),
        ['published-port'],
        nginx,
      );
      assert.strictEqual(applyEdits(nginx, fs[0].fixes![0].edits), nginx.replace(`app:${from}`, `app:${to}`));
    }
    const stream = 'events {}\nstream {\n  server {\n    listen 5432;\n    proxy_pass db:15432;\n  }\n}\n';
    const files = inContainer(stream, '  db:\n    image: postgres\n    ports: ["15432:5432"]\n');
    const [f] = findingsOf(files);
    assert.strictEqual(f.messageId, 'published-port');
    assert.strictEqual(applyEdits(stream, f.fixes![0].edits), stream.replace('db:15432', 'db:5432'));
  });

  it('an implied port (http:// is 80) that is the published one: the fix writes the container port after the host', () => {
    const files = inContainer(site('proxy_pass http://app/;'), '  app:\n    image: example/app\n    ports: ["80:8080"]\n', '');
    // proxy publishes 80 too, on the host: inside the network that does not matter.
    const [f] = findingsOf(files);
    assert.strictEqual(f.messageId, 'published-port');
    assert.strictEqual(applyEdits(files['nginx.conf'], f.fixes![0].edits), site('proxy_pass http://app:8080/;'));
  });

  it('information, with the fix, when the sibling declares other container ports (expose), none of them this one', () => {
    const files = inContainer(site('proxy_pass http://api:3001;'), '  api:\n    image: example/api\n    expose: ["3000"]\n');
    assert.deepStrictEqual(found(files), [['nginx.conf', 6, 'information', '3001', 'undeclared']]);
    const [f] = findingsOf(files);
    assert.strictEqual(
      f.message,
      'Service api declares container ports 3000/tcp, not 3001: if it listens on 3001, add 3001 to its expose; else point to a port it declares.',
    );
    assert.deepStrictEqual(
      f.fixes?.map((x) => [x.title, x.preferred]),
      [["Point to 3000 (bound by service api's container)", undefined]],
    );
    assert.strictEqual(applyEdits(files['nginx.conf'], f.fixes![0].edits), site('proxy_pass http://api:3000;'));
  });

  it('silent: the port is declared, the name is no service of the project, its loopback is its own, variables, unix: sockets, unknown ports', () => {
    const silent: [string, Record<string, string>][] = [
      ['the container port', inContainer(site('proxy_pass http://app:80;'), APP_8080_80)],
      ['an implied port that is the container port', inContainer(site('proxy_pass http://app;'), APP_8080_80)],
      ['exposed', inContainer(site('proxy_pass http://app:8080;'), '  app:\n    image: x\n    ports: ["8080:80"]\n    expose: ["8080"]\n')],
      ['a name outside the project', inContainer(site('proxy_pass http://api.example.com:8080;'), APP_8080_80)],
      ['another name', inContainer(site('proxy_pass http://app2:8080;'), APP_8080_80)],
      ['its own loopback', inContainer(site('proxy_pass http://127.0.0.1:8080;'), APP_8080_80)],
      ['localhost', inContainer(site('proxy_pass http://localhost:8081;'), APP_8080_80)],
      ['a variable', inContainer(site('set $up app:8080;\n      proxy_pass http://$up;'), APP_8080_80)],
      ['resolver and a variable', inContainer(site('resolver 127.0.0.11 valid=10s;\n      set $up http://app:8080;\n      proxy_pass $up;'), APP_8080_80)],
      ['a unix socket', inContainer(site('proxy_pass http://unix:/run/app.sock;'), APP_8080_80)],
      ['a target from a variable', inContainer(site('proxy_pass http://app:8080;'), '  app:\n    image: x\n    ports: ["8080:80", "9000:${PORT}"]\n')],
      ['no declared ports', inContainer(site('proxy_pass http://app:3000;'), '  app:\n    image: x\n')],
      [
        'built from a Dockerfile (its EXPOSE is not compose)',
        inContainer(site('proxy_pass http://app:3001;'), '  app:\n    build: ./app\n    expose: ["3000"]\n'),
      ],
      ['a host-network sibling', inContainer(site('proxy_pass http://app:8080;'), '  app:\n    image: x\n    network_mode: host\n    ports: ["8080:80"]\n')],
      [
        'a pool of servers',
        inContainer(
          http('  upstream b {\n    server app:8080;\n    server app2:80;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://b; }\n  }\n'),
          APP_8080_80,
        ),
      ],
      ['the proxy itself', inContainer(site('proxy_pass http://proxy:8080;'), APP_8080_80, '    expose: ["81"]\n')],
    ];
    for (const [why, files] of silent) assert.deepStrictEqual(found(files), [], why);
  });

  it("an edit of the compose file alone re-judges the container's proxy (its host's model follows the project), as a fresh analysis does", () => {
    const files = inContainer(site('proxy_pass http://app:8080;'), APP_8080_80);
    const engine = engineWith(files);
    const codes = () => [...engine.analyze().findingsByFile.values()].flat().filter((f) => f.code === CODE).length;
    assert.strictEqual(codes(), 1);
    const declared = files['compose.yaml'].replace('"8080:80"', '"8080:8080"');
    engine.setFile('/ws/compose.yaml', declared);
    assert.strictEqual(codes(), 0);
    assert.deepStrictEqual(found({ ...files, 'compose.yaml': declared }), []);
    engine.setFile('/ws/compose.yaml', files['compose.yaml']);
    assert.strictEqual(codes(), 1);
  });

  it('the port Dockerfile-built siblings are reached at still warns when it is the published host port', () => {
    const files = inContainer(site('proxy_pass http://app:8080;'), '  app:\n    build: ./app\n    ports: ["8080:80"]\n');
    assert.deepStrictEqual(found(files), [['nginx.conf', 6, 'warning', '8080', 'published-port']]);
  });
});

describe('upstream-unbound: a proxy on the host pointing at a local port', () => {
  const GRAFANA = '  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000"]\n';

  it('warns when an upstream {} of one server is named after a compose service of the host that publishes another port', () => {
    const nginx = http(
      '  upstream grafana {\n    server 127.0.0.1:3001;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://grafana; }\n  }\n',
    );
    const files = onHost(nginx, GRAFANA);
    assert.deepStrictEqual(found(files), [['etc/nginx/nginx.conf', 4, 'warning', '3001', 'named-service']]);
    const [f] = findingsOf(files);
    assert.strictEqual(
      f.message,
      'Upstream grafana is named after compose service grafana, which publishes 3000 (srv/compose.yaml:4), not 3001; nothing in the workspace binds 127.0.0.1:3001.',
    );
    assert.deepStrictEqual(
      f.fixes?.map((x) => [x.title, x.preferred]),
      [['Point to 3000 (bound by docker, service grafana)', true]],
    );
    assert.strictEqual(applyEdits(nginx, f.fixes![0].edits), nginx.replace('127.0.0.1:3001', '127.0.0.1:3000'));
    assert.deepStrictEqual(
      f.related?.map((r) => r.message),
      ['3000/tcp bound by docker, service grafana'],
    );
  });

  it("the named service's own container port (the classic mistake) is a warning too, and the message says so", () => {
    const nginx = http('  upstream web {\n    server 127.0.0.1:8000;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://web; }\n  }\n');
    const files = onHost(nginx, '  web:\n    build: .\n    ports: ["8080:8000"]\n');
    const [f] = findingsOf(files);
    assert.strictEqual(f.severity, 'warning');
    assert.strictEqual(
      f.message,
      'Upstream web is named after compose service web, which publishes 8080 (srv/compose.yaml:4), not 8000 (its container port); nothing in the workspace binds 127.0.0.1:8000.',
    );
    assert.strictEqual(applyEdits(nginx, f.fixes![0].edits), nginx.replace('127.0.0.1:8000', '127.0.0.1:8080'));
  });

  it('information when the port is a compose container port published on another host port; the fix is not preferred', () => {
    const nginx = site('proxy_pass http://127.0.0.1:3000;');
    const files = onHost(nginx, '  app:\n    image: x\n    ports: ["3001:3000"]\n');
    assert.deepStrictEqual(found(files), [['etc/nginx/nginx.conf', 6, 'information', '3000', 'container-port']]);
    const [f] = findingsOf(files);
    assert.strictEqual(
      f.message,
      "Nothing in the workspace binds 127.0.0.1:3000: 3000 is service app's container port, which compose publishes on 3001 (srv/compose.yaml:4). Point to 3001 if app is the target; if a program outside the workspace binds 3000, ignore this here.",
    );
    assert.deepStrictEqual(
      f.fixes?.map((x) => [x.title, x.preferred]),
      [['Point to 3001 (bound by docker, service app)', undefined]],
    );
    assert.strictEqual(applyEdits(nginx, f.fixes![0].edits), site('proxy_pass http://127.0.0.1:3001;'));
  });

  it("information when another program's listener is one port away and no other upstream points at it", () => {
    const nginx = site('proxy_pass http://localhost:8080;');
    const files = onHost(nginx, undefined, { 'etc/apache2/ports.conf': 'Listen 8081\n' });
    assert.deepStrictEqual(found(files), [['etc/nginx/nginx.conf', 6, 'information', '8080', 'neighbour']]);
    const [f] = findingsOf(files);
    assert.strictEqual(applyEdits(nginx, f.fixes![0].edits), site('proxy_pass http://localhost:8081;'));
    assert.match(f.fixes![0].title, /^Point to 8081 \(bound by apache/);
  });

  it('HAProxy backends and Caddy reverse_proxy targets are judged too, their fixes rewriting the written port only', () => {
    const haproxy = 'defaults\n  mode http\nfrontend f\n  bind :80\n  default_backend grafana\nbackend grafana\n  server g1 127.0.0.1:3001 check\n';
    const files = { 'etc/haproxy/haproxy.cfg': haproxy, 'srv/compose.yaml': `services:\n${GRAFANA}` };
    assert.deepStrictEqual(found(files), [['etc/haproxy/haproxy.cfg', 7, 'warning', '3001', 'named-service']]);
    const [f] = findingsOf(files);
    assert.deepStrictEqual(
      f.fixes?.map((x) => [x.title, x.preferred]),
      [['Point to 3000 (bound by docker, service grafana)', true]],
    );
    assert.strictEqual(applyEdits(haproxy, f.fixes![0].edits), haproxy.replace('127.0.0.1:3001 check', '127.0.0.1:3000 check'));
    const caddy = 'example.com {\n  reverse_proxy 127.0.0.1:3000\n}\n';
    const caddyFiles = { 'etc/caddy/Caddyfile': caddy, 'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports: ["3001:3000"]\n' };
    assert.deepStrictEqual(
      found(caddyFiles).map((x) => x[4]),
      ['container-port'],
    );
    const [c] = findingsOf(caddyFiles);
    assert.deepStrictEqual(
      c.fixes?.map((x) => x.title),
      ['Point to 3001 (bound by docker, service app)'],
    );
    assert.strictEqual(applyEdits(caddy, c.fixes![0].edits), caddy.replace('127.0.0.1:3000', '127.0.0.1:3001'));
    // In a container, a sibling named without a port (80 implied): the finding, but nothing written (no `:port` to rewrite).
    const implied = {
      'compose.yaml':
        'services:\n  caddy:\n    image: caddy\n    volumes:\n      - ./Caddyfile:/etc/caddy/Caddyfile\n  app:\n    image: x\n    ports: ["80:8080"]\n',
      Caddyfile: ':8000 {\n  reverse_proxy app\n}\n',
    };
    const [i] = findingsOf(implied);
    assert.strictEqual(i.messageId, 'published-port');
    assert.strictEqual(i.fixes, undefined);
  });

  it('silent: nothing in the workspace says what is there (the app server is simply not in the repository)', () => {
    const silent: [string, Record<string, string>][] = [
      ['an app on 3000 and nothing else', onHost(site('proxy_pass http://127.0.0.1:3000;'))],
      ['the proxy listens one port away itself', onHost(http('  server {\n    listen 3001;\n    location / { proxy_pass http://127.0.0.1:3000; }\n  }\n'))],
      [
        'php-fpm on 9000, a compose service elsewhere',
        onHost(site('fastcgi_pass 127.0.0.1:9000;'), '  adminer:\n    image: adminer\n    ports: ["8080:8080"]\n'),
      ],
      ['bound by another program', onHost(site('proxy_pass http://127.0.0.1:8080;'), undefined, { 'etc/apache2/ports.conf': 'Listen 8080\n' })],
      ['published on the port', onHost(site('proxy_pass http://127.0.0.1:3000;'), GRAFANA)],
      [
        'a container port also published on itself elsewhere',
        onHost(site('proxy_pass http://127.0.0.1:3000;'), `${GRAFANA}  app:\n    image: x\n    ports: ["3001:3000"]\n`),
      ],
      [
        'a firewall rule lets the port in',
        onHost(site('proxy_pass http://127.0.0.1:8080;'), undefined, {
          'etc/apache2/ports.conf': 'Listen 8081\n',
          'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 8080 -j ACCEPT\nCOMMIT\n',
        }),
      ],
      [
        'the neighbour is what another upstream points at',
        onHost(
          http(
            '  server {\n    listen 80;\n    location /a/ { proxy_pass http://127.0.0.1:8080; }\n    location /b/ { proxy_pass http://127.0.0.1:8081; }\n  }\n',
          ),
          undefined,
          {
            'etc/apache2/ports.conf': 'Listen 8081\n',
          },
        ),
      ],
      [
        'a pool of servers on consecutive ports',
        onHost(
          http(
            '  upstream app {\n    server 127.0.0.1:3000;\n    server 127.0.0.1:3002;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://app; }\n  }\n',
          ),
          undefined,
          {
            'etc/apache2/ports.conf': 'Listen 3001\n',
          },
        ),
      ],
      [
        'a group named after a service with several servers',
        onHost(http('  upstream grafana {\n    server 127.0.0.1:3001;\n    server 127.0.0.1:3002;\n  }\n'), GRAFANA),
      ],
      [
        "a compose service's container-only port (expose), a listener beside it",
        onHost(site('proxy_pass http://127.0.0.1:9100;'), '  metrics:\n    image: prom/node-exporter\n    expose: ["9100"]\n', {
          'etc/apache2/ports.conf': 'Listen 9101\n',
        }),
      ],
      ['a variable', onHost(site('set $up 127.0.0.1:8080;\n      proxy_pass http://$up;'), undefined, { 'etc/apache2/ports.conf': 'Listen 8081\n' })],
      ['a unix socket', onHost(site('proxy_pass http://unix:/run/app.sock;'), undefined, { 'etc/apache2/ports.conf': 'Listen 8081\n' })],
      ['a compose service name (unresolvable on the host)', onHost(site('proxy_pass http://app:8080;'), APP_8080_80)],
      ['a remote address', onHost(site('proxy_pass http://10.0.0.5:8080;'), undefined, { 'etc/apache2/ports.conf': 'Listen 8081\n' })],
      [
        'a Caddyfile read as a container config',
        {
          'srv/Caddyfile': 'example.com {\n  reverse_proxy 127.0.0.1:3000\n}\n',
          'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports: ["3001:3000"]\n',
        },
      ],
      [
        'a site file no nginx.conf loads',
        {
          'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 80; }\n}\n',
          'etc/nginx/sites-available/app': 'server {\n  listen 8000;\n  location / { proxy_pass http://127.0.0.1:3000; }\n}\n',
          'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports: ["3001:3000"]\n',
        },
      ],
      [
        'UDP is not TCP',
        onHost(
          'events {}\nstream {\n  server {\n    listen 53 udp;\n    proxy_pass 127.0.0.1:5353;\n  }\n}\n',
          '  dns:\n    image: x\n    ports: ["5354:5353"]\n',
        ),
      ],
    ];
    for (const [why, files] of silent) assert.deepStrictEqual(found(files), [], why);
  });
});
