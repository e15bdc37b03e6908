/**
 * What every quick fix shares, whatever the format: applying edits to a text, rewriting a port that
 * is written as plain digits, choosing free ports near an original one, and building the "Use port N"
 * fixes a rule offers on one side of a finding. The format-specific writing lives in each format's
 * `writer.ts` (reached through `FormatModule.writer`, `FormatWriter` in types.ts). Pure.
 */
import type { HostModel, RuleContext } from './hostModel';
import { MAX_PORT, type NamedRange } from './portRanges';
import type { PortRegistry } from './registry';
import type { Fix, PortFact, Protocol, TextEdit } from './types';

/** The text after `edits` (offsets into the original text; edits must not overlap). */
export function applyEdits(text: string, edits: readonly { span: { start: number; end: number }; newText: string }[]): string {
  const sorted = [...edits].sort((a, b) => b.span.start - a.span.start || b.span.end - a.span.end);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.span.end > limit) throw new Error('overlapping edits');
    out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
    limit = e.span.start;
  }
  return out;
}

/** Whether two edits touch the same text (or insert at the same place). */
export function editsOverlap(a: TextEdit, b: TextEdit): boolean {
  if (a.file !== b.file) return false;
  if (a.span.start === a.span.end || b.span.start === b.span.end) return a.span.start <= b.span.end && b.span.start <= a.span.end;
  return a.span.start < b.span.end && b.span.start < a.span.end;
}

/** How a port or range is written: `8080`, `8000-8010`. */
export function portText(port: number, portEnd: number): string {
  return portEnd !== port ? `${port}-${portEnd}` : String(port);
}

/**
 * The edit that rewrites a fact's port when its span holds exactly the digits of it (`8080`,
 * `8000-8010`): anything else (a variable, a service name, a default nobody wrote) is not rewritten.
 * Every format whose port is a plain token can use this as its `setPort`.
 */
export function setLiteralPort(text: string, fact: PortFact, port: number, portEnd: number): TextEdit[] | undefined {
  if (fact.implicit) return undefined;
  if (text.slice(fact.span.start, fact.span.end) !== portText(fact.port, fact.portEnd)) return undefined;
  return [{ file: fact.file, span: fact.span, newText: portText(port, portEnd) }];
}

/** An upstream's port written as plain digits (`server s1 127.0.0.1:3001`, `reverse_proxy 127.0.0.1:3001`) pointed at `port`: a `setUpstreamPort` for formats without implied ports. */
export function setLiteralUpstreamPort(text: string, fact: PortFact, port: number): TextEdit[] | undefined {
  // The port of `host:port` only: digits standing alone there are a host (`reverse_proxy 80` is no port of Caddy's).
  if (fact.role !== 'upstream' || text[fact.span.start - 1] !== ':') return undefined;
  return setLiteralPort(text, fact, port, port);
}

export interface FreePortOptions {
  ephemeralRanges: readonly NamedRange[];
  registry?: PortRegistry;
  /** How many ports to find (2-3 for a menu). */
  count: number;
  /** Only ports below this (for moving out of the ephemeral ranges). */
  below?: number;
  /** How far from the original to look. */
  reach?: number;
}

/** Every port some fact of the host mentions (bind, publish, container, upstream, firewall, forward), as a test. */
/** Which ports a host's facts use, made once per host model (a rule asks for every finding: 13,000 ephemeral listens of one nginx). */
const usedCache = new WeakMap<HostModel, { facts: readonly PortFact[]; count: number; used: (port: number) => boolean }>();

function usedOn(host: HostModel): (port: number) => boolean {
  const cached = usedCache.get(host);
  if (cached && cached.facts === host.facts && cached.count === host.facts.length) return cached.used;
  const singles = new Set<number>();
  const wide: [number, number][] = [];
  for (const f of host.facts) {
    if (f.portEnd - f.port < 64) for (let p = f.port; p <= f.portEnd; p++) singles.add(p);
    else wide.push([f.port, f.portEnd]);
  }
  const used = (port: number) => singles.has(port) || wide.some(([a, b]) => port >= a && port <= b);
  usedCache.set(host, { facts: host.facts, count: host.facts.length, used });
  return used;
}

/**
 * Starts of blocks of `width` ports for `from` that nothing on the host uses (no bind, publish,
 * upstream or firewall mention) and outside the ephemeral ranges, in this order:
 * 1. the service's conventional alternates (curated data: 80 -> 8080, 8000; 443 -> 8443; 22 -> 2222),
 *    for a single port not being moved below the ephemeral ranges;
 * 2. the nearest ports that are not a well-known service's (PortRegistry.isWellKnown: the curated
 *    list, and /etc/services below 1024), upward before downward at the same distance (8080 -> 8081,
 *    8079, 8082), within `reach`;
 * 3. only when too few are left, the nearest well-known ones.
 * Beyond the alternates a port stays in its class: below 1024 (privileged: the program binds it as
 * root, clients expect a system port) only for an original below 1024, and never below 1024 for one
 * above. With `below`, ports just under that bound, highest first (out of the ephemeral ranges).
 */
export function freePortsNear(host: HostModel, from: number, width: number, protocol: Protocol, opts: FreePortOptions): number[] {
  // Moving below the ephemeral ranges looks down from the bound whatever the original: one answer per host and width.
  if (opts.below === undefined || from + width <= opts.below) return searchFreePorts(host, from, width, protocol, opts);
  let byKey = belowCache.get(host);
  if (!byKey || byKey.facts !== host.facts || byKey.count !== host.facts.length)
    belowCache.set(host, (byKey = { facts: host.facts, count: host.facts.length, answers: new Map() }));
  const key = `${width}\u0000${protocol}\u0000${opts.below}\u0000${from < 1024}\u0000${opts.count}\u0000${opts.reach}`;
  const cached = byKey.answers.get(key);
  if (cached && cached.ranges === opts.ephemeralRanges && cached.registry === opts.registry) return [...cached.starts];
  const starts = searchFreePorts(host, from, width, protocol, opts);
  byKey.answers.set(key, { ranges: opts.ephemeralRanges, registry: opts.registry, starts });
  return [...starts];
}

/** The answers of `freePortsNear` below the ephemeral ranges, per host model (13,000 ephemeral listens of one nginx ask the same question). */
const belowCache = new WeakMap<
  HostModel,
  { facts: readonly PortFact[]; count: number; answers: Map<string, { ranges: readonly NamedRange[]; registry?: PortRegistry; starts: number[] }> }
>();

function searchFreePorts(host: HostModel, from: number, width: number, protocol: Protocol, opts: FreePortOptions): number[] {
  const used = usedOn(host);
  const reach = opts.reach ?? 200;
  const [lowest, top] = from < 1024 ? [1, 1023] : [1024, MAX_PORT];
  const highest = Math.min(top - width + 1, (opts.below ?? MAX_PORT + 1) - width);
  const free = (start: number) => {
    if (start < 1 || start + width - 1 > MAX_PORT || start === from) return false;
    if (opts.below !== undefined && start + width > opts.below) return false;
    if (opts.ephemeralRanges.some((r) => start <= r.to && start + width - 1 >= r.from)) return false;
    for (let p = start; p < start + width; p++) if (used(p)) return false;
    return true;
  };
  const known = (start: number) => {
    for (let p = start; p < start + width; p++) if (opts.registry?.isWellKnown(protocol, p)) return true;
    return false;
  };
  const alternates = width === 1 && opts.below === undefined ? (opts.registry?.alternatesOf(protocol, from) ?? []).filter(free) : [];
  const order: number[] = [];
  if (opts.below !== undefined && from + width > opts.below) {
    for (let d = 0; d <= reach * 8 && order.length < reach * 4; d++) order.push(highest - d);
  } else {
    for (let d = 1; d <= reach; d++) order.push(from + d, from - d);
  }
  const plain: number[] = [];
  const registered: number[] = [];
  for (const start of order) {
    if (start < lowest || start > highest || alternates.includes(start) || !free(start)) continue;
    (known(start) ? registered : plain).push(start);
    if (alternates.length + plain.length >= opts.count) break;
  }
  return [...alternates, ...plain, ...registered].slice(0, opts.count);
}

/**
 * "Use port N" on one side of a finding: the fact's file rewritten by its format's writer, for 2-3
 * free ports near the original. The first is preferred when `preferFirst` (the move is clearly right).
 */
export function usePortFixes(ctx: RuleContext, host: HostModel, fact: PortFact, opts: { below?: number; preferFirst: boolean; why: string }): Fix[] {
  const writer = ctx.writerOf?.(fact.file);
  const text = ctx.textOf?.(fact.file);
  if (!writer?.setPort || text === undefined || fact.implicit) return [];
  const width = fact.portEnd - fact.port + 1;
  const starts = freePortsNear(host, fact.port, width, fact.protocol, {
    ephemeralRanges: ctx.settings.ephemeralRanges,
    registry: ctx.registry,
    count: 3,
    below: opts.below,
  });
  const fixes: Fix[] = [];
  for (const start of starts) {
    const end = start + width - 1;
    const edits = writer.setPort(text, fact, start, end);
    if (!edits) return [];
    fixes.push({
      title: `Use port ${portText(start, end)} ${opts.why}`,
      edits,
      preferred: opts.preferFirst && fixes.length === 0 ? true : undefined,
      takes: [{ protocol: fact.protocol, port: start, portEnd: end }],
    });
  }
  return fixes;
}

/** The bind of the host a finding is about (same file and span). */
const bindIndex = new WeakMap<HostModel, { binds: readonly PortFact[]; count: number; byPlace: Map<string, PortFact> }>();

export function factAt(host: HostModel, file: string, span: { start: number; end: number }): PortFact | undefined {
  let index = bindIndex.get(host);
  if (!index || index.binds !== host.binds || index.count !== host.binds.length) {
    const byPlace = new Map<string, PortFact>();
    for (const b of host.binds) {
      const key = `${b.span.start}:${b.span.end}:${b.file}`;
      if (!byPlace.has(key)) byPlace.set(key, b); // the first, as a search from the start finds
    }
    bindIndex.set(host, (index = { binds: host.binds, count: host.binds.length, byPlace }));
  }
  return index.byPlace.get(`${span.start}:${span.end}:${file}`);
}
