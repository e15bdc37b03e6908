import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { engineWith } from '../helpers/engine';

const examples = path.resolve(__dirname, '..', '..', 'examples');
const read = (rel: string) => fs.readFileSync(path.join(examples, rel), 'utf8');

describe('firewall instances in the analysis', () => {
  const files = (policy: string, enabled: string) => ({
    'etc/ufw/user.rules': read('etc/ufw/user.rules'),
    'etc/default/ufw': read('etc/default/ufw').replace(/^DEFAULT_INPUT_POLICY=.*$/m, `DEFAULT_INPUT_POLICY="${policy}"`),
    'etc/ufw/ufw.conf': `ENABLED=${enabled}\n`,
  });

  it("carries ufw's inbound policy and enablement from /etc/default/ufw and ufw.conf", () => {
    for (const [policy, action] of [
      ['DROP', 'drop'],
      ['ACCEPT', 'accept'],
      ['REJECT', 'reject'],
    ] as const) {
      const result = engineWith(files(policy, 'yes')).analyze();
      const fw = result.firewalls.find((f) => f.root === '/ws/etc/ufw/user.rules')!;
      assert.ok(fw, 'user.rules is a firewall instance');
      assert.strictEqual(fw.firewall.tool, 'ufw');
      assert.strictEqual(fw.firewall.inboundPolicy?.action, action);
      assert.strictEqual(fw.firewall.enabled, true);
      assert.deepStrictEqual(
        fw.firewall.inputRules.filter((r) => r.ports).map((r) => `${r.action} ${r.protocol} ${r.ports!.map((p) => p.from).join(',')}`),
        ['accept tcp 22', 'accept tcp 443', 'accept tcp 9100'],
      );
    }
    const disabled = engineWith(files('DROP', 'no'))
      .analyze()
      .firewalls.find((f) => f.root === '/ws/etc/ufw/user.rules')!;
    assert.strictEqual(disabled.firewall.enabled, false);
  });

  it('gives an iptables file its own firewall with the INPUT policy', () => {
    const result = engineWith({ 'etc/iptables/rules.v4': read('etc/iptables/rules.v4') }).analyze();
    const fw = result.firewalls.find((f) => f.root === '/ws/etc/iptables/rules.v4')!;
    assert.strictEqual(fw.firewall.tool, 'iptables');
    assert.ok(fw.firewall.inboundPolicy);
  });
});

describe('firewall instances of nftables and firewalld', () => {
  it('nftables: the linked firewall sees ports defined in an included file', () => {
    const result = engineWith({
      'etc/nftables.conf':
        'include "/etc/nftables.d/ports.nft"\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport $web_ports accept\n  }\n}\n',
      'etc/nftables.d/ports.nft': 'define web_ports = { 80, 443 }\n',
    }).analyze();
    const fw = result.firewalls.find((f) => f.root === '/ws/etc/nftables.conf')!;
    assert.strictEqual(fw.firewall.inboundPolicy?.action, 'drop');
    const ports = fw.firewall.inputRules.flatMap((r) => (r.action === 'accept' ? (r.ports ?? []).map((p) => p.from) : []));
    assert.deepStrictEqual(
      ports.sort((a, b) => a - b),
      [80, 443],
    );
  });

  it("firewalld: the default zone is the active one and resolves the workspace's own services", () => {
    const result = engineWith({
      'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
      'etc/firewalld/zones/public.xml': '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="myapp"/>\n</zone>\n',
      'etc/firewalld/zones/internal.xml': '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <port port="9000" protocol="tcp"/>\n</zone>\n',
      'etc/firewalld/services/myapp.xml': '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <port port="7443" protocol="tcp"/>\n</service>\n',
    }).analyze();
    const pub = result.firewalls.find((f) => f.root.endsWith('zones/public.xml'))!;
    const internal = result.firewalls.find((f) => f.root.endsWith('zones/internal.xml'))!;
    assert.strictEqual(pub.firewall.enabled, true);
    assert.notStrictEqual(internal.firewall.enabled, true);
    assert.deepStrictEqual(
      pub.firewall.inputRules.flatMap((r) => (r.ports ?? []).map((p) => p.from)),
      [7443],
    );
  });
});
