/** The hover of a port: what it is known for, its range class, what this mention does, other uses on the host. */
import { formatHostPort } from '../core/address';
import type { Engine } from '../core/engine';
import { HostMap } from '../core/hosts';
import { LineIndex } from '../core/lineIndex';
import { ephemeralOverlaps, ianaClass, type NamedRange } from '../core/portRanges';
import { portTitle } from '../core/registry';
import type { PortFact } from '../core/types';
import * as path from 'path';
import { listenerFirewallLines, ruleFirewallLines } from './firewallHover';

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
  lines.push(`**${portTitle(first.protocol, first.port, first.portEnd, info)}**`);
  if (info) {
    lines.push('', info.description);
    if (info.listeners) lines.push('', `Usually: ${info.listeners}`);
    if (info.iana && info.source === 'curated') lines.push('', `IANA: \`${info.iana.service}\` — ${info.iana.description}`);
  } else if (first.portEnd === first.port) {
    lines.push('', 'No service is registered for this port.');
  }
  const cls = ianaClass(first.port);
  lines.push('', `Range: ${cls.label} (${cls.from}–${cls.to})`);
  const eph = ephemeralOverlaps(first.port, first.portEnd, ephemeralRanges);
  if (eph.length > 0) lines.push('', `Inside the ${eph.map((r) => r.label).join(' and the ')}.`);
  const details = [...new Set(dedupe(facts).map(describe))];
  lines.push('', ...details.map((d) => `- ${d}`));
  const behind = dedupe(facts.flatMap((f) => engine.containerListeners(f)));
  if (behind.length > 0) {
    lines.push('', 'Behind it in the container:');
    for (const b of behind.slice(0, 12)) lines.push(`- ${describe(b)} — ${where(engine, b, displayPath)}`);
  }
  const others = dedupe(facts.flatMap((f) => engine.sameHostUses(f)).filter((o) => !facts.includes(o)));
  if (others.length > 0) {
    lines.push('', `Also on this host (${HostMap.label(engine.hosts.hostOf(file))}):`);
    for (const o of others.slice(0, 12)) lines.push(`- ${describe(o)} — ${where(engine, o, displayPath)}`);
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

function where(engine: Engine, f: PortFact, displayPath: (f: string) => string): string {
  const text = engine.text(f.file) ?? '';
  const pos = new LineIndex(text).position(f.span.start);
  return `${displayPath(f.file)}:${pos.line + 1} (${f.context})`;
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
    return {
      ...group[0],
      detail: `${describe(group[0])} (and the same on ${group
        .slice(1)
        .map((f) => formatHostPort(f.family, f.address, f.port, f.portEnd))
        .join(', ')})`,
    };
  });
}

export function relativeTo(folder: string | undefined): (f: string) => string {
  return (f) => (folder ? path.posix.relative(folder, f) || f : f);
}
