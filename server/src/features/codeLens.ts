/**
 * textDocument/codeLens over each bind: "3 uses · open in ufw" (how many other mentions on the host,
 * what the firewalls decide); clicking shows the references (the client's `portolan.showReferences`).
 * Off with `portolan.codeLens.enabled`.
 */
import type { CodeLens } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import { factVerdicts } from '../core/firewall/verdict';
import { isBind } from '../core/hostModel';
import type { PortFact } from '../core/types';
import type { Feature } from './feature';
import { locationOf, rangeOf } from './lspLocations';
import { onePerMention, usesOf } from './portSockets';

export const SHOW_REFERENCES_COMMAND = 'portolan.showReferences';

const REACH_WORD = { reachable: 'open', blocked: 'blocked', 'sources-only': 'open to some sources', uncertain: 'maybe open' } as const;

/** "open in ufw", "blocked by iptables", "" when no firewall filters the host. */
export function firewallWord(engine: Engine, fact: PortFact): string {
  const host = engine.hostModelOf(fact.file);
  if (!host || host.firewalls.length === 0) return '';
  const verdicts = factVerdicts(fact, host.firewalls).filter((v) => !v.disabled);
  if (verdicts.length === 0) return '';
  const words = [...new Set(verdicts.map((v) => `${REACH_WORD[v.state]} ${v.state === 'blocked' ? 'by' : 'in'} ${v.tool}`))];
  return words.join(', ');
}

export function provideCodeLenses(engine: Engine, file: string): CodeLens[] {
  if (engine.text(file) === undefined) return [];
  // Binds, and the listen settings that bind nothing on this host (inactive: said so, no firewall word).
  const binds = onePerMention(
    (engine.analyze().factsByFile.get(file) ?? []).filter((f) => f.file === file && (isBind(f) || f.inactive) && f.span.end > f.span.start),
  );
  return binds.map((fact) => {
    const others = usesOf(engine, fact).filter((f) => f !== fact);
    const range = rangeOf(engine, file, fact.span);
    const fw = fact.inactive ? 'binds nothing here (inactive)' : firewallWord(engine, fact);
    const title = `${others.length} ${others.length === 1 ? 'use' : 'uses'}${fw ? ` · ${fw}` : ''}`;
    return {
      range,
      command: { title, command: SHOW_REFERENCES_COMMAND, arguments: [URI.file(file).toString(), range.start, others.map((o) => locationOf(engine, o))] },
    };
  });
}

export const codeLensFeature: Feature = {
  name: 'codeLens',
  capabilities: { codeLensProvider: { resolveProvider: false } },
  register(ctx) {
    ctx.connection.onCodeLens(({ textDocument }) => {
      const file = ctx.pathOf(textDocument.uri);
      if (!file || !ctx.options().codeLens) return [];
      return provideCodeLenses(ctx.engine, file);
    });
  },
};
