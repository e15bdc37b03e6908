/** ssh-lockout: the firewall is active and none of sshd's ports is reachable from the network. */
import { sshLockout } from '../core/firewall/findings';
import { deciderText, FAMILY_LABEL } from '../core/firewall/verdict';
import type { Finding, RelatedLocation } from '../core/types';
import { createRule } from './rule';

export const sshLockoutRule = createRule({
  name: 'ssh-lockout',
  meta: {
    code: 'ssh-lockout',
    severity: 'error',
    description: 'The host firewall blocks every port sshd listens on: once these rules load, nobody can log in over the network.',
    fixable: false,
    reportedBy: 'host',
    messages: { lockout: "None of sshd's ports is reachable from the network through the host's firewall." },
    docs: {
      body:
        "sshd's effective ports (its `Port` and `ListenAddress` lines, or the default 22 when none is written) are judged " +
        'like every listener (see `firewall-blocked`): when the firewall drops or rejects new connections to every one of ' +
        'them, for every address family it filters, loading these rules locks out everyone who manages the host over SSH. ' +
        'The finding sits on the line that sets the port (the first line of sshd_config for the default port), and its ' +
        'related information points at the policy or rule that decides. A rule that opens the port to some source network ' +
        'only (an admin network) is a way in, so it is silent then, as it is for uncertain rules, loopback-only sshd, ' +
        'a disabled ufw and a family no firewall file filters.',
      fires: {
        'etc/ssh/sshd_config': 'Port 2222\nAddressFamily inet\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
      },
      silent: {
        'etc/ssh/sshd_config': 'Port 2222\nAddressFamily inet\n',
        'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 2222 -j ACCEPT\nCOMMIT\n',
      },
    },
  },
  create(ctx) {
    return (host) => {
      const ssh = sshLockout(host);
      if (!ssh) return [];
      const out: Finding[] = [];
      for (const m of ssh) {
        const f = m.facts[0];
        const blocked = m.verdicts.filter((v) => v.state === 'blocked');
        const first = blocked[0];
        const related: RelatedLocation[] = blocked.map((v) => ({
          file: v.by.file,
          span: v.by.span,
          message: `${deciderText(v)} decides for ${FAMILY_LABEL[v.family]} TCP ${f.port}`,
        }));
        for (const v of blocked)
          if (v.by.kind === 'policy' && v.root !== v.by.file)
            related.push({ file: v.root, span: { start: 0, end: 0 }, message: `the ${v.tool} rules here allow no new connection to TCP ${f.port}` });
        out.push({
          file: f.file,
          span: f.span,
          severity: 'error',
          code: 'ssh-lockout',
          messageId: 'lockout',
          message: `SSH lockout: sshd listens on TCP ${f.port}${f.implicit ? ' (the default port)' : ''}, but ${deciderText(first)} (${ctx.shownPath(first.by.file)}:${ctx.lineOf(first.by.file, first.by.span.start)}) blocks it, and no other sshd port is reachable.`,
          related,
          data: {
            port: f.port,
            portEnd: f.portEnd,
            protocol: f.protocol,
            program: 'sshd',
            other: blocked.map((v) => ({ file: v.by.file, span: v.by.span, program: v.tool })),
          },
        });
      }
      return out;
    };
  },
});
