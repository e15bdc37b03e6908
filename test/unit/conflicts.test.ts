import * as assert from 'assert';
import { addressesOverlap, bindBlockers, collide, dependsOnStartOrder, portTaken } from '../../server/src/core/conflicts';
import type { Finding, PortFact } from '../../server/src/core/types';
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
    assert.match(got[0].message, /one of the two binds fails with "Address already in use"; sshd logs it and serves on the sockets that bound/);
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
    const first = conflicts(files)[0].message;
    assert.match(first, /takes one free port of 0\.0\.0\.0:8000-8001 and \[::\]:8000-8001\/tcp/);
    assert.match(
      first,
      /3 containers compete for its 2 ports: docker \(service s1\) at data\/app\/compose\.yml:7 and docker \(service s2\) at data\/app\/compose\.yml:10/,
    );
    assert.match(first, /In every start order one of these binds fails/);
  });

  it('is an error when fixed binds take the whole range, naming them and how many ports are free', () => {
    const files = { 'data/app/compose.yml': compose('"8000-8001:80"'), 'etc/ssh/sshd_config': 'Port 8000\nPort 8001\n' };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'error', false],
      ['etc/ssh/sshd_config', 1, 'error', false],
      ['etc/ssh/sshd_config', 2, 'error', false],
    ]);
    const [docker, sshd] = conflicts(files);
    assert.match(
      docker.message,
      /both of its ports are taken \(sshd .* binds 0\.0\.0\.0:8000 and \[::\]:8000\/tcp at etc\/ssh\/sshd_config:1 and sshd .* at etc\/ssh\/sshd_config:2\), leaving none free/,
    );
    assert.match(
      sshd.message,
      /a port of 0\.0\.0\.0:8000-8001 and \[::\]:8000-8001\/tcp, of which docker \(service s0\) at data\/app\/compose\.yml:4 takes one free port/,
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
    assert.match(
      conflicts(files)[0].message,
      /1 of its 2 ports is taken \(nginx .* 0\.0\.0\.0:8001\/tcp at etc\/nginx\/nginx\.conf:3\), leaving 1 free, and 2 containers compete for what is left/,
    );
  });

  it('warns on both sides when only some start orders collide', () => {
    // Docker first takes 8000, which nginx wants; nginx first leaves Docker 8001.
    const files = { 'data/app/compose.yml': compose('"8000-8001:80"'), 'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 8000; }\n}\n' };
    assert.deepStrictEqual(brief(files), [
      ['data/app/compose.yml', 4, 'warning', true],
      ['etc/nginx/nginx.conf', 3, 'warning', true],
    ]);
    const [docker, nginx] = conflicts(files);
    assert.match(
      docker.message,
      /may collide depending on which starts first: started first, the container may take a port nginx \(server block at line 3\) needs/,
    );
    assert.match(nginx.message, /if the container starts first it may take this port, and nginx then fails with "Address already in use"/);
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
    assert.match(got[0].message, /the container takes whichever port of the range is free when it starts/);
    assert.match(got[0].message, /and 6 more/);
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
    assert.match(eight[0].message, /8 containers compete for its 7 ports/);
    assert.deepStrictEqual(conflicts({ 'data/app/compose.yml': services(7) }), []);
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
