/**
 * Which port mentions of a host mean the same socket, shared by references, definition, rename,
 * code lens and hover. Pure over the engine's read-only views (no LSP types).
 *
 * A mention is one written port (one fact per span: the IPv4 and IPv6 binds of one `Port 22` or one
 * compose publish are one mention). The uses of a host port are its binds, the firewall rules and
 * forwards about it, and the upstreams pointing at this host; a compose publish also reaches the
 * container port behind it (a use, but not the host's port: rename leaves it alone). Mentions a format linked
 * itself (`PortFact.pointsTo`: a Kubernetes nodePort, Service port, targetPort, container port, Ingress
 * backend) are one chain: references list the whole chain, definition follows it one step.
 */
import type { Engine } from '../core/engine';
import { isBind } from '../core/hostModel';
import type { PortFact } from '../core/types';

/** The mention under `offset` in `file` (the first fact whose span covers it). */
export function mentionAt(engine: Engine, file: string, offset: number): PortFact | undefined {
  return engine.factsAt(file, offset)[0];
}

const spanKey = (f: PortFact) => `${f.file}\u0000${f.span.start}\u0000${f.span.end}`;

/** One fact per written port, in first-seen order. */
export function onePerMention(facts: readonly PortFact[]): PortFact[] {
  const seen = new Set<string>();
  const out: PortFact[] = [];
  for (const f of facts) {
    const key = spanKey(f);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

export function pointsAtThisHost(address: string | undefined): boolean {
  if (address === undefined) return true;
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a === '0.0.0.0' || a === '::';
}

interface PointsIndex {
  /** The fact written at each span that takes part in a link. */
  at: Map<string, PortFact>;
  /** span -> the facts pointing at it. */
  into: Map<string, PortFact[]>;
}

const pointsIndexes = new WeakMap<object, PointsIndex>();
const targetKey = (t: { file: string; span: { start: number; end: number } }) => `${t.file}\u0000${t.span.start}\u0000${t.span.end}`;

/** Every `pointsTo` link of the analysis, both ways (made once per analysis). */
function pointsIndex(engine: Engine): PointsIndex {
  const result = engine.analyze();
  let index = pointsIndexes.get(result);
  if (index) return index;
  index = { at: new Map(), into: new Map() };
  const linked = result.facts.filter(({ fact }) => fact.pointsTo);
  const wanted = new Set<string>();
  for (const { fact } of linked) for (const t of fact.pointsTo!) wanted.add(targetKey(t));
  for (const { fact } of result.facts) {
    const key = spanKey(fact);
    if ((fact.pointsTo || wanted.has(key)) && !index.at.has(key)) index.at.set(key, fact);
  }
  for (const { fact } of linked) {
    for (const t of fact.pointsTo!) {
      const key = targetKey(t);
      const list = index.into.get(key);
      if (!list) index.into.set(key, [fact]);
      else if (!list.includes(fact)) list.push(fact);
    }
  }
  pointsIndexes.set(result, index);
  return index;
}

/** The mentions `fact` sends its traffic to, as its format linked them (one step). */
export function pointedAt(engine: Engine, fact: PortFact): PortFact[] {
  if (!fact.pointsTo) return [];
  const { at } = pointsIndex(engine);
  return onePerMention(fact.pointsTo.map((t) => at.get(targetKey(t))).filter((f): f is PortFact => !!f));
}

/** The mentions pointing at `fact` (one step back). */
export function pointingAt(engine: Engine, fact: PortFact): PortFact[] {
  return onePerMention(pointsIndex(engine).into.get(spanKey(fact)) ?? []);
}

/** The whole chain of linked mentions `fact` is part of, `fact` first (only `fact` when it has no links). */
export function linkedChain(engine: Engine, fact: PortFact): PortFact[] {
  const out = [fact];
  const seen = new Set([spanKey(fact)]);
  for (let i = 0; i < out.length; i++) {
    for (const next of [...pointedAt(engine, out[i]), ...pointingAt(engine, out[i])]) {
      const key = spanKey(next);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(next);
    }
  }
  return out;
}

/** The container port of the same `ports:` item as a compose publish (the nearest one of its service, no other publish between). */
export function containerBehind(engine: Engine, publish: PortFact): PortFact | undefined {
  const facts = engine.analyze().factsByFile.get(publish.file) ?? [];
  const sameService = facts.filter((f) => f.context === publish.context && f.protocol === publish.protocol);
  const containers = sameService.filter((f) => f.role === 'container');
  const publishes = onePerMention(sameService.filter((f) => f.role === 'publish'));
  const distance = (a: PortFact, b: PortFact) => Math.abs(a.span.start - b.span.start);
  let best: PortFact | undefined;
  for (const c of containers) {
    const nearest = publishes.reduce((x, y) => (distance(c, y) < distance(c, x) ? y : x), publishes[0]);
    if (nearest && spanKey(nearest) === spanKey(publish) && (!best || distance(c, publish) < distance(best, publish))) best = c;
  }
  return best;
}

/** The compose publish a container port sits behind, if any. */
function publishInFront(engine: Engine, container: PortFact): PortFact | undefined {
  const facts = engine.analyze().factsByFile.get(container.file) ?? [];
  return onePerMention(facts.filter((f) => f.role === 'publish' && f.context === container.context)).find((p) => containerBehind(engine, p) === container);
}

/**
 * Every mention on the host that uses the port of `fact`, `fact` first. For a container port: itself
 * and the publish in front of it. For an upstream to another machine: the upstreams to the same
 * address and port.
 */
export function usesOf(engine: Engine, fact: PortFact): PortFact[] {
  if (fact.kubeField) return linkedChain(engine, fact);
  if (fact.role === 'container') {
    const publish = publishInFront(engine, fact);
    return publish ? [fact, publish] : [fact];
  }
  if (fact.role === 'upstream' && !pointsAtThisHost(fact.address)) {
    const host = engine.hosts.hostOf(fact.file);
    const same = engine
      .analyze()
      .facts.filter(
        ({ fact: o, host: h }) => h === host && o.role === 'upstream' && o.address === fact.address && o.port === fact.port && o.protocol === fact.protocol,
      )
      .map(({ fact: o }) => o);
    return onePerMention([fact, ...same]);
  }
  const uses = onePerMention([fact, ...engine.sameHostUses(fact)]);
  const out: PortFact[] = [];
  for (const u of uses) {
    out.push(u);
    if (u.role === 'publish') {
      const c = containerBehind(engine, u);
      if (c) out.push(c);
    }
  }
  return onePerMention(out);
}

/** Where an upstream, firewall rule or forward leads: the binds of its port on the host. */
export function bindsBehind(engine: Engine, fact: PortFact): PortFact[] {
  if (fact.kubeField) return pointedAt(engine, fact);
  if (fact.role === 'container') {
    const publish = publishInFront(engine, fact);
    return publish ? [publish] : [];
  }
  return usesOf(engine, fact).filter((f) => f !== fact && isBind(f));
}

/** The running programs (instance roots, else files) that bind the port of `fact` on the host. */
export function bindingPrograms(uses: readonly PortFact[]): Map<string, PortFact> {
  const byInstance = new Map<string, PortFact>();
  for (const u of uses) if (isBind(u) && !byInstance.has(u.instance ?? u.file)) byInstance.set(u.instance ?? u.file, u);
  return byInstance;
}
