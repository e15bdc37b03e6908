/**
 * The firewall allow-rule fixes (core/firewall/allow.ts and the writers of iptables, ufw, nftables,
 * firewalld) and ssh-lockout's "Keep SSH on port N": the whole fixed file compared with what the
 * title says, the finding gone after the fix and nothing new, and no fix where the rule could not take
 * effect. Real netfilter judges the results in test/oracle/netfilter.test.ts and firewallFixes.test.ts.
 */
import * as assert from 'assert';
import type { Finding, Fix } from '../../server/src/core/types';
import { engineWith, withFix } from '../helpers/engine';

const NGINX = { 'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n' };
const V4 = 'etc/iptables/rules.v4';
const NFT = 'etc/nftables.conf';
const USER = 'etc/ufw/user.rules';
const ZONE = 'etc/firewalld/zones/public.xml';
const UFW_ON = { 'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\nIPV6=no\n', 'etc/ufw/ufw.conf': 'ENABLED=yes\n' };
const USER_RULES = (body: string) => `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n${body}\n### END RULES ###\nCOMMIT\n`;

const all = (files: Record<string, string>): Finding[] => [...engineWith(files).analyze().findingsByFile.values()].flat();
const serious = (l: Finding[]) => l.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => `${f.code}: ${f.message}`);

/** The one fix `code` offers whose title starts with `title`; asserts the finding goes and nothing new comes. */
function fixOf(files: Record<string, string>, code: string, title: string): { fix: Fix; after: Record<string, string> } {
  const before = all(files);
  const finding = before.find((f) => f.code === code);
  assert.ok(finding, `${code} fires`);
  const fix = finding.fixes?.find((x) => x.title.startsWith(title));
  assert.ok(fix, `${code}: "${title}" offered; got ${(finding.fixes ?? []).map((x) => x.title).join(' | ')}`);
  const after = withFix(files, fix);
  const later = all(after);
  assert.ok(!later.some((f) => f.code === code), `${fix.title}: ${code} gone`);
  assert.deepStrictEqual(
    serious(later).filter((m) => !serious(before).includes(m)),
    [],
  );
  return { fix, after };
}

const noAllow = (files: Record<string, string>, code = 'firewall-blocked') => {
  const finding = all(files).find((f) => f.code === code);
  assert.ok(finding, `${code} fires`);
  assert.deepStrictEqual(
    (finding.fixes ?? []).filter((x) => x.title.startsWith('Allow')).map((x) => x.title),
    [],
  );
};

describe('firewall allow-rule quick fixes', () => {
  it('iptables: before COMMIT when the policy decides, right before the deciding rule otherwise', () => {
    const policy = { ...NGINX, [V4]: '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n' };
    const a = fixOf(policy, 'firewall-blocked', 'Allow TCP 8080 in rules.v4');
    assert.strictEqual(a.after[V4], '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 8080 -j ACCEPT\nCOMMIT\n');
    const rule = { ...NGINX, [V4]: '*filter\r\n:INPUT ACCEPT [0:0]\r\n:web - [0:0]\r\n-A INPUT -j web\r\n-A web -p tcp -j REJECT\r\nCOMMIT\r\n' };
    const b = fixOf(rule, 'firewall-blocked', 'Allow TCP 8080 in rules.v4');
    assert.strictEqual(b.after[V4], rule[V4].replace('-A web -p tcp -j REJECT', '-A web -p tcp --dport 8080 -j ACCEPT\r\n-A web -p tcp -j REJECT'));
    // A goto reaches the policy from inside another chain: the rule goes first in INPUT.
    const goto = { ...NGINX, [V4]: '*filter\n:INPUT DROP [0:0]\n:web - [0:0]\n-A INPUT -p tcp -g web\n-A web -p tcp --dport 80 -j ACCEPT\nCOMMIT\n' };
    const c = fixOf(goto, 'firewall-blocked', 'Allow TCP 8080');
    assert.strictEqual(c.after[V4], goto[V4].replace('-A INPUT -p tcp -g web', '-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -p tcp -g web'));
    // An -I line is placed by number, not where it is written.
    noAllow({ ...NGINX, [V4]: '*filter\n:INPUT ACCEPT [0:0]\n-I INPUT 1 -p tcp -j DROP\nCOMMIT\n' });
  });

  it('ufw: the tuple and its -A line as `ufw allow 8080/tcp` writes them, before the deciding deny or at the end', () => {
    const end = {
      ...NGINX,
      ...UFW_ON,
      [USER]: USER_RULES('\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n'),
    };
    const a = fixOf(end, 'firewall-blocked', 'Allow TCP 8080 in user.rules');
    assert.strictEqual(
      a.after[USER],
      USER_RULES(
        '\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n\n### tuple ### allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8080 -j ACCEPT\n',
      ),
    );
    const deny = {
      ...NGINX,
      ...UFW_ON,
      [USER]: USER_RULES('\n### tuple ### deny tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8080 -j DROP\n'),
    };
    const b = fixOf(deny, 'firewall-blocked', 'Allow TCP 8080 in user.rules');
    assert.strictEqual(
      b.after[USER],
      USER_RULES(
        '\n### tuple ### allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8080 -j ACCEPT\n\n### tuple ### deny tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8080 -j DROP\n',
      ),
    );
  });

  it('ufw with IPv6: both user.rules and user6.rules; IPV6=no gets no rule in user6.rules', () => {
    const v6 = '*filter\n:ufw6-user-input - [0:0]\n### RULES ###\n\n### END RULES ###\nCOMMIT\n';
    const files = {
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen [::]:8080 ipv6only=off;\n  }\n}\n',
      'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\nIPV6=yes\n',
      'etc/ufw/ufw.conf': 'ENABLED=yes\n',
      [USER]: USER_RULES(''),
      'etc/ufw/user6.rules': v6,
    };
    const a = fixOf(files, 'firewall-blocked', 'Allow TCP 8080 in user.rules and user6.rules');
    assert.strictEqual(
      a.after['etc/ufw/user6.rules'],
      v6.replace('### END RULES', '### tuple ### allow tcp 8080 ::/0 any ::/0 in\n-A ufw6-user-input -p tcp --dport 8080 -j ACCEPT\n\n### END RULES'),
    );
    noAllow({ ...files, 'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\nIPV6=no\n' });
  });

  it('nftables: at the end of the input chain whose policy decides, before the deciding rule, or in flat syntax', () => {
    const policy = {
      ...NGINX,
      [NFT]: 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n',
    };
    assert.strictEqual(
      fixOf(policy, 'firewall-blocked', 'Allow TCP 8080 in nftables.conf').after[NFT],
      policy[NFT].replace('tcp dport 22 accept\n', 'tcp dport 22 accept\n\t\ttcp dport 8080 accept\n'),
    );
    const rule = {
      ...NGINX,
      [NFT]: 'table ip filter {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport 22 accept\n    reject\n  }\n}\n',
    };
    assert.strictEqual(fixOf(rule, 'firewall-blocked', 'Allow TCP 8080').after[NFT], rule[NFT].replace('    reject', '    tcp dport 8080 accept\n    reject'));
    const oneLine = { ...NGINX, [NFT]: 'table inet f {\n  chain input { type filter hook input priority 0; policy drop; }\n}\n' };
    assert.strictEqual(
      fixOf(oneLine, 'firewall-blocked', 'Allow TCP 8080').after[NFT],
      oneLine[NFT].replace('policy drop; }', 'policy drop; tcp dport 8080 accept; }'),
    );
    const flat = {
      ...NGINX,
      [NFT]:
        'add table inet f\nadd chain inet f input { type filter hook input priority 0; policy accept; }\nadd rule inet f input tcp dport 22 accept\nadd rule inet f input drop\n',
    };
    assert.strictEqual(
      fixOf(flat, 'firewall-blocked', 'Allow TCP 8080').after[NFT],
      flat[NFT].replace('add rule inet f input drop', 'add rule inet f input tcp dport 8080 accept\nadd rule inet f input drop'),
    );
  });

  it('firewalld: a <port> in the zone whose target decides; nothing when a rich rule rejects', () => {
    const zone = '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n    <short>Public</short>\n    <service name="ssh"/>\n</zone>\n';
    const files = { ...NGINX, [ZONE]: zone, 'etc/firewalld/firewalld.conf': 'DefaultZone=public\n' };
    assert.strictEqual(
      fixOf(files, 'firewall-blocked', 'Allow TCP 8080 in public.xml').after[ZONE],
      zone.replace('</zone>', '    <port protocol="tcp" port="8080"/>\n</zone>'),
    );
    const rich = zone.replace('</zone>', '    <rule>\n      <port port="8080" protocol="tcp"/>\n      <reject/>\n    </rule>\n</zone>');
    noAllow({ ...files, [ZONE]: rich });
  });

  it('ssh-lockout: "Allow TCP 2222" and "Keep SSH on port 22, which the firewall allows"; no keep fix for the default port', () => {
    const files = {
      'etc/ssh/sshd_config': 'Port 2222\nAddressFamily inet\n',
      [V4]: '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
    };
    assert.strictEqual(
      fixOf(files, 'ssh-lockout', 'Allow TCP 2222 in rules.v4').after[V4],
      files[V4].replace('COMMIT', '-A INPUT -p tcp --dport 2222 -j ACCEPT\nCOMMIT'),
    );
    assert.strictEqual(fixOf(files, 'ssh-lockout', 'Keep SSH on port 22, which').after['etc/ssh/sshd_config'], 'Port 22\nAddressFamily inet\n');
    // The firewall opens 2200 only (nothing else binds it): that is the port to keep.
    const other = { ...files, [V4]: files[V4].replace('--dport 22 ', '--dport 2200 ') };
    assert.ok(fixOf(other, 'ssh-lockout', 'Keep SSH on port 2200'));
    const implicit = { 'etc/ssh/sshd_config': 'AddressFamily inet\n', [V4]: other[V4] };
    const f = all(implicit).find((x) => x.code === 'ssh-lockout');
    assert.deepStrictEqual(
      f?.fixes?.map((x) => x.title),
      ['Allow TCP 22 in rules.v4'],
    );
  });

  it('ssh-lockout: Keep SSH skips a port a deny rule limited to an interface or source still blocks, or says what is limited', () => {
    const sshd = { 'etc/ssh/sshd_config': 'Port 2200\nAddressFamily inet\n' };
    const keeps = (files: Record<string, string>) =>
      (all(files).find((f) => f.code === 'ssh-lockout')?.fixes ?? []).filter((x) => x.title.startsWith('Keep SSH')).map((x) => x.title);
    // ufw deny in on eth0 to any port 2222 proto tcp; ufw allow 2222/tcp (the netfilter oracle's ufw-app-profile case).
    const ufw = {
      ...sshd,
      ...UFW_ON,
      [USER]: USER_RULES(
        '\n### tuple ### deny tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in_eth0\n-A ufw-user-input -i eth0 -p tcp --dport 2222 -j DROP\n\n' +
          '### tuple ### allow tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 2222 -j ACCEPT\n',
      ),
    };
    assert.deepStrictEqual(keeps(ufw), ['Keep SSH on port 2222, which the firewall allows except on interface eth0']);
    const { after } = fixOf(ufw, 'ssh-lockout', 'Keep SSH on port 2222');
    assert.strictEqual(after['etc/ssh/sshd_config'], 'Port 2222\nAddressFamily inet\n');
    // A port no limited rule blocks comes before one that is blocked for some clients (22 is tried first).
    const v4 = (rules: string) => ({ ...sshd, [V4]: `*filter\n:INPUT DROP [0:0]\n${rules}COMMIT\n` });
    const limited = '-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j REJECT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 2022 -j ACCEPT\n';
    assert.deepStrictEqual(keeps(v4(limited)), ['Keep SSH on port 2022, which the firewall allows']);
    assert.deepStrictEqual(keeps(v4('-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j REJECT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n')), [
      'Keep SSH on port 22, which the firewall allows except from 10.0.0.0/8',
    ]);
    // A DNAT limited to a source sends those clients elsewhere before the filter sees them.
    const nat =
      'table inet nat {\n  chain pre {\n    type nat hook prerouting priority -100; policy accept;\n    ip saddr 10.200.1.0/24 tcp dport 22 dnat ip to 10.200.0.1:2222\n  }\n}\n' +
      'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n';
    assert.deepStrictEqual(keeps({ ...sshd, [NFT]: nat }), [
      'Keep SSH on port 22, which the firewall allows except from 10.200.1.0/24 (DNAT to 10.200.0.1:2222)',
    ]);
    // A deny for an interface that an earlier accept for that interface already let in limits nothing.
    assert.deepStrictEqual(
      keeps(v4('-A INPUT -i eth0 -p tcp --dport 22 -j ACCEPT\n-A INPUT -i eth0 -p tcp --dport 22 -j DROP\n-A INPUT -p tcp --dport 22 -j ACCEPT\n')),
      ['Keep SSH on port 22, which the firewall allows'],
    );
  });

  it('stays silent: a listener the firewall lets in gets no firewall-blocked and no fix', () => {
    const files = { ...NGINX, [V4]: '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 8080 -j ACCEPT\nCOMMIT\n' };
    assert.ok(!all(files).some((f) => f.code === 'firewall-blocked' || f.fixes?.some((x) => x.title.startsWith('Allow'))));
  });
});
