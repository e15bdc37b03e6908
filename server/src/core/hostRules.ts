/** Rules over all the facts of the workspace, each fact tagged with its host. Pure. */
import { ephemeralOverlaps } from './portRanges';
import type { PortRegistry } from './registry';
import type { Finding, PortFact } from './types';
import type { EngineSettings } from './engine';
import { conflictFindings, type LineOf } from './conflicts';

export interface HostFact {
  fact: PortFact;
  host: string;
}

/** Only what takes a port on this host is judged for the ephemeral range: listeners and published host ports. */
export function isBind(fact: PortFact): boolean {
  return fact.role === 'listen' || fact.role === 'publish';
}

export function ephemeralFindings(facts: HostFact[], settings: EngineSettings): Finding[] {
  const out: Finding[] = [];
  for (const { fact } of facts) {
    if (!isBind(fact) || fact.implicit) continue;
    const hits = ephemeralOverlaps(fact.port, fact.portEnd, settings.ephemeralRanges);
    if (hits.length === 0) continue;
    const what = fact.portEnd !== fact.port ? `Ports ${fact.port}-${fact.portEnd} overlap` : `Port ${fact.port} is inside`;
    out.push({
      file: fact.file,
      span: fact.span,
      severity: 'warning',
      code: 'ephemeral-port',
      message: `${what} the ${hits.map((h) => h.label).join(' and the ')}: the kernel hands these ports to outgoing connections, so ${fact.program} may find it taken at start.`,
    });
  }
  return out;
}

export interface RuleContext {
  settings: EngineSettings;
  registry: PortRegistry;
  /** 1-based line of an offset in a file, for messages that name another place. */
  lineOf: LineOf;
  /** How a file is named in messages (relative to its workspace folder). */
  shownPath: (file: string) => string;
}

export function hostRules(facts: HostFact[], ctx: RuleContext): Finding[] {
  return [...ephemeralFindings(facts, ctx.settings), ...conflictFindings(facts, ctx.lineOf, ctx.shownPath)];
}
