/** firewall-blocked: a listener off loopback whose port the host's firewall drops or rejects for new connections. */
import { allowFix } from '../core/firewall/allow';
import { judgeBinds, sshLockout } from '../core/firewall/findings';
import { deciderText, FAMILY_LABEL } from '../core/firewall/verdict';
import type { Finding } from '../core/types';
import { createRule } from './rule';

export const firewallBlocked = createRule({
  name: 'firewall-blocked',
  meta: {
    code: 'firewall-blocked',
    severity: 'warning',
    description: 'A program listens on a network address, but the host firewall drops or rejects new connections to its port.',
    fixable: true,
    fixes: [
      {
        title: 'Allow TCP P in <file>',
        when: 'For every firewall that blocks the port, an accept rule in its own syntax, where the deciding rule or policy sits: iptables `-A CHAIN -p tcp --dport P -j ACCEPT` right before the deciding `-A` rule of that chain, or before the table\'s COMMIT when the chain\'s policy decides; ufw\'s `### tuple ### allow tcp P ...` comment and `-A ufw-user-input` (`ufw6-user-input`) line in user.rules (user6.rules) as `ufw allow P/tcp` writes them, before the deciding user rule or at the end of the user rules; nftables `tcp dport P accept` before the deciding rule, or at the end of the input base chain whose policy decides; firewalld `<port protocol="tcp" port="P"/>` in the deciding zone when its target decides. Nothing when one blocking firewall cannot be written that way (a rule in ufw\'s before.rules, a firewalld rich rule, an iptables `-I` line).',
      },
    ],
    reportedBy: 'host',
    messages: { blocked: 'The firewall of the host drops or rejects new connections to this listener (per address family).' },
    docs: {
      body:
        'Each listener off loopback is judged against the firewalls of its host the way netfilter meets their rules at boot: ' +
        'iptables INPUT (user chains, RETURN, goto, conntrack, `-i lo`), ufw (before.rules, the user rules, after.rules, ' +
        '`DEFAULT_INPUT_POLICY`; nothing when `ENABLED=no`; IPv6 dropped when `IPV6=no`), nftables (every input base chain ' +
        'in priority order) and firewalld (the zone of the packet, its services, ports and rich rules, its target). When ' +
        'the first rule that decides, or the policy, drops or rejects the port for every source, the listener is ' +
        'unreachable from the network. IPv4 and IPv6 are judged apart, and a family no firewall file of the host filters ' +
        'is not judged. Silent for loopback listeners, for a port a rule opens to some sources only (that is a decision), ' +
        'for rules whose conditions Portolan does not evaluate (rate limits, marks, `-m recent`: the verdict is uncertain), ' +
        'and when the firewall is disabled. The verdicts are checked against real netfilter between two network namespaces. ' +
        'sshd with every port blocked is `ssh-lockout` instead.',
      fires: {
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n',
      },
      silent: {
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 8080 -j ACCEPT\nCOMMIT\n',
      },
    },
  },
  create(ctx) {
    return (host) => {
      const lockedOut = sshLockout(host) !== undefined;
      const out: Finding[] = [];
      for (const m of judgeBinds(host, 'listen', (p) => !(lockedOut && p === 'sshd'))) {
        const blocked = m.verdicts.filter((v) => v.state === 'blocked');
        if (blocked.length === 0) continue;
        const f = m.facts[0];
        const families = [...new Set(blocked.map((v) => FAMILY_LABEL[v.family]))].join(' and ');
        const first = blocked[0];
        const where = `${ctx.shownPath(first.by.file)}:${ctx.lineOf(first.by.file, first.by.span.start)}`;
        const fix = allowFix(ctx, blocked, f.protocol, f.port);
        out.push({
          ...(fix ? { fixes: [fix] } : {}),
          file: f.file,
          span: f.span,
          severity: 'warning',
          code: 'firewall-blocked',
          messageId: 'blocked',
          message: `${f.program} listens on ${f.protocol.toUpperCase()} ${f.port}, but ${deciderText(first)} (${where}) ${first.by.action === 'reject' ? 'rejects' : 'drops'} new ${families} connections to it.`,
          related: blocked.map((v) => ({
            file: v.by.file,
            span: v.by.span,
            message: `${deciderText(v)} decides for ${FAMILY_LABEL[v.family]} ${f.protocol.toUpperCase()} ${f.port}`,
          })),
          data: {
            port: f.port,
            portEnd: f.portEnd,
            protocol: f.protocol,
            program: f.program,
            other: blocked.map((v) => ({ file: v.by.file, span: v.by.span, program: v.tool })),
          },
        });
      }
      return out;
    };
  },
});
