/**
 * port-conflict: which binds of one host collide, judged the way the kernel judges bind():
 * same protocol, overlapping ports, overlapping addresses (the same address, or a wildcard against
 * any address of its family; an IPv6 wildcard that is not v6-only also covers IPv4), minus the
 * sharing a program does inside itself (one nginx serves `listen 80` and `listen 127.0.0.1:80`
 * from one socket), UDP sockets that both carry SO_REUSEADDR and sockets that both carry
 * SO_REUSEPORT. test/oracle/kernel.test.ts checks this against real binds of sshd, nginx and a
 * Docker stand-in.
 */
import { formatHostPort } from './address';
import type { Finding, PortFact } from './types';
import type { HostFact } from './hostRules';

export type LineOf = (file: string, offset: number) => number;

export function isHostBind(fact: PortFact): boolean {
  return fact.role === 'listen' || fact.role === 'publish';
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
 * Programs whose UDP sockets carry SO_REUSEADDR (nginx sets it on every listening socket). Linux
 * lets two UDP sockets that both set it bind overlapping addresses and ports, so neither bind fails.
 */
const UDP_REUSEADDR_PROGRAMS = new Set(['nginx']);

function bothReuseUdpAddress(a: PortFact, b: PortFact): boolean {
  return a.protocol === 'udp' && b.protocol === 'udp' && UDP_REUSEADDR_PROGRAMS.has(a.program) && UDP_REUSEADDR_PROGRAMS.has(b.program);
}

/** Linux lets sockets that both set SO_REUSEPORT share an address:port when one user owns both (nginx binds as root). */
function bothReusePort(a: PortFact, b: PortFact): boolean {
  return !!a.reusePort && !!b.reusePort;
}

/** A bind that takes one free port of its range fails only when the other side covers the whole range. */
function coversChoice(chooser: PortFact, other: PortFact): boolean {
  return !chooser.oneOf || (other.port <= chooser.port && other.portEnd >= chooser.portEnd);
}

export function collide(a: PortFact, b: PortFact): boolean {
  return (
    a.protocol === b.protocol &&
    a.port <= b.portEnd &&
    b.port <= a.portEnd &&
    coversChoice(a, b) &&
    coversChoice(b, a) &&
    addressesOverlap(a, b) &&
    !sharedInsideProgram(a, b) &&
    !bothReuseUdpAddress(a, b) &&
    !bothReusePort(a, b)
  );
}

/**
 * One sshd binding an address twice (a repeated Port, 0.0.0.0 beside 127.0.0.1) gets EADDRINUSE on
 * the later bind, logs it and serves on its other sockets: worth a warning, not an error.
 */
function sameSshd(a: PortFact, b: PortFact): boolean {
  return a.program === 'sshd' && b.program === 'sshd' && !!a.instance && a.instance === b.instance;
}

function who(f: PortFact): string {
  return `${f.program} (${f.context})`;
}

export function conflictFindings(facts: HostFact[], lineOf: LineOf, shownPath: (file: string) => string): Finding[] {
  // Bucket by host and protocol, then sweep over port ranges.
  const buckets = new Map<string, PortFact[]>();
  for (const { fact, host } of facts) {
    if (!isHostBind(fact)) continue;
    const key = `${host}\u0000${fact.protocol}`;
    const list = buckets.get(key);
    if (list) list.push(fact);
    else buckets.set(key, [fact]);
  }
  const bySpan = new Map<string, { fact: PortFact; others: PortFact[] }>();
  const note = (fact: PortFact, other: PortFact) => {
    const key = `${fact.file}\u0000${fact.span.start}\u0000${fact.span.end}`;
    let entry = bySpan.get(key);
    if (!entry) bySpan.set(key, (entry = { fact, others: [] }));
    if (!entry.others.some((o) => o.file === other.file && o.span.start === other.span.start && o.program === other.program && o.port === other.port)) entry.others.push(other);
  };
  for (const list of buckets.values()) {
    list.sort((x, y) => x.port - y.port);
    const active: PortFact[] = [];
    for (const fact of list) {
      // Drop ranges that end before this one starts.
      for (let i = active.length - 1; i >= 0; i--) if (active[i].portEnd < fact.port) active.splice(i, 1);
      for (const other of active) {
        if (!collide(fact, other)) continue;
        note(fact, other);
        note(other, fact);
      }
      active.push(fact);
    }
  }
  const findings: Finding[] = [];
  for (const { fact, others } of bySpan.values()) {
    const parts = others.map((o) => {
      const from = Math.max(fact.port, o.port);
      const to = Math.min(fact.portEnd, o.portEnd);
      const ports = from === to ? `${from}` : `${from}-${to}`;
      return { o, text: `${who(o)} binds ${formatHostPort(o.family, o.address, o.port, o.portEnd)}/${o.protocol} at ${shownPath(o.file)}:${lineOf(o.file, o.span.start)} — overlapping port${from === to ? '' : 's'} ${ports}` };
    });
    const mine = formatHostPort(fact.family, fact.address, fact.port, fact.portEnd);
    if (others.every((o) => sameSshd(fact, o))) {
      findings.push({
        file: fact.file,
        span: fact.span,
        severity: 'warning',
        code: 'port-conflict',
        message: `sshd binds ${mine}/${fact.protocol} more than once (${parts.map((p) => p.text).join('; ')}): the later bind() fails with "Address already in use"; sshd logs it and keeps serving on its other sockets.`,
        related: parts.map(({ o }) => ({ file: o.file, span: o.span, message: `sshd binds ${formatHostPort(o.family, o.address, o.port, o.portEnd)}/${o.protocol}` })),
      });
      continue;
    }
    findings.push({
      file: fact.file,
      span: fact.span,
      severity: 'error',
      code: 'port-conflict',
      message: `${who(fact)} binds ${mine}/${fact.protocol}${fact.implicit ? ' (its default)' : ''}, but on this host ${parts.map((p) => p.text).join('; and ')}. Only one of them can bind it: the later one fails with "Address already in use".`,
      related: parts.map(({ o }) => ({ file: o.file, span: o.span, message: `${who(o)} binds ${formatHostPort(o.family, o.address, o.port, o.portEnd)}/${o.protocol}` })),
    });
  }
  return findings;
}
