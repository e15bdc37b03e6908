/**
 * Generated firewalls for the netfilter oracle: each case is the files of one host's firewall (as
 * they sit under /etc), loaded into a server namespace the way the system loads them at boot.
 * The spread covers policies, rule order, user chains with RETURN and goto, conntrack, loopback and
 * interface rules, source-limited rules, multiport, nftables base chains by priority with sets,
 * defines, jumps and gotos, ufw tuples (allow/deny/reject/limit, from a network, app profiles,
 * ENABLED=no, IPV6=no, the three default policies) and firewalld zones (services, ports, rich rules,
 * source zones, targets, the default zone).
 */

export type Tool = 'iptables' | 'nftables' | 'ufw' | 'firewalld';

export interface NetfilterCase {
  id: string;
  tool: Tool;
  /** Workspace files, relative to the host root (etc/iptables/rules.v4, ...). */
  files: Record<string, string>;
  /** ufw only: commands run with the real ufw (--rootdir) to write user.rules/user6.rules before loading. */
  ufwCommands?: string[];
  /** ufw only: lines for /etc/default/ufw and ufw.conf. */
  ufwDefaults?: { policy: 'DROP' | 'ACCEPT' | 'REJECT'; ipv6: boolean; enabled: boolean };
  /** ufw only: our side reads every rules file of the loaded root (ufw's stock before/after rules beside the case's own). */
  ufwWorkspaceRules?: boolean;
}

/** The ports every case's listeners bind (TCP and UDP, IPv4 and IPv6). */
export const PORTS = [22, 80, 443, 2222, 8080, 9100];

const v4 = (body: string, policy = 'DROP') => `*filter\n:INPUT ${policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n${body}COMMIT\n`;

function iptablesCases(): NetfilterCase[] {
  const est = '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n';
  const c = (id: string, files: Record<string, string>): NetfilterCase => ({ id: `iptables-${id}`, tool: 'iptables', files });
  return [
    c('drop-policy-ssh-web', {
      'etc/iptables/rules.v4': v4(`${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n`),
    }),
    c('accept-policy-drops', { 'etc/iptables/rules.v4': v4('-A INPUT -p tcp --dport 8080 -j DROP\n-A INPUT -p udp --dport 9100 -j REJECT\n', 'ACCEPT') }),
    c('terminal-reject-before-rule', {
      'etc/iptables/rules.v4': v4(
        `${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-port-unreachable\n-A INPUT -p tcp --dport 80 -j ACCEPT\n`,
        'ACCEPT',
      ),
    }),
    c('source-limited', {
      'etc/iptables/rules.v4': v4(
        `${est}-A INPUT -s 10.200.0.0/24 -p tcp --dport 9100 -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -s 10.200.1.0/24 -p udp -j ACCEPT\n`,
      ),
    }),
    c('user-chain-return', {
      'etc/iptables/rules.v4':
        '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:svc - [0:0]\n' +
        `${est}-A INPUT -p tcp -j svc\n-A INPUT -p tcp --dport 443 -j ACCEPT\n` +
        '-A svc -p tcp --dport 443 -j RETURN\n-A svc -p tcp --dport 80 -j ACCEPT\n-A svc -p tcp -j DROP\nCOMMIT\n',
    }),
    c('goto-chain', {
      'etc/iptables/rules.v4':
        '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:web - [0:0]\n:outer - [0:0]\n' +
        '-A INPUT -p tcp -j outer\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n' +
        '-A outer -p tcp --dport 80:8080 -g web\n-A outer -p tcp --dport 22 -j ACCEPT\n' +
        '-A web -p tcp --dport 80 -j ACCEPT\n-A web -p tcp --dport 443 -j RETURN\nCOMMIT\n',
    }),
    c('interface-rules', {
      'etc/iptables/rules.v4': v4(
        `${est}-A INPUT -i eth0 -p tcp --dport 2222 -j ACCEPT\n-A INPUT -i eth1 -p tcp --dport 22 -j ACCEPT\n-A INPUT -i lo -p tcp --dport 80 -j ACCEPT\n`,
      ),
    }),
    c('negated-port', { 'etc/iptables/rules.v4': v4(`${est}-A INPUT -p udp ! --dport 80 -j ACCEPT\n-A INPUT -p tcp --dport 440:450 -j ACCEPT\n`) }),
    c('conntrack-new', {
      'etc/iptables/rules.v4': v4(
        `-A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT\n-A INPUT -p tcp --dport 80 -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n`,
      ),
    }),
    c('dest-limited', { 'etc/iptables/rules.v4': v4(`${est}-A INPUT -d 10.200.0.1 -p tcp --dport 8080 -j ACCEPT\n-A INPUT -p udp --dport 22 -j ACCEPT\n`) }),
    c('v4-and-v6', {
      'etc/iptables/rules.v4': v4(`${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n`),
      'etc/iptables/rules.v6': v4(
        `-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p tcp --dport 443 -j ACCEPT\n-A INPUT -s fd00:200:1::/64 -p tcp --dport 9100 -j ACCEPT\n-A INPUT -p udp --dport 2222 -j REJECT\n`,
        'ACCEPT',
      ).replace(':INPUT ACCEPT', ':INPUT DROP'),
    }),
    c('v6-accept-policy', {
      'etc/iptables/rules.v6': v4('-A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset\n-A INPUT -p tcp --dport 8080 -j DROP\n', 'ACCEPT'),
    }),
  ];
}

function nftCases(): NetfilterCase[] {
  const c = (id: string, text: string, extra: Record<string, string> = {}): NetfilterCase => ({
    id: `nftables-${id}`,
    tool: 'nftables',
    files: { 'etc/nftables.conf': `#!/usr/sbin/nft -f\nflush ruleset\n${text}`, ...extra },
  });
  return [
    c(
      'inet-drop',
      'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    iif lo accept\n    tcp dport { 22, 443 } accept\n    udp dport 9100 accept\n  }\n}\n',
    ),
    c(
      'two-base-chains',
      'table inet a {\n  chain early {\n    type filter hook input priority -10; policy accept;\n    tcp dport 8080 drop\n  }\n}\ntable inet b {\n  chain late {\n    type filter hook input priority 10; policy drop;\n    ct state established,related accept\n    tcp dport { 80, 8080, 22 } accept\n  }\n}\n',
    ),
    c(
      'ip-only',
      'table ip filter {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    ct state established,related accept\n    tcp dport 22 accept\n  }\n}\n',
    ),
    c(
      'ip6-reject',
      'table ip6 filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 80 reject with tcp reset\n    udp dport 443 drop\n  }\n}\n',
    ),
    c(
      'defines-sets-include',
      'include "/etc/nftables.d/*.nft"\ntable inet filter {\n  set admin {\n    type ipv4_addr\n    flags interval\n    elements = { 10.200.0.0/24 }\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport $web accept\n    ip saddr @admin tcp dport 9100 accept\n  }\n}\n',
      {
        'etc/nftables.d/defs.nft': 'define web = { 80, 443, 8080 }\n',
      },
    ),
    c(
      'jump-return',
      'table inet filter {\n  chain svc {\n    tcp dport 443 return\n    tcp dport 80 accept\n    tcp dport 22 drop\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    meta l4proto tcp jump svc\n    tcp dport { 443, 22 } accept\n  }\n}\n',
    ),
    c(
      'goto-chain',
      'table inet filter {\n  chain web {\n    tcp dport 80 accept\n  }\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport 80-8080 goto web\n    tcp dport { 22, 8080, 443 } accept\n  }\n}\n',
    ),
    c(
      'verdict-map',
      'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state vmap { established : accept, related : accept, invalid : drop }\n    tcp dport vmap { 22 : accept, 80 : drop, 443 : accept }\n    ip6 saddr fd00:200::/64 udp dport 2222 accept\n    iifname "eth0" udp dport 8080 accept\n  }\n}\n',
    ),
  ];
}

function ufwCases(): NetfilterCase[] {
  const c = (
    id: string,
    cmds: string[],
    policy: 'DROP' | 'ACCEPT' | 'REJECT' = 'DROP',
    ipv6 = true,
    enabled = true,
    extra: Record<string, string> = {},
  ): NetfilterCase => ({
    id: `ufw-${id}`,
    tool: 'ufw',
    files: extra,
    ufwCommands: cmds,
    ufwDefaults: { policy, ipv6, enabled },
  });
  return [
    c('allow-ssh-web', ['allow 22/tcp', 'allow 80,443/tcp', 'allow 9100/udp']),
    c('from-network', ['allow from 10.200.0.0/24 to any port 9100', 'allow from fd00:200:1::/64 to any port 8080 proto tcp', 'allow 22/tcp']),
    c('deny-before-allow', ['deny 8080/tcp', 'allow 8080', 'reject 443/udp', 'allow 443']),
    c('reject-policy', ['allow 2222/tcp', 'limit 22/tcp'], 'REJECT'),
    c('accept-policy', ['deny 80/tcp', 'reject 9100'], 'ACCEPT'),
    c('disabled', ['allow 22/tcp'], 'DROP', true, false),
    c('ipv6-no', ['allow 22/tcp', 'allow 80'], 'DROP', false),
    c('app-profile', ['allow Portolan-Web', 'deny in on eth0 to any port 2222 proto tcp', 'allow 2222/tcp'], 'DROP', true, true, {
      'etc/ufw/applications.d/portolan': '[Portolan-Web]\ntitle=web\ndescription=web server\nports=80,443/tcp|8080/udp\n',
    }),
  ];
}

function firewalldCases(): NetfilterCase[] {
  const zone = (body: string, target?: string) =>
    `<?xml version="1.0" encoding="utf-8"?>\n<zone${target ? ` target="${target}"` : ''}>\n  <short>z</short>\n${body}</zone>\n`;
  const c = (id: string, files: Record<string, string>): NetfilterCase => ({ id: `firewalld-${id}`, tool: 'firewalld', files });
  return [
    c('public-services', {
      'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
      'etc/firewalld/zones/public.xml': zone('  <service name="ssh"/>\n  <service name="https"/>\n  <port port="9100" protocol="udp"/>\n'),
    }),
    c('own-service-and-rich', {
      'etc/firewalld/firewalld.conf': 'DefaultZone=work\n',
      'etc/firewalld/zones/work.xml': zone(
        '  <service name="myapp"/>\n  <rule family="ipv4">\n    <source address="10.200.0.0/24"/>\n    <port port="9100" protocol="tcp"/>\n    <accept/>\n  </rule>\n  <rule priority="-1">\n    <port port="8080" protocol="tcp"/>\n    <reject/>\n  </rule>\n',
      ),
      'etc/firewalld/services/myapp.xml':
        '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <short>myapp</short>\n  <port port="8080" protocol="tcp"/>\n  <port port="2222" protocol="tcp"/>\n</service>\n',
    }),
    c('source-zone', {
      'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
      'etc/firewalld/zones/public.xml': zone('  <service name="ssh"/>\n'),
      'etc/firewalld/zones/trusted.xml': zone('  <source address="10.200.1.0/24"/>\n', 'ACCEPT'),
    }),
    c('drop-target', {
      'etc/firewalld/firewalld.conf': 'DefaultZone=block2\n',
      'etc/firewalld/zones/block2.xml': zone('  <port port="80" protocol="tcp"/>\n', 'DROP'),
    }),
  ];
}

export function generateCases(): NetfilterCase[] {
  return [...iptablesCases(), ...nftCases(), ...ufwCases(), ...firewalldCases()];
}
