import * as assert from 'assert';
import { portMap } from '../../server/src/features/portMap';
import type { PortMapEntry } from '../../server/src/protocol';
import { engineWith } from '../helpers/engine';

const RULES_V4 = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 8080 -j ACCEPT
COMMIT
`;

const HOST = {
  'etc/ssh/sshd_config': 'Port 22\n',
  'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8080; }\n  }\n}\n',
  'srv/app/compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n      - "8080:8080"\n',
  'etc/iptables/rules.v4': RULES_V4,
};

function entry(entries: PortMapEntry[], protocol: string, port: number): PortMapEntry {
  const found = entries.find((e) => e.protocol === protocol && e.port === port);
  assert.ok(found, `${protocol} ${port} is on the map: ${entries.map((e) => `${e.protocol} ${e.port}`).join(', ')}`);
  return found;
}

describe('port map (portolan/portMap)', () => {
  const result = portMap(engineWith(HOST));
  const host = result.hosts[0];

  it('one host per workspace folder, with its files and finding counts', () => {
    assert.strictEqual(result.hosts.length, 1);
    assert.strictEqual(host.id, '/ws');
    assert.strictEqual(host.label, 'ws');
    assert.strictEqual(host.files, 4);
    assert.ok(host.errors >= 1, `the :80 conflict is an error (errors ${host.errors})`);
  });

  it('lists every host port once, sorted, with who binds it', () => {
    assert.deepStrictEqual(
      host.ports.map((p) => `${p.protocol} ${p.port}`),
      ['tcp 22', 'tcp 80', 'tcp 8080'],
    );
    const ssh = entry(host.ports, 'tcp', 22);
    assert.deepStrictEqual(
      ssh.binds.map((b) => b.program),
      ['sshd'],
    );
    assert.strictEqual(ssh.service, 'SSH');
    assert.strictEqual(ssh.rangeClass, 'well-known');
    assert.strictEqual(ssh.conflict, false);
    assert.strictEqual(entry(host.ports, 'tcp', 8080).rangeClass, 'registered');
  });

  it('a port two programs bind is a conflict, with the finding and both binds', () => {
    const http = entry(host.ports, 'tcp', 80);
    assert.strictEqual(http.conflict, true);
    assert.deepStrictEqual([...new Set(http.binds.map((b) => b.program))].sort(), ['docker', 'nginx']);
    assert.ok(http.findings.some((f) => f.code === 'port-conflict' && f.severity === 'error'));
    const nginx = http.binds.find((b) => b.program === 'nginx')!;
    assert.strictEqual(nginx.where, 'etc/nginx/nginx.conf:4');
    assert.strictEqual(nginx.location.uri, 'file:///ws/etc/nginx/nginx.conf');
    assert.deepStrictEqual(nginx.location.range.start, { line: 3, character: 11 });
  });

  it('a proxy_pass to this host points at the port; the container side of a publish is not a host port', () => {
    const app = entry(host.ports, 'tcp', 8080);
    assert.deepStrictEqual(
      app.pointers.map((p) => `${p.program} ${p.role}`),
      ['nginx upstream'],
    );
    assert.ok(app.binds.every((b) => b.role === 'publish'));
  });

  it('firewall state: a rule that accepts, the policy that drops, a rule that accepts only some sources', () => {
    const [ssh] = entry(host.ports, 'tcp', 22).firewall;
    assert.strictEqual(ssh.tool, 'iptables');
    assert.strictEqual(ssh.verdict, 'accept');
    assert.strictEqual(ssh.by, 'rule');
    assert.strictEqual(ssh.location!.range.start.line, 6);
    const [http] = entry(host.ports, 'tcp', 80).firewall;
    assert.strictEqual(http.verdict, 'drop');
    assert.strictEqual(http.by, 'policy');
    const [app] = entry(host.ports, 'tcp', 8080).firewall;
    assert.strictEqual(app.verdict, 'drop');
    assert.deepStrictEqual(app.conditional, ['accept from 10.0.0.0/8 (etc/iptables/rules.v4:8)']);
    assert.deepStrictEqual(
      host.firewalls.map((f) => `${f.tool} ${f.policy}`),
      ['iptables drop'],
    );
  });

  it('firewall rules that name a port are listed with it', () => {
    assert.ok(entry(host.ports, 'tcp', 22).rules.some((r) => r.program === 'iptables' && r.where === 'etc/iptables/rules.v4:7'));
  });

  it('only the host asked for: by id or by a file of it', () => {
    const engine = engineWith({ 'a/etc/ssh/sshd_config': 'Port 2222\n', 'b/etc/ssh/sshd_config': 'Port 22\n' });
    engine.hosts.setFolders([{ folder: '/ws', hosts: { a: ['a/**'], b: ['b/**'] } }]);
    assert.deepStrictEqual(
      portMap(engine).hosts.map((h) => h.label),
      ['a', 'b'],
    );
    assert.deepStrictEqual(
      portMap(engine, { host: '/ws#b' }).hosts.map((h) => h.ports.map((p) => p.port)),
      [[22]],
    );
    assert.deepStrictEqual(
      portMap(engine, { uri: 'file:///ws/a/etc/ssh/sshd_config' }).hosts.map((h) => h.ports.map((p) => p.port)),
      [[2222]],
    );
    assert.deepStrictEqual(portMap(engine, { host: '/nowhere' }).hosts, []);
  });

  it('follows portolan.severity in its counts and findings', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 50022\n' });
    assert.strictEqual(portMap(engine).hosts[0].warnings, 1);
    engine.setSettings({ ...engine['settings'], severity: { 'ephemeral-port': 'information' } });
    const [h] = portMap(engine).hosts;
    assert.deepStrictEqual([h.warnings, h.infos], [0, 1]);
    assert.strictEqual(h.ports[0].findings[0].severity, 'information');
    assert.strictEqual(h.ports[0].rangeClass, 'dynamic');
  });
});

describe('port map summary (portolan/portMap with summary: true)', () => {
  it('gives every host its counts and number of ports, without the port entries', () => {
    const engine = engineWith(HOST);
    const [full] = portMap(engine).hosts;
    const [summary] = portMap(engine, { summary: true }).hosts;
    assert.deepStrictEqual(summary.ports, []);
    assert.strictEqual(summary.portCount, full.ports.length);
    assert.strictEqual(full.portCount, full.ports.length);
    const { ports: _p, ...headFull } = full;
    const { ports: _s, ...headSummary } = summary;
    assert.deepStrictEqual(headSummary, headFull);
  });
});

describe('port map firewall verdicts (core/firewall/verdict.ts)', () => {
  it('one line when IPv4 and IPv6 meet the same verdict, one per family when they differ', () => {
    const nft =
      'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n    ip6 nexthdr tcp tcp dport 80 accept\n  }\n}\n';
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 22\nPort 80\n', 'etc/nftables.conf': nft });
    const [host] = portMap(engine).hosts;
    const show = (port: number) => entry(host.ports, 'tcp', port).firewall.map((v) => `${v.tool} ${v.family} ${v.verdict} ${v.by}`);
    assert.deepStrictEqual(show(22), ['nftables both accept rule']);
    assert.deepStrictEqual(show(80), ['nftables ipv4 drop policy', 'nftables ipv6 accept rule']);
  });
  it('a disabled ufw filters nothing', () => {
    const engine = engineWith({
      'etc/ssh/sshd_config': 'Port 22\n',
      'etc/ufw/ufw.conf': 'ENABLED=no\n',
      'etc/ufw/user.rules': '*filter\n:ufw-user-input - [0:0]\n### RULES ###\nCOMMIT\n',
    });
    const [v] = entry(portMap(engine).hosts[0].ports, 'tcp', 22).firewall;
    assert.strictEqual(v.verdict, 'disabled');
    assert.strictEqual(v.by, 'disabled');
    assert.match(v.location!.uri, /^file:\/\/\/ws\/etc\/ufw\//);
  });
});
