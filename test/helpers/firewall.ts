/** Test helpers for the firewall formats' FirewallRules. */
import type { FirewallRule } from '../../server/src/core/types';

/** The structured conditions of a FirewallRule beyond protocol, ports and action (the fields that are set). */
export function ruleConditions(r: FirewallRule): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      sourcePorts: r.sourcePorts,
      destination: r.destination,
      matchesNew: r.matchesNew,
      loopbackOnly: r.loopbackOnly,
      chain: r.chain,
      unmodelled: r.unmodelled,
    }).filter(([, v]) => v !== undefined),
  );
}

/** A FirewallRule's destination ports as text: "22,8000-8100" ('' for any port). */
export function rulePorts(r: Pick<FirewallRule, 'ports'>): string {
  return (r.ports ?? []).map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(',');
}
