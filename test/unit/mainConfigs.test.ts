/**
 * Which program instances run on a host (core/mainConfigs.ts; issue 9, mechanisms 5 and 7): nginx
 * server files no nginx.conf loads, alternative main configs beside nginx.conf, the stock nginx.conf
 * of a host that holds none, sshd_config.d drop-ins without an sshd_config.
 */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';

const MAIN = 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n';
const SERVER80 = 'server {\n  listen 80;\n  server_name a;\n}\n';
const DEFAULT80 = 'server {\n  listen 80 default_server;\n}\n';

const loud = (files: Record<string, string>) =>
  shownFindings(engineWith(files))
    .filter((f) => f.severity === 'error' || f.severity === 'warning')
    .map((f) => `${f.file.replace('/ws/', '')}:${f.line} ${f.code}`)
    .sort();

/** The collisions without certain shared-host evidence: Information (issue 9, mechanism 4). */
const ifOneHost = (files: Record<string, string>) =>
  shownFindings(engineWith(files))
    .filter((f) => f.severity === 'information' && f.code === 'port-conflict')
    .map((f) => `${f.file.replace('/ws/', '')}:${f.line} ${f.code}`)
    .sort();

const listens = (files: Record<string, string>, program: string) =>
  engineWith(files)
    .analyze()
    .facts.map(({ fact }) => fact)
    .filter((f) => f.role === 'listen' && f.program === program)
    .map((f) => `${f.file.replace('/ws/', '')} ${f.address ?? (f.family === 'ipv6' ? '::' : '0.0.0.0')}:${f.port}${f.inactive ? ' inactive' : ''}`)
    .sort();

describe('main configurations: what runs on a host', () => {
  describe('nginx with an nginx.conf', () => {
    it('a server file nginx.conf does not include binds nothing, and collides with nothing', () => {
      const files = { 'etc/nginx/nginx.conf': MAIN, 'etc/nginx/conf.d/a.conf': SERVER80, 'etc/nginx/conf.d/old/b.conf': SERVER80 };
      assert.deepStrictEqual(listens(files, 'nginx'), ['etc/nginx/conf.d/a.conf 0.0.0.0:80', 'etc/nginx/conf.d/old/b.conf 0.0.0.0:80 inactive']);
      assert.deepStrictEqual(loud({ ...files, 'etc/ssh/sshd_config': 'Port 22\n' }), []);
      const engine = engineWith(files);
      assert.deepStrictEqual(engine.instanceNotes('/ws/etc/nginx/conf.d/old/b.conf'), ['inactive: not loaded: no nginx.conf on this host includes it']);
      assert.deepStrictEqual(engine.instanceNotes('/ws/etc/nginx/conf.d/a.conf'), []);
    });

    it('what nginx.conf does load still collides with other programs', () => {
      const files = { 'etc/nginx/nginx.conf': MAIN, 'etc/nginx/conf.d/a.conf': SERVER80, 'etc/ssh/sshd_config': 'Port 80\n' };
      assert.deepStrictEqual(loud(files), ['etc/nginx/conf.d/a.conf:2 port-conflict', 'etc/ssh/sshd_config:1 port-conflict']);
    });

    it('an alternative main config beside nginx.conf is not run with it', () => {
      const alt = 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  server { listen 8443; }\n}\n';
      const files = { 'etc/nginx/nginx.conf': MAIN, 'etc/nginx/nginx-tls.conf': alt, 'etc/nginx/conf.d/a.conf': SERVER80 };
      assert.deepStrictEqual(loud(files), []);
      assert.deepStrictEqual(listens(files, 'nginx'), [
        'etc/nginx/conf.d/a.conf 0.0.0.0:80',
        'etc/nginx/conf.d/a.conf 0.0.0.0:80 inactive',
        'etc/nginx/nginx-tls.conf 0.0.0.0:8443 inactive',
      ]);
      const notes = engineWith(files).instanceNotes('/ws/etc/nginx/nginx-tls.conf');
      assert.deepStrictEqual(notes, ['inactive: an alternative to nginx.conf beside it (nginx is started with one of them, not both)']);
    });

    it('two main configs in different directories are two nginx (their collision stays)', () => {
      const a = 'events {}\nhttp {\n  server { listen 80; }\n}\n';
      // Not known to run on one machine: Information on each side.
      assert.deepStrictEqual(loud({ 'a/nginx.conf': a, 'b/nginx.conf': a }), []);
      assert.deepStrictEqual(ifOneHost({ 'a/nginx.conf': a, 'b/nginx.conf': a }), ['a/nginx.conf:3 port-conflict', 'b/nginx.conf:3 port-conflict']);
    });
  });

  describe('nginx without an nginx.conf: the stock one', () => {
    it('server files in conf.d are one nginx: same listen, no conflict', () => {
      const files = { 'etc/nginx/conf.d/a.conf': SERVER80, 'etc/nginx/conf.d/b.conf': SERVER80.replace(' a;', ' b;') };
      assert.deepStrictEqual(loud(files), []);
      const engine = engineWith(files);
      assert.deepStrictEqual(engine.instancesOf('/ws/etc/nginx/conf.d/a.conf'), ['/ws/etc/nginx/nginx.conf']);
      assert.deepStrictEqual(engine.instanceNotes('/ws/etc/nginx/conf.d/b.conf'), ['etc/nginx/nginx.conf: the stock nginx main config, not in the workspace']);
    });

    it('a duplicate default_server across conf.d files is still an error', () => {
      const files = { 'etc/nginx/conf.d/a.conf': DEFAULT80, 'etc/nginx/sites-enabled/b': DEFAULT80 };
      assert.deepStrictEqual(loud(files), ['etc/nginx/sites-enabled/b:2 duplicate-default-server']);
    });

    it('the stock nginx still collides with other programs of the host', () => {
      assert.deepStrictEqual(loud({ 'etc/nginx/conf.d/a.conf': SERVER80, 'etc/ssh/sshd_config': 'Port 80\n' }), [
        'etc/nginx/conf.d/a.conf:2 port-conflict',
        'etc/ssh/sshd_config:1 port-conflict',
      ]);
    });

    it('server files elsewhere share its ports, but are not known to be loaded together', () => {
      const files = { 'examples/a.conf': DEFAULT80, 'examples/b.conf': DEFAULT80, 'tests/c.conf': SERVER80, 'etc/nginx/conf.d/d.conf': SERVER80 };
      const engine = engineWith(files);
      assert.deepStrictEqual(loud(files), []);
      assert.deepStrictEqual(engine.instanceNotes('/ws/tests/c.conf'), [
        'runs in the same nginx as etc/nginx/nginx.conf: the stock nginx main config, not in the workspace',
      ]);
      // Still binds: a collision with another program is reported.
      const beside = { 'examples/a.conf': SERVER80, 'srv/compose.yaml': 'services:\n  w:\n    image: x\n    ports: ["80:80"]\n' };
      assert.deepStrictEqual(loud(beside), []);
      assert.deepStrictEqual(ifOneHost(beside), ['examples/a.conf:2 port-conflict', 'srv/compose.yaml:4 port-conflict']);
    });

    it('the stock root does not take the path of a file the workspace holds', () => {
      // conf/nginx.conf is a server file here, not a main config.
      const files = { 'conf/nginx.conf': SERVER80, 'conf/other.conf': SERVER80 };
      assert.deepStrictEqual(loud(files), []);
      assert.deepStrictEqual(engineWith(files).instanceNotes('/ws/conf/other.conf'), [
        'runs in the same nginx as conf/nginx.conf#stock: the stock nginx main config, not in the workspace',
      ]);
    });
  });

  describe('sshd drop-ins without an sshd_config', () => {
    it('the stock sshd_config includes them: Port 22 when none sets a port', () => {
      const files = { 'etc/ssh/sshd_config.d/10-custom.conf': 'PasswordAuthentication no\n' };
      assert.deepStrictEqual(listens(files, 'sshd'), ['etc/ssh/sshd_config.d/10-custom.conf 0.0.0.0:22', 'etc/ssh/sshd_config.d/10-custom.conf :::22']);
      assert.deepStrictEqual(loud({ ...files, 'srv/compose.yaml': 'services:\n  w:\n    image: x\n    ports: ["22:22"]\n' }), [
        'etc/ssh/sshd_config.d/10-custom.conf:1 port-conflict',
        'srv/compose.yaml:4 port-conflict',
      ]);
    });

    it('ports the drop-ins set replace the default; two drop-ins are one sshd', () => {
      const files = { 'etc/ssh/sshd_config.d/a.conf': 'Port 2201\n', 'etc/ssh/sshd_config.d/b.conf': 'Port 2202\nListenAddress 127.0.0.1\n' };
      assert.deepStrictEqual(listens(files, 'sshd'), ['etc/ssh/sshd_config.d/a.conf 127.0.0.1:2201', 'etc/ssh/sshd_config.d/b.conf 127.0.0.1:2202']);
      assert.deepStrictEqual(engineWith(files).instancesOf('/ws/etc/ssh/sshd_config.d/b.conf'), ['/ws/etc/ssh/sshd_config']);
    });

    it('a file the stock Include does not reach (not *.conf) binds nothing', () => {
      const files = { 'etc/ssh/sshd_config.d/a.conf': 'Port 2201\n', 'etc/ssh/sshd_config.d/readme': 'Port 2201\n' };
      assert.deepStrictEqual(loud(files), []);
      assert.deepStrictEqual(listens(files, 'sshd'), [
        'etc/ssh/sshd_config.d/a.conf 0.0.0.0:2201',
        'etc/ssh/sshd_config.d/a.conf :::2201',
        'etc/ssh/sshd_config.d/readme 0.0.0.0:2201 inactive',
        'etc/ssh/sshd_config.d/readme :::2201 inactive',
      ]);
    });

    it('with an sshd_config that does not include them, drop-ins are not loaded', () => {
      const files = { 'etc/ssh/sshd_config': 'Port 22\n', 'etc/ssh/sshd_config.d/a.conf': 'Port 22\n' };
      assert.deepStrictEqual(loud(files), []);
      assert.deepStrictEqual(engineWith(files).instanceNotes('/ws/etc/ssh/sshd_config.d/a.conf'), [
        'inactive: not loaded: no sshd_config on this host includes it',
      ]);
    });
  });

  it('an edit that adds nginx.conf makes the unloaded file inactive, as a fresh analysis does', () => {
    const engine = engineWith({ 'etc/nginx/conf.d/a.conf': SERVER80, 'etc/nginx/conf.d/sub/b.conf': SERVER80 });
    const before = engine.analyze().facts.filter(({ fact }) => fact.inactive).length;
    engine.setFile('/ws/etc/nginx/nginx.conf', MAIN);
    const after = engine
      .analyze()
      .facts.filter(({ fact }) => fact.inactive)
      .map(({ fact }) => fact.file);
    assert.strictEqual(before, 0);
    assert.deepStrictEqual(after, ['/ws/etc/nginx/conf.d/sub/b.conf']);
  });
});
