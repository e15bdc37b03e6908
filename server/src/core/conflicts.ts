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
import type { Finding, FindingData, PortFact, RelatedLocation } from './types';

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
 * Does the UDP socket carry SO_REUSEADDR? nginx sets it on every listening socket (ngx_open_listening_sockets);
 * systemd-resolved's stub listeners and systemd's .socket units say so on the fact (`reuseAddr`). Docker's
 * docker-proxy does not: Go's net.ListenUDP sets no SO_REUSEADDR (it sets it on TCP listeners only).
 */
function reusesUdpAddress(f: PortFact): boolean {
  return f.protocol === 'udp' && (f.reuseAddr === true || f.program === 'nginx');
}

/**
 * Linux lets two UDP sockets that both set SO_REUSEADDR bind overlapping addresses and ports
 * (udp_lib_lport_inuse), so neither bind fails. On TCP it changes nothing for listening sockets
 * (inet_bind_conflict: a listening socket conflicts whatever SO_REUSEADDR says).
 */
function bothReuseUdpAddress(a: PortFact, b: PortFact): boolean {
  return reusesUdpAddress(a) && reusesUdpAddress(b);
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
    !bothReusePort(a, b) &&
    !alternatives(a, b)
  );
}

/** Binds of two alternative configurations of one program (a compose base alone, and with a layer) never run at once. */
function alternatives(a: PortFact, b: PortFact): boolean {
  return a.alternative !== undefined && a.alternative === b.alternative && a.instance !== b.instance;
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

// ---------------------------------------------------------------------------------------------
// Bind groups: what one side of a conflict stands for

/**
 * The bind group of a bind: the binds one program makes for one port, which meet another program's
 * as one side of a conflict. nginx serves every `listen 80` of an instance from one socket per
 * family, and `listen 80` + `listen [::]:80` is one wish written twice; sshd binds every
 * ListenAddress x Port; Docker binds 0.0.0.0 and [::] for a publish without host_ip. A conflict
 * between two groups is one finding per group, however many families and places each has. Each
 * container of a compose project is its own program (Docker runs a proxy per published port).
 */
export function bindGroupKey(f: PortFact): string {
  // Alternative configurations of one program (a compose base and its layer) hold one service's binds once.
  const owner = f.alternative !== undefined ? `alternative\u0000${f.alternative}` : (f.instance ?? f.file);
  return [f.program, owner, f.target ? `service ${f.target.service}` : '', f.protocol, f.port, f.portEnd].join('\u0000');
}

function spanKey(f: PortFact): string {
  return `span\u0000${f.file}\u0000${f.span.start}\u0000${f.span.end}`;
}

/** Order of the host's binds: a group is reported at its first bind. */
type Rank = (f: PortFact) => number;

function byRank<T>(items: Iterable<T>, rank: (t: T) => number): T[] {
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/** "nginx", "docker service proxy": who holds a side, in a few words. */
function label(f: PortFact): string {
  return f.target ? `${f.program} service ${f.target.service}` : f.program;
}

/** What the context adds to the label, for related information: "server block at line 2 of default". */
function contextNote(f: PortFact): string {
  if (f.target) return '';
  let c = f.context.startsWith(`${f.program} `) ? f.context.slice(f.program.length + 1) : f.context;
  if (/^\(.*\)$/.test(c)) c = c.slice(1, -1);
  return c ? ` (${c})` : '';
}

function who(f: PortFact): string {
  return `${label(f)}${contextNote(f)}`;
}

function bindText(f: PortFact): string {
  return `${formatHostPort(f.family, f.address, f.port, f.portEnd)}/${f.protocol}`;
}

/** "0.0.0.0:80/tcp and [::]:80/tcp": the binds of some facts, each once. */
function bindsText(facts: readonly PortFact[]): string {
  return [...new Set(facts.map(bindText))].join(' and ');
}

/** Facts by the place they are written at, in rank order: the IPv4 and IPv6 binds of one `Port 22` are one place. */
function places(facts: readonly PortFact[], rank: Rank): PortFact[][] {
  const groups = new Map<string, PortFact[]>();
  for (const f of byRank(facts, rank)) {
    const list = groups.get(spanKey(f));
    if (list) list.push(f);
    else groups.set(spanKey(f), [f]);
  }
  return [...groups.values()];
}

/**
 * How a conflict's message names its port: "Port 80/tcp", "Port 8005/tcp (of 8000-8010)", "Port 22/tcp
 * (sshd's default)", "Port 8080/tcp on 127.0.0.1"; `overlap` narrows a range to the ports the others take.
 */
function portSubject(mine: readonly PortFact[], overlap?: { from: number; to: number }): string {
  const f = mine[0];
  const from = overlap ? Math.max(f.port, overlap.from) : f.port;
  const to = overlap ? Math.min(f.portEnd, overlap.to) : f.portEnd;
  const ports = from === to ? `Port ${from}` : `Ports ${from}-${to}`;
  const of = f.port !== f.portEnd && (from !== f.port || to !== f.portEnd) ? ` (of ${f.port}-${f.portEnd})` : '';
  const addresses = [...new Set(mine.map((m) => m.address))];
  const on = addresses.every((a) => a !== undefined) ? ` on ${addresses.join(' and ')}` : '';
  return `${ports}/${f.protocol}${on}${of}${f.implicit ? ` (${f.program}'s default)` : ''}`;
}

function overlapOf(others: readonly PortFact[]): { from: number; to: number } {
  return { from: minOf(others.map((o) => o.port)), to: maxOf(others.map((o) => o.portEnd)) };
}

/** Names places: "etc/nginx/sites-enabled/default:3", and a file (an instance's root) on its own. */
export interface Where {
  (f: PortFact): string;
  file(file: string): string;
}

/**
 * "docker service proxy (srv/shop/compose.yaml:6)", "nginx (default:3, +4 more)", "... and 2 others";
 * another instance of the program `mine` belongs to is named by its root file (two nginx may read one file).
 */
function sidesText(sides: readonly PortFact[][], where: Where, rank: Rank, self = '', mine?: PortFact): string {
  const [first, ...rest] = sides;
  if (!first) return 'another bind';
  const at = places(first, rank);
  const more = at.length > 1 ? `, +${at.length - 1} more` : '';
  const others = rest.length > 0 ? ` and ${rest.length} other${rest.length === 1 ? '' : 's'}` : '';
  const o = first[0];
  const another = mine && o.instance && o.program === mine.program && o.instance !== mine.instance && !o.target;
  const name = another ? `the ${o.program} of ${where.file(o.instance!)}` : `${self}${label(o)}`;
  return `${name} (${where(at[0][0])}${more})${others}`;
}

/**
 * What the program that binds later says: between two Docker publishes the daemon's port allocator
 * refuses ("Bind for 0.0.0.0:80 failed: port is already allocated"); otherwise bind() fails with
 * EADDRINUSE ("Address already in use", as nginx, sshd and docker-proxy log it).
 */
function failureText(mine: readonly PortFact[], others: readonly PortFact[]): string {
  const docker = (f: PortFact) => f.program === 'docker' && f.role === 'publish';
  return mine.every(docker) && others.every(docker) ? 'port is already allocated' : 'address already in use';
}

/** The related information of a side: each place of the other sides, then the other places of this one. */
function sideRelated(mine: readonly PortFact[], sides: readonly PortFact[][], rank: Rank): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const side of sides)
    for (const at of places(side, rank)) out.push({ file: at[0].file, span: at[0].span, message: `${who(at[0])} binds ${bindsText(at)}` });
  for (const at of places(mine, rank).slice(1))
    out.push({ file: at[0].file, span: at[0].span, message: `${who(at[0])} binds ${bindsText(at)} too: the same conflict` });
  return out;
}

/** The port-conflict kinds (`Finding.messageId`). */
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

/** The structured side of a conflict finding on `fact`, against the other sides (each named by its first bind). */
function conflictData(fact: PortFact, others: Iterable<PortFact>): FindingData {
  return {
    port: fact.port,
    portEnd: fact.portEnd,
    protocol: fact.protocol,
    program: fact.program,
    other: [...others].map((o) => ({ file: o.file, span: o.span, program: o.program, port: o.port, portEnd: o.portEnd })),
  };
}

/** One side of the conflicts of fixed binds: a bind group (or, inside one group, one place) and what it collides with. */
interface Side {
  key: string;
  /** Inside one bind group: the binds of one place against other places of the same group. */
  inside: boolean;
  mine: PortFact[];
  others: PortFact[];
}

/** Pairs of fixed binds that collide, noted on both sides; oneOf binds go to `choices`. */
function sweep(facts: readonly PortFact[], choices: StartOrderGroups): Map<string, Side> {
  const buckets = new Map<string, PortFact[]>();
  for (const fact of facts) {
    if (!isHostBind(fact)) continue;
    const list = buckets.get(fact.protocol);
    if (list) list.push(fact);
    else buckets.set(fact.protocol, [fact]);
  }
  const sides = new Map<string, Side>();
  const note = (key: string, inside: boolean, fact: PortFact, other: PortFact) => {
    let side = sides.get(key);
    if (!side) sides.set(key, (side = { key, inside, mine: [], others: [] }));
    if (!side.mine.includes(fact)) side.mine.push(fact);
    if (!side.others.includes(other)) side.others.push(other);
  };
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
        const inside = bindGroupKey(fact) === bindGroupKey(other);
        const key = inside ? spanKey : bindGroupKey;
        note(key(fact), inside, fact, other);
        note(key(other), inside, other, fact);
      }
      active.push(fact);
    }
  }
  return sides;
}

/** The finding of one side of fixed binds. */
function sideFinding(side: Side, sides: Map<string, Side>, where: Where, rank: Rank): Finding {
  const mine = byRank(side.mine, rank);
  const fact = mine[0];
  // The other sides, each named by its own first bind (where its finding stands).
  const grouped = new Map<string, PortFact[]>();
  for (const o of side.others) {
    const k = side.inside ? spanKey(o) : bindGroupKey(o);
    const list = grouped.get(k);
    if (list) list.push(o);
    else grouped.set(k, [o]);
  }
  const firstOf = (k: string, list: PortFact[]) => byRank(sides.get(k)?.mine ?? list, rank)[0];
  const others = byRank(
    [...grouped].map(([k, list]) => ({ first: firstOf(k, list), list: byRank(list, rank) })),
    (s) => rank(s.first),
  );
  const otherFacts = others.map((s) => s.list);
  const base = {
    file: fact.file,
    span: fact.span,
    code: 'port-conflict' as const,
    data: conflictData(
      fact,
      others.map((s) => s.first),
    ),
    related: sideRelated(mine, otherFacts, rank),
  };
  const subject = portSubject(mine, overlapOf(side.others));
  if (side.inside && side.others.every((o) => sameSshd(fact, o))) {
    return {
      ...base,
      severity: 'warning',
      messageId: CONFLICT_MESSAGES.sshdTwice,
      message: `${subject} is bound twice by this sshd (also ${others.map((s) => where(s.first)).join(', ')}): one bind fails, sshd serves on the rest`,
    };
  }
  const verb = others[0].first.role === 'publish' ? 'published' : 'bound';
  const plural = subject.startsWith('Ports ') ? 'are' : 'is';
  return {
    ...base,
    severity: 'error',
    messageId: CONFLICT_MESSAGES.taken,
    message: `${subject} ${plural} also ${verb} by ${sidesText(otherFacts, where, rank, side.inside ? 'this ' : '', fact)}: ${failureText(mine, side.others)}`,
  };
}

/**
 * The port-conflict findings among the binds of one host (listeners and published host ports; other
 * facts are skipped): one per side of each conflict, a side being a bind group (`bindGroupKey`), at its
 * first bind in the order of `facts`; the other sides in the related information.
 */
export function conflictFindings(facts: readonly PortFact[], lineOf: LineOf, shownPath: (file: string) => string): Finding[] {
  const order = new Map<PortFact, number>();
  facts.forEach((f, i) => order.set(f, i));
  const rank: Rank = (f) => order.get(f) ?? facts.length;
  const choices = new StartOrderGroups(rank);
  const sides = sweep(facts, choices);
  const where: Where = Object.assign((f: PortFact) => `${shownPath(f.file)}:${lineOf(f.file, f.span.start)}`, { file: shownPath });
  const findings = [...sides.values()].map((side) => sideFinding(side, sides, where, rank));
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

class StartOrderGroups {
  private readonly mappings = new Map<string, Atom>();
  private readonly fixed = new Map<PortFact, Atom>();
  private readonly atoms: Atom[] = [];

  constructor(private readonly rank: Rank) {}

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

  findings(where: Where): Finding[] {
    const groups = new Map<Atom, Atom[]>();
    for (const atom of this.atoms) {
      const r = this.root(atom);
      const g = groups.get(r);
      if (g) g.push(atom);
      else groups.set(r, [atom]);
    }
    // The atoms of one bind group (sshd's `Port 8000` binds 0.0.0.0 and [::]; nginx's `listen 8000` and
    // `listen [::]:8000`) are one side: one finding, at its first bind.
    const bySide = new Map<string, { atom: Atom; verdict: StartOrderVerdict }[]>();
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
        const key = bindGroupKey(atom.facts[0]);
        const list = bySide.get(key);
        if (list) list.push({ atom, verdict });
        else bySide.set(key, [{ atom, verdict }]);
      }
    }
    const out: Finding[] = [];
    for (const entries of bySide.values()) {
      const errors = entries.filter((e) => e.verdict.always);
      out.push(
        errors.length > 0
          ? shortageFinding(
              errors.map((e) => e.atom),
              where,
              this.rank,
            )
          : startOrderFinding(entries, where, this.rank),
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

/** "8000-8001/tcp": the range a oneOf atom takes a port of. */
function rangeText(atom: Atom): string {
  const f = atom.facts[0];
  return `${f.port}-${f.portEnd}/${f.protocol}`;
}

/** Atoms by bind group, each group's facts in rank order, groups in the order of their first bind. */
function sidesOf(atoms: Iterable<Atom>, rank: Rank): PortFact[][] {
  const groups = new Map<string, PortFact[]>();
  for (const a of atoms)
    for (const f of a.facts) {
      const key = bindGroupKey(f);
      const g = groups.get(key);
      if (g) g.push(f);
      else groups.set(key, [f]);
    }
  return byRank(
    [...groups.values()].map((g) => byRank(g, rank)),
    (g) => rank(g[0]),
  );
}

function what(facts: PortFact[], oneOf: boolean): string {
  const f = facts[0];
  return oneOf
    ? `${who(f)} takes one free port of ${bindsText(facts)} when its container starts`
    : `${who(f)} binds ${bindsText(facts)}${f.implicit ? ' (its default)' : ''}`;
}

/** Each place of the other sides, then the other places of this side. */
function relatedOf(mine: Atom[], others: Iterable<Atom>, rank: Rank): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  const add = (atoms: Iterable<Atom>, suffix: string, skipFirst: boolean) => {
    const oneOf = new Set([...atoms].filter((a) => a.oneOf).flatMap((a) => a.facts));
    const at = places(
      [...atoms].flatMap((a) => a.facts),
      rank,
    );
    for (const p of skipFirst ? at.slice(1) : at) out.push({ file: p[0].file, span: p[0].span, message: `${what(p, oneOf.has(p[0]))}${suffix}` });
  };
  add(others, '', false);
  add(mine, ' too: the same conflict', true);
  return out;
}

function union<T>(sets: Iterable<Iterable<T>>): Set<T> {
  const out = new Set<T>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

function firstFact(atoms: readonly Atom[], rank: Rank): PortFact {
  return byRank(
    atoms.flatMap((a) => a.facts),
    rank,
  )[0];
}

/** Some bind fails in every start order: not enough ports of the range for every bind that needs one. */
function shortageFinding(atoms: Atom[], where: Where, rank: Rank): Finding {
  const f = firstFact(atoms, rank);
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
      sidesOf(partners, rank).map((s) => s[0]),
    ),
    related: relatedOf(atoms, partners, rank),
  };
  const chooser = atoms.find((a) => a.oneOf);
  if (chooser) {
    const size = f.portEnd - f.port + 1;
    const takers = [...partners].filter((p) => !p.oneOf);
    const rivals = [...partners].filter((p) => p.oneOf);
    const free = size - portsHeld(chooser, takers);
    const containers = rivals.length === 0 ? 'this container' : `${rivals.length + 1} containers`;
    const why =
      takers.length > 0
        ? `${size - free} taken by ${sidesText(sidesOf(takers, rank), where, rank)}`
        : `this one, ${sidesText(sidesOf(rivals, rank), where, rank)}`;
    const ports = free === 0 ? 'no free port' : `${free} free port${free === 1 ? '' : 's'}`;
    return { ...base, message: `Ports ${rangeText(chooser)} have ${ports} for ${containers}: ${why}` };
  }
  const ranges = [...partners].filter((p) => p.oneOf);
  return {
    ...base,
    message: `${portSubject(
      byRank(
        atoms.flatMap((a) => a.facts),
        rank,
      ),
    )} is also wanted by ${sidesText(sidesOf(ranges, rank), where, rank)}: too few ports, a bind fails in every start order`,
  };
}

/** Some start orders bind everything and others do not: a warning on every side involved. */
function startOrderFinding(entries: { atom: Atom; verdict: StartOrderVerdict }[], where: Where, rank: Rank): Finding {
  const atoms = entries.map((e) => e.atom);
  const f = firstFact(atoms, rank);
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
  const sides = (set: Iterable<Atom>) => sidesText(sidesOf(set, rank), where, rank);
  const chooser = atoms.find((a) => a.oneOf);
  let message: string;
  if (chooser) {
    const range = `Ports ${rangeText(chooser)}`;
    if (!known) message = `${range}: which one this container gets depends on start order (${sides(shown)})`;
    else if (victims.size > 0) message = `${range}: started first, this container may take a port ${sides(victims)} needs`;
    else message = `${range}: started after ${sides(culprits)}, this container may find none free`;
  } else {
    const subject = portSubject(
      byRank(
        atoms.flatMap((a) => a.facts),
        rank,
      ),
    );
    if (culprits.size > 0 || !known) message = `${subject} may be taken by ${sides(known ? culprits : shown)} if it starts first: address already in use`;
    else message = `${subject}: if ${f.program} starts first, ${sides(victims)} may find no port of its range free`;
  }
  return {
    file: f.file,
    span: f.span,
    severity: 'warning',
    code: 'port-conflict',
    messageId: CONFLICT_MESSAGES.startOrder,
    data: conflictData(
      f,
      sidesOf(shown, rank).map((s) => s[0]),
    ),
    message,
    related: relatedOf(atoms, shown, rank),
  };
}
