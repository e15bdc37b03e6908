/**
 * What the host's firewalls do with a NEW inbound connection to a listener, per address family: the
 * rule or policy that decides it, the sources (interfaces, destinations) a narrower rule opens it
 * for, and the rules whose conditions we read but do not evaluate (then the verdict is uncertain).
 * Pure: it reads FirewallFacts of the host's firewall instances.
 *
 * Each tool is judged as the kernel meets its rules at boot:
 * - iptables: the INPUT chain (user chains followed in place, RETURN and -g honoured), then its policy;
 * - ufw: before.rules (ufw-before-input), then the user rules (user.rules), then after.rules, then
 *   DEFAULT_INPUT_POLICY; ENABLED=no filters nothing; IPV6=no drops IPv6 except on loopback;
 *   `limit` accepts (rate-limited);
 * - nftables: every base chain on the input hook of ip/ip6/inet tables in priority order: an accept
 *   ends one chain, a drop ends them all;
 * - firewalld: the zone a packet is bound to (a zone whose sources hold its source address, else a
 *   zone naming its interface, else the default zone), the zone's rules in firewalld's order, then
 *   the zone's target (default: reject).
 * The verdict for "the network" is the one a source no rule names meets, arriving on an interface no
 * rule names, addressed to an address no rule names.
 */
import { pushAll } from '../arrays';
import * as ipaddr from 'ipaddr.js';
import type { FirewallFacts, FirewallForward, FirewallRule, IpFamily, Protocol, Span } from '../types';

export interface Place {
  file: string;
  span: Span;
}

export type Reach = 'reachable' | 'blocked' | 'sources-only' | 'uncertain';

export interface Decider extends Place {
  kind: 'rule' | 'policy';
  action: 'accept' | 'drop' | 'reject';
  /** True when the policy line is not written (the kernel's ACCEPT, ufw's DROP without /etc/default/ufw). */
  implicit?: boolean;
}

export interface FamilyVerdict {
  family: IpFamily;
  tool: FirewallFacts['tool'];
  /** The root file of the firewall instance that decides (ufw: user.rules; firewalld: the deciding zone). */
  root: string;
  state: Reach;
  /** The rule or policy that decides for the network at large. */
  by: Decider;
  /** Rules that open the port only under a condition (a source network, an interface, a destination). */
  openTo: { condition: string; place: Place }[];
  /**
   * Rules met before an accepting decider that drop or reject the port under a condition (`ufw deny in
   * on eth0 2222` before `allow 2222`): the network at large is let in, the clients they name are not.
   */
  closedTo: { condition: string; place: Place }[];
  /** Rules with conditions we do not evaluate that could decide otherwise. */
  uncertain: { conditions: string[]; place: Place }[];
  /** "ufw is disabled (ENABLED=no)": the firewall filters nothing. */
  disabled?: Place;
  /** A rate-limited accept decides (ufw limit, nft limit). */
  rateLimited?: boolean;
}

export interface ListenerQuery {
  family: IpFamily;
  /** The bound address; undefined = the wildcard of the family. */
  address?: string;
  protocol: Protocol;
  port: number;
}

/** One concrete packet (for the netfilter oracle): a source address, the interface it arrives on, the address it goes to. */
export interface PacketQuery extends ListenerQuery {
  source: string;
  iface: string;
  /** The local address the client connects to (the listener's own, when it is not the wildcard). */
  destination: string;
}

export interface FirewallInstance {
  root: string;
  firewall: FirewallFacts;
}

type Tri = 'yes' | 'no' | 'cond' | 'maybe';
type Terminal = 'accept' | 'drop' | 'reject';

/** What is known about the packet: concrete values, or undefined = "one no rule names". */
interface PacketView {
  family: IpFamily;
  protocol: Protocol;
  port: number;
  source?: string;
  iface?: string;
  destination?: string;
}

interface ChainResult {
  /** undefined: the rules fell through (the policy decides). */
  final?: { action: Terminal; rule: FirewallRule; rateLimited: boolean };
  openTo: { condition: string; rule: FirewallRule }[];
  closedTo: { condition: string; rule: FirewallRule }[];
  maybes: { rule: FirewallRule; action: Terminal | 'return'; conditions: string[] }[];
}

/** The Linux default ip_local_port_range: where a client's source port comes from. */
const EPHEMERAL = { from: 32768, to: 60999 };

const isLoopback = (family: IpFamily, address: string | undefined): boolean =>
  address !== undefined && (family === 'ipv4' ? address.startsWith('127.') : address === '::1');

/** Does `addr` fall in `net` (an address or CIDR; a comma list of them)? undefined when `net` is not an address. */
export function inNetwork(addr: string, net: string): boolean | undefined {
  let any = false;
  for (const part of net.split(',').map((s) => s.trim())) {
    try {
      const a = ipaddr.parse(addr);
      const [base, bits] = part.includes('/') ? ipaddr.parseCIDR(part) : [ipaddr.parse(part), undefined];
      const fam = (x: ipaddr.IPv4 | ipaddr.IPv6) => x.kind();
      let left: ipaddr.IPv4 | ipaddr.IPv6 = a;
      if (fam(a) === 'ipv6' && fam(base) === 'ipv4' && (a as ipaddr.IPv6).isIPv4MappedAddress()) left = (a as ipaddr.IPv6).toIPv4Address();
      if (fam(left) !== fam(base)) continue;
      const width = bits ?? (fam(base) === 'ipv4' ? 32 : 128);
      if ((left as ipaddr.IPv4).match(base as ipaddr.IPv4, width)) return true;
      any = true;
    } catch {
      return undefined;
    }
  }
  return any || net.length > 0 ? false : undefined;
}

const isAnyNet = (net: string) => /^(0\.0\.0\.0\/0|::\/0|any|0\/0)$/.test(net.trim());

export function ifaceMatches(pattern: string, iface: string): boolean {
  return pattern.endsWith('+') ? iface.startsWith(pattern.slice(0, -1)) : pattern === iface;
}

/** Conditions of a rule that do not decide alone: rate-limit phrases a `limit` rule states with its action. */
function unmodelledOf(rule: FirewallRule): string[] {
  const list = rule.unmodelled ?? [];
  return rule.action === 'limit' ? list.filter((u) => !/^rate limit|^-m (limit|recent)$|^limit/.test(u)) : list;
}

/** Whether the rule matches the packet: no, yes, only under a condition the packet view leaves open, or unknown (unmodelled). */
function matchRule(rule: FirewallRule, p: PacketView, zone?: { source?: string; iface?: string }): { tri: Tri; condition?: string } {
  if (rule.family && rule.family !== 'both' && rule.family !== p.family) return { tri: 'no' };
  if (rule.protocol !== 'any' && rule.protocol !== p.protocol) return { tri: 'no' };
  if (rule.ports && !rule.ports.some((r) => r.from <= p.port && p.port <= r.to)) return { tri: 'no' };
  if (rule.matchesNew === false || rule.loopbackOnly) return { tri: 'no' };
  const conds: string[] = [];
  let maybe = false;
  const check = (value: string | undefined, ruleValue: string | undefined, label: string, test: (v: string, r: string) => boolean | undefined) => {
    if (ruleValue === undefined || ruleValue.startsWith('!') || ruleValue.startsWith('not ')) return 'yes';
    if (value === undefined) {
      conds.push(`${label} ${ruleValue}`);
      return 'cond';
    }
    const t = test(value, ruleValue);
    if (t === undefined) maybe = true;
    return t === false ? 'no' : 'yes';
  };
  const source = rule.source !== undefined && (isAnyNet(rule.source) || rule.source === zone?.source) ? undefined : rule.source;
  const iface = rule.iface !== undefined && rule.iface === zone?.iface ? undefined : rule.iface;
  const results = [
    check(p.source, source, 'from', (v, r) => inNetwork(v, r)),
    check(p.destination, rule.destination !== undefined && isAnyNet(rule.destination) ? undefined : rule.destination, 'to', (v, r) => inNetwork(v, r)),
    check(p.iface, iface, 'on interface', (v, r) => r.split(',').some((x) => ifaceMatches(x, v))),
  ];
  if (results.includes('no')) return { tri: 'no' };
  if (rule.sourcePorts) {
    const covers = rule.sourcePorts.some((r) => r.from <= EPHEMERAL.from && EPHEMERAL.to <= r.to);
    const disjoint = rule.sourcePorts.every((r) => r.to < EPHEMERAL.from || r.from > EPHEMERAL.to);
    if (disjoint) return { tri: 'no' };
    if (!covers) maybe = true;
  }
  if (results.includes('cond')) return { tri: 'cond', condition: conds.join(', ') };
  if (maybe || unmodelledOf(rule).length > 0) return { tri: 'maybe' };
  return { tri: 'yes' };
}

/** The rules of one chain (a hook, a ufw segment, a zone) in order, frames honoured. */
function walkRules(rules: readonly FirewallRule[], p: PacketView, zone?: { source?: string; iface?: string }): ChainResult {
  const out: ChainResult = { openTo: [], closedTo: [], maybes: [] };
  let skipping: string | undefined;
  for (const rule of rules) {
    const frame = rule.frame ?? '';
    if (skipping !== undefined) {
      if (frame === skipping || frame.startsWith(`${skipping}>`)) continue;
      skipping = undefined;
    }
    const action = rule.action === 'limit' ? 'accept' : rule.action;
    if (action !== 'accept' && action !== 'drop' && action !== 'reject' && action !== 'return') continue;
    const m = matchRule(rule, p, zone);
    if (m.tri === 'no') continue;
    if (m.tri === 'cond') {
      const condition = m.condition ?? '';
      if (action === 'accept') out.openTo.push({ condition, rule });
      // A block for clients an earlier accept already let in (the same condition) keeps nobody out.
      else if (action !== 'return' && !out.openTo.some((o) => o.condition === condition)) out.closedTo.push({ condition, rule });
      continue;
    }
    if (m.tri === 'maybe') {
      out.maybes.push({ rule, action, conditions: unmodelledOf(rule).length ? unmodelledOf(rule) : ['source port'] });
      continue;
    }
    if (action === 'return') {
      skipping = frame;
      continue;
    }
    out.final = { action, rule, rateLimited: rule.action === 'limit' };
    return out;
  }
  return out;
}

const blocks = (a: Terminal) => a !== 'accept';

interface Segment {
  rules: readonly FirewallRule[];
  file: string;
}

/** Segments met one after the other (one hook, or ufw's before/user/after), then the policy. */
function judgeChain(
  segments: Segment[],
  policy: { action: Terminal; place: Place; implicit?: boolean },
  p: PacketView,
  zone?: { source?: string; iface?: string },
): {
  decider: Decider;
  rateLimited: boolean;
  openTo: FamilyVerdict['openTo'];
  closedTo: FamilyVerdict['closedTo'];
  uncertain: FamilyVerdict['uncertain'];
  maybeFlip: boolean;
} {
  const openTo: FamilyVerdict['openTo'] = [];
  const closedTo: FamilyVerdict['closedTo'] = [];
  const maybes: { action: Terminal | 'return'; conditions: string[]; place: Place }[] = [];
  let decider: Decider | undefined;
  let rateLimited = false;
  for (const seg of segments) {
    const r = walkRules(seg.rules, p, zone);
    const place = (rule: FirewallRule): Place => ({ file: rule.file ?? seg.file, span: rule.span });
    pushAll(
      openTo,
      r.openTo.map((o) => ({ condition: o.condition, place: place(o.rule) })),
    );
    pushAll(
      closedTo,
      r.closedTo.map((o) => ({ condition: o.condition, place: place(o.rule) })),
    );
    pushAll(
      maybes,
      r.maybes.map((m) => ({ action: m.action, conditions: m.conditions, place: place(m.rule) })),
    );
    if (r.final) {
      decider = { kind: 'rule', action: r.final.action, ...place(r.final.rule) };
      rateLimited = r.final.rateLimited;
      break;
    }
  }
  decider ??= { kind: 'policy', action: policy.action, ...policy.place, ...(policy.implicit ? { implicit: true } : {}) };
  const final = decider.action;
  const flips = maybes.filter((m) => m.action === 'return' || blocks(m.action) !== blocks(final));
  return {
    decider,
    rateLimited,
    openTo,
    closedTo: blocks(final) ? [] : closedTo,
    uncertain: flips.map((m) => ({ conditions: m.conditions, place: m.place })),
    maybeFlip: flips.length > 0,
  };
}

function stateOf(decider: Decider, openTo: unknown[], maybeFlip: boolean): Reach {
  if (maybeFlip) return 'uncertain';
  if (!blocks(decider.action)) return 'reachable';
  return openTo.length > 0 ? 'sources-only' : 'blocked';
}

const ufwKind = (root: string) => {
  const base = root.slice(root.lastIndexOf('/') + 1);
  return {
    kind: base.startsWith('before') ? 'before' : base.startsWith('after') ? 'after' : 'user',
    family: /6\.rules$/.test(base) ? 'ipv6' : 'ipv4',
  } as const;
};

function familyOfIptables(fw: FirewallFacts): IpFamily | 'both' {
  return fw.inboundPolicy?.family ?? fw.inputRules.find((r) => r.family)?.family ?? 'ipv4';
}

/**
 * Whether a forward's own conditions can hold for the packet: its family, the interface and source it
 * is limited to (`!` negates). A condition the packet view leaves open (the network at large arrives on
 * an interface and from a source no rule names) holds only when negated; one we cannot read may hold.
 */
export function forwardMeets(f: FirewallForward, p: { family: IpFamily; source?: string; iface?: string }): boolean {
  if (f.inbound === false || (f.family !== undefined && f.family !== p.family)) return false;
  const holds = (cond: string | undefined, value: string | undefined, test: (v: string, c: string) => boolean | undefined): boolean => {
    if (cond === undefined) return true;
    const negated = cond.startsWith('!');
    const c = negated ? cond.slice(1).trim() : cond;
    if (value === undefined) return negated;
    const t = test(value, c);
    return t === undefined ? true : t !== negated;
  };
  return holds(f.iface, p.iface, (v, c) => ifaceMatches(c, v)) && holds(f.source, p.source, (v, c) => inNetwork(v, c));
}

/** What DNAT and redirect rules do to the packet before INPUT (see diversions). */
interface Diversions {
  /** Forwards the packet may meet that send it to another address or port: the verdict is uncertain. */
  uncertain: FamilyVerdict['uncertain'];
  /** Forwards limited to a source or interface the packet view leaves open: those clients go elsewhere. */
  closed: FamilyVerdict['closedTo'];
}

/**
 * DNAT and redirect rules (nat PREROUTING, nft dnat/redirect) that may send the packet to another
 * address or port before INPUT: the listener then never sees it. A forward whose family, interface or
 * source the packet does not meet is no way otherwise; one it may meet makes the verdict uncertain.
 * For the network at large (no source or interface known), a forward limited to a source or an
 * interface diverts those clients only: it closes the listener to them (`closed`).
 */
function diversions(p: PacketView, fw: FirewallFacts, root: string): Diversions {
  const out: Diversions = { uncertain: [], closed: [] };
  for (const f of fw.forwards) {
    if (f.kind === 'forward-port' || (f.protocol !== 'any' && f.protocol !== p.protocol)) continue;
    if (f.ports && !f.ports.some((r) => r.from <= p.port && p.port <= r.to)) continue;
    const meets = forwardMeets(f, p);
    const limitedTo =
      !meets && p.source === undefined && p.iface === undefined && f.inbound !== false && (f.family === undefined || f.family === p.family)
        ? [f.iface && !f.iface.startsWith('!') ? `on interface ${f.iface}` : '', f.source && !f.source.startsWith('!') ? `from ${f.source}` : '']
            .filter((c) => c)
            .join(', ')
        : '';
    if (!meets && !limitedTo) continue;
    const elsewhere = f.toAddress !== undefined && !(p.destination !== undefined && inNetwork(p.destination, f.toAddress) === true);
    const otherPort = f.toPorts !== undefined && !(f.toPorts.from <= p.port && p.port <= f.toPorts.to);
    if (!elsewhere && !otherPort) continue;
    const to = `${f.kind === 'dnat' ? 'DNAT' : 'redirect'} to ${f.toAddress ?? 'local port'}${f.toPorts ? `:${f.toPorts.from}` : ''}`;
    const place = { file: root, span: f.span };
    if (meets) out.uncertain.push({ conditions: [to], place });
    else out.closed.push({ condition: `${limitedTo} (${to})`, place });
  }
  return out;
}

function withDiversions(v: FamilyVerdict, d: Diversions): FamilyVerdict {
  if (v.state === 'blocked') return v;
  const closed = v.state === 'reachable' || v.state === 'sources-only' ? { closedTo: [...v.closedTo, ...d.closed] } : {};
  if (d.uncertain.length === 0) return d.closed.length > 0 ? { ...v, ...closed } : v;
  return { ...v, ...closed, state: 'uncertain', uncertain: [...v.uncertain, ...d.uncertain] };
}

/** One verdict per firewall (iptables file, ufw, nftables ruleset, firewalld) that filters `p.family`. */
function judge(p: PacketView, firewalls: readonly FirewallInstance[]): FamilyVerdict[] {
  const out: FamilyVerdict[] = [];
  const start = (file: string): Place => ({ file, span: { start: 0, end: 0 } });
  for (const { root, firewall: fw } of firewalls) {
    if (fw.tool === 'iptables') {
      const fam = familyOfIptables(fw);
      if (fam !== 'both' && fam !== p.family) continue;
      const pol = fw.inboundPolicy ?? { action: 'accept' as const };
      const policy = { action: pol.action, place: pol.span ? { file: pol.file ?? root, span: pol.span } : start(root), implicit: !pol.span };
      const j = judgeChain([{ rules: fw.inputRules, file: root }], policy, p);
      const v: FamilyVerdict = {
        family: p.family,
        tool: 'iptables',
        root,
        state: stateOf(j.decider, j.openTo, j.maybeFlip),
        by: j.decider,
        openTo: j.openTo,
        closedTo: j.closedTo,
        uncertain: j.uncertain,
        ...(j.rateLimited ? { rateLimited: true } : {}),
      };
      out.push(withDiversions(v, diversions(p, fw, root)));
    } else if (fw.tool === 'nftables') {
      const d = diversions(p, fw, root);
      const v = judgeNft(p, root, fw);
      if (v) out.push(withDiversions(v, d));
      else if (d.uncertain.length > 0)
        // No input hook filters this family, but a DNAT may send the packet elsewhere first.
        out.push({
          family: p.family,
          tool: 'nftables',
          root,
          state: 'uncertain',
          by: { kind: 'policy', action: 'accept', file: root, span: { start: 0, end: 0 }, implicit: true },
          openTo: [],
          closedTo: d.closed,
          uncertain: d.uncertain,
        });
    }
  }
  const ufw = judgeUfw(p, firewalls);
  if (ufw) out.push(ufw);
  const fwd = judgeFirewalld(p, firewalls);
  if (fwd) out.push(fwd);
  return out;
}

function judgeNft(p: PacketView, root: string, fw: FirewallFacts): FamilyVerdict | undefined {
  const hooks = (fw.hooks ?? []).filter((h) => h.family === 'both' || h.family === p.family);
  if (hooks.length === 0) return undefined;
  const openTo: FamilyVerdict['openTo'] = [];
  const closedTo: FamilyVerdict['closedTo'] = [];
  const uncertain: FamilyVerdict['uncertain'] = [];
  let maybeFlip = false;
  let decider: Decider | undefined;
  let rateLimited = false;
  for (const hook of [...hooks].sort((a, b) => a.priority - b.priority)) {
    const file = hook.policy.file ?? root;
    const policy = {
      action: hook.policy.action,
      place: hook.policy.span ? { file, span: hook.policy.span } : { file, span: { start: 0, end: 0 } },
      implicit: !hook.policy.span,
    };
    const j = judgeChain([{ rules: hook.rules, file }], policy, p);
    pushAll(openTo, j.openTo);
    pushAll(closedTo, j.closedTo);
    pushAll(uncertain, j.uncertain);
    maybeFlip ||= j.maybeFlip;
    decider = j.decider;
    rateLimited ||= j.rateLimited;
    // A drop ends the packet; an accept ends this base chain only, the next one still judges.
    if (blocks(j.decider.action)) break;
  }
  return {
    family: p.family,
    tool: 'nftables',
    root,
    state: stateOf(decider!, openTo, maybeFlip),
    by: decider!,
    openTo,
    closedTo: blocks(decider!.action) ? [] : closedTo,
    uncertain,
    ...(rateLimited ? { rateLimited: true } : {}),
  };
}

function judgeUfw(p: PacketView, firewalls: readonly FirewallInstance[]): FamilyVerdict | undefined {
  const mine = firewalls.filter((f) => f.firewall.tool === 'ufw' && ufwKind(f.root).family === p.family);
  const user = mine.find((f) => ufwKind(f.root).kind === 'user');
  if (!user) return undefined;
  const fw = user.firewall;
  const start = { file: user.root, span: { start: 0, end: 0 } };
  const policyOf = fw.inboundPolicy ?? { action: 'drop' as const };
  const policy = {
    action: policyOf.action,
    place: policyOf.span ? { file: policyOf.file ?? user.root, span: policyOf.span } : start,
    implicit: !policyOf.span,
  };
  if (fw.enabled === false) {
    const decider: Decider = { kind: 'policy', action: 'accept', ...start, implicit: true };
    return { family: p.family, tool: 'ufw', root: user.root, state: 'reachable', by: decider, openTo: [], closedTo: [], uncertain: [], disabled: start };
  }
  const before = mine.find((f) => ufwKind(f.root).kind === 'before');
  const after = mine.find((f) => ufwKind(f.root).kind === 'after');
  // Frames of different files are different chains: a RETURN in one ends only its own.
  const seg = (f: FirewallInstance | undefined, name: string): Segment[] =>
    f ? [{ rules: f.firewall.inputRules.map((r) => ({ ...r, frame: `${name}${r.frame ?? ''}` })), file: f.root }] : [];
  const j = judgeChain(
    [...seg(before, 'b'), { rules: fw.inputRules.map((r) => ({ ...r, frame: `u${r.frame ?? ''}` })), file: user.root }, ...seg(after, 'a')],
    policy,
    p,
  );
  return {
    family: p.family,
    tool: 'ufw',
    root: user.root,
    state: stateOf(j.decider, j.openTo, j.maybeFlip),
    by: j.decider,
    openTo: j.openTo,
    closedTo: j.closedTo,
    uncertain: j.uncertain,
    ...(j.rateLimited ? { rateLimited: true } : {}),
  };
}

function judgeFirewalld(p: PacketView, firewalls: readonly FirewallInstance[]): FamilyVerdict | undefined {
  const zones = firewalls.filter((f) => f.firewall.tool === 'firewalld' && f.firewall.zone);
  const def = zones.find((z) => z.firewall.zone!.isDefault);
  if (!def) return undefined;
  const zoneOf = (z: FirewallInstance) => ({
    source: z.firewall.zone!.sources.length ? z.firewall.zone!.sources.join(',') : undefined,
    iface: z.firewall.zone!.interfaces.length ? z.firewall.zone!.interfaces.join(',') : undefined,
  });
  const judgeZone = (z: FirewallInstance) => {
    const pol = z.firewall.inboundPolicy ?? { action: 'reject' as const };
    const policy = {
      action: pol.action,
      place: pol.span ? { file: z.root, span: pol.span } : { file: z.root, span: { start: 0, end: 0 } },
      implicit: !pol.span,
    };
    return judgeChain([{ rules: z.firewall.inputRules, file: z.root }], policy, p, zoneOf(z));
  };
  const bySource = zones.filter((z) => z.firewall.zone!.sources.length > 0);
  const byIface = zones.filter((z) => z.firewall.zone!.interfaces.length > 0 && z !== def);
  let chosen = def;
  const openTo: FamilyVerdict['openTo'] = [];
  const closedTo: FamilyVerdict['closedTo'] = [];
  if (p.source !== undefined) {
    chosen =
      bySource.find((z) => z.firewall.zone!.sources.some((s) => inNetwork(p.source!, s))) ??
      byIface.find((z) => z.firewall.zone!.interfaces.some((i) => ifaceMatches(i, p.iface ?? ''))) ??
      def;
  } else {
    // The network at large meets the default zone; a source or interface zone that accepts opens it for those only.
    for (const z of [...bySource, ...byIface]) {
      const j = judgeZone(z);
      const cond = zoneOf(z).source ? `from ${zoneOf(z).source}` : `on interface ${zoneOf(z).iface}`;
      const entry = { condition: `${cond} (zone ${z.firewall.zone!.name})`, place: { file: j.decider.file, span: j.decider.span } };
      (blocks(j.decider.action) ? closedTo : openTo).push(entry);
    }
  }
  const j = judgeZone(chosen);
  pushAll(openTo, j.openTo);
  pushAll(closedTo, j.closedTo);
  return {
    family: p.family,
    tool: 'firewalld',
    root: chosen.root,
    state: stateOf(j.decider, openTo, j.maybeFlip),
    by: j.decider,
    openTo,
    closedTo: blocks(j.decider.action) ? [] : closedTo,
    uncertain: j.uncertain,
    ...(j.rateLimited ? { rateLimited: true } : {}),
  };
}

/**
 * What the host's firewalls do with new connections from the network to a listener: one verdict per
 * firewall that filters the listener's family; none for a loopback listener or a family no firewall
 * of the host filters.
 */
export function listenerVerdicts(listener: ListenerQuery, firewalls: readonly FirewallInstance[]): FamilyVerdict[] {
  if (isLoopback(listener.family, listener.address)) return [];
  return judge({ family: listener.family, protocol: listener.protocol, port: listener.port, destination: listener.address }, firewalls);
}

/** The verdict for one concrete packet: 'accept' or 'block' per firewall, or 'uncertain' when an unevaluated condition could decide. */
export function packetVerdict(packet: PacketQuery, firewalls: readonly FirewallInstance[]): 'accept' | 'block' | 'uncertain' | 'none' {
  const all = judge(packet, firewalls);
  if (all.length === 0) return 'none';
  if (all.some((v) => v.state === 'blocked')) return 'block';
  if (all.some((v) => v.state === 'uncertain')) return 'uncertain';
  return 'accept';
}

/** The firewalls of `family` that filter at all (ufw enabled, firewalld with a default zone). */
export function filtersFamily(family: IpFamily, firewalls: readonly FirewallInstance[]): FamilyVerdict[] {
  return judge({ family, protocol: 'tcp', port: 0 }, firewalls).filter((v) => !v.disabled);
}

/** The families a listening fact receives: an IPv6 wildcard that is not v6-only takes IPv4 too. */
export function familiesOf(fact: { family?: IpFamily; address?: string; v6only?: boolean }): IpFamily[] {
  if (!fact.family) return ['ipv4', 'ipv6'];
  if (fact.family === 'ipv6' && fact.address === undefined && fact.v6only === false) return ['ipv6', 'ipv4'];
  return [fact.family];
}

/** Every verdict for a listening (or published) fact, per family it receives. */
export function factVerdicts(
  fact: { family?: IpFamily; address?: string; v6only?: boolean; protocol: Protocol; port: number },
  firewalls: readonly FirewallInstance[],
): FamilyVerdict[] {
  if (fact.protocol === 'sctp') return [];
  return familiesOf(fact).flatMap((family) =>
    listenerVerdicts({ family, address: fact.family === family ? fact.address : undefined, protocol: fact.protocol, port: fact.port }, firewalls),
  );
}

export const FAMILY_LABEL: Record<IpFamily, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/** "ufw's default policy DROP", "an iptables accept rule", for messages. */
export function deciderText(v: FamilyVerdict): string {
  if (v.by.kind === 'rule') return `${v.tool === 'ufw' || v.tool === 'firewalld' ? 'a' : 'an'} ${v.tool} ${v.by.action} rule`;
  if (v.tool === 'firewalld') return `firewalld's zone target (${v.by.action})`;
  return `${v.tool.endsWith('s') ? `${v.tool}'` : `${v.tool}'s`} ${v.by.implicit ? 'default ' : ''}policy ${v.by.action.toUpperCase()}`;
}
