/**
 * port-conflict: binds of one host that collide. The judgement is the kernel's bind() and lives in
 * core/conflicts.ts (also used by the kernel oracle test); this rule runs it over a host's binds.
 * nginx's linker reports the conflicts nginx itself refuses inside one instance under this code too.
 */
import { bindGroupKey, CONFLICT_MESSAGES, conflictFindings } from '../core/conflicts';
import { pushAll } from '../core/arrays';
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
function sideFixes(ctx: RuleContext, host: HostModel, groups: BindGroups, finding: Finding, fact: PortFact): Fix[] {
  const key = groups.keyOf(fact);
  const inside = (finding.data?.other ?? []).some((o) => {
    const other = factAt(host, o.file, o.span);
    return other !== undefined && groups.keyOf(other) === key;
  });
  const places = new Map<string, PortFact>();
  if (!inside) for (const b of groups.members(key)) if (b !== fact) places.set(`${b.file}\u0000${b.span.start}`, b);
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

/** The host's binds by bind group, indexed once per check (a side's fix looks its group up for each finding). */
class BindGroups {
  private readonly keys = new Map<PortFact, string>();
  private byKey: Map<string, PortFact[]> | undefined;

  constructor(private readonly binds: readonly PortFact[]) {}

  keyOf(f: PortFact): string {
    let key = this.keys.get(f);
    if (key === undefined) this.keys.set(f, (key = bindGroupKey(f)));
    return key;
  }

  /** The binds of a group, in the host's order. */
  members(key: string): readonly PortFact[] {
    if (!this.byKey) {
      this.byKey = new Map();
      for (const b of this.binds) {
        const k = this.keyOf(b);
        const list = this.byKey.get(k);
        if (list) list.push(b);
        else this.byKey.set(k, [b]);
      }
    }
    return this.byKey.get(key) ?? [];
  }
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
        when: 'On each side of a conflict between programs (an nginx listen, an sshd Port, the host side of a compose publish; not a line two instances read, which would move both sides), 2-3 ports that nothing on the host binds, publishes, points at or names in a firewall rule, outside the ephemeral ranges: the conventional alternate of the service first (80 -> 8080, 8000; 443 -> 8443; 22 -> 2222; 21 -> 2121; 25 -> 2525), then the nearest ports no well-known service uses (our curated list, and /etc/services below 1024), upward first (8080 -> 8081, 8079, 8082). Beyond the alternate a port keeps its class: a port below 1024 gets ports below 1024 (443 -> 8443, 442, 441), a port above never one below. A side moves as a whole: every place of its bind group (`listen 80` and `listen [::]:80`, each server block of one nginx on the port) gets the new port. Only the port digits change (a port from a variable is not rewritten).',
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
      'node-port':
        'Kubernetes: two Services in manifests of one directory ask for the same nodePort and protocol; the API server allocates it once per cluster and refuses the second (error).',
      'node-port-if-one-cluster':
        'Kubernetes: two Services in manifests of different directories (which may go to different clusters) ask for the same nodePort and protocol (Information).',
      [IF_ONE_HOST]:
        'Two projects of a workspace folder (compose projects, programs) would collide if they ran on one host, and nothing says they do: Information on each side, with the `.portolan.json` fixes that say so.',
      [CONFLICT_MESSAGES.nginxDuplicateListen]:
        'One nginx http server listens twice on the same address and port: nginx -t rejects the configuration (error, reported by the nginx linker).',
      [CONFLICT_MESSAGES.nginxDuplicatePair]:
        'Two nginx stream or mail servers listen on the same address and port: nginx -t rejects the configuration (error, reported by the nginx linker).',
    },
    docs: {
      body: 'Binds of one host are judged the way the kernel judges bind(): the same protocol, overlapping ports and overlapping addresses (the same address, or a wildcard against any address of its family; an IPv6 wildcard that is not v6-only also covers IPv4) collide, and the program that binds later fails with "Address already in use". What a program shares inside itself is not a conflict (one nginx serves `listen 80` and `listen 127.0.0.1:80` from one socket), nor are UDP sockets that both set SO_REUSEADDR or sockets that both set SO_REUSEPORT. Each side of a conflict is reported once, at its first bind, with the other sides as related information: a side is a bind group, what one program binds for one port (the `listen 80` and `listen [::]:80` of every server block of one nginx, the Port of sshd on each ListenAddress, a compose publish on 0.0.0.0 and [::], each container on its own). A Docker port range ("8000-8010:80") takes one free port when its container starts, so it is judged over the possible start orders: an error when some bind fails in every order, a warning when only some orders fail. Kubernetes: the cluster is not the workspace\'s host, so its ports never collide with the folder\'s programs; two Services of one manifest file, or of manifest files in one directory (applied together, `kubectl apply -f dir/`), with the same nodePort and protocol are an error (the API server allocates each nodePort once across the cluster and refuses the second: "provided port is already allocated"), Information when their files sit in different directories (overlays and environments may be different clusters), nothing when both are the same Service (a base and its patch); as is a port, nodePort or hostPort twice in one Service or pod (Duplicate value); pods of two objects asking for one hostPort (each <hostIP, hostPort, protocol> is unique per node) are Information, as the scheduler places them on different nodes, and a warning when both are pinned to one node by spec.nodeName.',
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
      const groups = new BindGroups(host.binds);
      for (const f of findings) {
        if (f.messageId === CONFLICT_MESSAGES.sshdTwice) continue; // one sshd twice: the duplicate line is the thing to remove
        if (f.messageId === IF_ONE_HOST) continue; // maybe never on one machine: moving a port is not the answer (the .portolan.json fixes are)
        const fact = factAt(host, f.file, f.span);
        if (!fact) continue;
        // The same line read by two instances collides with itself: rewriting it moves both sides.
        if (f.data?.other?.some((o) => o.file === f.file && o.span.start === f.span.start && o.span.end === f.span.end)) continue;
        const fixes = sideFixes(ctx, host, groups, f, fact);
        if (fixes.length > 0) f.fixes = [...(f.fixes ?? []), ...fixes];
      }
      pushAll(findings, nodePortConflicts(host, where));
      return findings;
    };
  },
});

/**
 * Kubernetes nodePorts of two Services in different manifest files (one file's are judged by its reader): the API
 * server allocates a nodePort once per cluster and refuses the second Service. Files of one directory are applied
 * together (`kubectl apply -f dir/`): an error; files of different directories may go to different clusters
 * (overlays, environments): Information. The same Service written twice (a base and its patch) is one object.
 */
function nodePortConflicts(host: HostModel, where: (f: PortFact) => string): Finding[] {
  const out: Finding[] = [];
  const byPort = new Map<string, PortFact[]>();
  for (const f of host.facts) {
    if (!f.clusterPort) continue;
    const key = `${f.port}/${f.protocol}`;
    const list = byPort.get(key) ?? [];
    list.push(f);
    byPort.set(key, list);
  }
  for (const list of byPort.values()) {
    for (const f of list) {
      const others = list.filter((o) => o.file !== f.file && o.clusterPort!.object !== f.clusterPort!.object);
      if (others.length === 0) continue;
      const dir = (x: PortFact) => x.file.slice(0, x.file.lastIndexOf('/'));
      const sameDir = others.filter((o) => dir(o) === dir(f));
      const shown = sameDir[0] ?? others[0];
      const what = `nodePort ${f.port}/${f.protocol.toUpperCase()}`;
      out.push({
        file: f.file,
        span: f.span,
        severity: sameDir.length > 0 ? 'error' : 'information',
        code: 'port-conflict',
        messageId: sameDir.length > 0 ? 'node-port' : 'node-port-if-one-cluster',
        message:
          sameDir.length > 0
            ? `${what} is also ${shown.clusterPort!.object}'s (${where(shown)}): the API server refuses the second Service ("provided port is already allocated").`
            : `If one cluster runs both, ${what} is also ${shown.clusterPort!.object}'s (${where(shown)}): the API server would refuse the second Service.`,
        related: others.map((o) => ({ file: o.file, span: o.span, message: `nodePort of ${o.clusterPort!.object}` })),
        data: {
          port: f.port,
          portEnd: f.portEnd,
          protocol: f.protocol,
          program: f.program,
          other: others.map((o) => ({ file: o.file, span: o.span, program: o.program })),
        },
      });
    }
  }
  return out;
}
