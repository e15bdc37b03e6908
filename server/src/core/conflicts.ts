/**
 * port-conflict: which binds of one host collide, judged the way the kernel judges bind():
 * same protocol, overlapping ports, overlapping addresses (the same address, or a wildcard against
 * any address of its family; an IPv6 wildcard that is not v6-only also covers IPv4), minus the
 * sharing a program does inside itself (one nginx serves `listen 80` and `listen 127.0.0.1:80`
 * from one socket; one sshd logs a failed duplicate bind and carries on).
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

/** Binds of one running program that the program itself shares rather than binding twice. */
function sharedInsideProgram(a: PortFact, b: PortFact): boolean {
  if (!a.instance || a.instance !== b.instance || a.program !== b.program) return false;
  if (a.program === 'nginx') {
    // The same address:port in several server blocks is virtual hosting; a specific address beside
    // the wildcard is served from the wildcard socket unless it asks for a bind() of its own.
    if (a.family === b.family && a.address === b.address) return true;
    return !(a.separateBind || b.separateBind);
  }
  // sshd reports a failed duplicate bind and keeps its other sockets; a repeated compose mapping is merged.
  return true;
}

export function collide(a: PortFact, b: PortFact): boolean {
  return a.protocol === b.protocol && a.port <= b.portEnd && b.port <= a.portEnd && addressesOverlap(a, b) && !sharedInsideProgram(a, b);
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
        if (other.file === fact.file && other.span.start === fact.span.start && other.span.end === fact.span.end) continue;
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
