/**
 * port-conflict: which binds of one host collide, judged the way the kernel judges bind():
 * same protocol, overlapping ports, overlapping addresses (the same address, or a wildcard against
 * any address of its family; an IPv6 wildcard that is not v6-only also covers IPv4), minus the
 * sharing a program does inside itself (one nginx serves `listen 80` and `listen 127.0.0.1:80`
 * from one socket), UDP sockets that both carry SO_REUSEADDR and sockets that both carry
 * SO_REUSEPORT. A bind that takes one free port of a range (compose "8000-8010:80") cannot be judged
 * pair by pair: which port it gets depends on what started before it, so those are judged over the
 * possible start orders (`portTaken`, `judgeStartOrders`). test/oracle/kernel.test.ts checks all of this
 * against real binds of sshd, nginx and a Docker stand-in.
 */
import { maxOf, minOf, pushAll } from './arrays';
import { formatHostPort } from './address';
import type { Finding, FindingData, PortFact } from './types';

export type LineOf = (file: string, offset: number) => number;

export function isHostBind(fact: PortFact): boolean {
  return (fact.role === 'listen' || fact.role === 'publish') && !fact.inactive;
}

/** Do the two binds' addresses overlap, as the kernel sees it? */
export function addressesOverlap(a: PortFact, b: PortFact): boolean {
  if (a.family === undefined || b.family === undefined) {
    // A host name resolved only at run time: only the very same name is known to overlap.
    return a.family === b.family && a.address === b.address;
  }
  if (a.family === b.family) return a.address === undefined || b.address === undefined || a.address === b.address;
  // Different families collide only through a dual-stack IPv6 wildcard socket.
  const v6 = a.family === 'ipv6' ? a : b;
  return v6.address === undefined && !v6.v6only;
}

/**
 * Binds of one running program that the program itself shares rather than binding twice. Only nginx
 * does: sshd calls bind() for every ListenAddress x Port and logs each one that fails (a repeated
 * Port, or 0.0.0.0 beside 127.0.0.1), and Docker runs a proxy per published port of every container.
 */
function sharedInsideProgram(a: PortFact, b: PortFact): boolean {
  if (a.program !== 'nginx' || b.program !== 'nginx' || !a.instance || a.instance !== b.instance) return false;
  // nginx groups the listens of a port by address family: the IPv4 wildcard never serves [::1], and a
  // dual-stack [::] does not absorb `listen 127.0.0.1:P`, which gets a socket of its own.
  if (a.family !== b.family) return false;
  // The same address:port in several server blocks is one socket (virtual hosting).
  if (a.address === b.address) return true;
  // A specific address is served from the wildcard socket of its family unless it asks for a bind()
  // of its own; `bind` on the wildcard itself changes nothing.
  if (a.address === undefined) return !b.separateBind;
  if (b.address === undefined) return !a.separateBind;
  return false;
}

/**
 * Programs whose UDP sockets carry SO_REUSEADDR (nginx sets it on every listening socket, systemd-resolved
 * on its stub listeners). Linux
 * lets two UDP sockets that both set it bind overlapping addresses and ports, so neither bind fails.
 */
const UDP_REUSEADDR_PROGRAMS = new Set(['nginx', 'systemd-resolved']);

function bothReuseUdpAddress(a: PortFact, b: PortFact): boolean {
  return a.protocol === 'udp' && b.protocol === 'udp' && UDP_REUSEADDR_PROGRAMS.has(a.program) && UDP_REUSEADDR_PROGRAMS.has(b.program);
}

/** Linux lets sockets that both set SO_REUSEPORT share an address:port when one user owns both (nginx binds as root). */
function bothReusePort(a: PortFact, b: PortFact): boolean {
  return !!a.reusePort && !!b.reusePort;
}

/**
 * Do the two binds collide when each binds every port of its range? A oneOf bind holds only the one
 * port it takes at start: judge it with `portTaken` against what is held, or narrow it with `heldSocket`.
 */
export function collide(a: PortFact, b: PortFact): boolean {
  return (
    a.protocol === b.protocol &&
    a.port <= b.portEnd &&
    b.port <= a.portEnd &&
    addressesOverlap(a, b) &&
    !sharedInsideProgram(a, b) &&
    !bothReuseUdpAddress(a, b) &&
    !bothReusePort(a, b)
  );
}

// ---------------------------------------------------------------------------------------------
// A program starting now, against the binds that programs started before it still hold

/** A bind a running program holds. */
export interface HeldBind {
  fact: PortFact;
  /** The port a oneOf bind took when its program started; absent for a bind of fixed ports. */
  took?: number;
}

/** The socket a held bind really has: a oneOf bind narrowed to the port it took. */
export function heldSocket(h: HeldBind): PortFact {
  return h.took === undefined ? h.fact : { ...h.fact, port: h.took, portEnd: h.took, oneOf: undefined };
}

/** The held binds in the way of a bind of fixed ports: it fails with EADDRINUSE when there is any. */
export function bindBlockers(fact: PortFact, held: readonly HeldBind[]): HeldBind[] {
  return held.filter((h) => collide(fact, heldSocket(h)));
}

/**
 * The port a oneOf mapping takes when its program starts: the lowest port of its range that every
 * address of the mapping (`mapping`: one fact per address, all with the same range) can bind beside
 * what is held. Undefined when no port of the range is free: the program fails.
 */
export function portTaken(mapping: readonly PortFact[], held: readonly HeldBind[]): number | undefined {
  const { port: first, portEnd: last } = mapping[0];
  const sockets = held.map(heldSocket);
  let port = first;
  while (port <= last) {
    // A held socket in the way of this port is in the way of every port up to its own last one.
    let next = port;
    for (const f of mapping) {
      const here = { ...f, port, portEnd: port, oneOf: undefined };
      for (const s of sockets) if (s.portEnd >= next && collide(here, s)) next = s.portEnd + 1;
    }
    if (next === port) return port;
    port = next;
  }
  return undefined;
}

/**
 * One sshd binding an address twice (a repeated Port, 0.0.0.0 beside 127.0.0.1) gets EADDRINUSE on
 * one of the two binds, logs it and serves on the sockets that bound: worth a warning, not an error.
 * Which of the two fails depends on the order sshd binds in (ListenAddress lines in reverse), so the
 * message does not say.
 */
function sameSshd(a: PortFact, b: PortFact): boolean {
  return a.program === 'sshd' && b.program === 'sshd' && !!a.instance && a.instance === b.instance;
}

function who(f: PortFact): string {
  return `${f.program} (${f.context})`;
}

/**
 * The other side(s) of a conflict, one clause per running program: many nginx server blocks on one
 * port read as one nginx with its places, not as a list of every block.
 */
function describeOthers(fact: PortFact, others: PortFact[], where: (f: PortFact) => string): string {
  const groups = new Map<string, PortFact[]>();
  for (const o of others) {
    const key = `${o.program}\u0000${o.instance ?? o.file}`;
    const list = groups.get(key);
    if (list) list.push(o);
    else groups.set(key, [o]);
  }
  const clauses = [...groups.values()].map((g) => {
    const contexts = [...new Set(g.map((o) => o.context))];
    const label = contexts.length === 1 ? `${g[0].program} (${contexts[0]})` : `${g[0].program} (${contexts.length} places)`;
    const binds = [...new Set(g.map(bindText))].join(' and ');
    const places = [...new Set(g.map(where))];
    const at = places.length <= 3 ? places.join(', ') : `${places.slice(0, 3).join(', ')} and ${places.length - 3} more`;
    const from = Math.max(fact.port, minOf(g.map((o) => o.port)));
    const to = Math.min(fact.portEnd, maxOf(g.map((o) => o.portEnd)));
    const ranged = fact.port !== fact.portEnd || g.some((o) => o.port !== o.portEnd);
    return `${label} binds ${binds} at ${at}${ranged ? ` — overlapping port${from === to ? '' : 's'} ${from === to ? from : `${from}-${to}`}` : ''}`;
  });
  return clauses.join('; and ');
}

function bindText(f: PortFact): string {
  return `${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
}

/** A port-conflict that some start orders avoid says so with this phrase (and is a warning). */
export const START_ORDER_PHRASE = 'may collide depending on which starts first';

/** The kinds of port-conflict findings (`Finding.messageId`). */
export const CONFLICT_MESSAGES = {
  /** Two programs (or two sockets of one) bind an overlapping address and port: the later bind fails. */
  taken: 'taken',
  /** One sshd binds the same address and port twice: one bind fails, sshd serves on the rest. */
  sshdTwice: 'sshd-twice',
  /** A port range with fewer free ports than the binds that need one: some bind fails in every start order. */
  rangeShortage: 'range-shortage',
  /** Some start orders bind everything and others do not. */
  startOrder: 'start-order',
  /** nginx's own check (nginx -t): one http server listens twice on an address:port. */
  nginxDuplicateListen: 'nginx-duplicate-listen',
  /** nginx's own check (nginx -t): two stream or mail servers listen on one address:port. */
  nginxDuplicatePair: 'nginx-duplicate-pair',
} as const;

/** Is this port-conflict a matter of start order: some orders bind everything, others do not? */
export function dependsOnStartOrder(finding: Finding): boolean {
  return finding.code === 'port-conflict' && finding.messageId === CONFLICT_MESSAGES.startOrder;
}

/** The structured side of a conflict finding on `fact`, against the binds in `others`. */
function conflictData(fact: PortFact, others: Iterable<PortFact>): FindingData {
  return {
    port: fact.port,
    portEnd: fact.portEnd,
    protocol: fact.protocol,
    program: fact.program,
    other: [...others].map((o) => ({ file: o.file, span: o.span, program: o.program, port: o.port, portEnd: o.portEnd })),
  };
}

/** The port-conflict findings among the binds of one host (listeners and published host ports; other facts are skipped). */
export function conflictFindings(facts: readonly PortFact[], lineOf: LineOf, shownPath: (file: string) => string): Finding[] {
  // Bucket by protocol, then sweep over port ranges.
  const buckets = new Map<string, PortFact[]>();
  for (const fact of facts) {
    if (!isHostBind(fact)) continue;
    const key = fact.protocol;
    const list = buckets.get(key);
    if (list) list.push(fact);
    else buckets.set(key, [fact]);
  }
  const bySpan = new Map<string, { fact: PortFact; mine: PortFact[]; others: PortFact[] }>();
  const note = (fact: PortFact, other: PortFact) => {
    const key = `${fact.file}\u0000${fact.span.start}\u0000${fact.span.end}`;
    let entry = bySpan.get(key);
    if (!entry) bySpan.set(key, (entry = { fact, mine: [], others: [] }));
    if (!entry.mine.includes(fact)) entry.mine.push(fact);
    if (!entry.others.some((o) => o.file === other.file && o.span.start === other.span.start && o.program === other.program && o.port === other.port))
      entry.others.push(other);
  };
  const choices = new StartOrderGroups();
  for (const list of buckets.values()) {
    list.sort((x, y) => x.port - y.port);
    const active: PortFact[] = [];
    for (const fact of list) {
      // Drop ranges that end before this one starts.
      for (let i = active.length - 1; i >= 0; i--) if (active[i].portEnd < fact.port) active.splice(i, 1);
      if (fact.oneOf) choices.add(fact);
      for (const other of active) {
        if (!collide(fact, other)) continue;
        // A oneOf bind meets the others only at the port it takes: judged over start orders below.
        if (fact.oneOf || other.oneOf) {
          choices.link(fact, other);
          continue;
        }
        note(fact, other);
        note(other, fact);
      }
      active.push(fact);
    }
  }
  const where = (f: PortFact) => `${shownPath(f.file)}:${lineOf(f.file, f.span.start)}`;
  const findings: Finding[] = [];
  for (const { fact, mine: colliding, others } of bySpan.values()) {
    const parts = others.map((o) => ({ o }));
    const othersText = describeOthers(fact, others, where);
    // Docker's 0.0.0.0 and [::] binds of one mapping share a span: name every one that collides.
    const mine = [...new Set(colliding.map((f) => formatHostPort(f.family, f.address, f.port, f.portEnd)))].join(` and `);
    if (others.every((o) => sameSshd(fact, o))) {
      findings.push({
        file: fact.file,
        span: fact.span,
        severity: 'warning',
        code: 'port-conflict',
        messageId: CONFLICT_MESSAGES.sshdTwice,
        data: conflictData(fact, others),
        message: `sshd binds ${mine}/${fact.protocol} more than once (${othersText}): ${others.length === 1 ? 'one of the two binds fails' : 'some of these binds fail'} with "Address already in use"; sshd logs it and serves on the sockets that bound.`,
        related: parts.map(({ o }) => ({ file: o.file, span: o.span, message: `sshd binds ${bindText(o)}` })),
      });
      continue;
    }
    findings.push({
      file: fact.file,
      span: fact.span,
      severity: 'error',
      code: 'port-conflict',
      messageId: CONFLICT_MESSAGES.taken,
      data: conflictData(fact, others),
      message: `${who(fact)} binds ${mine}/${fact.protocol}${fact.implicit ? ' (its default)' : ''}, but on this host ${othersText}. Only one of them can bind it: the later one fails with "Address already in use".`,
      related: parts.map(({ o }) => ({ file: o.file, span: o.span, message: `${who(o)} binds ${bindText(o)}` })),
    });
  }
  pushAll(findings, choices.findings(where));
  return findings;
}

// ---------------------------------------------------------------------------------------------
// oneOf binds: judged over start orders

/**
 * What starts as one: the addresses of one oneOf mapping (they take the same port), or one bind of
 * fixed ports. Atoms that may meet at some port are partners and end up in one group.
 */
interface Atom {
  facts: PortFact[];
  oneOf: boolean;
  partners: Set<Atom>;
  /** Union-find link towards the group's representative. */
  parent: Atom | undefined;
}

interface StartOrderVerdict {
  /** Some bind fails in every start order. */
  always: boolean;
  /** Some bind fails in some start order. */
  sometimes: boolean;
  /** Who failed in some order → whose binds were in its way; undefined when there were too many orders to try each. */
  blockedBy?: Map<Atom, Set<Atom>>;
}

/** Start orders tried one by one per group; beyond this, the verdict is bounded instead (see judgeStartOrders). */
const MAX_START_ORDERS = 4096;
/** Binds named in one message; the rest are counted. */
const MAX_LISTED = 8;

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i], ...p];
  }
}

/** n!, or some number above MAX_START_ORDERS once it passes that. */
function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n && f <= MAX_START_ORDERS; i++) f *= i;
  return f;
}

/**
 * One start order of a group: the oneOf atoms start in `choosers` order, and each fixed atom j right
 * before choosers[slots[j]] (after all of them for slots[j] === choosers.length). The order among
 * fixed atoms started one after the other changes nothing here: binds of fixed ports that collide
 * with each other are reported pair by pair, so only a port a oneOf atom took makes a fixed atom fail.
 * Returns whether some atom failed, and records who was in its way.
 */
function startInOrder(choosers: Atom[], fixed: Atom[], slots: number[], blockedBy?: Map<Atom, Set<Atom>>): boolean {
  const held: { atom: Atom; bind: HeldBind }[] = [];
  let failed = false;
  const fail = (victim: Atom, culprits: Atom[]) => {
    failed = true;
    if (!blockedBy) return;
    let set = blockedBy.get(victim);
    if (!set) blockedBy.set(victim, (set = new Set()));
    for (const c of culprits) set.add(c);
  };
  for (let i = 0; i <= choosers.length; i++) {
    fixed.forEach((atom, j) => {
      if (slots[j] !== i) return;
      const fact = atom.facts[0];
      const takenBy = held.filter((h) => h.atom.oneOf && collide(fact, heldSocket(h.bind)));
      if (takenBy.length > 0)
        fail(
          atom,
          takenBy.map((h) => h.atom),
        );
      else held.push({ atom, bind: { fact } });
    });
    const chooser = choosers[i];
    if (!chooser) break;
    const port = portTaken(
      chooser.facts,
      held.map((h) => h.bind),
    );
    if (port === undefined)
      fail(
        chooser,
        held.filter((h) => chooser.facts.some((f) => collide(f, heldSocket(h.bind)))).map((h) => h.atom),
      );
    else for (const fact of chooser.facts) held.push({ atom: chooser, bind: { fact, took: port } });
  }
  return failed;
}

/** How many ports of a oneOf atom's range the given fixed atoms hold on an address it needs. */
function portsHeld(chooser: Atom, fixed: Iterable<Atom>): number {
  const { port: first, portEnd: last } = chooser.facts[0];
  const spans: [number, number][] = [];
  for (const f of fixed)
    if (chooser.facts.some((c) => collide(c, f.facts[0]))) spans.push([Math.max(first, f.facts[0].port), Math.min(last, f.facts[0].portEnd)]);
  spans.sort((a, b) => a[0] - b[0]);
  let count = 0;
  let upTo = first - 1;
  for (const [from, to] of spans) {
    if (to <= upTo) continue;
    count += to - Math.max(from, upTo + 1) + 1;
    upTo = to;
  }
  return count;
}

/**
 * Pigeonhole: oneOf atoms of the same range and addresses each need a port of their own that no fixed
 * bind holds; more of them than such ports means a failure in every start order.
 */
function poolOverflows(choosers: Atom[], fixed: Atom[]): boolean {
  const pools = new Map<string, Atom[]>();
  for (const c of choosers) {
    const key = `${c.facts[0].port}-${c.facts[0].portEnd} ${c.facts
      .map((f) => `${f.family}|${f.address}|${f.v6only}`)
      .sort()
      .join(',')}`;
    const pool = pools.get(key);
    if (pool) pool.push(c);
    else pools.set(key, [c]);
  }
  for (const pool of pools.values()) {
    const [a, b] = pool;
    // Atoms of a pool that do not collide with each other may take the same port.
    if (b && !a.facts.some((f) => b.facts.some((g) => collide(f, g)))) continue;
    const size = a.facts[0].portEnd - a.facts[0].port + 1;
    if (pool.length > size - portsHeld(a, fixed)) return true;
  }
  return false;
}

/**
 * No start order fails when every oneOf atom finds a free port among the first n of its range, n
 * being 1 + the oneOf atoms it may meet: those hold one port each, and no fixed bind it may meet
 * holds any of the first n. It then never takes a port beyond them, so no fixed bind loses one.
 */
function neverFails(choosers: Atom[]): boolean {
  return choosers.every((c) => {
    const partners = [...c.partners];
    const reach = c.facts[0].port + partners.filter((p) => p.oneOf).length;
    return reach <= c.facts[0].portEnd && partners.every((p) => p.oneOf || p.facts[0].port > reach);
  });
}

/** Does some bind of the group fail in every start order, in some, or in none? */
function judgeStartOrders(choosers: Atom[], fixed: Atom[]): StartOrderVerdict {
  if (neverFails(choosers)) return { always: false, sometimes: false };
  const k = choosers.length;
  const placements = (k + 1) ** fixed.length;
  if (factorial(k) * placements <= MAX_START_ORDERS) {
    const blockedBy = new Map<Atom, Set<Atom>>();
    let always = true;
    let sometimes = false;
    for (const order of permutations(choosers)) {
      for (let code = 0; code < placements; code++) {
        const slots = fixed.map((_, j) => Math.floor(code / (k + 1) ** j) % (k + 1));
        if (startInOrder(order, fixed, slots, blockedBy)) sometimes = true;
        else always = false;
      }
    }
    return { always, sometimes, blockedBy };
  }
  // Too many orders to try each. Starting every fixed bind first spares the most: a fixed bind
  // started later can only lose its port, and one started earlier only moves a oneOf bind to a port
  // no fixed bind holds. So some order binds everything exactly when such an order does.
  const fixedFirst = fixed.map(() => 0);
  let always: boolean;
  if (factorial(k) <= MAX_START_ORDERS) {
    always = true;
    for (const order of permutations(choosers)) if (!startInOrder(order, fixed, fixedFirst)) always = false;
  } else always = poolOverflows(choosers, fixed);
  return { always, sometimes: true };
}

function listed(items: string[]): string {
  const shown = items.length > MAX_LISTED ? [...items.slice(0, MAX_LISTED - 1), `${items.length - MAX_LISTED + 1} more`] : items;
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

class StartOrderGroups {
  private readonly mappings = new Map<string, Atom>();
  private readonly fixed = new Map<PortFact, Atom>();
  private readonly atoms: Atom[] = [];

  add(fact: PortFact): Atom {
    if (fact.oneOf) {
      const key = [fact.file, fact.span.start, fact.span.end, fact.protocol, fact.port, fact.portEnd, fact.instance ?? '', fact.context].join('\u0000');
      let atom = this.mappings.get(key);
      if (!atom) this.mappings.set(key, (atom = this.atom(true)));
      if (!atom.facts.includes(fact)) atom.facts.push(fact);
      return atom;
    }
    let atom = this.fixed.get(fact);
    if (!atom) this.fixed.set(fact, (atom = this.atom(false)));
    if (atom.facts.length === 0) atom.facts.push(fact);
    return atom;
  }

  link(a: PortFact, b: PortFact): void {
    const x = this.add(a);
    const y = this.add(b);
    if (x === y) return;
    x.partners.add(y);
    y.partners.add(x);
    const rx = this.root(x);
    const ry = this.root(y);
    if (rx !== ry) ry.parent = rx;
  }

  findings(where: (f: PortFact) => string): Finding[] {
    const groups = new Map<Atom, Atom[]>();
    for (const atom of this.atoms) {
      const r = this.root(atom);
      const g = groups.get(r);
      if (g) g.push(atom);
      else groups.set(r, [atom]);
    }
    // Several atoms may stand at one span (sshd's `Port 8000` binds 0.0.0.0 and [::]): one finding there.
    const bySpan = new Map<string, { atom: Atom; verdict: StartOrderVerdict }[]>();
    for (const members of groups.values()) {
      const choosers = members.filter((a) => a.oneOf);
      if (choosers.length === 0 || members.length < 2) continue;
      const verdict = judgeStartOrders(
        choosers,
        members.filter((a) => !a.oneOf),
      );
      if (!verdict.sometimes) continue;
      const involved = verdict.blockedBy ? new Set([...verdict.blockedBy].flatMap(([victim, by]) => [victim, ...by])) : members;
      for (const atom of involved) {
        const f = atom.facts[0];
        const key = `${f.file}\u0000${f.span.start}\u0000${f.span.end}`;
        const list = bySpan.get(key);
        if (list) list.push({ atom, verdict });
        else bySpan.set(key, [{ atom, verdict }]);
      }
    }
    const out: Finding[] = [];
    for (const entries of bySpan.values()) {
      const errors = entries.filter((e) => e.verdict.always);
      out.push(
        errors.length > 0
          ? shortageFinding(
              errors.map((e) => e.atom),
              where,
            )
          : startOrderFinding(entries, where),
      );
    }
    return out;
  }

  private atom(oneOf: boolean): Atom {
    const atom: Atom = { facts: [], oneOf, partners: new Set(), parent: undefined };
    this.atoms.push(atom);
    return atom;
  }

  private root(a: Atom): Atom {
    let r = a;
    while (r.parent) r = r.parent;
    // Path compression keeps later look-ups short.
    for (let x = a; x.parent && x.parent !== r;) {
      const next: Atom = x.parent;
      x.parent = r;
      x = next;
    }
    return r;
  }
}

function rangeText(atom: Atom): string {
  return `${atom.facts.map((f) => formatHostPort(f.family, f.address, f.port, f.portEnd)).join(' and ')}/${atom.facts[0].protocol}`;
}

function mineText(atoms: Atom[]): string {
  const f = atoms[0].facts[0];
  const binds = [...new Set(atoms.flatMap((a) => a.facts.map((x) => formatHostPort(x.family, x.address, x.port, x.portEnd))))];
  return `${binds.join(' and ')}/${f.protocol}${f.implicit ? ' (its default)' : ''}`;
}

/** Atoms by the span they stand at, in first-seen order: the IPv4 and IPv6 binds of one `Port 22` are named once. */
function bySpan(atoms: Iterable<Atom>): Atom[][] {
  const groups = new Map<string, Atom[]>();
  for (const a of atoms) {
    const f = a.facts[0];
    const key = `${f.file}\u0000${f.span.start}\u0000${f.span.end}`;
    const g = groups.get(key);
    if (g) g.push(a);
    else groups.set(key, [a]);
  }
  return [...groups.values()];
}

function what(atoms: Atom[]): string {
  const f = atoms[0].facts[0];
  return atoms[0].oneOf ? `${who(f)} takes one free port of ${rangeText(atoms[0])}` : `${who(f)} binds ${mineText(atoms)}`;
}

function describe(atoms: Iterable<Atom>, where: (f: PortFact) => string): string[] {
  return bySpan(atoms).map((g) => `${what(g)} at ${where(g[0].facts[0])}`);
}

/** "0.0.0.0:8000-8001 and [::]:8000-8001/tcp, of which docker (service a) at compose.yml:4 takes one free port when its container starts" */
function rangesOf(choosers: Iterable<Atom>, where: (f: PortFact) => string, takes: string): string {
  const byRange = new Map<string, Atom[]>();
  for (const c of choosers) {
    const r = rangeText(c);
    const list = byRange.get(r);
    if (list) list.push(c);
    else byRange.set(r, [c]);
  }
  return listed(
    [...byRange].map(
      ([range, owners]) =>
        `${range}, of which ${listed(owners.map((c) => `${who(c.facts[0])} at ${where(c.facts[0])}`))} ${owners.length === 1 ? `takes ${takes} when its container starts` : `each take ${takes} when their containers start`}`,
    ),
  );
}

function relatedOf(atoms: Iterable<Atom>): Finding['related'] {
  return bySpan(atoms).map((g) => ({ file: g[0].facts[0].file, span: g[0].facts[0].span, message: what(g) }));
}

function union<T>(sets: Iterable<Iterable<T>>): Set<T> {
  const out = new Set<T>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

/** Some bind fails in every start order: not enough ports of the range for every bind that needs one. */
function shortageFinding(atoms: Atom[], where: (f: PortFact) => string): Finding {
  const f = atoms[0].facts[0];
  const partners = union(atoms.map((a) => a.partners));
  for (const a of atoms) partners.delete(a);
  const base = {
    file: f.file,
    span: f.span,
    severity: 'error' as const,
    code: 'port-conflict' as const,
    messageId: CONFLICT_MESSAGES.rangeShortage,
    data: conflictData(
      f,
      [...partners].map((p) => p.facts[0]),
    ),
    related: relatedOf(partners),
  };
  const fails = 'In every start order one of these binds fails with "Address already in use".';
  if (atoms[0].oneOf) {
    const size = f.portEnd - f.port + 1;
    const takers = [...partners].filter((p) => !p.oneOf);
    const rivals = [...partners].filter((p) => p.oneOf);
    const taken = portsHeld(atoms[0], takers);
    const free = size - taken;
    const clauses: string[] = [];
    if (takers.length > 0) {
      const count =
        taken === size
          ? size === 2
            ? 'both of its ports are'
            : `all ${size} of its ports are`
          : `${taken} of its ${size} ports ${taken === 1 ? 'is' : 'are'}`;
      clauses.push(`${count} taken (${listed(describe(takers, where))}), leaving ${free === 0 ? 'none' : free} free`);
    }
    if (rivals.length > 0) {
      const sameRange = (r: Atom) => r.facts[0].port === f.port && r.facts[0].portEnd === f.portEnd;
      clauses.push(
        `${rivals.length + 1} containers compete for ${takers.length > 0 ? 'what is left' : `its ${size} ports`}: ${listed(rivals.map((r) => `${who(r.facts[0])} at ${where(r.facts[0])}${sameRange(r) ? '' : ` (one of ${rangeText(r)})`}`))} take${rivals.length === 1 ? 's' : ''} one as well`,
      );
    }
    return {
      ...base,
      message: `${who(f)} takes one free port of ${rangeText(atoms[0])} when its container starts, but on this host ${clauses.join(', and ')}. ${fails}`,
    };
  }
  const ranges = [...partners].filter((p) => p.oneOf);
  const oneRange = new Set(ranges.map(rangeText)).size === 1;
  return {
    ...base,
    message: `${who(f)} binds ${mineText(atoms)}, a port of ${rangesOf(ranges, where, 'one free port')}; ${oneRange ? 'that range has' : 'those ranges have'} fewer free ports than binds that need one. ${fails}`,
  };
}

/** Some start orders bind everything and others do not: a warning on every bind involved. */
function startOrderFinding(entries: { atom: Atom; verdict: StartOrderVerdict }[], where: (f: PortFact) => string): Finding {
  const atoms = entries.map((e) => e.atom);
  const f = atoms[0].facts[0];
  // Who took this bind's port in some order, and whose port this bind took; unknown when orders were not tried one by one.
  const culprits = new Set<Atom>();
  const victims = new Set<Atom>();
  let known = true;
  for (const { atom, verdict } of entries) {
    if (!verdict.blockedBy) {
      known = false;
      continue;
    }
    for (const c of verdict.blockedBy.get(atom) ?? []) culprits.add(c);
    for (const [victim, by] of verdict.blockedBy) if (by.has(atom)) victims.add(victim);
  }
  for (const a of atoms) {
    culprits.delete(a);
    victims.delete(a);
  }
  const shown = known ? union([culprits, victims]) : union(atoms.map((a) => a.partners));
  for (const a of atoms) shown.delete(a);
  const clauses: string[] = [];
  let text: string;
  if (atoms[0].oneOf) {
    if (victims.size > 0)
      clauses.push(`started first, the container may take a port ${listed([...victims].map((v) => who(v.facts[0])))} need${victims.size === 1 ? 's' : ''}`);
    if (culprits.size > 0) clauses.push(`started after ${listed([...culprits].map((c) => who(c.facts[0])))}, it may find no port of the range free`);
    if (!known) clauses.push('the container takes whichever port of the range is free when it starts');
    text = `${who(f)} takes the lowest free port of ${rangeText(atoms[0])} when its container starts, and on this host ${listed(describe(shown, where))}.`;
  } else {
    if (culprits.size > 0 || !known)
      clauses.push(`if the container starts first it may take this port, and ${f.program} then fails with "Address already in use"`);
    if (victims.size > 0) clauses.push(`if ${f.program} starts first, the container may find no port of the range free`);
    const ranges = [...shown].filter((p) => p.oneOf);
    text = `${who(f)} binds ${mineText(atoms)}, a port of ${rangesOf(ranges, where, 'the lowest free port')}.`;
  }
  return {
    file: f.file,
    span: f.span,
    severity: 'warning',
    code: 'port-conflict',
    messageId: CONFLICT_MESSAGES.startOrder,
    data: conflictData(
      f,
      [...shown].map((p) => p.facts[0]),
    ),
    message: `${text} These binds ${START_ORDER_PHRASE}: ${clauses.join('; ')}.`,
    related: relatedOf(shown),
  };
}
