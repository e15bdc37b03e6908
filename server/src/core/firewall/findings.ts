/**
 * The firewall findings' shared judgement over a host model: which listeners the host's firewalls
 * block, whether sshd is locked out, and the rules that let in ports nothing uses. Pure; the rule
 * files (rules/firewall-blocked.ts, ssh-lockout.ts, docker-bypasses-firewall.ts, firewall-unused.ts)
 * turn these into findings.
 */
import type { HostModel } from '../hostModel';
import type { FirewallForward, FirewallRule, PortFact, Span } from '../types';
import { factVerdicts, ifaceMatches, inNetwork, type FamilyVerdict, type FirewallInstance } from './verdict';

export const isLoopbackAddress = (address: string | undefined): boolean =>
  address !== undefined && (address.startsWith('127.') || address === '::1' || address === 'localhost');

/** One written listen mention (its IPv4 and IPv6 facts together) and the verdicts of every family it receives. */
export interface JudgedMention {
  facts: PortFact[];
  verdicts: FamilyVerdict[];
}

const key = (f: PortFact) => `${f.file}|${f.span.start}|${f.span.end}|${f.protocol}|${f.port}`;

/** Binds of the host with a role, off loopback, grouped per written mention, each with its verdicts. */
export function judgeBinds(host: HostModel, role: 'listen' | 'publish', program?: (p: string) => boolean): JudgedMention[] {
  const firewalls: readonly FirewallInstance[] = host.firewalls;
  if (firewalls.length === 0) return [];
  const groups = new Map<string, PortFact[]>();
  for (const f of host.binds) {
    if (f.role !== role || isLoopbackAddress(f.address) || (program && !program(f.program))) continue;
    const list = groups.get(key(f));
    if (list) list.push(f);
    else groups.set(key(f), [f]);
  }
  return [...groups.values()].map((facts) => {
    const verdicts: FamilyVerdict[] = [];
    const seen = new Set<string>();
    for (const f of facts)
      for (const v of factVerdicts(f, firewalls)) {
        const k = `${v.family}|${v.tool}|${v.root}`;
        if (!seen.has(k)) {
          verdicts.push(v);
          seen.add(k);
        }
      }
    return { facts, verdicts };
  });
}

/**
 * sshd is locked out when it listens off loopback, a firewall filters every family it listens on,
 * and on each of those paths some firewall blocks it (a source-limited opening or an uncertain rule
 * is a way in).
 */
export function sshLockout(host: HostModel): JudgedMention[] | undefined {
  const ssh = judgeBinds(host, 'listen', (p) => p === 'sshd');
  if (ssh.length === 0) return undefined;
  for (const m of ssh) {
    const families = new Set(m.facts.flatMap((f) => (f.family ? [f.family] : ['ipv4', 'ipv6'])));
    for (const fam of families) {
      const mine = m.verdicts.filter((v) => v.family === fam);
      if (mine.length === 0 || mine.every((v) => v.state !== 'blocked')) return undefined;
    }
  }
  return ssh;
}

interface PortUse {
  protocol: string;
  from: number;
  to: number;
  /** A forward's port: it uses an allow rule only where a packet can meet both. */
  forward?: FirewallForward;
}

/** Programs whose every forward fact is also one of their FirewallFacts.forwards (judged there with its conditions). */
const FORWARDS_LISTED = new Set(['iptables', 'ip6tables', 'nftables']);

/** What a port is used for on the host: a bind, a published port, a forward target or a forwarded port. */
function usedPorts(host: HostModel): PortUse[] {
  const out: PortUse[] = [];
  for (const f of host.facts)
    if ((f.role === 'listen' || f.role === 'publish' || (f.role === 'forward' && !FORWARDS_LISTED.has(f.program))) && !f.inactive)
      out.push({ protocol: f.protocol, from: f.port, to: f.portEnd });
  for (const fw of host.firewalls)
    for (const fwd of fw.firewall.forwards) {
      for (const r of fwd.ports ?? []) out.push({ protocol: fwd.protocol, from: r.from, to: r.to, forward: fwd });
      if (fwd.toPorts) out.push({ protocol: fwd.protocol, from: fwd.toPorts.from, to: fwd.toPorts.to, forward: fwd });
    }
  return out;
}

/**
 * Can one packet meet both the allow rule and the forward: a family both name, and no interface or
 * source network the two name apart (a forward limited to eth1 never uses a rule limited to eth0).
 */
function meetsRule(fwd: FirewallForward, rule: FirewallRule): boolean {
  if (fwd.family && rule.family && rule.family !== 'both' && rule.family !== fwd.family) return false;
  const plain = (c: string | undefined) => (c !== undefined && !c.startsWith('!') && !c.startsWith('not ') && !c.includes(',') ? c.trim() : undefined);
  const [ri, fi] = [plain(rule.iface), plain(fwd.iface)];
  if (ri && fi && !ifaceMatches(ri, fi) && !ifaceMatches(fi, ri)) return false;
  const [rs, fs] = [plain(rule.source), plain(fwd.source)];
  if (rs && fs && inNetwork(rs.split('/')[0], fs) === false && inNetwork(fs.split('/')[0], rs) === false) return false;
  return true;
}

export interface UnusedRule {
  file: string;
  span: Span;
  rule: FirewallRule;
  tool: string;
}

/**
 * Allow rules of active firewalls for ports nothing on the host listens on, publishes or forwards
 * to. Only judged on a host whose listeners we read (some program besides the firewalls binds a
 * port), and port 22 only when the host's sshd_config is there too (sshd runs on nearly every host).
 */
export function unusedAllowRules(host: HostModel): UnusedRule[] {
  const programs = new Set(host.binds.map((f) => f.program));
  if (programs.size === 0) return [];
  const used = usedPorts(host);
  const out: UnusedRule[] = [];
  const seen = new Set<string>();
  for (const { root, firewall } of host.firewalls) {
    if (firewall.enabled === false) continue;
    if (firewall.tool === 'firewalld' && !firewall.zone?.isDefault && !firewall.zone?.sources.length && !firewall.zone?.interfaces.length) continue;
    for (const rule of firewall.inputRules) {
      if ((rule.action !== 'accept' && rule.action !== 'limit') || !rule.ports || rule.loopbackOnly || rule.matchesNew === false) continue;
      if (rule.sourcePorts || rule.destination || rule.unmodelled?.length) continue;
      const protocols = rule.protocol === 'any' ? ['tcp', 'udp'] : [rule.protocol];
      const inUse = rule.ports.some((r) =>
        used.some(
          (u) => (u.protocol === 'any' || protocols.includes(u.protocol)) && u.from <= r.to && r.from <= u.to && (!u.forward || meetsRule(u.forward, rule)),
        ),
      );
      if (inUse) continue;
      if (rule.ports.some((r) => r.from <= 22 && 22 <= r.to) && !programs.has('sshd')) continue;
      // One port mention per rule: the whole rule is the finding's place.
      const file = rule.file ?? root;
      const k = `${file}|${rule.span.start}|${rule.span.end}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ file, span: rule.span, rule, tool: firewall.tool });
    }
  }
  return out;
}
