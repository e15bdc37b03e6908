import * as assert from 'assert';
import { addressesOverlap, bindBlockers, collide, dependsOnStartOrder, portTaken } from '../../server/src/core/conflicts';
import type { Finding, PortFact } from '../../server/src/core/types';
import { applyEdits } from '../../server/src/core/fixes';
import { engineWith, shownFindings } from '../helpers/engine';

function bind(spec: string, extra: Partial<PortFact> = {}): PortFact {
  // "tcp 0.0.0.0:80", "udp [::]:53", "tcp [::1]:8000-8010"
  const m = /^(tcp|udp|sctp) (\[([^\]]*)\]|[^:]+):(\d+)(?:-(\d+))?$/.exec(spec)!;
  const v6 = m[3] !== undefined;
  const addr = v6 ? m[3] : m[2];
  const wildcard = addr === '::' || addr === '0.0.0.0';
  return {
    role: 'listen',
    file: '/ws/x',
    span: { start: 0, end: 1 },
    protocol: m[1] as PortFact['protocol'],
    port: Number(m[4]),
    portEnd: Number(m[5] ?? m[4]),
    family: v6 ? 'ipv6' : 'ipv4',
    address: wildcard ? undefined : addr,
    v6only: v6 ? true : undefined,
    program: 'test',
    context: spec,
    ...extra,
  };
}

describe('port-conflict verdict', () => {
  const cases: [string, string, boolean, Partial<PortFact>?, Partial<PortFact>?][] = [
    ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:80', true],
    ['tcp 0.0.0.0:80', 'udp 0.0.0.0:80', false],
    ['tcp 0.0.0.0:80', 'tcp 127.0.0.1:80', true],
    ['tcp 127.0.0.1:80', 'tcp 127.0.0.2:80', false],
    ['tcp 127.0.0.1:80', 'tcp 127.0.0.1:81', false],
    ['tcp 0.0.0.0:80', 'tcp [::]:80', false],
    ['tcp 0.0.0.0:80', 'tcp [::]:80', true, {}, { v6only: false }],
    ['tcp 127.0.0.1:80', 'tcp [::]:80', true, {}, { v6only: false }],
    ['tcp [::1]:80', 'tcp [::]:80', true],
    ['tcp [::1]:80', 'tcp 127.0.0.1:80', false],
    ['tcp 0.0.0.0:8000-8010', 'tcp 0.0.0.0:8010-8020', true],
    ['tcp 0.0.0.0:8000-8010', 'tcp 0.0.0.0:8011-8020', false],
    ['udp 0.0.0.0:60000-61000', 'udp 127.0.0.1:60500', true],
    // one nginx: the wildcard socket serves the specific address too
    ['tcp 0.0.0.0:80', 'tcp 127.0.0.1:80', false, { program: 'nginx', instance: 'n' }, { program: 'nginx', instance: 'n' }],
    ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:80', false, { program: 'nginx', instance: 'n' }, { program: 'nginx', instance: 'n' }],
    ['tcp 0.0.0.0:80', 'tcp 127.0.0.1:80', true, { program: 'nginx', instance: 'n' }, { program: 'nginx', instance: 'n', separateBind: true }],
    // two nginx processes do collide
    ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:80', true, { program: 'nginx', instance: 'n1' }, { program: 'nginx', instance: 'n2' }],
    // UDP sockets that both set SO_REUSEADDR share (nginx by name, resolved's and systemd's sockets by their facts); TCP listeners do not
    ['udp 0.0.0.0:53', 'udp 127.0.0.53:53', false, { program: 'nginx', instance: 'n' }, { program: 'systemd-resolved', reuseAddr: true }],
    ['udp [::]:53', 'udp 127.0.0.53:53', false, { program: 'systemd', reuseAddr: true, v6only: false }, { program: 'systemd-resolved', reuseAddr: true }],
    ['udp 0.0.0.0:53', 'udp 127.0.0.53:53', true, { program: 'docker', role: 'publish' }, { program: 'systemd-resolved', reuseAddr: true }],
    ['udp 0.0.0.0:53', 'udp 127.0.0.53:53', true, { program: 'systemd-resolved' }, { program: 'systemd-resolved', reuseAddr: true }],
    ['tcp 0.0.0.0:53', 'tcp 127.0.0.53:53', true, { program: 'systemd', reuseAddr: true }, { program: 'systemd-resolved', reuseAddr: true }],
    // ... unless both sockets set SO_REUSEPORT (on any overlapping address)
    ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:80', false, { program: 'nginx', instance: 'n1', reusePort: true }, { program: 'nginx', instance: 'n2', reusePort: true }],
    ['tcp 0.0.0.0:80', 'tcp 127.0.0.1:80', false, { program: 'nginx', instance: 'n1', reusePort: true }, { program: 'nginx', instance: 'n2', reusePort: true }],
    ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:80', true, { program: 'nginx', instance: 'n1', reusePort: true }, { program: 'nginx', instance: 'n2' }],
  ];
  for (const [a, b, expected, ea, eb] of cases) {
    it(`${a} ${ea ? JSON.stringify(ea) : ''} vs ${b} ${eb ? JSON.stringify(eb) : ''}: ${expected ? 'collide' : 'coexist'}`, () => {
      assert.strictEqual(collide(bind(a, ea), bind(b, eb)), expected);
      assert.strictEqual(collide(bind(b, eb), bind(a, ea)), expected, 'symmetric');
    });
  }
  describe('a program starting now against what is held', () => {
    const held = (...specs: string[]) => specs.map((s) => ({ fact: bind(s) }));
    const mapping = (range: string) => [bind(`tcp 0.0.0.0:${range}`, { oneOf: true }), bind(`tcp [::]:${range}`, { oneOf: true })];

    it('a oneOf mapping takes the lowest port of its range that every one of its addresses can bind', () => {
      assert.strictEqual(portTaken(mapping('8000-8002'), []), 8000);
      assert.strictEqual(portTaken(mapping('8000-8002'), held('tcp 0.0.0.0:8000')), 8001);
      assert.strictEqual(portTaken(mapping('8000-8002'), held('tcp 127.0.0.1:7990-8001')), 8002);
      // IPv4 holds 8000, IPv6 holds 8001: neither port is free on both addresses.
      assert.strictEqual(portTaken(mapping('8000-8001'), held('tcp 0.0.0.0:8000', 'tcp [::]:8001')), undefined);
      assert.strictEqual(portTaken(mapping('8000-8002'), held('tcp 0.0.0.0:8000', 'tcp [::]:8001')), 8002);
    });

    it('a oneOf mapping is not in the way of binds on other addresses or protocols', () => {
      assert.strictEqual(
        portTaken(
          mapping('8000-8001'),
          held('tcp 127.0.0.1:8000-8001').map((h) => ({ fact: { ...h.fact, family: 'ipv4' as const, address: undefined, protocol: 'udp' as const } })),
        ),
        8000,
      );
      assert.strictEqual(portTaken([bind('tcp 127.0.0.1:8000-8001', { oneOf: true })], held('tcp 127.0.0.2:8000-8001')), 8000);
    });

    it('a held oneOf bind is in the way of the one port it took, not of its whole range', () => {
      const took = mapping('8000-8001').map((fact) => ({ fact, took: 8000 }));
      assert.strictEqual(bindBlockers(bind('tcp 0.0.0.0:8000'), took).length, 1);
      assert.deepStrictEqual(bindBlockers(bind('tcp 0.0.0.0:8001'), took), []);
      assert.strictEqual(portTaken(mapping('8000-8001'), took), 8001);
      assert.strictEqual(portTaken(mapping('8000-8001'), [...took, ...mapping('8000-8001').map((fact) => ({ fact, took: 8001 }))]), undefined);
    });
  });

  it('an unresolved host name overlaps only the same name', () => {
    const host = (name: string) => ({ ...bind('tcp 10.0.0.1:22'), family: undefined, address: name });
    assert.strictEqual(addressesOverlap(host('a.example'), host('a.example')), true);
    assert.strictEqual(addressesOverlap(host('a.example'), bind('tcp 0.0.0.0:22')), false);
  });
});

describe('port-conflict across files of one host', () => {
  it('fires on both sides, naming the other side with related information', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 2222\n', 'opt/jump/sshd_config': 'ListenAddress 127.0.0.1:2222\n' });
    const got = shownFindings(engine).filter((f) => f.code === 'port-conflict');
    assert.deepStrictEqual(got.map((f) => [f.file, f.line, f.text]).sort(), [
      ['/ws/etc/ssh/sshd_config', 1, '2222'],
      ['/ws/opt/jump/sshd_config', 1, '2222'],
    ]);
    const first = engine
      .analyze()
      .findingsByFile.get('/ws/etc/ssh/sshd_config')!
      .find((f) => f.code === 'port-conflict')!;
    assert.match(first.message, /opt\/jump\/sshd_config:1/);
    assert.strictEqual(first.related?.[0].file, '/ws/opt/jump/sshd_config');
  });

  it('reports a default port that collides, and stays silent when addresses differ', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': '# defaults\n', 'opt/jump/sshd_config': 'ListenAddress 127.0.0.2:22\n' });
    assert.strictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict').length, 2);
    const quiet = engineWith({ 'etc/ssh/sshd_config': 'ListenAddress 127.0.0.1\n', 'opt/jump/sshd_config': 'ListenAddress 127.0.0.2:22\n' });
    assert.deepStrictEqual(
      shownFindings(quiet).filter((f) => f.code === 'port-conflict'),
      [],
    );
  });

  it('warns (not errors) when one sshd binds an address twice, and stays silent when it does not', () => {
    const one = engineWith({ 'etc/ssh/sshd_config': 'Port 22\nPort 22\nListenAddress 127.0.0.1\n' });
    const got = shownFindings(one).filter((f) => f.code === 'port-conflict');
    assert.deepStrictEqual(
      got.map((f) => [f.severity, f.line]),
      [
        ['warning', 1],
        ['warning', 2],
      ],
    );
    assert.strictEqual(
      got[0].message,
      'Port 22/tcp on 127.0.0.1 is bound twice by this sshd (also etc/ssh/sshd_config:2): one bind fails, sshd serves on the rest',
    );
    // sshd binds ListenAddress lines in reverse order: which of the two fails is not "the later one".
    assert.doesNotMatch(got[0].message, /later/);
    assert.ok(
      got.every((f) => !dependsOnStartOrder(f as unknown as Finding)),
      'a bind fails whatever the order',
    );
    const distinct = engineWith({ 'etc/ssh/sshd_config': 'Port 22\nPort 2222\nListenAddress 127.0.0.1\nListenAddress ::1\n' });
    assert.deepStrictEqual(
      shownFindings(distinct).filter((f) => f.code === 'port-conflict'),
      [],
    );
  });

  it('stays silent across hosts', () => {
    const engine = engineWith({ 'web1/etc/ssh/sshd_config': 'Port 22\n', 'web2/etc/ssh/sshd_config': 'Port 22\n' });
    engine.hosts.setFolders([{ folder: '/ws', hosts: { web1: ['web1/**'], web2: ['web2/**'] } }]);
    assert.deepStrictEqual(
      shownFindings(engine).filter((f) => f.code === 'port-conflict'),
      [],
    );
  });

  it('removing one side clears the other side', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 2222\n', 'opt/jump/sshd_config': 'Port 2222\n' });
    assert.strictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict').length, 2);
    engine.setFile('/ws/opt/jump/sshd_config', 'Port 2223\n');
    assert.deepStrictEqual(
      shownFindings(engine).filter((f) => f.code === 'port-conflict'),
      [],
    );
  });
});

describe('port-conflict: one finding per side (bind groups)', () => {
  const site = (name: string) => `server {\n  listen 80;\n  listen [::]:80;\n  server_name ${name};\n}\n`;
  const files = {
    'etc/nginx/nginx.conf': 'events {}\nhttp {\n  include sites-enabled/*;\n}\n',
    'etc/nginx/sites-enabled/a': site('a.example'),
    'etc/nginx/sites-enabled/b': site('b.example'),
    'srv/shop/compose.yaml': 'services:\n  proxy:\n    image: caddy\n    ports:\n      - "80:80"\n',
  };
  const portConflicts = (engine: ReturnType<typeof engineWith>) =>
    [...engine.analyze().findingsByFile.values()].flat().filter((f) => f.code === 'port-conflict');

  it("an nginx's listen 80 + listen [::]:80 in two vhosts against a dual-stack publish: one finding per side", () => {
    const engine = engineWith(files);
    assert.deepStrictEqual(
      shownFindings(engine)
        .filter((f) => f.code === 'port-conflict')
        .map((f) => [f.file, f.line, f.message])
        .sort(),
      [
        ['/ws/etc/nginx/sites-enabled/a', 2, 'Port 80/tcp is also published by docker service proxy (srv/shop/compose.yaml:5): address already in use'],
        ['/ws/srv/shop/compose.yaml', 5, 'Port 80/tcp is also bound by nginx (etc/nginx/sites-enabled/a:2, +3 more): address already in use'],
      ],
    );
    const [nginx, docker] = portConflicts(engine).sort((x, y) => x.file.localeCompare(y.file));
    // The other side first, then this side's other places.
    assert.deepStrictEqual(
      nginx.related!.map((r) => [r.file.replace('/ws/', ''), r.message]),
      [
        ['srv/shop/compose.yaml', 'docker service proxy binds 0.0.0.0:80/tcp and [::]:80/tcp'],
        ['etc/nginx/sites-enabled/a', 'nginx (server block at line 1 of a (server_name a.example)) binds [::]:80/tcp too: the same conflict'],
        ['etc/nginx/sites-enabled/b', 'nginx (server block at line 1 of b (server_name b.example)) binds 0.0.0.0:80/tcp too: the same conflict'],
        ['etc/nginx/sites-enabled/b', 'nginx (server block at line 1 of b (server_name b.example)) binds [::]:80/tcp too: the same conflict'],
      ],
    );
    assert.strictEqual(docker.related!.length, 4);
    // data.other names each other side once, at the place its own finding stands.
    assert.deepStrictEqual(
      docker.data!.other!.map((o) => [o.file, o.span]),
      [[nginx.file, nginx.span]],
    );
    assert.deepStrictEqual(
      nginx.data!.other!.map((o) => [o.file, o.span]),
      [[docker.file, docker.span]],
    );
  });

  it("the nginx side's fix moves every place of the group, and then nothing collides", () => {
    const engine = engineWith(files);
    const nginx = portConflicts(engine).find((f) => f.file.includes('nginx'))!;
    const fix = nginx.fixes!.find((f) => f.title.startsWith('Use port'))!;
    assert.match(fix.title, /^Use port \d+ \(free on this host\), at all 4 places$/);
    const after: Record<string, string> = { ...files };
    for (const rel of Object.keys(files)) {
      const edits = fix.edits.filter((e) => e.file === `/ws/${rel}`);
      if (edits.length) after[rel] = applyEdits(files[rel as keyof typeof files], edits);
    }
    assert.strictEqual(fix.edits.length, 4);
    assert.deepStrictEqual(portConflicts(engineWith(after)), []);
  });

  it('vhosts of one nginx never collide, on either family', () => {
    const { 'srv/shop/compose.yaml': _, ...nginxOnly } = files;
    assert.deepStrictEqual(portConflicts(engineWith(nginxOnly)), []);
  });

  it("sshd's default (both families) against a publish of 22: one finding each, the default named", () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': '# defaults\n', 'srv/git/compose.yaml': 'services:\n  git:\n    image: gitea\n    ports: ["22:22"]\n' });
    assert.deepStrictEqual(
      shownFindings(engine)
        .filter((f) => f.code === 'port-conflict')
        .map((f) => [f.file.replace('/ws/', ''), f.message])
        .sort(),
      [
        ['etc/ssh/sshd_config', "Port 22/tcp (sshd's default) is also published by docker service git (srv/git/compose.yaml:4): address already in use"],
        ['srv/git/compose.yaml', 'Port 22/tcp is also bound by sshd (etc/ssh/sshd_config:1): address already in use'],
      ],
    );
  });

  it('two Docker publishes: "port is already allocated", as the daemon says; a specific address is named', () => {
    const two = engineWith({
      'a/compose.yaml': 'services:\n  web:\n    image: x\n    ports: ["8080:80"]\n  api:\n    image: x\n    ports: ["127.0.0.1:8080:81"]\n',
    });
    assert.deepStrictEqual(
      shownFindings(two)
        .filter((f) => f.code === 'port-conflict')
        .map((f) => [f.line, f.message]),
      [
        [4, 'Port 8080/tcp is also published by docker service api (a/compose.yaml:7): port is already allocated'],
        [7, 'Port 8080/tcp on 127.0.0.1 is also published by docker service web (a/compose.yaml:4): port is already allocated'],
      ],
    );
  });

  it('a port range names the ports that overlap', () => {
    const engine = engineWith({
      'etc/ssh/sshd_config': 'Port 8005\n',
      'srv/a/compose.yaml': 'services:\n  web:\n    image: x\n    ports: ["8000-8010:8000-8010"]\n',
    });
    assert.deepStrictEqual(
      shownFindings(engine)
        .filter((f) => f.code === 'port-conflict')
        .map((f) => f.message)
        .sort(),
      [
        'Port 8005/tcp (of 8000-8010) is also bound by sshd (etc/ssh/sshd_config:1): address already in use',
        'Port 8005/tcp is also published by docker service web (srv/a/compose.yaml:4): address already in use',
      ],
    );
  });

  it('every message starts with the port and stays short', () => {
    for (const f of portConflicts(engineWith(files))) {
      assert.match(f.message, /^Ports? \d+/);
      assert.ok(f.message.length <= 110, f.message);
    }
  });
});

describe('port-conflict: a host range published to one container port', () => {
  const compose = (...services: string[]) => 'services:\n' + services.map((ports, i) => `  s${i}:\n    image: x\n    ports: [${ports}]\n`).join('');
  // In file and line order, whatever order the engine found them in.
  const conflicts = (files: Record<string, string>) =>
    shownFindings(engineWith(files))
      .filter((f) => f.code === 'port-conflict')
      .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const brief = (files: Record<string, string>) =>
    conflicts(files).map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, dependsOnStartOrder(f as unknown as Finding)]);

  it('is silent when the range has a port for every container', () => {
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': compose('"8000-8001:80"', '"8000-8001:80"') }), []);
    // A fixed bind on a port no container of the range can reach: each takes one of the ports below it.
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': compose('"8000-8002:80"', '"8000-8002:80"'), 'etc/ssh/sshd_config': 'Port 8002\n' }), []);
    // Another address, another protocol.
    assert.deepStrictEqual(
      conflicts({
        'data/app/compose.yml': compose('"127.0.0.1:8000-8001:80"'),
        'etc/ssh/sshd_config': 'ListenAddress 127.0.0.2:8000\nListenAddress 127.0.0.2:8001\n',
      }),
      [],
    );
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': compose('"8000-8001:53/udp"'), 'etc/ssh/sshd_config': 'Port 8000\nPort 8001\n' }), []);
  });

  it('is an error on every side when more containers need a port of the range than it has', () => {
    const files = { 'data/app/compose.yml': compose('"8000-8001:80"', '"8000-8001:80"', '"8000-8001:80"') };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'error', false],
      ['data/app/compose.yml', 7, 'error', false],
      ['data/app/compose.yml', 10, 'error', false],
    ]);
    const [first] = conflicts(files);
    assert.strictEqual(
      first.message,
      'Ports 8000-8001/tcp have 2 free ports for 3 containers: this one, docker service s1 (data/app/compose.yml:7) and 1 other',
    );
    assert.deepStrictEqual(
      engineWith(files)
        .analyze()
        .findingsByFile.get('/ws/data/app/compose.yml')!
        .filter((f) => f.code === 'port-conflict')[0]
        .related!.map((r) => r.message),
      [
        'docker service s1 takes one free port of 0.0.0.0:8000-8001/tcp and [::]:8000-8001/tcp when its container starts',
        'docker service s2 takes one free port of 0.0.0.0:8000-8001/tcp and [::]:8000-8001/tcp when its container starts',
      ],
    );
  });

  it('is an error when fixed binds take the whole range, naming them and how many ports are free', () => {
    const files = { 'data/app/compose.yml': compose('"8000-8001:80"'), 'etc/ssh/sshd_config': 'Port 8000\nPort 8001\n' };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'error', false],
      ['etc/ssh/sshd_config', 1, 'error', false],
      ['etc/ssh/sshd_config', 2, 'error', false],
    ]);
    const [docker, sshd] = conflicts(files);
    assert.strictEqual(docker.message, 'Ports 8000-8001/tcp have no free port for this container: 2 taken by sshd (etc/ssh/sshd_config:1) and 1 other');
    assert.strictEqual(
      sshd.message,
      'Port 8000/tcp is also wanted by docker service s0 (data/app/compose.yml:4): too few ports, a bind fails in every start order',
    );
    const related = engineWith(files)
      .analyze()
      .findingsByFile.get('/ws/data/app/compose.yml')!
      .find((f) => f.code === 'port-conflict')!.related!;
    assert.deepStrictEqual(
      related.map((r) => r.file),
      ['/ws/etc/ssh/sshd_config', '/ws/etc/ssh/sshd_config'],
    );
  });

  it('counts a port as taken when it is taken on one of the addresses the range needs', () => {
    // IPv4 holds 8000 and IPv6 holds 8001: Docker needs one port free on both.
    const files = {
      'data/app/compose.yml': compose('"8000-8001:80"'),
      'etc/ssh/sshd_config': 'Port 8000\nAddressFamily inet\n',
      'opt/six/sshd_config': 'Port 8001\nAddressFamily inet6\n',
    };
    assert.deepStrictEqual(
      brief(files).map((b) => b[2]),
      ['error', 'error', 'error'],
    );
  });

  it('is an error when fixed binds and containers together outnumber the ports', () => {
    const files = {
      'data/app/compose.yml': compose('"8000-8001:80"', '"8000-8001:80"'),
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 8001; }\n}\n',
    };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'error', false],
      ['data/app/compose.yml', 7, 'error', false],
      ['etc/nginx/nginx.conf', 3, 'error', false],
    ]);
    assert.strictEqual(conflicts(files)[0].message, 'Ports 8000-8001/tcp have 1 free port for 2 containers: 1 taken by nginx (etc/nginx/nginx.conf:3)');
  });

  it('warns on both sides when only some start orders collide', () => {
    // Docker first takes 8000, which nginx wants; nginx first leaves Docker 8001.
    const files = { 'data/app/compose.yml': compose('"8000-8001:80"'), 'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 8000; }\n}\n' };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'warning', true],
      ['etc/nginx/nginx.conf', 3, 'warning', true],
    ]);
    const [docker, nginx] = conflicts(files);
    assert.strictEqual(docker.message, 'Ports 8000-8001/tcp: started first, this container may take a port nginx (etc/nginx/nginx.conf:3) needs');
    assert.strictEqual(nginx.message, 'Port 8000/tcp may be taken by docker service s0 (data/app/compose.yml:4) if it starts first: address already in use');
    // Two containers on three ports and a fixed bind on the middle one: the second container may take it.
    const middle = { 'data/app/compose.yml': compose('"8000-8002:80"', '"8000-8002:80"'), 'etc/ssh/sshd_config': 'Port 8001\n' };
    assert.deepStrictEqual(
      brief(middle).map((b) => b.slice(2)),
      [
        ['warning', true],
        ['warning', true],
        ['warning', true],
      ],
    );
  });

  it('warns, without naming who takes what, when there are too many start orders to try one by one', () => {
    // 13 fixed binds on 8000-8012 and one container on 8000-8013: 2^13 placements.
    const listens = Array.from({ length: 13 }, (_, i) => `  server { listen ${8000 + i}; }`).join('\n');
    const files = { 'data/app/compose.yml': compose('"8000-8013:80"'), 'etc/nginx/nginx.conf': `events {}\nhttp {\n${listens}\n}\n` };
    const got = conflicts(files);
    assert.strictEqual(got.length, 14);
    assert.ok(got.every((f) => f.severity === 'warning' && dependsOnStartOrder(f as unknown as Finding)));
    assert.strictEqual(
      got[0].message,
      'Ports 8000-8013/tcp: which one this container gets depends on start order (nginx (etc/nginx/nginx.conf:3) and 12 others)',
    );
    // One more fixed bind leaves no port free: an error whatever the order, found without trying each.
    const full = { ...files, 'etc/ssh/sshd_config': 'Port 8013\n' };
    assert.ok(conflicts(full).every((f) => f.severity === 'error'));
    // Fixed binds above every port the container can reach stay silent however many they are.
    const above = Array.from({ length: 13 }, (_, i) => `  server { listen ${8001 + i}; }`).join('\n');
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': compose('"8000-8013:80"'), 'etc/nginx/nginx.conf': `events {}\nhttp {\n${above}\n}\n` }), []);
  });

  it('counts containers against ports when they are too many to try each order', () => {
    const services = (n: number) => compose(...Array.from({ length: n }, () => '"8000-8006:80"'));
    const eight = conflicts({ 'data/app/compose.yml': services(8) });
    assert.strictEqual(eight.length, 8);
    assert.ok(eight.every((f) => f.severity === 'error'));
    assert.match(
      eight[0].message,
      /^Ports 8000-8006\/tcp have 7 free ports for 8 containers: this one, docker service s1 \(data\/app\/compose\.yml:7\) and 6 others$/,
    );
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': services(7) }), []);
  });
});

describe('port-conflict: SO_REUSEADDR of systemd sockets and resolved', () => {
  const conflicts = (files: Record<string, string>) => shownFindings(engineWith(files)).filter((f) => f.code === 'port-conflict');
  const resolved = (extra: string) => `[Resolve]\nDNSStubListener=no\nDNSStubListenerExtra=${extra}\n`;

  it('a .socket ListenDatagram= shares its port with nginx udp and resolved (all set SO_REUSEADDR)', () => {
    const unit = '[Socket]\nListenDatagram=5353\n';
    assert.deepStrictEqual(
      conflicts({ 'lib/systemd/system/dns.socket': unit, 'etc/nginx/nginx.conf': 'events {}\nstream {\n  server { listen 127.0.0.1:5353 udp; }\n}\n' }),
      [],
    );
    assert.deepStrictEqual(conflicts({ 'lib/systemd/system/dns.socket': unit, 'etc/systemd/resolved.conf': resolved('udp:127.0.0.1:5353') }), []);
  });

  it('a .socket ListenDatagram= collides with a compose udp publish (docker-proxy sets no SO_REUSEADDR)', () => {
    const found = conflicts({
      'lib/systemd/system/dns.socket': '[Socket]\nListenDatagram=5353\n',
      'srv/compose.yml': 'services:\n  dns:\n    image: x\n    ports:\n      - "127.0.0.1:5353:53/udp"\n',
    });
    assert.deepStrictEqual(found.map((f) => f.file).sort(), ['/ws/lib/systemd/system/dns.socket', '/ws/srv/compose.yml']);
  });

  it("resolved's extra on [::] takes IPv4 too (no IPV6_V6ONLY)", () => {
    const files = {
      'etc/systemd/resolved.conf': resolved('udp:[::]:5353'),
      'srv/compose.yml': 'services:\n  dns:\n    image: x\n    ports:\n      - "127.0.0.1:5353:53/udp"\n',
    };
    assert.strictEqual(conflicts(files).length, 2);
  });

  it('a .socket ListenStream= collides with a TCP listener whatever SO_REUSEADDR says', () => {
    const found = conflicts({
      'lib/systemd/system/web.socket': '[Socket]\nListenStream=127.0.0.1:8080\n',
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 8080; }\n}\n',
    });
    assert.strictEqual(found.length, 2);
  });
});

describe('port-conflict: SO_REUSEPORT', () => {
  const nginx = (listen: string) => `events {}\nhttp {\n  server { listen ${listen}; }\n}\n`;
  const conflicts = (files: Record<string, string>) =>
    shownFindings(engineWith(files))
      .filter((f) => f.code === 'port-conflict')
      .sort((a, b) => a.file.localeCompare(b.file));

  it('two nginx that both listen with reuseport share the port', () => {
    assert.deepStrictEqual(conflicts({ 'etc/nginx/nginx.conf': nginx('8080 reuseport'), 'opt/b/nginx.conf': nginx('8080 reuseport') }), []);
  });

  it('collide when only one of them sets reuseport', () => {
    assert.deepStrictEqual(
      conflicts({ 'etc/nginx/nginx.conf': nginx('8080 reuseport'), 'opt/b/nginx.conf': nginx('8080') }).map((f) => [f.file, f.severity]),
      [
        ['/ws/etc/nginx/nginx.conf', 'error'],
        ['/ws/opt/b/nginx.conf', 'error'],
      ],
    );
  });

  it('the listen that sets the socket options decides for every server of the address:port', () => {
    const both = `events {}\nhttp {\n  server { listen 8080 reuseport; }\n  server { listen 8080; server_name b; }\n}\n`;
    const facts = engineWith({ 'etc/nginx/nginx.conf': both })
      .analyze()
      .facts.map(({ fact }) => fact)
      .filter((f) => f.role === 'listen');
    assert.deepStrictEqual(
      facts.map((f) => f.reusePort),
      [true, true],
    );
    assert.deepStrictEqual(conflicts({ 'etc/nginx/nginx.conf': both, 'opt/b/nginx.conf': nginx('8080 reuseport') }), []);
  });
});

describe('silencing findings', () => {
  it('portolan-ignore on the line or the line above, with or without codes', () => {
    const text = 'Port 50001 # portolan-ignore\n# portolan-ignore ephemeral-port\nPort 50002\n# portolan-ignore port-conflict\nPort 50003\nPort 50004\n';
    const got = shownFindings(engineWith({ 'etc/ssh/sshd_config': text })).map((f) => f.text);
    assert.deepStrictEqual(got, ['50003', '50004']);
  });
  it('portolan.ignore turns a code off everywhere', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 50001\nPort 70000\n' });
    engine.setSettings({ ...engine['settings'], ignoreCodes: ['ephemeral-port'] });
    assert.deepStrictEqual(
      shownFindings(engine).map((f) => f.code),
      ['invalid-port'],
    );
  });
});
