import * as assert from 'assert';
import { addressesOverlap, collide } from '../../server/src/core/conflicts';
import type { PortFact } from '../../server/src/core/types';
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
  it('a bind that takes one free port of a range fails only when the whole range is taken', () => {
    const chooser = bind('tcp 0.0.0.0:8000-8010', { oneOf: true });
    assert.strictEqual(collide(chooser, bind('tcp 0.0.0.0:8005')), false);
    assert.strictEqual(collide(bind('tcp 0.0.0.0:8005'), chooser), false);
    assert.strictEqual(collide(chooser, bind('tcp 0.0.0.0:7000-9000')), true);
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
    const first = engine.analyze().findingsByFile.get('/ws/etc/ssh/sshd_config')!.find((f) => f.code === 'port-conflict')!;
    assert.match(first.message, /opt\/jump\/sshd_config:1/);
    assert.strictEqual(first.related?.[0].file, '/ws/opt/jump/sshd_config');
  });

  it('reports a default port that collides, and stays silent when addresses differ', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': '# defaults\n', 'opt/jump/sshd_config': 'ListenAddress 127.0.0.2:22\n' });
    assert.strictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict').length, 2);
    const quiet = engineWith({ 'etc/ssh/sshd_config': 'ListenAddress 127.0.0.1\n', 'opt/jump/sshd_config': 'ListenAddress 127.0.0.2:22\n' });
    assert.deepStrictEqual(shownFindings(quiet).filter((f) => f.code === 'port-conflict'), []);
  });

  it('warns (not errors) when one sshd binds an address twice, and stays silent when it does not', () => {
    const one = engineWith({ 'etc/ssh/sshd_config': 'Port 22\nPort 22\nListenAddress 127.0.0.1\n' });
    const got = shownFindings(one).filter((f) => f.code === 'port-conflict');
    assert.deepStrictEqual(got.map((f) => [f.severity, f.line]), [['warning', 1], ['warning', 2]]);
    assert.match(got[0].message, /sshd logs it and keeps serving/);
    const distinct = engineWith({ 'etc/ssh/sshd_config': 'Port 22\nPort 2222\nListenAddress 127.0.0.1\nListenAddress ::1\n' });
    assert.deepStrictEqual(shownFindings(distinct).filter((f) => f.code === 'port-conflict'), []);
  });

  it('stays silent across hosts', () => {
    const engine = engineWith({ 'web1/etc/ssh/sshd_config': 'Port 22\n', 'web2/etc/ssh/sshd_config': 'Port 22\n' });
    engine.hosts.setFolders([{ folder: '/ws', hosts: { web1: ['web1/**'], web2: ['web2/**'] } }]);
    assert.deepStrictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict'), []);
  });

  it('removing one side clears the other side', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 2222\n', 'opt/jump/sshd_config': 'Port 2222\n' });
    assert.strictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict').length, 2);
    engine.setFile('/ws/opt/jump/sshd_config', 'Port 2223\n');
    assert.deepStrictEqual(shownFindings(engine).filter((f) => f.code === 'port-conflict'), []);
  });
});

describe('port-conflict: SO_REUSEPORT', () => {
  const nginx = (listen: string) => `events {}\nhttp {\n  server { listen ${listen}; }\n}\n`;
  const conflicts = (files: Record<string, string>) =>
    shownFindings(engineWith(files))
      .filter((f) => f.code === 'port-conflict')
      .sort((a, b) => a.file.localeCompare(b.file));

  it('two nginx that both listen with reuseport share the port', () => {
    assert.deepStrictEqual(conflicts({ 'a/nginx.conf': nginx('8080 reuseport'), 'b/nginx.conf': nginx('8080 reuseport') }), []);
  });

  it('collide when only one of them sets reuseport', () => {
    assert.deepStrictEqual(
      conflicts({ 'a/nginx.conf': nginx('8080 reuseport'), 'b/nginx.conf': nginx('8080') }).map((f) => [f.file, f.severity]),
      [
        ['/ws/a/nginx.conf', 'error'],
        ['/ws/b/nginx.conf', 'error'],
      ],
    );
  });

  it('the listen that sets the socket options decides for every server of the address:port', () => {
    const both = `events {}\nhttp {\n  server { listen 8080 reuseport; }\n  server { listen 8080; server_name b; }\n}\n`;
    const facts = engineWith({ 'a/nginx.conf': both }).analyze().facts.map(({ fact }) => fact).filter((f) => f.role === 'listen');
    assert.deepStrictEqual(facts.map((f) => f.reusePort), [true, true]);
    assert.deepStrictEqual(conflicts({ 'a/nginx.conf': both, 'b/nginx.conf': nginx('8080 reuseport') }), []);
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
    assert.deepStrictEqual(shownFindings(engine).map((f) => f.code), ['invalid-port']);
  });
});
