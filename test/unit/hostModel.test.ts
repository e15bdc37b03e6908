/** The host model: what one host runs and filters, as the rules see it. */
import * as assert from 'assert';
import { engineWith } from '../helpers/engine';

const UFW_EMPTY = '*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n### RULES ###\n\n### END RULES ###\nCOMMIT\n';

describe('HostModel', () => {
  it('a ufw instance with a DROP policy and no rules is in its host model next to the host sshd', () => {
    const engine = engineWith({
      'etc/ssh/sshd_config': 'Port 22\n',
      'etc/ufw/user.rules': UFW_EMPTY,
      'etc/default/ufw': 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n',
      'etc/ufw/ufw.conf': 'ENABLED=yes\n',
    });
    const model = engine.hostModelOf('/ws/etc/ssh/sshd_config');
    assert.ok(model);
    assert.strictEqual(engine.hostModelOf('/ws/etc/ufw/user.rules'), model);
    assert.deepStrictEqual(model.instances.map((i) => [i.format, i.root.replace('/ws/', '')]).sort(), [
      ['sshd', 'etc/ssh/sshd_config'],
      ['ufw', 'etc/ufw/user.rules'],
      ['ufw-config', 'etc/default/ufw'],
      ['ufw-config', 'etc/ufw/ufw.conf'],
    ]);
    assert.strictEqual(model.firewalls.length, 1);
    const [fw] = model.firewalls;
    assert.strictEqual(fw.firewall.tool, 'ufw');
    assert.strictEqual(fw.firewall.inboundPolicy?.action, 'drop');
    assert.deepStrictEqual(fw.firewall.inputRules, []);
    // The firewall gives no port facts: it is in the model all the same.
    assert.ok(model.facts.every((f) => f.program !== 'ufw'));
    assert.deepStrictEqual(
      model.binds.map((b) => [b.program, b.port]),
      [
        ['sshd', 22],
        ['sshd', 22],
      ],
    );
  });

  it('holds binds, upstreams and compose projects with their services, one model per host', () => {
    const engine = engineWith({
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8080; }\n  }\n}\n',
      'srv/app/compose.yml': 'services:\n  web:\n    image: x\n    ports: ["8080:80"]\n  db:\n    image: y\n',
    });
    const models = engine.hostModels();
    assert.strictEqual(models.size, 1);
    const model = [...models.values()][0];
    // nginx's `listen 80` binds IPv4 only; Docker publishes on 0.0.0.0 and [::].
    assert.deepStrictEqual(model.binds.map((b) => `${b.program} ${b.port}`).sort(), ['docker 8080', 'docker 8080', 'nginx 80']);
    assert.deepStrictEqual(
      model.upstreams.map((u) => [u.port, u.address]),
      [[8080, '127.0.0.1']],
    );
    assert.deepStrictEqual(
      model.composeProjects.map((p) => [p.root, p.services.map((s) => s.name)]),
      [['/ws/srv/app/compose.yml', ['web', 'db']]],
    );
    assert.deepStrictEqual(model.firewalls, []);
  });

  it('a host of its own per .portolan.json host: a firewall joins the host of its root file', () => {
    const engine = engineWith({ 'a/etc/ssh/sshd_config': 'Port 22\n', 'b/etc/ufw/user.rules': UFW_EMPTY });
    engine.hosts.setFolders([{ folder: '/ws', hosts: { a: ['a/**'], b: ['b/**'] } }]);
    const a = engine.hostModelOf('/ws/a/etc/ssh/sshd_config');
    const b = engine.hostModelOf('/ws/b/etc/ufw/user.rules');
    assert.ok(a && b && a !== b);
    assert.deepStrictEqual(a.firewalls, []);
    assert.deepStrictEqual(
      b.firewalls.map((f) => f.firewall.tool),
      ['ufw'],
    );
    assert.deepStrictEqual(b.binds, []);
  });

  it('is cached while the host keeps its instances, and rebuilt after an edit', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 22\n', 'etc/nginx/nginx.conf': 'http { server { listen 80; } }\n' });
    const before = engine.hostModelOf('/ws/etc/nginx/nginx.conf');
    assert.strictEqual(engine.hostModelOf('/ws/etc/nginx/nginx.conf'), before);
    engine.setFile('/ws/etc/ssh/sshd_config', 'Port 2222\n');
    const after = engine.hostModelOf('/ws/etc/nginx/nginx.conf');
    assert.notStrictEqual(after, before);
    assert.deepStrictEqual(
      after?.binds.filter((b) => b.program === 'sshd').map((b) => b.port),
      [2222, 2222],
    );
  });
});
