import * as assert from 'assert';
import { listenerVerdicts, packetVerdict, type FamilyVerdict } from '../../server/src/core/firewall/verdict';
import type { IpFamily, Protocol } from '../../server/src/core/types';
import { engineWith } from '../helpers/engine';

const v4 = (body: string, policy = 'DROP') => `*filter\n:INPUT ${policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n${body}COMMIT\n`;

function verdicts(files: Record<string, string>, port: number, protocol: Protocol = 'tcp', family: IpFamily = 'ipv4', address?: string): FamilyVerdict[] {
  return listenerVerdicts({ family, protocol, port, address }, engineWith(files).analyze().firewalls);
}
const line = (files: Record<string, string>, v: FamilyVerdict) => {
  const rel = v.by.file.replace('/ws/', '');
  return files[rel].slice(0, v.by.span.start).split('\n').length;
};

describe('firewall verdict for a listener', () => {
  const rules = {
    'etc/iptables/rules.v4': v4(
      '-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp --dport 9100 -j ACCEPT\n-A INPUT -p tcp --dport 80 -m recent --rcheck -j ACCEPT\n',
    ),
  };

  it('iptables: accepted by a rule, blocked by the policy, open to a source network only, uncertain with an unevaluated match', () => {
    const ssh = verdicts(rules, 22);
    assert.deepStrictEqual(
      ssh.map((v) => [v.tool, v.state, v.by.kind, line(rules, v)]),
      [['iptables', 'reachable', 'rule', 5]],
    );
    const other = verdicts(rules, 8080)[0];
    assert.deepStrictEqual([other.state, other.by.kind, other.by.action, line(rules, other)], ['blocked', 'policy', 'drop', 2]);
    const node = verdicts(rules, 9100)[0];
    assert.strictEqual(node.state, 'sources-only');
    assert.deepStrictEqual(
      node.openTo.map((o) => o.condition),
      ['from 10.0.0.0/8'],
    );
    const web = verdicts(rules, 80)[0];
    assert.strictEqual(web.state, 'uncertain');
    assert.deepStrictEqual(web.uncertain[0].conditions, ['-m recent']);
  });

  it('says nothing for loopback listeners or a family no firewall filters', () => {
    assert.deepStrictEqual(verdicts(rules, 8080, 'tcp', 'ipv4', '127.0.0.1'), []);
    assert.deepStrictEqual(verdicts(rules, 8080, 'tcp', 'ipv6'), []);
  });

  it('iptables: a RETURN from a user chain goes on in INPUT; an ACCEPT policy lets in what no rule drops', () => {
    const files = {
      'etc/iptables/rules.v4':
        '*filter\n:INPUT DROP [0:0]\n:svc - [0:0]\n-A INPUT -p tcp -j svc\n-A INPUT -p tcp --dport 443 -j ACCEPT\n-A svc -p tcp --dport 443 -j RETURN\n-A svc -p tcp -j DROP\nCOMMIT\n',
    };
    assert.strictEqual(verdicts(files, 443)[0].state, 'reachable');
    assert.strictEqual(verdicts(files, 80)[0].state, 'blocked');
    const open = { 'etc/iptables/rules.v4': v4('-A INPUT -p tcp --dport 23 -j REJECT\n', 'ACCEPT') };
    assert.strictEqual(verdicts(open, 80)[0].state, 'reachable');
    assert.deepStrictEqual([verdicts(open, 23)[0].state, verdicts(open, 23)[0].by.action], ['blocked', 'reject']);
  });

  it('ufw: disabled filters nothing; limit is allowed (rate-limited); IPV6=no drops IPv6', () => {
    const user = (tuples: string) => `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n${tuples}### END RULES ###\nCOMMIT\n`;
    const files = (enabled: string, ipv6 = 'yes') => ({
      'etc/ufw/user.rules': user(
        '### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set\n-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit\n-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept\n',
      ),
      'etc/ufw/user6.rules': user('### tuple ### allow tcp 22 ::/0 any ::/0 in\n-A ufw6-user-input -p tcp --dport 22 -j ACCEPT\n').replace(
        /ufw-user-input/g,
        'ufw6-user-input',
      ),
      'etc/default/ufw': `IPV6=${ipv6}\nDEFAULT_INPUT_POLICY="DROP"\n`,
      'etc/ufw/ufw.conf': `ENABLED=${enabled}\n`,
    });
    const on = verdicts(files('yes'), 22)[0];
    assert.deepStrictEqual([on.tool, on.state, on.rateLimited], ['ufw', 'reachable', true]);
    assert.strictEqual(verdicts(files('yes'), 80)[0].state, 'blocked');
    const off = verdicts(files('no'), 80)[0];
    assert.deepStrictEqual([off.state, !!off.disabled], ['reachable', true]);
    assert.strictEqual(verdicts(files('yes'), 22, 'tcp', 'ipv6')[0].state, 'reachable');
    const no6 = verdicts(files('yes', 'no'), 22, 'tcp', 'ipv6')[0];
    assert.deepStrictEqual([no6.state, no6.by.file], ['blocked', '/ws/etc/default/ufw']);
  });

  it('nftables: an accept in an early base chain does not pass a later one that drops', () => {
    const files = {
      'etc/nftables.conf':
        'table inet a {\n  chain i {\n    type filter hook input priority -10; policy accept;\n    tcp dport 80 accept\n  }\n}\ntable ip b {\n  chain i {\n    type filter hook input priority 10; policy drop;\n    tcp dport 22 accept\n  }\n}\n',
    };
    assert.strictEqual(verdicts(files, 80)[0].state, 'blocked');
    assert.strictEqual(verdicts(files, 22)[0].state, 'reachable');
    // Only the inet chain filters IPv6, and it accepts.
    assert.strictEqual(verdicts(files, 8080, 'tcp', 'ipv6')[0].state, 'reachable');
  });

  it('firewalld: the default zone decides; a source zone that accepts opens the port to its sources only', () => {
    const zone = (body: string, target = '') => `<?xml version="1.0" encoding="utf-8"?>\n<zone${target}>\n${body}</zone>\n`;
    const files = {
      'etc/firewalld/zones/public.xml': zone('  <service name="ssh"/>\n'),
      'etc/firewalld/zones/trusted.xml': zone('  <source address="10.1.0.0/16"/>\n', ' target="ACCEPT"'),
    };
    assert.strictEqual(verdicts(files, 22)[0].state, 'reachable');
    const web = verdicts(files, 80)[0];
    assert.deepStrictEqual([web.state, web.by.action, web.openTo.map((o) => o.condition)], ['sources-only', 'reject', ['from 10.1.0.0/16 (zone trusted)']]);
  });

  it('nftables: an icmp match never matches a port; ip ttl / tcp flags are uncertain; a DNAT elsewhere is uncertain (netfilter corpus oracle)', () => {
    const nft = (line: string) => ({
      'etc/nftables.conf': `table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ${line}\n  }\n}\n`,
    });
    assert.strictEqual(verdicts(nft('icmp type echo-request accept'), 80)[0].state, 'blocked');
    assert.strictEqual(verdicts(nft('ip ttl < 254 accept'), 80)[0].state, 'uncertain');
    assert.strictEqual(verdicts(nft('tcp flags syn / syn,ack accept'), 80)[0].state, 'uncertain');
    const dnat = {
      'etc/nftables.conf':
        'table ip nat {\n  chain pre {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport 443 dnat to 10.0.0.1\n  }\n}\n',
    };
    assert.strictEqual(verdicts(dnat, 443)[0].state, 'uncertain');
    assert.deepStrictEqual(verdicts(dnat, 80), []);
  });

  it('firewalld: a service with a destination (mdns, dhcpv6-client) opens only that destination, in the families it names', () => {
    const files = {
      'etc/firewalld/zones/public.xml':
        '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="dhcpv6-client"/>\n  <service name="mdns"/>\n</zone>\n',
    };
    assert.strictEqual(verdicts(files, 546, 'udp', 'ipv4')[0].state, 'blocked');
    assert.strictEqual(verdicts(files, 546, 'udp', 'ipv6')[0].state, 'sources-only');
    assert.strictEqual(verdicts(files, 5353, 'udp', 'ipv4')[0].state, 'sources-only');
  });
});

describe('DNAT and redirect: family, interface, source and hook decide whether they divert a packet', () => {
  const nat = (lines: string) => `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:fwd - [0:0]\n${lines}COMMIT\n`;
  const files = {
    'etc/iptables/rules.v4':
      v4('-A INPUT -p tcp -m multiport --dports 22,80,443,8080,9100 -j ACCEPT\n') +
      nat(
        '-A PREROUTING -i eth1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80\n' +
          '-A PREROUTING -s 10.1.0.0/16 -p tcp --dport 22 -j DNAT --to-destination 10.0.0.5:22\n' +
          '-A PREROUTING ! -i eth0 -p tcp --dport 9100 -j REDIRECT --to-ports 9200\n' +
          '-A OUTPUT -p tcp --dport 443 -j DNAT --to-destination 10.0.0.5:443\n' +
          '-A fwd -p tcp --dport 80 -j REDIRECT --to-ports 81\n',
      ),
    'etc/iptables/rules.v6': v4('-A INPUT -p tcp --dport 8080 -j ACCEPT\n'),
  };
  const fw = () => engineWith(files).analyze().firewalls;
  const packet = (port: number, source: string, iface: string) =>
    packetVerdict({ family: 'ipv4', protocol: 'tcp', port, source, iface, destination: '10.0.0.1' }, fw());

  it('iptables: a DNAT limited to an interface or a source leaves the network at large to INPUT, and diverts what it names', () => {
    assert.deepStrictEqual(
      [22, 80, 443, 8080, 9100].map((p) => verdicts(files, p)[0].state),
      ['reachable', 'reachable', 'reachable', 'reachable', 'uncertain'],
    );
    assert.strictEqual(packet(8080, '192.0.2.9', 'eth0'), 'accept');
    assert.strictEqual(packet(8080, '192.0.2.9', 'eth1'), 'uncertain');
    assert.strictEqual(packet(22, '192.0.2.9', 'eth0'), 'accept');
    assert.strictEqual(packet(22, '10.1.2.3', 'eth0'), 'uncertain');
    // `! -i eth0`: the network at large (an interface no rule names) meets it; eth0 does not.
    assert.strictEqual(packet(9100, '192.0.2.9', 'eth0'), 'accept');
    assert.strictEqual(packet(9100, '192.0.2.9', 'eth2'), 'uncertain');
  });

  it('iptables: OUTPUT and a chain PREROUTING never reaches meet no inbound packet; an IPv4 file never diverts IPv6', () => {
    assert.strictEqual(packet(443, '10.1.2.3', 'eth1'), 'accept');
    assert.strictEqual(packet(80, '10.1.2.3', 'eth1'), 'accept');
    assert.strictEqual(verdicts(files, 8080, 'tcp', 'ipv6')[0].state, 'reachable');
  });

  it("nftables: an ip table's DNAT never meets IPv6, an inet table's `dnat ip to` neither; iifname and ip saddr limit it; a nat output chain meets nothing inbound", () => {
    const nft = {
      'etc/nftables.conf':
        'table ip nat {\n  chain pre {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport 8080 dnat to 10.0.0.5:80\n    iifname "eth1" tcp dport 80 dnat to 10.0.0.5\n  }\n  chain out {\n    type nat hook output priority -100; policy accept;\n    tcp dport 443 dnat to 10.0.0.5\n  }\n}\n' +
        'table inet nat6 {\n  chain pre {\n    type nat hook prerouting priority -100; policy accept;\n    tcp dport 9100 dnat ip to 10.0.0.5\n    ip6 saddr fd00::/64 tcp dport 22 redirect to :2222\n  }\n}\n' +
        'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport { 22, 80, 443, 8080, 9100 } accept\n  }\n}\n',
    };
    const state = (port: number, family: IpFamily) => verdicts(nft, port, 'tcp', family)[0].state;
    assert.deepStrictEqual(
      [8080, 80, 443, 9100, 22].map((p) => [state(p, 'ipv4'), state(p, 'ipv6')]),
      [
        ['uncertain', 'reachable'],
        ['reachable', 'reachable'],
        ['reachable', 'reachable'],
        ['uncertain', 'reachable'],
        ['reachable', 'reachable'],
      ],
    );
    const fws = engineWith(nft).analyze().firewalls;
    const v6 = (source: string) => packetVerdict({ family: 'ipv6', protocol: 'tcp', port: 22, source, iface: 'eth0', destination: 'fd00::1' }, fws);
    assert.deepStrictEqual([v6('fd00::9'), v6('fd01::9')], ['uncertain', 'accept']);
  });

  it('firewall-unused: a forward keeps an allow rule silent only where one packet can meet both (family, interface, source)', () => {
    const unused = (f: Record<string, string>) =>
      [
        ...engineWith({ 'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n  }\n}\n', ...f })
          .analyze()
          .findingsByFile.values(),
      ]
        .flat()
        .filter((x) => x.code === 'firewall-unused')
        .map((x) => `${x.file.slice(x.file.lastIndexOf('/') + 1)}:${x.data?.port}`)
        .sort();
    const dnat = nat(
      '-A PREROUTING -i eth1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80\n-A PREROUTING -s 10.1.0.0/16 -p tcp --dport 9100 -j DNAT --to-destination 10.0.0.5:9100\n',
    );
    assert.deepStrictEqual(
      unused({
        'etc/iptables/rules.v4':
          v4(
            '-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -i eth0 -p tcp --dport 8080 -j ACCEPT\n-A INPUT -s 10.1.0.0/16 -p tcp --dport 9100 -j ACCEPT\n-A INPUT -s 10.2.0.0/16 -p tcp --dport 9100 -j ACCEPT\n',
          ) + dnat,
        // The IPv4 DNAT to 8080 uses no IPv6 rule.
        'etc/iptables/rules.v6': v4('-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n'),
      }),
      ['rules.v4:8080', 'rules.v4:9100', 'rules.v6:8080'],
    );
  });
});
