/** firewall-unused: an allow rule for a port that nothing on the host listens on, publishes or forwards to. */
import { unusedAllowRules } from '../core/firewall/findings';
import type { Finding } from '../core/types';
import { createRule } from './rule';

export const firewallUnused = createRule({
  name: 'firewall-unused',
  meta: {
    code: 'firewall-unused',
    severity: 'hint',
    description: 'A firewall rule allows a port that nothing on the host listens on, publishes or forwards to.',
    fixable: false,
    reportedBy: 'host',
    messages: { unused: 'An allow rule for a port no program of the host uses.' },
    docs: {
      body:
        'An open port nobody serves is an opening waiting for the next program that binds it. Each allow rule of an ' +
        'active firewall (ufw enabled, the default firewalld zone or one bound to sources or interfaces, iptables, nftables) ' +
        'is compared with what the host runs: listeners (sshd, nginx, systemd sockets, ...), ports Docker publishes, and ' +
        'the ports of DNAT, redirect and forward-port rules (a forward counts for a rule only where one packet can meet both: ' +
        'an IPv4 DNAT uses no IPv6 rule, one limited to eth1 no rule limited to eth0, one limited to a source network no rule ' +
        'limited to a disjoint one). A rule none of them uses gets this hint. It is judged only on a ' +
        'host whose listeners Portolan reads (some program besides the firewall), port 22 only when sshd_config is there too, ' +
        'and never for rules limited to source ports or destinations, or with conditions Portolan does not evaluate.',
      fires: {
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n  }\n}\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -p tcp --dport 3306 -j ACCEPT\nCOMMIT\n',
      },
      silent: {
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n  }\n}\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n',
      },
    },
  },
  create() {
    return (host) =>
      unusedAllowRules(host).map((u): Finding => {
        const ports = u.rule.ports!.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(', ');
        const proto = u.rule.protocol === 'any' ? 'TCP/UDP' : u.rule.protocol.toUpperCase();
        return {
          file: u.file,
          span: u.span,
          severity: 'hint',
          code: 'firewall-unused',
          messageId: 'unused',
          message: `This ${u.tool} rule allows ${proto} ${ports}, but nothing on this host listens on, publishes or forwards to ${u.rule.ports!.length > 1 || u.rule.ports![0].from !== u.rule.ports![0].to ? 'these ports' : 'it'}.`,
          data: { port: u.rule.ports![0].from, portEnd: u.rule.ports![0].to, protocol: u.rule.protocol === 'any' ? 'tcp' : u.rule.protocol, program: u.tool },
        };
      });
  },
});
