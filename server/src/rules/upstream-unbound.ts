/**
 * upstream-unbound: a proxy's upstream (nginx proxy_pass, the other *_pass directives and `server` in
 * `upstream {}`; HAProxy `server`; Caddy `reverse_proxy`) that the workspace itself shows pointing at the wrong
 * port. The program behind an upstream is very often not in the workspace (an app server on 127.0.0.1:3000),
 * so "nothing binds P" alone says nothing: the rule speaks only where the workspace models the target.
 *
 * - Warning: a proxy in a compose service's container points at a sibling service at the host port compose
 *   publishes it on (`app:8080` for `8080:80`), which the service does not declare as a container port; a
 *   proxy on the host points at a loopback port nothing mentions from an upstream group named after a compose
 *   service of the host that publishes another port.
 * - Information (with the fix and how to settle it): a loopback port nothing mentions that is a compose
 *   service's container port published on another host port, or one port away from another program's
 *   listener; a sibling service's port it does not declare (it declares others).
 *
 * Silent for variables and unix: sockets (the readers keep no fact), names it cannot resolve, loopback inside
 * a container (the container's own, with programs the workspace does not show), a port anything on the host
 * mentions (a listener, a publish, a firewall rule, another upstream), a group of several servers, and
 * instances that do not run.
 */
import { resolveWellKnownHost } from '../core/address';
import { isBind, type ComposeProjectInfo, type ContainerInfo, type HostModel, type RuleContext } from '../core/hostModel';
import type { Finding, Fix, PortFact, RelatedLocation, ServiceInfo } from '../core/types';
import { createRule } from './rule';

/** A port the upstream could mean, who binds it, and where that is written. */
interface Target {
  port: number;
  by: string;
  at?: { file: string; span: { start: number; end: number } };
}

const MESSAGES = {
  'published-port':
    "The upstream names a sibling compose service at the host port compose publishes it on: on the project's network the proxy reaches the service's container port.",
  'named-service': 'The upstream group is named after a compose service of this host that publishes another port, and nothing binds this one.',
  'container-port': "A loopback port nothing in the workspace binds is a compose service's container port, published on another host port.",
  neighbour: "A loopback port nothing in the workspace binds is one port away from another program's listener.",
  undeclared: 'A sibling compose service is reached at a port it does not declare (it declares others).',
} as const;
type MessageId = keyof typeof MESSAGES;

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || resolveWellKnownHost(a) !== undefined;
}

/** An address that means this machine: loopback, the wildcard, or an address one of its listeners binds. */
function isLocal(host: HostModel, address: string | undefined): boolean {
  if (address === undefined) return false;
  if (isLoopback(address) || address === '0.0.0.0' || address === '::') return true;
  return host.binds.some((b) => b.address !== undefined && b.address === address);
}

/** A bind a connection to the upstream's local address reaches (the wildcard, loopback from loopback, the same address). */
function reaches(bind: PortFact, upstream: PortFact): boolean {
  if (bind.address === undefined) return true;
  if (isLoopback(bind.address) && isLoopback(upstream.address)) return true;
  return bind.address === upstream.address;
}

const covers = (f: { port: number; portEnd: number }, port: number) => f.port <= port && port <= f.portEnd;
const sameSpan = (a: PortFact, b: PortFact) => a.file === b.file && a.span.start === b.span.start && a.span.end === b.span.end;
const list = (ports: readonly (number | string)[]) => [...new Set(ports)].join(', ');

/** Upstream facts of instances that do not run on the host (a site file no nginx.conf loads): they connect nowhere. */
function idleFiles(host: HostModel): Set<string> {
  const running = new Set<string>();
  const idle = new Set<string>();
  for (const i of host.instances) for (const f of i.files) (i.inactive ? idle : running).add(f);
  for (const f of running) idle.delete(f);
  return idle;
}

const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

/** What the checks ask of a host, indexed once (a reverse proxy's host may hold thousands of upstreams and facts). */
class HostIndex {
  /** Facts by `protocol:port` (ranges of up to 64 ports under each port), and the wider ranges. */
  private readonly byPort = new Map<string, PortFact[]>();
  private readonly wide: PortFact[] = [];
  /** Upstreams by `instance|program|group`, by `protocol:port`. */
  private readonly groups = new Map<string, PortFact[]>();
  private readonly upstreamsAt = new Map<string, PortFact[]>();
  /** Single-port compose publishes by `project|service`, and by `protocol:container port`. */
  private readonly publishesOfService = new Map<string, PortFact[]>();
  private readonly publishesToPort = new Map<string, PortFact[]>();
  /** `instance|program` of instances whose config the host reads as a container's (a Caddyfile outside /etc/caddy). */
  readonly containerConfigs = new Set<string>();

  constructor(readonly host: HostModel) {
    for (const f of host.facts) {
      if (f.portEnd - f.port < 64) for (let p = f.port; p <= f.portEnd; p++) push(this.byPort, `${f.protocol}:${p}`, f);
      else this.wide.push(f);
      if (f.role === 'container') this.containerConfigs.add(`${f.instance}|${f.program}`);
    }
    for (const u of host.upstreams) {
      if (u.upstreamGroup !== undefined) push(this.groups, `${u.instance}|${u.program}|${u.upstreamGroup}`, u);
      push(this.upstreamsAt, `${u.protocol}:${u.port}`, u);
    }
    for (const b of host.binds) {
      if (b.role !== 'publish' || !b.target || b.port !== b.portEnd || b.oneOf) continue;
      push(this.publishesOfService, `${b.instance}|${b.target.service}`, b);
      if (b.target.port === b.target.portEnd) push(this.publishesToPort, `${b.protocol}:${b.target.port}`, b);
    }
  }

  /** Every fact of the host on this port. */
  at(protocol: string, port: number): PortFact[] {
    const own = this.byPort.get(`${protocol}:${port}`) ?? [];
    const wide = this.wide.filter((f) => f.protocol === protocol && covers(f, port));
    return wide.length > 0 ? [...own, ...wide] : own;
  }

  /** The upstream's group has more servers than this one (a pool on consecutive ports is deliberate). */
  inPool(u: PortFact): boolean {
    return u.upstreamGroup !== undefined && (this.groups.get(`${u.instance}|${u.program}|${u.upstreamGroup}`)?.length ?? 0) > 1;
  }

  /** Another upstream of the host points at this local port. */
  pointedAt(u: PortFact, port: number): boolean {
    return (this.upstreamsAt.get(`${u.protocol}:${port}`) ?? []).some((o) => !sameSpan(o, u) && isLocal(this.host, o.address));
  }

  /** A compose service's single-port publishes that a connection to the upstream's local address reaches. */
  publishesOf(project: ComposeProjectInfo, service: ServiceInfo, u: PortFact): PortFact[] {
    return (this.publishesOfService.get(`${project.root}|${service.name}`) ?? []).filter((b) => b.protocol === u.protocol && reaches(b, u));
  }

  /** Publishes (of any project) forwarding to this container port, reachable from the upstream. */
  publishesTo(u: PortFact, port: number): PortFact[] {
    return (this.publishesToPort.get(`${u.protocol}:${port}`) ?? []).filter((b) => reaches(b, u));
  }
}

function dedupeTargets(targets: Target[]): Target[] {
  const seen = new Set<number>();
  return targets.filter((t) => !seen.has(t.port) && seen.add(t.port));
}

interface Verdict {
  messageId: MessageId;
  severity: 'warning' | 'information';
  message: string;
  targets: Target[];
  service?: string;
  /** The fix is clearly right (one target of a Warning). */
  preferred: boolean;
}

/** A proxy on the host itself (not in a container) pointing at a local port. */
function onHost(index: HostIndex, u: PortFact, shown: string, where: (f: { file: string; span: { start: number } }) => string): Verdict | undefined {
  const host = index.host;
  if (!isLocal(host, u.address)) return undefined;
  // A proxy whose config is read as a container's (a Caddyfile outside /etc/caddy) is not judged against this host.
  if (index.containerConfigs.has(`${u.instance}|${u.program}`)) return undefined;
  const P = u.port;
  const here = index.at(u.protocol, P);
  // Anything else that mentions the port says a program is meant to be there (a listener, a publish, a forward,
  // a firewall rule letting it in, another proxy pointing at it); compose container ports are judged below.
  if (here.some((f) => !sameSpan(f, u) && (f.role !== 'container' || f.program !== 'docker'))) return undefined;
  const composeTargetsP = here.some((f) => f.role === 'container' && f.program === 'docker');

  // The group is named after a compose service of this host (`upstream grafana { server 127.0.0.1:3001; }`).
  if (u.upstreamGroup !== undefined) {
    const name = u.upstreamGroup.toLowerCase();
    for (const project of host.composeProjects) {
      const service = project.services.find((s) => s.name.toLowerCase() === name);
      if (!service) continue;
      const targets = dedupeTargets(index.publishesOf(project, service, u).map((b) => ({ port: b.port, by: `docker, service ${service.name}`, at: b })));
      if (targets.length === 0) continue;
      const own = (service.containerPorts ?? []).some((c) => c.protocol === u.protocol && covers(c, P)) ? ' (its container port)' : '';
      return {
        messageId: 'named-service',
        severity: 'warning',
        service: service.name,
        targets,
        preferred: targets.length === 1,
        message: `Upstream ${u.upstreamGroup} is named after compose service ${service.name}, which publishes ${list(targets.map((t) => t.port))} (${where(targets[0].at!)}), not ${P}${own}; nothing in the workspace binds ${shown}.`,
      };
    }
  }

  // P is a compose service's container port, published on another host port (`3001:3000`, proxy to 127.0.0.1:3000).
  const published = index.publishesTo(u, P).filter((b) => b.port !== P);
  if (published.length > 0) {
    const serviceName = published[0].target!.service;
    const targets = dedupeTargets(published.map((b) => ({ port: b.port, by: `docker, service ${b.target!.service}`, at: b })));
    return {
      messageId: 'container-port',
      severity: 'information',
      service: serviceName,
      targets,
      preferred: false,
      message: `Nothing in the workspace binds ${shown}: ${P} is service ${serviceName}'s container port, which compose publishes on ${list(targets.map((t) => t.port))} (${where(targets[0].at!)}). Point to ${targets[0].port} if ${serviceName} is the target; if a program outside the workspace binds ${P}, ignore this here.`,
    };
  }
  if (composeTargetsP) return undefined;

  // A listener one port away, of another program, that no other upstream points at.
  const near = [P - 1, P + 1].flatMap((port) =>
    index
      .at(u.protocol, port)
      .filter((b) => isBind(b) && b.port === port && b.portEnd === port && !b.oneOf && b.instance !== u.instance && reaches(b, u) && !index.pointedAt(u, port)),
  );
  if (near.length === 0) return undefined;
  const targets = dedupeTargets(
    near.map((b) => ({ port: b.port, by: b.role === 'publish' && b.target ? `docker, service ${b.target.service}` : b.program, at: b })),
  );
  const t = targets[0];
  return {
    messageId: 'neighbour',
    severity: 'information',
    targets,
    preferred: false,
    message: `Nothing in the workspace binds ${shown}; ${t.port} is bound by ${t.by} (${where(t.at!)}). Point to ${t.port} if that is the target; if a program outside the workspace binds ${P}, ignore this here.`,
  };
}

/** A proxy in a compose service's container pointing at a sibling service by its name. */
function inContainer(container: ContainerInfo, u: PortFact): Verdict | undefined {
  const address = u.address;
  // Only a sibling's name: an address (its loopback is the container's own, with programs of its image the
  // workspace does not show) or another name (outside the project) says nothing here.
  if (address === undefined || u.family !== undefined) return undefined;
  const name = address.toLowerCase();
  const service = container.project.services.find((s) => s.name.toLowerCase() === name);
  if (!service || service.name === container.service) return undefined;
  const mode = service.networkMode ?? '';
  if (mode !== '' && mode !== 'bridge' && !/^[A-Za-z0-9_.-]+$/.test(mode)) return undefined;
  if (mode === 'host' || mode === 'none') return undefined;
  const P = u.port;
  const ports = (service.containerPorts ?? []).filter((c) => c.protocol === u.protocol);
  if (ports.some((c) => covers(c, P))) return undefined;
  if (service.containerPortsUnknown) return undefined;
  const byPublish = ports.filter((c) => c.port === c.portEnd && c.published && c.published.port === c.published.portEnd && c.published.port === P);
  const by = `service ${service.name}'s container`;
  if (byPublish.length > 0) {
    const targets = dedupeTargets(byPublish.map((c) => ({ port: c.port, by })));
    return {
      messageId: 'published-port',
      severity: 'warning',
      service: service.name,
      targets,
      preferred: targets.length === 1,
      message: `${P} is the host port compose publishes ${service.name} on (${list(targets.map((t) => `${P}:${t.port}`))}): from another container ${u.program} reaches ${service.name} at its container port, ${list(targets.map((t) => t.port))}; ${service.name} does not declare ${P}.`,
    };
  }
  // Its Dockerfile may EXPOSE (and the image listen on) what compose does not say.
  if (service.dockerfile || ports.length === 0) return undefined;
  const singles = ports.filter((c) => c.port === c.portEnd).sort((a, b) => Math.abs(a.port - P) - Math.abs(b.port - P));
  const declared = [...new Set(ports.map((c) => (c.port === c.portEnd ? String(c.port) : `${c.port}-${c.portEnd}`)))].join(', ');
  return {
    messageId: 'undeclared',
    severity: 'information',
    service: service.name,
    targets: dedupeTargets(singles.map((c) => ({ port: c.port, by }))).slice(0, 3),
    preferred: false,
    message: `Service ${service.name} declares container ports ${declared}/${u.protocol}, not ${P}: if it listens on ${P}, add ${P} to its expose; else point to a port it declares.`,
  };
}

function check(ctx: RuleContext, host: HostModel): Finding[] {
  const out: Finding[] = [];
  if (host.upstreams.length === 0) return out;
  const seen = new Set<string>();
  const idle = idleFiles(host);
  const index = new HostIndex(host);
  const where = (f: { file: string; span: { start: number } }) => `${ctx.shownPath(f.file)}:${ctx.lineOf(f.file, f.span.start)}`;
  for (const u of host.upstreams) {
    const key = `${u.file}:${u.span.start}:${u.span.end}:${u.protocol}:${u.port}`;
    if (seen.has(key) || idle.has(u.file) || index.inPool(u)) continue;
    seen.add(key);
    const shown = `${u.family === 'ipv6' ? `[${u.address}]` : u.address}:${u.port}`;
    const verdict = host.container ? inContainer(host.container, u) : onHost(index, u, shown, where);
    if (!verdict) continue;
    const writer = ctx.writerOf?.(u.file);
    const text = ctx.textOf?.(u.file);
    const fixes: Fix[] = [];
    for (const t of verdict.targets) {
      const edits = text !== undefined ? writer?.setUpstreamPort?.(text, u, t.port) : undefined;
      if (!edits) break;
      fixes.push({ title: `Point to ${t.port} (bound by ${t.by})`, edits, preferred: verdict.preferred && fixes.length === 0 ? true : undefined });
    }
    const related: RelatedLocation[] = verdict.targets.flatMap((t) =>
      t.at ? [{ file: t.at.file, span: t.at.span, message: `${t.port}/${u.protocol} bound by ${t.by}` }] : [],
    );
    out.push({
      file: u.file,
      span: u.span,
      severity: verdict.severity,
      code: 'upstream-unbound',
      messageId: verdict.messageId,
      message: verdict.message,
      related: related.length > 0 ? related : undefined,
      fixes: fixes.length > 0 ? fixes : undefined,
      data: {
        port: u.port,
        portEnd: u.port,
        protocol: u.protocol,
        program: u.program,
        service: verdict.service,
        other: verdict.targets.flatMap((t) => (t.at ? [{ file: t.at.file, span: t.at.span, port: t.port, portEnd: t.port }] : [])),
      },
    });
  }
  return out;
}

export const upstreamUnbound = createRule({
  name: 'upstream-unbound',
  meta: {
    code: 'upstream-unbound',
    severity: 'warning',
    description:
      'A proxy points at a port the workspace shows its target does not listen on (a compose service reached at its published port, a loopback port beside the one bound).',
    fixable: true,
    fixes: [
      {
        title: 'Point to P (bound by PROGRAM)',
        when: "On each finding with a likely target: the port of the upstream's address rewritten (or written after the host where the scheme implies it); preferred when the finding is a warning with one target.",
        preferred: true,
      },
    ],
    reportedBy: 'host',
    messages: MESSAGES,
    docs: {
      body:
        "A proxy's upstream (nginx `proxy_pass` and the other `*_pass` directives, `server` in `upstream {}`, HAProxy " +
        '`server`, Caddy `reverse_proxy`) that points at a port nothing listens on fails every request (502). The program ' +
        'behind an upstream is often not in the workspace (an app server on 127.0.0.1:3000), so the rule speaks only where ' +
        'the workspace models the target. A **warning** when a proxy in a compose container reaches a sibling service at the ' +
        'host port compose publishes it on (`app:8080` for `ports: ["8080:80"]`: on the project network the connection goes ' +
        "to the container's own port 8080), and when an `upstream NAME {}` of one server, named after a compose service of " +
        'the host, points at a loopback port nothing binds while that service publishes another. **Information**, with the ' +
        "fix, when a loopback port nothing mentions is a compose service's container port published on another host port, " +
        "or is one port away from another program's listener, and when a sibling service is reached at a port it does not " +
        'declare: ignore it there if a program outside the workspace binds the port. Silent for variables and `unix:` ' +
        "sockets, names it cannot resolve, loopback inside a container (the container's own), a port anything on the host " +
        'mentions (a listener, a publish, a firewall rule, another upstream), upstream groups of several servers, and ' +
        'configurations that do not run. The fix "Point to P" rewrites only the port of the upstream address (nginx also writes `:P` after a host whose port its scheme implies; HAProxy and Caddy only a written port).',
      fires: {
        'compose.yaml':
          'services:\n  proxy:\n    image: nginx\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n  app:\n    image: example/app\n    ports: ["8080:80"]\n',
        'nginx.conf': 'events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      proxy_pass http://app:8080;\n    }\n  }\n}\n',
      },
      silent: {
        'compose.yaml':
          'services:\n  proxy:\n    image: nginx\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n  app:\n    image: example/app\n    ports: ["8080:80"]\n',
        'nginx.conf': 'events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      proxy_pass http://app:80;\n    }\n  }\n}\n',
      },
    },
  },
  create(ctx) {
    return (host) => check(ctx, host);
  },
});
