/**
 * Service names a program cannot resolve (`unknown-service`, rules/unknown-service.ts): the finding
 * the format readers report, and its "Use NAME" fixes, the registered names closest to what is
 * written. A name is close when its edit distance (Levenshtein, ignoring case) is at most 1 for a
 * name of up to 5 characters and at most 2 for a longer one, or when one is the other with a tail
 * added (`postgres` -> `postgresql`). Pure.
 */
import type { PortRegistry } from './registry';
import type { Finding, Fix, Protocol, Severity, Span } from './types';

/** The messageIds of `unknown-service` (its rule's `meta.messages` documents them). */
export const UNKNOWN_SERVICE_MESSAGES = {
  /** A port written as a name that /etc/services (getservbyname) does not list for the protocol. */
  portName: 'port-name',
  /** A firewalld `<service name>` that is neither a stock service nor one of the workspace's services/*.xml. */
  firewalldService: 'firewalld-service',
} as const;

/** Whether a port argument is written as a name (a letter first, then the characters /etc/services names use), not a malformed number. */
export function looksLikeServiceName(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._+-]*$/.test(text);
}

/** Levenshtein distance (insert, delete, substitute), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[t.length];
}

/** How far a candidate may be from what is written. */
function reach(name: string): number {
  return name.length <= 2 ? 0 : name.length <= 5 ? 1 : 2;
}

/**
 * The known names close to `name`, closest first (then alphabetical), at most `max`. `sameAs` groups
 * names that mean the same thing (aliases of one port in /etc/services): only the closest of each
 * group is kept.
 */
export function closeNames(name: string, known: Iterable<string>, sameAs: (n: string) => string = (n) => n, max = 3): string[] {
  const scored: { n: string; d: number }[] = [];
  for (const n of known) {
    if (n === name) continue;
    const d = editDistance(name, n);
    const tail = n.toLowerCase().startsWith(name.toLowerCase()) && name.length >= 4 && n.length - name.length <= 3;
    if (d <= reach(name) || tail) scored.push({ n, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : x.n > y.n ? 1 : 0));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of scored) {
    const group = sameAs(s.n);
    if (seen.has(group)) continue;
    seen.add(group);
    out.push(s.n);
  }
  return out.slice(0, max);
}

/**
 * "Use NAME" fixes: each rewrites the name at `span` (which holds it exactly, as written) to a close
 * registered name; preferred when there is exactly one.
 */
export function useNameFixes(file: string, span: Span, candidates: readonly string[], write: (name: string) => string = (n) => n): Fix[] {
  return candidates.map((n) => ({
    title: `Use ${n}`,
    edits: [{ file, span, newText: write(n) }],
    ...(candidates.length === 1 ? { preferred: true } : {}),
  }));
}

/** The names a resolver knows for a protocol (any protocol when none), and which of them are one port. */
export interface KnownNames {
  names: readonly string[];
  sameAs: (n: string) => string;
}
export type KnownServices = (protocol?: Protocol) => KnownNames;

/** The names the registry's serviceToPort resolves (getservbyname over /etc/services), per protocol, computed once each. */
export function knownServicesOf(registry: PortRegistry): KnownServices {
  const cache = new Map<string, KnownNames>();
  return (protocol) => {
    const key = protocol ?? '';
    let k = cache.get(key);
    if (!k) {
      k = { names: registry.serviceNames(protocol), sameAs: (n) => String(registry.serviceToPort(n, protocol)) };
      cache.set(key, k);
    }
    return k;
  };
}

/**
 * getservbyname over the registry, as the format readers take it: the port of a name (for the
 * protocol given, or `fixed`'s), and the names it knows (`known`, for the "Use NAME" fixes).
 */
export interface ServiceLookup {
  (name: string, protocol?: Protocol): number | undefined;
  known?: KnownServices;
}

export function serviceLookup(registry: PortRegistry, fixed?: Protocol): ServiceLookup {
  const known = knownServicesOf(registry);
  const lookup: ServiceLookup = (name, protocol) => registry.serviceToPort(name, protocol ?? fixed);
  lookup.known = (protocol) => known(protocol ?? fixed);
  return lookup;
}

export interface UnknownServiceOptions {
  messageId: (typeof UNKNOWN_SERVICE_MESSAGES)[keyof typeof UNKNOWN_SERVICE_MESSAGES];
  program: string;
  protocol?: Protocol;
  severity?: Severity;
  /** The names the program knows (for the "Use NAME" fixes); `sameAs` groups aliases (see closeNames). */
  known?: { names: Iterable<string>; sameAs?: (n: string) => string };
  /** Whether `span` holds the name exactly as written, so that a fix may rewrite it. */
  rewritable?: boolean;
}

/** The `unknown-service` finding on a name at `span`, with "Use NAME" fixes for the close registered names. */
export function unknownService(file: string, span: Span, name: string, message: string, opts: UnknownServiceOptions): Finding {
  const finding: Finding = {
    file,
    span,
    severity: opts.severity ?? 'error',
    code: 'unknown-service',
    message,
    messageId: opts.messageId,
    data: { service: name, program: opts.program, ...(opts.protocol ? { protocol: opts.protocol } : {}) },
  };
  if (opts.known && opts.rewritable !== false) {
    const fixes = useNameFixes(file, span, closeNames(name, opts.known.names, opts.known.sameAs));
    if (fixes.length) finding.fixes = fixes;
  }
  return finding;
}
