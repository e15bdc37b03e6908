/**
 * Host analysis: the linked instances grouped by host, one HostModel per host, and the rules run
 * over it. A host whose instances all kept their link outputs keeps its model and findings. Pure.
 */
import { buildHostModel, type ContainerInfo, type HostInstance, type HostModel, type HostRule, type RuleContext } from './hostModel';
import { HostMap } from './hosts';
import type { HostSharing } from './sharedHost';
import type { Finding, PortFact } from './types';

interface HostEntry {
  model: HostModel;
  facts: { fact: PortFact; host: string }[];
  findings: Finding[];
  /** The model's facts by file, made on first use (every fact of a file is on the file's host). */
  byFile?: Map<string, PortFact[]>;
  /** A container's host: the link output of its compose project, which the model's `container` comes from. */
  composeOutput?: HostInstance['output'];
}

/** The hosts of an analysis in order, each with its facts and rule findings. */
export interface HostRun {
  hosts: readonly HostEntry[];
  findings: Finding[];
}

export class HostAnalysis {
  private cache = new Map<string, HostEntry>();
  /** The hosts each link output gives facts to (valid while the host mapping is: cleared with the cache). */
  private hostsOfOutput = new WeakMap<HostInstance['output'], string[]>();

  constructor(private readonly rules: readonly HostRule[]) {}

  /** Forget every host (settings or hosts changed). */
  clear(): void {
    this.cache.clear();
    this.hostsOfOutput = new WeakMap();
  }

  /**
   * The models and rule findings of every host the instances run on, in instance order. An instance
   * joins the host of every fact it gives and the host of its root file (a firewall with no port facts too).
   */
  run(
    instances: readonly HostInstance[],
    hostOf: (file: string) => string,
    ctx: () => RuleContext,
    sharingOf: (host: string) => HostSharing | undefined = () => undefined,
  ): HostRun {
    const byHost = new Map<string, HostInstance[]>();
    for (const instance of instances) {
      let hosts = this.hostsOfOutput.get(instance.output);
      if (!hosts) {
        const set = new Set(instance.output.facts.map((f) => hostOf(f.file)));
        set.add(hostOf(instance.root));
        this.hostsOfOutput.set(instance.output, (hosts = [...set]));
      }
      for (const host of hosts) {
        const list = byHost.get(host);
        if (list) list.push(instance);
        else byHost.set(host, [instance]);
      }
    }
    const containers = containersOf(instances, byHost);
    const entries: HostEntry[] = [];
    const findings: Finding[] = [];
    let checks: ((host: HostModel) => Finding[])[] | undefined;
    const cache = new Map<string, HostEntry>();
    for (const [host, list] of byHost) {
      let entry = this.cache.get(host);
      const container = containers.get(host);
      if (!entry || !sameOutputs(entry.model.instances, list) || entry.composeOutput !== container?.output) {
        const context = ctx();
        checks ??= this.rules.map((rule) => rule.create(context));
        entry = guardedEntry(host, list, hostOf, checks, sharingOf(host), container?.info);
        entry.composeOutput = container?.output;
      }
      cache.set(host, entry);
      entries.push(entry);
      for (const f of entry.findings) findings.push(f);
    }
    this.cache = cache;
    return { hosts: entries, findings };
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
    return new Map([...this.cache].map(([host, entry]) => [host, entry.model]));
  }

  modelOf(host: string): HostModel | undefined {
    return this.cache.get(host)?.model;
  }
}

/** A host's model and findings; a rule (or the model) that throws becomes one finding on the host's first root, the other rules still run. */
function guardedEntry(
  host: string,
  list: HostInstance[],
  hostOf: (file: string) => string,
  checks: ((host: HostModel) => Finding[])[],
  sharing: HostSharing | undefined,
  container: ContainerInfo | undefined,
): HostEntry {
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

/** The container hosts among `byHost` (a compose service's mounted files), each with its project. */
function containersOf(
  instances: readonly HostInstance[],
  byHost: ReadonlyMap<string, unknown>,
): Map<string, { info: ContainerInfo; output: HostInstance['output'] }> {
  const out = new Map<string, { info: ContainerInfo; output: HostInstance['output'] }>();
  for (const instance of instances) {
    if (instance.format !== 'compose') continue;
    const services = instance.output.services ?? [];
    for (const s of services) {
      const host = HostMap.containerHost(instance.root, s.name);
      if (byHost.has(host) && !out.has(host)) out.set(host, { info: { project: { root: instance.root, services }, service: s.name }, output: instance.output });
    }
  }
  return out;
}

function sameOutputs(a: readonly HostInstance[], b: readonly HostInstance[]): boolean {
  return a.length === b.length && a.every((x, i) => x.output === b[i].output && x.inactive === b[i].inactive && x.runsAs === b[i].runsAs);
}
