/**
 * Host analysis: the linked instances grouped by host, one HostModel per host, and the rules run
 * over it. A host whose instances all kept their link outputs keeps its model and findings. Pure.
 */
import { buildHostModel, type HostInstance, type HostModel, type HostRule, type RuleContext } from './hostModel';
import type { Finding, PortFact } from './types';

interface HostEntry {
  model: HostModel;
  facts: { fact: PortFact; host: string }[];
  findings: Finding[];
}

export class HostAnalysis {
  private cache = new Map<string, HostEntry>();

  constructor(private readonly rules: readonly HostRule[]) {}

  /** Forget every host (settings or hosts changed). */
  clear(): void {
    this.cache.clear();
  }

  /**
   * The models and rule findings of every host the instances run on, in instance order. An instance
   * joins the host of every fact it gives and the host of its root file (a firewall with no port facts too).
   */
  run(instances: readonly HostInstance[], hostOf: (file: string) => string, ctx: () => RuleContext): { facts: HostEntry['facts']; findings: Finding[] } {
    const byHost = new Map<string, HostInstance[]>();
    for (const instance of instances) {
      const hosts = new Set(instance.output.facts.map((f) => hostOf(f.file)));
      hosts.add(hostOf(instance.root));
      for (const host of hosts) {
        const list = byHost.get(host);
        if (list) list.push(instance);
        else byHost.set(host, [instance]);
      }
    }
    const facts: HostEntry['facts'] = [];
    const findings: Finding[] = [];
    let checks: ((host: HostModel) => Finding[])[] | undefined;
    const cache = new Map<string, HostEntry>();
    for (const [host, list] of byHost) {
      let entry = this.cache.get(host);
      if (!entry || !sameOutputs(entry.model.instances, list)) {
        const context = ctx();
        checks ??= this.rules.map((rule) => rule.create(context));
        entry = guardedEntry(host, list, hostOf, checks);
      }
      cache.set(host, entry);
      for (const f of entry.facts) facts.push(f);
      for (const f of entry.findings) findings.push(f);
    }
    this.cache = cache;
    return { facts, findings };
  }

  models(): ReadonlyMap<string, HostModel> {
    return new Map([...this.cache].map(([host, entry]) => [host, entry.model]));
  }

  modelOf(host: string): HostModel | undefined {
    return this.cache.get(host)?.model;
  }
}

/** A host's model and findings; a rule (or the model) that throws becomes one finding on the host's first root, the other rules still run. */
function guardedEntry(host: string, list: HostInstance[], hostOf: (file: string) => string, checks: ((host: HostModel) => Finding[])[]): HostEntry {
  const failed = (e: unknown): Finding => ({
    file: list[0].root,
    span: { start: 0, end: 0 },
    severity: 'error',
    code: 'syntax',
    message: `Portolan could not check host ${host} (${(e as Error)?.message ?? e}); the files' own findings are still shown.`,
  });
  let model: HostModel;
  try {
    model = buildHostModel(host, list, hostOf);
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

function sameOutputs(a: readonly HostInstance[], b: readonly HostInstance[]): boolean {
  return a.length === b.length && a.every((x, i) => x.output === b[i].output);
}
