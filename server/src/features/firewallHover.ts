/**
 * The firewall lines of a hover (core/firewall/verdict.ts in words):
 * - on a listener's (or a published) port: one line per address family, what the host's firewalls
 *   do with new connections from the network (open, blocked, open to some sources only,
 *   rate-limited, uncertain), naming the deciding rule or policy as a clickable file:line;
 * - on a firewall rule's port: the host's listeners the rule matches, and whether it admits them,
 *   blocks them, or an earlier rule decides first.
 */
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import { isLoopbackAddress } from '../core/firewall/findings';
import { deciderText, FAMILY_LABEL, factVerdicts, type FamilyVerdict, type FirewallInstance, type Place } from '../core/firewall/verdict';
import type { HostModel } from '../core/hostModel';
import { LineIndex } from '../core/lineIndex';
import type { FirewallRule, PortFact } from '../core/types';

type Link = (place: Place) => string;

const MAX_LISTENERS = 8;

function linker(engine: Engine, displayPath: (f: string) => string): Link {
  return (place) => {
    const line = new LineIndex(engine.text(place.file) ?? '').position(place.span.start).line + 1;
    return `[${displayPath(place.file)}:${line}](${URI.file(place.file).toString()}#L${line})`;
  };
}

const isBind = (f: PortFact) => f.role === 'listen' || f.role === 'publish';
const sameMention = (a: PortFact, b: PortFact) => a.file === b.file && a.span.start === b.span.start && a.span.end === b.span.end;

/** What one verdict says, without the family: "blocked — iptables' policy DROP (rules.v4:2)". */
function verdictText(v: FamilyVerdict, fact: PortFact, link: Link): string {
  const by = v.by.implicit ? deciderText(v) : `${deciderText(v)} (${link(v.by)})`;
  if (v.disabled) return `open — ${v.tool} is disabled (${link(v.disabled)})`;
  if (fact.role === 'publish' && v.tool === 'nftables')
    return "not judged — Docker forwards published ports past the input hook; the host's forward rules decide";
  if (fact.role === 'publish' && v.state !== 'reachable' && v.state !== 'uncertain')
    return `open — Docker's DNAT and FORWARD rules skip INPUT, where ${by} would ${v.state === 'blocked' ? 'block it' : 'limit it to some sources'}`;
  switch (v.state) {
    case 'reachable':
      if (v.rateLimited) return `rate-limited — ${by} accepts${v.tool === 'ufw' ? ' at most 6 new connections per source in 30 s' : ' up to a rate'}`;
      return `open — ${by}`;
    case 'blocked':
      return `blocked — ${by} ${v.by.action === 'reject' ? 'rejects' : 'drops'} it`;
    case 'sources-only':
      return `open ${v.openTo.map((o) => `${o.condition} (${link(o.place)})`).join('; ')} only; for the rest, ${by} ${v.by.action === 'reject' ? 'rejects' : 'drops'} it`;
    case 'uncertain': {
      const u = v.uncertain[0];
      const how = fact.protocol === 'udp' ? 'a datagram from another machine settles it' : `\`nc -vz HOST ${fact.port}\` from another machine settles it`;
      return `uncertain — ${u ? `a rule with ${u.conditions.join(', ')} (${link(u.place)}) may decide` : 'a condition Portolan does not evaluate may decide'} before ${by}; ${how}`;
    }
  }
}

/** The hovered binds as the host model links them (sshd's ListenAddress x Port, Docker's two families). */
function bindsOf(host: HostModel, facts: PortFact[]): PortFact[] {
  const hovered = facts.filter(isBind);
  const linked = host.binds.filter((b) => hovered.some((h) => sameMention(h, b) && h.port === b.port));
  return linked.length > 0 ? linked : hovered;
}

/** "IPv4: open — …" lines for the listeners and publishes under the cursor; one line when both families agree. */
export function listenerFirewallLines(engine: Engine, file: string, facts: PortFact[], displayPath: (f: string) => string): string[] {
  const host = engine.hostModelOf(file);
  if (!host || host.firewalls.length === 0) return [];
  const binds = bindsOf(host, facts).filter((f) => !isLoopbackAddress(f.address) && f.protocol !== 'sctp');
  if (binds.length === 0) return [];
  const link = linker(engine, displayPath);
  const byText = new Map<string, Set<string>>();
  for (const f of binds)
    for (const v of factVerdicts(f, host.firewalls as readonly FirewallInstance[])) {
      const text = verdictText(v, f, link);
      const families = byText.get(text) ?? new Set<string>();
      families.add(FAMILY_LABEL[v.family]);
      byText.set(text, families);
    }
  if (byText.size === 0) return [];
  return [...byText].map(([text, families]) => `- ${[...families].sort().join(' and ')}: ${text}`);
}

/** The rule a firewall fact belongs to: the same file, its span inside the rule's. */
function ruleOf(host: HostModel, fact: PortFact): { rule: FirewallRule; root: string } | undefined {
  for (const { root, firewall } of host.firewalls) {
    const rules = firewall.hooks ? firewall.hooks.flatMap((h) => h.rules) : firewall.inputRules;
    for (const rule of rules)
      if ((rule.file ?? root) === fact.file && rule.span.start <= fact.span.start && fact.span.end <= rule.span.end) return { rule, root };
  }
  return undefined;
}

const at = (place: Place, rule: FirewallRule, root: string) =>
  place.file === (rule.file ?? root) && place.span.start === rule.span.start && place.span.end === rule.span.end;

function ruleEffect(v: FamilyVerdict, rule: FirewallRule, root: string, link: Link): string {
  if (v.by.kind === 'rule' && at(v.by, rule, root)) {
    const does = v.by.action === 'accept' ? (v.rateLimited ? 'admits it, rate-limited' : 'admits it') : `${v.by.action === 'reject' ? 'rejects' : 'drops'} it`;
    const first = v.uncertain[0];
    return first ? `${does}, unless the rule with ${first.conditions.join(', ')} (${link(first.place)}) decides first` : does;
  }
  const open = v.openTo.find((o) => at(o.place, rule, root));
  if (open) return `admits it ${open.condition} only`;
  if (v.uncertain.some((u) => at(u.place, rule, root))) return 'may decide (a condition Portolan does not evaluate)';
  return `does not decide: ${deciderText(v)}${v.by.implicit ? '' : ` (${link(v.by)})`} does`;
}

/** "- nginx on TCP 443 (sites-enabled/shop:3): IPv4 admits it" lines for the listeners a firewall rule under the cursor matches. */
export function ruleFirewallLines(engine: Engine, file: string, facts: PortFact[], displayPath: (f: string) => string): string[] {
  const host = engine.hostModelOf(file);
  if (!host) return [];
  const link = linker(engine, displayPath);
  const effects = new Map<string, Set<string>>();
  const add = (text: string, family: string) => effects.set(text, (effects.get(text) ?? new Set<string>()).add(family));
  for (const fact of facts.filter((f) => f.role === 'firewall')) {
    const found = ruleOf(host, fact);
    if (!found) continue;
    const { rule, root } = found;
    const tool = host.firewalls.find((f) => f.root === root)?.firewall.tool;
    for (const b of host.binds) {
      if (!isBind(b) || isLoopbackAddress(b.address) || b.protocol === 'sctp') continue;
      if (rule.protocol !== 'any' && rule.protocol !== b.protocol) continue;
      if (b.port > fact.portEnd || b.portEnd < fact.port) continue;
      const who = `${b.program} on ${b.protocol.toUpperCase()} ${b.port} (${link({ file: b.file, span: b.span })})`;
      for (const v of factVerdicts(b, host.firewalls as readonly FirewallInstance[])) {
        // ufw's before/after rules and firewalld's other zones are judged under the user rules' and the deciding zone's root.
        if (v.root !== root && !(v.tool === tool && (tool === 'ufw' || tool === 'firewalld'))) continue;
        const effect =
          b.role === 'publish' && tool !== 'nftables' ? "not filtered here: Docker's DNAT and FORWARD rules skip INPUT" : ruleEffect(v, rule, root, link);
        add(`${who}\u0000${effect}`, FAMILY_LABEL[v.family]);
      }
    }
  }
  const lines = [...effects].map(([text, families]) => {
    const [who, effect] = text.split('\u0000');
    return `- ${who} — ${[...families].sort().join(' and ')}: ${effect}`;
  });
  if (lines.length > MAX_LISTENERS) return [...lines.slice(0, MAX_LISTENERS), `- … and ${lines.length - MAX_LISTENERS} more`];
  return lines;
}
