/**
 * port-conflict: binds of one host that collide. The judgement is the kernel's bind() and lives in
 * core/conflicts.ts (also used by the kernel oracle test); this rule runs it over a host's binds.
 * nginx's linker reports the conflicts nginx itself refuses inside one instance under this code too.
 */
import { bindGroupKey, CONFLICT_MESSAGES, conflictFindings } from '../core/conflicts';
import { factAt, usePortFixes } from '../core/fixes';
import { IF_ONE_HOST, settleConflicts, sharedHostJudge } from '../core/sharedHost';
import type { HostModel, RuleContext } from '../core/hostModel';
import type { Finding, Fix, PortFact, TextEdit } from '../core/types';
import { createRule } from './rule';

/**
 * "Use port N" on one side: a side stands for its whole bind group (nginx's `listen 80` and
 * `listen [::]:80`, every server block of one nginx on the port), so the fix moves every place of the
 * group, or is not offered when one of them cannot be rewritten. A conflict inside one group (two
 * places of one program) moves only the place the finding stands at.
 */
function sideFixes(ctx: RuleContext, host: HostModel, finding: Finding, fact: PortFact): Fix[] {
  const key = bindGroupKey(fact);
  const inside = (finding.data?.other ?? []).some((o) => {
    const other = factAt(host, o.file, o.span);
    return other !== undefined && bindGroupKey(other) === key;
  });
  const places = new Map<string, PortFact>();
  if (!inside) for (const b of host.binds) if (bindGroupKey(b) === key && b !== fact) places.set(`${b.file}\u0000${b.span.start}`, b);
  places.delete(`${fact.file}\u0000${fact.span.start}`);
  const fixes = usePortFixes(ctx, host, fact, { preferFirst: false, why: '(free on this host)' });
  if (places.size === 0) return fixes;
  const out: Fix[] = [];
  for (const fix of fixes) {
    const [taken] = fix.takes ?? [];
    const edits: TextEdit[] = [...fix.edits];
    for (const p of places.values()) {
      const text = ctx.textOf?.(p.file);
      const more = text === undefined || p.implicit ? undefined : ctx.writerOf?.(p.file)?.setPort?.(text, p, taken.port, taken.portEnd);
      if (!more) return [];
      edits.push(...more);
    }
    out.push({ ...fix, title: `${fix.title}, at all ${places.size + 1} places`, edits });
  }
  return out;
}

export const portConflict = createRule({
  name: 'port-conflict',
  meta: {
    code: 'port-conflict',
    severity: 'error',
    description: 'Two programs (or two sockets of one) bind the same port on overlapping addresses of one host: the later bind fails.',
    fixable: true,
    fixes: [
      {
        title: 'Use port N (free on this host)[, at all K places]',
        when: 'On each side of a conflict between programs (an nginx listen, an sshd Port, the host side of a compose publish; not a line two instances read, which would move both sides), 2-3 ports near the original that nothing on the host binds, publishes, points at or names in a firewall rule, outside the ephemeral ranges, unregistered ports first. A side moves as a whole: every place of its bind group (`listen 80` and `listen [::]:80`, each server block of one nginx on the port) gets the new port. Only the port digits change (a port from a variable is not rewritten).',
      },
      { title: 'Ignore port-conflict on every side', when: 'A `portolan-ignore port-conflict` comment above this line and above each line it collides with.' },
    ],
    reportedBy: 'host',
    messages: {
      [CONFLICT_MESSAGES.taken]:
        'Two binds of the same protocol and port on overlapping addresses: the later one fails, with "port is already allocated" between two Docker publishes and "address already in use" otherwise (error).',
      [CONFLICT_MESSAGES.sshdTwice]: 'One sshd binds the same address and port twice: one bind fails, sshd logs it and serves on the rest (warning).',
      [CONFLICT_MESSAGES.rangeShortage]:
        'A published port range has fewer free ports than the binds that need one: some bind fails in every start order (error).',
      [CONFLICT_MESSAGES.startOrder]: 'Whether a bind fails depends on which program starts first (warning).',
      [IF_ONE_HOST]:
        'Two projects of a workspace folder (compose projects, programs) would collide if they ran on one host, and nothing says they do: Information on each side, with the `.portolan.json` fixes that say so.',
      [CONFLICT_MESSAGES.nginxDuplicateListen]:
        'One nginx http server listens twice on the same address and port: nginx -t rejects the configuration (error, reported by the nginx linker).',
      [CONFLICT_MESSAGES.nginxDuplicatePair]:
        'Two nginx stream or mail servers listen on the same address and port: nginx -t rejects the configuration (error, reported by the nginx linker).',
    },
    docs: {
      body: 'Binds of one host are judged the way the kernel judges bind(): the same protocol, overlapping ports and overlapping addresses (the same address, or a wildcard against any address of its family; an IPv6 wildcard that is not v6-only also covers IPv4) collide, and the program that binds later fails with "Address already in use". What a program shares inside itself is not a conflict (one nginx serves `listen 80` and `listen 127.0.0.1:80` from one socket), nor are UDP sockets that both set SO_REUSEADDR or sockets that both set SO_REUSEPORT. Each side of a conflict is reported once, at its first bind, with the other sides as related information: a side is a bind group, what one program binds for one port (the `listen 80` and `listen [::]:80` of every server block of one nginx, the Port of sshd on each ListenAddress, a compose publish on 0.0.0.0 and [::], each container on its own). A Docker port range ("8000-8010:80") takes one free port when its container starts, so it is judged over the possible start orders: an error when some bind fails in every order, a warning when only some orders fail. Kubernetes: the cluster is not the workspace\'s host, so its ports never collide with the folder\'s programs; two Services of one manifest file with the same nodePort and protocol are an error (the API server allocates each nodePort once across the cluster and refuses the second: "provided port is already allocated"), as is a port, nodePort or hostPort twice in one Service or pod (Duplicate value); pods of two objects asking for one hostPort (each <hostIP, hostPort, protocol> is unique per node) are Information, as the scheduler places them on different nodes, and a warning when both are pinned to one node by spec.nodeName.',
      fires: {
        'etc/ssh/sshd_config': 'Port 8080\n',
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
      },
      silent: {
        'etc/ssh/sshd_config': 'Port 2222\n',
        'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
      },
    },
  },
  create(ctx) {
    return (host) => {
      const judge = sharedHostJudge(
        host.sharing,
        host.instances.flatMap((i) => i.files),
      );
      const where = (f: { file: string; span: { start: number } }) => `${ctx.shownPath(f.file)}:${ctx.lineOf(f.file, f.span.start)}`;
      const findings = settleConflicts(conflictFindings(host.binds, ctx.lineOf, ctx.shownPath), host.binds, judge, where, (facts) =>
        conflictFindings(facts, ctx.lineOf, ctx.shownPath),
      );
      for (const f of findings) {
        if (f.messageId === CONFLICT_MESSAGES.sshdTwice) continue; // one sshd twice: the duplicate line is the thing to remove
        if (f.messageId === IF_ONE_HOST) continue; // maybe never on one machine: moving a port is not the answer (the .portolan.json fixes are)
        const fact = factAt(host, f.file, f.span);
        if (!fact) continue;
        // The same line read by two instances collides with itself: rewriting it moves both sides.
        if (f.data?.other?.some((o) => o.file === f.file && o.span.start === f.span.start && o.span.end === f.span.end)) continue;
        const fixes = sideFixes(ctx, host, f, fact);
        if (fixes.length > 0) f.fixes = [...(f.fixes ?? []), ...fixes];
      }
      return findings;
    };
  },
});
