/** The hover of a port: what it is known for, its range class, what this mention does, other uses on the host. */
import { formatHostPort } from '../core/address';
import type { Engine } from '../core/engine';
import { HostMap } from '../core/hosts';
import { ephemeralOverlaps, ianaClass, type NamedRange } from '../core/portRanges';
import { portTitle } from '../core/registry';
import type { Finding, PortFact } from '../core/types';
import { URI } from 'vscode-uri';
import * as path from 'path';
import { listenerFirewallLines, ruleFirewallLines } from './firewallHover';
import { linkedChain } from './portSockets';

export interface HoverResult {
  markdown: string;
  span: { start: number; end: number };
}

export function hoverAt(
  engine: Engine,
  file: string,
  offset: number,
  ephemeralRanges: NamedRange[],
  displayPath: (f: string) => string = (f) => f,
): HoverResult | undefined {
  const facts = engine.factsAt(file, offset);
  if (facts.length === 0) return undefined;
  const first = facts[0];
  const info = engine.registry.lookup(first.protocol, first.port);
  const lines: string[] = [];
  // The port first: protocol, number, name, then its range class.
  lines.push(`**${portTitle(first.protocol, first.port, first.portEnd, info)}**`);
  const cls = ianaClass(first.port);
  lines.push('', `Range: ${cls.label} (${cls.from}–${cls.to})`);
  const eph = ephemeralOverlaps(first.port, first.portEnd, ephemeralRanges);
  if (eph.length > 0) lines.push('', `Inside the ${eph.map((r) => r.label).join(' and the ')}.`);
  if (info) {
    lines.push('', info.description);
    if (info.listeners) lines.push('', `Usually: ${info.listeners}`);
    if (info.iana && info.source === 'curated') lines.push('', `IANA: \`${info.iana.service}\` — ${info.iana.description}`);
  } else if (first.portEnd === first.port) {
    lines.push('', 'No service is registered for this port.');
  }
  // Then its findings (an editor without diagnostics in its hover sees them too).
  const findings = findingsOn(engine, file, first.span);
  if (findings.length > 0) lines.push('', ...findings.map((f) => `- **${f.severity}** \`${f.code}\`: ${f.message}`));
  const details = [...new Set(dedupe(facts).map(describe))];
  lines.push('', ...details.map((d) => `- ${d}`));
  const behind = usesByLine(engine, dedupe(facts.flatMap((f) => engine.containerListeners(f))), displayPath);
  if (behind.length > 0) lines.push('', 'Behind it in the container:', ...behind.slice(0, 12));
  // Kubernetes: the mentions linked with this one as the cluster routes (nodePort, Service port, targetPort, pods).
  const spans = new Set(facts.map((f) => `${f.file}|${f.span.start}|${f.span.end}`));
  const chain = usesByLine(
    engine,
    dedupe(facts.filter((f) => f.kubeField).flatMap((f) => linkedChain(engine, f))).filter((o) => !spans.has(`${o.file}|${o.span.start}|${o.span.end}`)),
    displayPath,
  );
  if (chain.length > 0) {
    lines.push('', 'Linked in the cluster:', ...chain.slice(0, 12));
    if (chain.length > 12) lines.push(`- … and ${chain.length - 12} more`);
  }
  // Then the other uses, each a link to its line; one line per rule (a ufw tuple and its -A lines).
  const others = usesByLine(engine, dedupe(facts.flatMap((f) => engine.sameHostUses(f)).filter((o) => !facts.includes(o))), displayPath);
  if (others.length > 0) {
    lines.push('', `Also on this host (${HostMap.label(engine.hosts.hostOf(file))}):`, ...others.slice(0, 12));
    if (others.length > 12) lines.push(`- … and ${others.length - 12} more`);
  }
  const firewall = listenerFirewallLines(engine, file, facts, displayPath);
  if (firewall.length > 0) lines.push('', "The host's firewall, for new connections from the network:", ...firewall);
  const admits = ruleFirewallLines(engine, file, facts, displayPath);
  if (admits.length > 0) lines.push('', 'This rule and the listeners of the host:', ...admits);
  return { markdown: lines.join('\n'), span: first.span };
}

function describe(f: PortFact): string {
  if (f.detail) return f.detail;
  const port = f.portEnd !== f.port ? `${f.port}-${f.portEnd}` : String(f.port);
  switch (f.role) {
    case 'listen':
      return `${f.program} listens on ${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
    case 'publish':
      return `${f.program} publishes ${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
    case 'container':
      return `container port ${port}/${f.protocol} (binds nothing on the host)`;
    case 'upstream':
      return `points at ${f.address ?? ''}:${port} (binds nothing)`;
    default:
      return `${f.program}: ${f.protocol.toUpperCase()} ${port}`;
  }
}

/** The findings the engine reports over `span` of `file`, in text order. */
function findingsOn(engine: Engine, file: string, span: { start: number; end: number }): Finding[] {
  return (engine.analyze().findingsByFile.get(file) ?? []).filter((f) => f.span.start < span.end && f.span.end > span.start);
}

const lineOf = (engine: Engine, f: PortFact) => engine.lineIndex(f.file).position(f.span.start).line + 1;
const link = (label: string, file: string, line: number) => `[${label}](${URI.file(file).toString()}#L${line})`;

/**
 * "- what — [path:line](link) (context)" per use; the uses one rule writes several times in a file
 * (a ufw tuple and its -A lines say the same) are one line with a link to each.
 */
function usesByLine(engine: Engine, uses: PortFact[], displayPath: (f: string) => string): string[] {
  const groups = new Map<string, PortFact[]>();
  for (const u of uses) {
    const key = `${u.file}\u0000${u.program}\u0000${describe(u)}`;
    const list = groups.get(key);
    if (list) list.push(u);
    else groups.set(key, [u]);
  }
  return [...groups.values()].map((group) => {
    const [f] = group;
    const lines = [...new Set(group.map((g) => lineOf(engine, g)))].sort((a, b) => a - b);
    const links = lines.map((l, i) => link(i === 0 ? `${displayPath(f.file)}:${l}` : String(l), f.file, l)).join(', ');
    return `- ${describe(f)} — ${links} (${f.context})`;
  });
}

/** One line per mention: the IPv4 and IPv6 binds of one written port (Docker, sshd) collapse into one. */
function dedupe(facts: PortFact[]): PortFact[] {
  const byMention = new Map<string, PortFact[]>();
  for (const f of facts) {
    const key = `${f.file}|${f.span.start}|${f.span.end}|${f.role}|${f.program}`;
    const list = byMention.get(key);
    if (list) list.push(f);
    else byMention.set(key, [f]);
  }
  return [...byMention.values()].map((group) => {
    const families = new Set(group.map((f) => f.family));
    if (group.length === 1 || families.size < 2) return group[0];
    // Each address once: a compose base's line is read by the base alone and by each layer merged into it.
    const first = formatHostPort(group[0].family, group[0].address, group[0].port, group[0].portEnd);
    const more = [...new Set(group.slice(1).map((f) => formatHostPort(f.family, f.address, f.port, f.portEnd)))].filter((a) => a !== first);
    return { ...group[0], detail: `${describe(group[0])} (and the same on ${more.join(', ')})` };
  });
}

export function relativeTo(folder: string | undefined): (f: string) => string {
  return (f) => (folder ? path.posix.relative(folder, f) || f : f);
}
