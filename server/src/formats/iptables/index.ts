/**
 * iptables-restore files (rules.v4, rules.v6, /etc/sysconfig/iptables, iptables-save output) as a
 * format: the INPUT path of the filter table and the nat table's forwards, read by the shared
 * netfilter reader (formats/netfilter/restore.ts). Checked against `iptables-{legacy,nft}-restore --test`
 * and `iptables-save` in test/oracle/iptables.test.ts.
 */
import type { FirewallFacts, FormatModule, ParseSteps } from '../../core/types';
import { walkCapNote } from '../../core/jumpLoops';
import { drain } from '../../core/steps';
import { familyOf, flattenChain, forwardsOf, factsOfDocSteps, parseRestoreSteps, type RestoreDoc, type ServiceResolver } from '../netfilter/restore';
import { iptablesWriter } from './writer';

export interface IptablesExtra {
  doc: RestoreDoc;
}

export function createIptablesModule(resolveService: ServiceResolver): FormatModule {
  function* parseSteps(text: string, file: string): ParseSteps {
    const family = familyOf(file, text);
    const doc = yield* parseRestoreSteps(text, file, { family, resolveService });
    yield;
    const filter = doc.tables.get('filter');
    const input = filter?.chains.get('INPUT');
    let capped: string | undefined;
    const firewall: FirewallFacts = {
      tool: 'iptables',
      // A chain whose policy no line sets keeps the kernel's default, ACCEPT.
      inboundPolicy: { action: input?.policy === 'DROP' ? 'drop' : 'accept', span: input?.policySpan, family },
      inputRules: filter ? flattenChain(filter, 'INPUT', family, (why) => (capped ??= why)) : [],
      forwards: forwardsOf(doc.tables.get('nat'), family),
    };
    yield;
    const facts = yield* factsOfDocSteps(doc, { file, family, program: family === 'ipv6' ? 'ip6tables' : 'iptables' });
    const extra: IptablesExtra = { doc };
    const findings = capped ? [...doc.findings, walkCapNote(file, input?.policySpan, 'INPUT', capped)] : doc.findings;
    return { format: 'iptables', file, facts, findings, includes: [], firewall, extra };
  }

  return {
    id: 'iptables',
    writer: iptablesWriter,
    matchesPath: (path) => {
      const base = path.slice(path.lastIndexOf('/') + 1);
      return (
        /^rules\.v[46]$/.test(base) ||
        /^ip6?tables.*\.rules$/.test(base) ||
        /\.ip6?tables$/.test(base) ||
        /^ip6tables/.test(base) ||
        /(^|\/)sysconfig\/ip6?tables$/.test(path)
      );
    },
    matchesContent: (text) =>
      /^\*(filter|nat|mangle|raw|security)[ \t]*$/m.test(text) && /^COMMIT[ \t]*$/m.test(text) && /^(:|-A |-I |\[\d+:\d+\] -A )/m.test(text),
    parse: (text, file) => drain(parseSteps(text, file)),
    parseSteps,
  };
}
