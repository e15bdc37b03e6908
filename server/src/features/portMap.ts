/**
 * `portolan/portMap` (protocol.ts): every port of a host with who binds it, what points at it, what
 * each firewall of the host does with a new connection to it, and the findings on those lines. Built
 * from the engine's public answers (analyze(), hosts); the VS Code client draws it as a tree and a map.
 */
import { URI } from 'vscode-uri';
import { formatHostPort } from '../core/address';
import type { Engine } from '../core/engine';
import { HostMap } from '../core/hosts';
import { ianaClass } from '../core/portRanges';
import { listenerVerdicts, type FirewallInstance } from '../core/firewall/verdict';
import type { Finding, FirewallFacts, IpFamily, PortFact, Protocol, Span } from '../core/types';
import {
  PORT_MAP_REQUEST,
  type FirewallVerdict,
  type Location,
  type PortMapEntry,
  type PortMapFinding,
  type PortMapHost,
  type PortMapParams,
  type PortMapResult,
  type PortMapUse,
} from '../protocol';
import type { Feature } from './feature';

export function portMap(engine: Engine, params: PortMapParams = {}, pathOf: (uri: string) => string | undefined = defaultPathOf): PortMapResult {
  const result = engine.analyze();
  const wanted = params.host ?? (params.uri ? hostOfUri(engine, params.uri, pathOf) : undefined);
  const hostOf = (file: string) => engine.hosts.hostOf(file);
  const factsByHost = new Map<string, PortFact[]>();
  for (const { fact, host } of result.facts) push(factsByHost, host, fact);
  const findingsByHost = new Map<string, Finding[]>();
  for (const [file, list] of result.findingsByFile) for (const f of list) push(findingsByHost, hostOf(file), f);
  const filesByHost = new Map<string, number>();
  for (const file of engine.fileNames()) filesByHost.set(hostOf(file), (filesByHost.get(hostOf(file)) ?? 0) + 1);
  const ids = new Set([...factsByHost.keys(), ...findingsByHost.keys(), ...result.firewalls.map((f) => f.host)]);
  const hosts: PortMapHost[] = [];
  for (const id of [...ids].sort()) {
    if (wanted !== undefined && id !== wanted) continue;
    const firewalls = result.firewalls.filter((f) => f.host === id);
    const args = [engine, id, factsByHost.get(id) ?? [], findingsByHost.get(id) ?? [], firewalls, filesByHost.get(id) ?? 0] as const;
    hosts.push(params.summary ? summaryHost(...args) : buildHost(...args));
  }
  return { hosts };
}

/** A host with its counts and no port entries: the port keys are counted, nothing else is built. */
function summaryHost(
  engine: Engine,
  id: string,
  facts: PortFact[],
  findings: Finding[],
  firewalls: { root: string; firewall: FirewallFacts }[],
  files: number,
): PortMapHost {
  const keys = new Set(facts.filter(isHostPort).map((f) => `${f.protocol}|${f.port}|${f.portEnd}`));
  return { ...hostHeader(engine, id, findings, firewalls, files), ports: [], portCount: keys.size };
}

/** What a host entry says besides its ports. */
function hostHeader(
  engine: Engine,
  id: string,
  findings: Finding[],
  firewalls: { root: string; firewall: FirewallFacts }[],
  files: number,
): Omit<PortMapHost, 'ports' | 'portCount'> {
  return {
    id,
    label: HostMap.label(id),
    files,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    infos: findings.filter((f) => f.severity === 'information' || f.severity === 'hint').length,
    firewalls: firewalls.map(({ root, firewall }) => ({
      tool: firewall.tool,
      location: location(engine, root, { start: 0, end: 0 }),
      policy: firewall.inboundPolicy?.action,
      enabled: firewall.enabled,
    })),
  };
}

/** A port of the host itself: not a container-side port, not an upstream on another machine. */
function isHostPort(fact: PortFact): boolean {
  return fact.role !== 'container' && (fact.role !== 'upstream' || pointsHere(fact.address));
}

function buildHost(
  engine: Engine,
  id: string,
  facts: PortFact[],
  findings: Finding[],
  firewalls: { root: string; firewall: FirewallFacts }[],
  files: number,
): PortMapHost {
  const loc = (file: string, span: Span) => location(engine, file, span);
  const findingsOfFile = new Map<string, Finding[]>();
  for (const f of findings) push(findingsOfFile, f.file, f);
  const groups = new Map<string, PortFact[]>();
  for (const fact of facts) {
    if (!isHostPort(fact)) continue;
    push(groups, `${fact.protocol}|${fact.port}|${fact.portEnd}`, fact);
  }
  const ports: PortMapEntry[] = [];
  for (const group of groups.values()) {
    const { protocol, port, portEnd } = group[0];
    const uses = dedupe(group)
      .map((f) => use(engine, f))
      .sort(
        (a, b) =>
          a.location.uri.localeCompare(b.location.uri) ||
          a.location.range.start.line - b.location.range.start.line ||
          a.location.range.start.character - b.location.range.start.character,
      );
    const onThese = [...new Set(group.flatMap((fact) => (findingsOfFile.get(fact.file) ?? []).filter((f) => overlaps(fact.span, f.span))))];
    const entryFindings: PortMapFinding[] = onThese.map((f) => ({ code: f.code, severity: f.severity, message: f.message, location: loc(f.file, f.span) }));
    const info = engine.registry.lookup(protocol, port);
    const cls = ianaClass(port);
    ports.push({
      protocol,
      port,
      portEnd,
      service: info?.name,
      rangeClass: cls.from === 0 ? 'well-known' : cls.from === 1024 ? 'registered' : 'dynamic',
      binds: uses.filter((u) => u.role === 'listen' || u.role === 'publish'),
      pointers: uses.filter((u) => u.role === 'upstream' || u.role === 'forward'),
      rules: uses.filter((u) => u.role === 'firewall'),
      firewall: protocol === 'sctp' ? [] : verdicts(engine, firewalls, protocol, port, familiesOf(group)),
      findings: dedupeFindings(entryFindings),
      conflict: onThese.some((f) => f.code === 'port-conflict'),
    });
  }
  ports.sort((a, b) => a.port - b.port || a.portEnd - b.portEnd || a.protocol.localeCompare(b.protocol));
  return { ...hostHeader(engine, id, findings, firewalls, files), ports, portCount: ports.length };
}

/**
 * What the host's firewalls do with a new inbound connection from the network to `port`
 * (core/firewall/verdict.ts: the rule or policy that decides, per firewall and address family). The
 * families asked are those the port's binds use (both when nothing binds it); a verdict that is the
 * same for IPv4 and IPv6 is one line.
 */
export function verdicts(engine: Engine, firewalls: readonly FirewallInstance[], protocol: Protocol, port: number, families: IpFamily[]): FirewallVerdict[] {
  const out: (FirewallVerdict & { key: string })[] = [];
  const line = (place: { file: string; span: Span }) =>
    `${engine.hosts.shownPath(place.file)}:${location(engine, place.file, place.span).range.start.line + 1}`;
  for (const family of families) {
    for (const v of listenerVerdicts({ family, protocol, port }, firewalls)) {
      const conditional = [
        ...v.openTo.map((o) => `accept ${o.condition} (${line(o.place)})`),
        ...v.uncertain.map((u) => `may decide otherwise: ${u.conditions.join(', ')} (${line(u.place)})`),
        ...(v.rateLimited ? ['rate-limited'] : []),
      ];
      const verdict: FirewallVerdict = v.disabled
        ? {
            tool: v.tool,
            family,
            where: engine.hosts.shownPath(v.root),
            verdict: 'disabled',
            by: 'disabled',
            location: location(engine, v.disabled.file, v.disabled.span),
            conditional,
          }
        : {
            tool: v.tool,
            family,
            where: engine.hosts.shownPath(v.by.file),
            verdict: v.by.action,
            by: v.by.kind,
            location: v.by.implicit ? undefined : location(engine, v.by.file, v.by.span),
            conditional,
          };
      const key = JSON.stringify({ ...verdict, family: undefined, root: v.root });
      const same = out.find((o) => o.key === key);
      if (same) same.family = 'both';
      else out.push({ ...verdict, key });
    }
  }
  return out.map(({ key: _key, ...v }) => v);
}

/** The address families the port's binds use; both when nothing binds it (a rule alone). */
function familiesOf(group: PortFact[]): IpFamily[] {
  const families = new Set<IpFamily>();
  for (const f of group.filter((g) => (g.role === 'listen' || g.role === 'publish') && !g.inactive)) {
    if (f.family) families.add(f.family);
    if (f.family === 'ipv6' && f.v6only === false) families.add('ipv4');
  }
  return families.size > 0 ? (['ipv4', 'ipv6'] as IpFamily[]).filter((f) => families.has(f)) : ['ipv4', 'ipv6'];
}

function use(engine: Engine, f: PortFact): PortMapUse {
  const where = location(engine, f.file, f.span);
  return { role: f.role, program: f.program, label: describe(f), where: `${engine.hosts.shownPath(f.file)}:${where.range.start.line + 1}`, location: where };
}

function describe(f: PortFact): string {
  const port = f.portEnd !== f.port ? `${f.port}-${f.portEnd}` : String(f.port);
  switch (f.role) {
    case 'listen':
      return `${f.program} listens on ${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
    case 'publish':
      return `${f.program} publishes ${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
    case 'upstream':
      return `${f.program} proxies to ${f.address ?? 'localhost'}:${port}`;
    default:
      return f.detail ?? `${f.program}: ${f.protocol.toUpperCase()} ${port}`;
  }
}

function location(engine: Engine, file: string, span: Span): Location {
  const index = engine.lineIndex(file);
  return { uri: URI.file(file).toString(), range: { start: index.position(span.start), end: index.position(span.end) } };
}

/** One use per mention: the IPv4 and IPv6 binds of one written port collapse into one. */
function dedupe(facts: PortFact[]): PortFact[] {
  const seen = new Map<string, PortFact>();
  for (const f of facts) {
    const key = `${f.file}|${f.span.start}|${f.span.end}|${f.role}|${f.program}`;
    if (!seen.has(key)) seen.set(key, f);
  }
  return [...seen.values()];
}

function dedupeFindings(list: PortMapFinding[]): PortMapFinding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const key = `${f.location.uri}|${f.location.range.start.line}|${f.location.range.start.character}|${f.code}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

function pointsHere(address: string | undefined): boolean {
  if (address === undefined) return true;
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a === '0.0.0.0' || a === '::';
}

function hostOfUri(engine: Engine, uri: string, pathOf: (uri: string) => string | undefined): string | undefined {
  const file = pathOf(uri);
  return file ? engine.hosts.hostOf(file) : undefined;
}

function defaultPathOf(uri: string): string | undefined {
  const parsed = URI.parse(uri);
  return parsed.scheme === 'file' ? parsed.path : undefined;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export const portMapFeature: Feature = {
  name: 'portMap',
  capabilities: {},
  register(ctx) {
    ctx.connection.onRequest(PORT_MAP_REQUEST, (params: PortMapParams | undefined) => portMap(ctx.engine, params ?? {}, ctx.pathOf));
  },
};
