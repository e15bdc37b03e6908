/** ssh-lockout: the firewall is active and none of sshd's ports is reachable from the network. */
import { allowFix } from '../core/firewall/allow';
import { sshLockout, type JudgedMention } from '../core/firewall/findings';
import { deciderText, FAMILY_LABEL, factVerdicts } from '../core/firewall/verdict';
import type { HostModel, RuleContext } from '../core/hostModel';
import type { Finding, Fix, PortFact, RelatedLocation, TextEdit } from '../core/types';
import { createRule } from './rule';

export const sshLockoutRule = createRule({
  name: 'ssh-lockout',
  meta: {
    code: 'ssh-lockout',
    severity: 'error',
    description: 'The host firewall blocks every port sshd listens on: once these rules load, nobody can log in over the network.',
    fixable: true,
    fixes: [
      {
        title: 'Allow TCP P in <file>',
        when: "The accept rule for sshd's port in every firewall that blocks it, written and placed as for `firewall-blocked`.",
      },
      {
        title: 'Keep SSH on port N, which the firewall allows[ except …]',
        when: "When sshd has one port line (written, not the default) and the firewalls let new connections in on another TCP port: 22, or a port a single-port accept rule opens that nothing else on the host binds. sshd's `Port` (or the `ListenAddress` port) is set back to it; only the digits change. A port that some clients still cannot reach (a drop or reject rule limited to an interface, source or destination before the accept, as ufw `deny in on eth0 2222` before `allow 2222`; a firewalld source or interface zone that blocks it; a DNAT limited to a source that sends those clients elsewhere) is chosen only when no port is open to all, and the title then names them (`… which the firewall allows except on interface eth0`).",
      },
    ],
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
      const keep = ssh.length === 1 ? keepPortFix(ctx, host, ssh[0]) : undefined;
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
        const fixes = [allowFix(ctx, blocked, 'tcp', f.port), keep].filter((x): x is Fix => x !== undefined);
        out.push({
          ...(fixes.length > 0 ? { fixes } : {}),
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

/** TCP ports a single-port accept rule of the host's firewalls opens without conditions. */
function openedPorts(host: HostModel): number[] {
  const out: number[] = [];
  for (const { firewall } of host.firewalls)
    for (const r of firewall.inputRules)
      if (r.action === 'accept' && (r.protocol === 'tcp' || r.protocol === 'any') && r.ports?.length === 1 && r.ports[0].from === r.ports[0].to)
        if (!r.source && !r.iface && !r.destination && !r.sourcePorts && !r.unmodelled?.length && r.matchesNew !== false && !r.loopbackOnly)
          out.push(r.ports[0].from);
  return out;
}

/**
 * "Keep SSH on port N, which the firewall allows": sshd's one written port set back to 22 or to a port
 * an accept rule opens, when every firewall lets new connections in there and nothing else binds it.
 * A port still closed to some clients (FamilyVerdict.closedTo: ufw `deny in on eth0 2222` before
 * `allow 2222`, a DNAT limited to a source) is taken only when no port is open to all, and the title
 * names who stays out ("except on interface eth0").
 */
function keepPortFix(ctx: RuleContext, host: HostModel, mention: JudgedMention): Fix | undefined {
  const fact: PortFact = mention.facts[0];
  if (fact.implicit) return undefined;
  const writer = ctx.writerOf?.(fact.file);
  const text = ctx.textOf?.(fact.file);
  if (!writer?.setPort || text === undefined) return undefined;
  let limited: { port: number; except: string[] } | undefined;
  for (const port of [...new Set([22, ...openedPorts(host)])]) {
    if (port === fact.port) continue;
    if (host.binds.some((b) => b.protocol === 'tcp' && b.program !== 'sshd' && !b.inactive && b.port <= port && port <= b.portEnd)) continue;
    const verdicts = mention.facts.flatMap((f) => factVerdicts({ ...f, port }, host.firewalls));
    if (verdicts.length === 0 || verdicts.some((v) => v.state === 'blocked' || v.state === 'uncertain')) continue;
    const except = [...new Set(verdicts.flatMap((v) => v.closedTo.map((c) => c.condition)))];
    if (except.length === 0) return keepFix(writer.setPort(text, fact, port, port), port, '');
    limited ??= { port, except };
  }
  return limited ? keepFix(writer.setPort(text, fact, limited.port, limited.port), limited.port, ` except ${limited.except.join(', ')}`) : undefined;
}

function keepFix(edits: TextEdit[] | undefined, port: number, except: string): Fix | undefined {
  if (!edits) return undefined;
  return { title: `Keep SSH on port ${port}, which the firewall allows${except}`, edits, takes: [{ protocol: 'tcp', port, portEnd: port }] };
}
