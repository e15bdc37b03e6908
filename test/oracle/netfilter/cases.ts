/**
 * Generated firewalls for the netfilter oracle: each case is the files of one host's firewall (as
 * they sit under /etc), loaded into a server namespace the way the system loads them at boot.
 * The spread covers policies, rule order, user chains with RETURN and goto, conntrack, loopback and
 * interface rules, source-limited rules, multiport, nftables base chains by priority with sets,
 * defines, jumps and gotos, ufw tuples (allow/deny/reject/limit, from a network, app profiles,
 * ENABLED=no, IPV6=no, the three default policies) and firewalld zones (services, ports, rich rules,
 * source zones, targets, the default zone), DNAT/redirect rules limited by family, interface, source
 * or hook, and socket-activated sshd (socketActivationCases: ssh.socket owns sshd's port).
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
  /**
   * Socket activation: the ListenStream= values systemd binds for sshd after the units' resets, as the
   * case's ssh.socket and drop-ins write them (the test binds them with systemd-socket-activate -l).
   */
  sshSocket?: string[];
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
    c('dnat-interface-source-hook', {
      // eth1 and the OUTPUT chain never meet the probes (they arrive on eth0); the source-limited DNAT meets 10.200.1.2 only.
      'etc/iptables/rules.v4':
        v4(`${est}-A INPUT -p tcp -m multiport --dports 22,80,443,8080 -j ACCEPT\n`) +
        '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:web - [0:0]\n:spare - [0:0]\n' +
        '-A PREROUTING -i eth1 -p tcp --dport 8080 -j DNAT --to-destination 10.200.0.1:9100\n' +
        '-A PREROUTING -s 10.200.1.0/24 -p tcp --dport 22 -j DNAT --to-destination 10.200.0.1:2222\n' +
        '-A PREROUTING -p tcp -j web\n-A web ! -i eth0 -p tcp --dport 443 -j REDIRECT --to-ports 9100\n' +
        '-A web ! -s 10.200.0.0/24 -p tcp --dport 80 -j REDIRECT --to-ports 2222\n' +
        '-A spare -p tcp --dport 8080 -j REDIRECT --to-ports 9100\n' +
        '-A OUTPUT -p tcp --dport 443 -j DNAT --to-destination 10.200.0.1:9100\nCOMMIT\n',
      'etc/iptables/rules.v6': v4('-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -p ipv6-icmp -j ACCEPT\n'),
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
    c(
      'dnat-family-interface-hook',
      // An ip table's DNAT never meets IPv6; eth1 never meets the probes; a nat output chain never meets inbound packets.
      'table ip nat {\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport 8080 dnat to 10.200.0.1:9100\n    iifname "eth1" tcp dport 80 dnat to 10.200.0.1:9100\n  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n    tcp dport 443 dnat to 10.200.0.1:9100\n  }\n}\n' +
        'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport { 22, 80, 443, 8080 } accept\n  }\n}\n',
    ),
    c(
      'dnat-inet-source',
      'table inet nat {\n  chain pre {\n    type nat hook prerouting priority -100; policy accept;\n    ip saddr 10.200.1.0/24 tcp dport 22 dnat ip to 10.200.0.1:2222\n    ip6 saddr fd00:200::/64 tcp dport 443 redirect to :9100\n    tcp dport 8080 dnat ip to 10.200.0.1:9100\n  }\n}\n' +
        'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport { 22, 443, 8080 } accept\n  }\n}\n',
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

/** A full ssh.socket unit (Debian's, with its own ListenStream lines). */
const sshSocketUnit = (listens: string[], extra = '') =>
  `[Unit]\nDescription=OpenBSD Secure Shell server socket\nBefore=sockets.target\n\n[Socket]\n${listens.map((l) => `ListenStream=${l}\n`).join('')}Accept=no\n${extra}\n[Install]\nWantedBy=sockets.target\n`;

/**
 * Socket-activated sshd over each firewall tool: ssh.socket (or its drop-ins) binds sshd's port, and
 * sshd_config's Port binds nothing. The firewall allows sshd_config's port, the socket's, or both.
 */
export function socketActivationCases(): NetfilterCase[] {
  const est = '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n';
  const unit = 'etc/systemd/system/ssh.socket';
  // Enabled: the sockets.target.wants link (a copied /etc passes it on empty when it dangles); a unit alone is disabled.
  const wants = { 'etc/systemd/system/sockets.target.wants/ssh.socket': '' };
  const dropIn = 'etc/systemd/system/ssh.socket.d/listen.conf';
  const sshd = (text: string) => ({ 'etc/ssh/sshd_config': text });
  const zone = (body: string) => `<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <short>z</short>\n${body}</zone>\n`;
  return [
    {
      // sshd_config says 22 and the firewall allows 22, but systemd binds 2222: locked out.
      id: 'socket-iptables-unit-moves-port',
      tool: 'iptables',
      files: {
        ...sshd('Port 22\n'),
        [unit]: sshSocketUnit(['0.0.0.0:2222']),
        ...wants,
        'etc/iptables/rules.v4': v4(`${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n`),
      },
      sshSocket: ['0.0.0.0:2222'],
    },
    {
      // A drop-in alone that resets the stock unit's 22: sshd is on 2222 (both families), which nftables allows.
      id: 'socket-nftables-dropin-reset',
      tool: 'nftables',
      files: {
        ...sshd('PermitRootLogin no\n'),
        [dropIn]: '[Socket]\nListenStream=\nListenStream=2222\n',
        'etc/nftables.conf':
          '#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport 2222 accept\n  }\n}\n',
      },
      sshSocket: ['2222'],
    },
    {
      // A drop-in that adds 9100 to the stock unit's 22; sshd_config's 2222 binds nothing: ufw lets 22 in.
      id: 'socket-ufw-dropin-adds',
      tool: 'ufw',
      files: { ...sshd('Port 2222\n'), [dropIn]: '[Socket]\nListenStream=9100\n' },
      ufwCommands: ['allow 22/tcp', 'allow 2222/tcp'],
      ufwDefaults: { policy: 'DROP', ipv6: true, enabled: true },
      sshSocket: ['22', '9100'],
    },
    {
      // Address-bound sockets: 2222 on one IPv6 address (firewalld allows it), 22 on one IPv4 address (it does not).
      id: 'socket-firewalld-addresses',
      tool: 'firewalld',
      files: {
        ...sshd('Port 22\n'),
        [unit]: sshSocketUnit(['[fd00:200::1]:2222', '10.200.1.1:22']),
        ...wants,
        'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
        'etc/firewalld/zones/public.xml': zone('  <port port="2222" protocol="tcp"/>\n'),
      },
      sshSocket: ['[fd00:200::1]:2222', '10.200.1.1:22'],
    },
    {
      // IPv6 addresses only; ip6tables drops them all: locked out.
      id: 'socket-ip6tables-wants-v6-only',
      tool: 'iptables',
      files: {
        ...sshd('Port 2222\nAddressFamily inet\n'),
        [unit]: sshSocketUnit(['[fd00:200::1]:22', '[fd00:200:1::1]:22']),
        ...wants,
        'etc/iptables/rules.v4': v4(`${est}-A INPUT -p tcp --dport 2222 -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n`),
        'etc/iptables/rules.v6': v4('-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p tcp --dport 2222 -j ACCEPT\n'),
      },
      sshSocket: ['[fd00:200::1]:22', '[fd00:200:1::1]:22'],
    },
    {
      // A drop-in replacing the unit's list (reset, then two ports); nftables allows one of them for IPv4 only.
      id: 'socket-nftables-unit-and-dropin',
      tool: 'nftables',
      files: {
        ...sshd('Port 8080\n'),
        [unit]: sshSocketUnit(['22']),
        [dropIn]: '[Socket]\nListenStream=\nListenStream=0.0.0.0:443\nListenStream=[::]:9100\n',
        'etc/nftables.conf':
          '#!/usr/sbin/nft -f\nflush ruleset\ntable ip filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport { 22, 443, 8080 } accept\n  }\n}\ntable ip6 filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport { 22, 443, 8080 } accept\n  }\n}\n',
      },
      sshSocket: ['0.0.0.0:443', '[::]:9100'],
    },
    // Ubuntu 24.04+ (os-release): sshd-socket-generator writes ssh.socket's ListenStream from sshd_config
    // (ListenStream= then 0.0.0.0:2222 and [::]:2222 under the unit's BindIPv6Only=ipv6-only); the
    // test binds the dual-stack [::]:2222, which reaches the same ports (systemd-socket-activate has no
    // BindIPv6Only). The unit's own 22 binds nothing.
    {
      // The firewall still allows only the unit's 22: locked out.
      id: 'socket-iptables-ubuntu-generator-moves-port',
      tool: 'iptables',
      files: {
        ...sshd('Port 2222\n'),
        ...ubuntuNoble,
        'usr/lib/systemd/system/ssh.socket': sshSocketUnit(['0.0.0.0:22', '[::]:22'], 'BindIPv6Only=ipv6-only\nFreeBind=yes\n'),
        ...wants,
        'etc/iptables/rules.v4': v4(`${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n`),
        'etc/iptables/rules.v6': v4(`${est}-A INPUT -p tcp --dport 22 -j ACCEPT\n`),
      },
      sshSocket: ['[::]:2222'],
    },
    {
      // ufw allows sshd_config's 2222, which the generator gave ssh.socket: not locked out.
      id: 'socket-ufw-ubuntu-generator-port',
      tool: 'ufw',
      files: { ...sshd('Port 2222\n'), ...ubuntuNoble, ...wants },
      ufwCommands: ['allow 2222/tcp'],
      ufwDefaults: { policy: 'DROP', ipv6: true, enabled: true },
      sshSocket: ['[::]:2222'],
    },
  ];
}

/** An os-release of Ubuntu 24.04: evidence for sshd-socket-generator (formats/socket). */
const ubuntuNoble = {
  'etc/os-release': 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n',
};
