/**
 * Host analysis: the linked instances grouped by host, one HostModel per host, and the rules run
 * over it. A host whose instances all kept their link outputs keeps its model and findings. Pure.
 */
import { insertSorted } from './arrays';
import { drain } from './steps';
import { buildHostModel, type ContainerInfo, type HostInstance, type HostModel, type HostRule, type RuleContext } from './hostModel';
import { HostMap } from './hosts';
import type { HostSharing } from './sharedHost';
import type { Finding, PortFact } from './types';

export interface HostEntry {
  model: HostModel;
  facts: { fact: PortFact; host: string }[];
  findings: Finding[];
  /** The model's facts by file, made on first use (every fact of a file is on the file's host). */
  byFile?: Map<string, PortFact[]>;
  /** A container's host: the link output of its compose project, which the model's `container` comes from. */
  composeOutput?: HostInstance['output'];
}

/** A host whose entry an update made or dropped, with where its findings come in the order of an analysis. */
export interface HostChange {
  host: string;
  /** undefined: no instance runs on the host any more. */
  entry?: HostEntry;
  /** The position of the first instance on the host, and the host's place among that instance's hosts. */
  key: readonly [number, number];
}

/**
 * The hosts the placed instances run on, kept between analyses. An instance joins the host of every
 * fact it gives and the host of its root file (a firewall with no port facts too). The instances are
 * given by position; an update names the positions whose placed instance changed, and only the hosts
 * they join or leave are looked at again: a host whose instances all kept their link outputs keeps
 * its model and findings. Hosts come in the order of their first instance (what one pass gives).
 */
export class HostAnalysis {
  private cache = new Map<string, HostEntry>();
  /** The hosts each link output gives facts to (valid while the host mapping is: cleared with the cache). */
  private hostsOfOutput = new WeakMap<HostInstance['output'], string[]>();
  /** Per position, the hosts of its placed instance. */
  private hostsAt: (readonly string[])[] = [];
  /** Per host, the positions of its instances, ascending. */
  private readonly members = new Map<string, number[]>();
  /** Per position, its placed instance when it is a compose project (whose services' containers may be hosts). */
  private composeAt: (HostInstance | undefined)[] = [];
  /** Per compose root, the positions of its placed instances, ascending. */
  private readonly composeByRoot = new Map<string, number[]>();
  private ordered?: HostEntry[];

  constructor(private readonly rules: readonly HostRule[]) {}

  /** Forget every host (settings or hosts changed). */
  clear(): void {
    this.cache.clear();
    this.hostsOfOutput = new WeakMap();
    this.reset();
  }

  /** Forget every position (the instances were placed again); the hosts' models are kept for hosts whose instances keep their outputs. */
  reset(): void {
    this.hostsAt = [];
    this.members.clear();
    this.composeAt = [];
    this.composeByRoot.clear();
    this.ordered = undefined;
  }

  /**
   * The models and rule findings of the hosts the instances at `changed` positions of `placed` join
   * or leave (after `reset`, every position, ascending: then hosts no instance runs on are dropped). Returns those hosts.
   */
  update(
    placed: readonly (HostInstance | undefined)[],
    changed: Iterable<number>,
    hostOf: (file: string) => string,
    ctx: () => RuleContext,
    sharingOf: (host: string) => HostSharing | undefined = () => undefined,
  ): HostChange[] {
    return drain(this.updateSteps(placed, changed, hostOf, ctx, sharingOf));
  }

  /**
   * `update` in steps: a pause after each host and each rule (core/steps.ts). Meanwhile a reader sees
   * each host's entry as it was or as it is now, never a part-made one.
   */
  *updateSteps(
    placed: readonly (HostInstance | undefined)[],
    changed: Iterable<number>,
    hostOf: (file: string) => string,
    ctx: () => RuleContext,
    sharingOf: (host: string) => HostSharing | undefined = () => undefined,
  ): Generator<void, HostChange[], void> {
    const dirty = new Set<string>();
    const full = this.hostsAt.length === 0;
    for (const pos of changed) {
      const before = this.hostsAt[pos] ?? [];
      const instance = placed[pos];
      // A container's host reads its compose project: the project's change is the container's.
      const compose = instance?.format === 'compose' ? instance : undefined;
      const was = this.composeAt[pos];
      if (was !== compose) {
        if (was) {
          const list = this.composeByRoot.get(was.root)!;
          list.splice(list.indexOf(pos), 1);
          if (list.length === 0) this.composeByRoot.delete(was.root);
          for (const s of was.output.services ?? []) dirty.add(HostMap.containerHost(was.root, s.name));
        }
        if (compose) {
          let list = this.composeByRoot.get(compose.root);
          if (!list) this.composeByRoot.set(compose.root, (list = []));
          insertSorted(list, pos);
          for (const s of compose.output.services ?? []) dirty.add(HostMap.containerHost(compose.root, s.name));
        }
        this.composeAt[pos] = compose;
      }
      const after = instance ? this.hostsOf(instance, hostOf) : [];
      if (before === after) {
        // Another instance with the same output (marked inactive, or running as another): the same hosts, looked at again.
        for (const host of after) dirty.add(host);
        continue;
      }
      for (const host of before) {
        const list = this.members.get(host)!;
        list.splice(list.indexOf(pos), 1);
        dirty.add(host);
      }
      for (const host of after) {
        let list = this.members.get(host);
        if (!list) this.members.set(host, (list = []));
        if (full) list.push(pos);
        else insertSorted(list, pos);
        dirty.add(host);
      }
      this.hostsAt[pos] = after;
    }
    if (full) for (const host of this.cache.keys()) if (!this.members.has(host)) dirty.add(host);
    if (dirty.size > 0) this.ordered = undefined;
    let checks: ((host: HostModel) => Finding[])[] | undefined;
    const changes: HostChange[] = [];
    for (const host of dirty) {
      const positions = this.members.get(host);
      if (!positions || positions.length === 0) {
        this.members.delete(host);
        this.cache.delete(host);
        changes.push({ host, key: [-1, -1] });
        continue;
      }
      const list = positions.map((pos) => placed[pos]!);
      let entry = this.cache.get(host);
      const container = this.containerOf(host, placed);
      if (!entry || !sameOutputs(entry.model.instances, list) || entry.composeOutput !== container?.output) {
        const context = ctx();
        checks ??= this.rules.map((rule) => rule.create(context));
        entry = yield* guardedEntry(host, list, hostOf, checks, sharingOf(host), container?.info);
        entry.composeOutput = container?.output;
        this.cache.set(host, entry);
        this.ordered = undefined;
        yield;
      }
      changes.push({ host, entry, key: [positions[0], this.hostsAt[positions[0]].indexOf(host)] });
    }
    // Asked for in a pause, the order was made from hosts still being looked at.
    if (dirty.size > 0) this.ordered = undefined;
    return changes;
  }

  /** When `host` is a compose service's container: its project (the first placed instance of that root with the service) and the project's output. */
  private containerOf(host: string, placed: readonly (HostInstance | undefined)[]): { info: ContainerInfo; output: HostInstance['output'] } | undefined {
    const of = HostMap.containerParts(host);
    if (!of) return undefined;
    for (const pos of this.composeByRoot.get(of.root) ?? []) {
      const instance = placed[pos]!;
      const services = instance.output.services ?? [];
      if (services.some((s) => s.name === of.service))
        return { info: { project: { root: instance.root, services }, service: of.service }, output: instance.output };
    }
    return undefined;
  }

  private hostsOf(instance: HostInstance, hostOf: (file: string) => string): readonly string[] {
    let hosts = this.hostsOfOutput.get(instance.output);
    if (!hosts) {
      const set = new Set(instance.output.facts.map((f) => hostOf(f.file)));
      set.add(hostOf(instance.root));
      this.hostsOfOutput.set(instance.output, (hosts = [...set]));
    }
    return hosts;
  }

  /** Every host's entry in the order of an analysis (made on first use after an update). */
  entries(): readonly HostEntry[] {
    if (!this.ordered) {
      const keyed = [...this.members].map(([host, positions]) => ({ host, pos: positions[0], at: this.hostsAt[positions[0]].indexOf(host) }));
      keyed.sort((a, b) => a.pos - b.pos || a.at - b.at);
      // In a pause of `updateSteps` a host just joined may have no entry yet.
      this.ordered = [];
      for (const k of keyed) {
        const entry = this.cache.get(k.host);
        if (entry) this.ordered.push(entry);
      }
    }
    return this.ordered;
  }

  /** The facts of `file` as its host's model holds them (undefined: none). */
  factsOf(host: string, file: string): PortFact[] | undefined {
    const entry = this.cache.get(host);
    if (!entry) return undefined;
    if (!entry.byFile) {
      entry.byFile = new Map();
      for (const fact of entry.model.facts) {
        const list = entry.byFile.get(fact.file);
        if (list) list.push(fact);
        else entry.byFile.set(fact.file, [fact]);
      }
    }
    return entry.byFile.get(file);
  }

  models(): ReadonlyMap<string, HostModel> {
    return new Map(this.entries().map((entry) => [entry.model.host, entry.model]));
  }

  modelOf(host: string): HostModel | undefined {
    return this.cache.get(host)?.model;
  }
}

/** A host's model and findings; a rule (or the model) that throws becomes one finding on the host's first root, the other rules still run. */
function* guardedEntry(
  host: string,
  list: HostInstance[],
  hostOf: (file: string) => string,
  checks: ((host: HostModel) => Finding[])[],
  sharing: HostSharing | undefined,
  container: ContainerInfo | undefined,
): Generator<void, HostEntry, void> {
  const failed = (e: unknown): Finding => ({
    file: list[0].root,
    span: { start: 0, end: 0 },
    severity: 'error',
    code: 'syntax',
    message: `Portolan could not check host ${host} (${(e as Error)?.message ?? e}); the files' own findings are still shown.`,
  });
  let model: HostModel;
  try {
    model = buildHostModel(host, list, hostOf, sharing, container);
  } catch (e) {
    const empty: HostModel = { host, instances: list, facts: [], binds: [], upstreams: [], composeProjects: [], firewalls: [] };
    return { model: empty, facts: [], findings: [failed(e)] };
  }
  const findings: Finding[] = [];
  for (const check of checks) {
    yield;
    try {
      for (const f of check(model)) findings.push(f);
    } catch (e) {
      findings.push(failed(e));
    }
  }
  const facts: HostEntry['facts'] = [];
  for (const fact of model.facts) facts.push({ fact, host });
  return { model, facts, findings };
}

function sameOutputs(a: readonly HostInstance[], b: readonly HostInstance[]): boolean {
  return a.length === b.length && a.every((x, i) => x.output === b[i].output && x.inactive === b[i].inactive && x.runsAs === b[i].runsAs);
}
