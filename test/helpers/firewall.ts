/** Test helpers for the firewall formats' FirewallRules, and a ufw root for the real ufw. */
import * as fs from 'fs';
import * as path from 'path';
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

/** ufw's own files (the installed package's /etc/ufw, /etc/default/ufw, /lib/ufw, /usr/share/ufw) copied under `root`, for `ufw --rootdir` and ufw-init. */
export function stockUfwRoot(root: string): void {
  for (const [from, to] of [
    ['/etc/ufw', 'etc/ufw'],
    ['/etc/default/ufw', 'etc/default/ufw'],
    ['/lib/ufw', 'lib/ufw'],
    ['/usr/share/ufw', 'usr/share/ufw'],
  ]) {
    fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    fs.cpSync(from, path.join(root, to), { recursive: true, dereference: false, verbatimSymlinks: true });
  }
}
