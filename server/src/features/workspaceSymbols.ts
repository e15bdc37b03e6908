/** workspace/symbol (Go to Symbol in Workspace): ports across hosts, by number ("5432") or by name ("postgres"). */
import { SymbolKind, type SymbolInformation } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import { HostMap } from '../core/hosts';
import type { Feature } from './feature';
import { holderOf } from './documentSymbols';
import { locationOf } from './lspLocations';
import { onePerMention } from './portSockets';

const LIMIT = 500;

export function provideWorkspaceSymbols(engine: Engine, query: string): SymbolInformation[] {
  const q = query.trim().toLowerCase();
  const out: SymbolInformation[] = [];
  const all = engine.analyze().facts;
  const host = new Map(all.map(({ fact, host: h }) => [fact, h]));
  for (const fact of onePerMention(all.map(({ fact: f }) => f))) {
    if (fact.span.end <= fact.span.start) continue;
    const info = engine.registry.lookup(fact.protocol, fact.port);
    const port = fact.port === fact.portEnd ? String(fact.port) : `${fact.port}-${fact.portEnd}`;
    const name = `${port}/${fact.protocol}${info ? ` ${info.name}` : ''}`;
    const holder = holderOf(fact);
    const matches =
      q === '' ||
      (/^\d+$/.test(q)
        ? String(fact.port).startsWith(q) || (Number(q) >= fact.port && Number(q) <= fact.portEnd)
        : [info?.name, info?.iana?.service, fact.program, holder].some((s) => s?.toLowerCase().includes(q)));
    if (!matches) continue;
    out.push({
      name,
      kind: fact.role === 'firewall' || fact.role === 'forward' ? SymbolKind.Event : SymbolKind.Number,
      location: locationOf(engine, fact),
      containerName: `${HostMap.label(host.get(fact) ?? '')} · ${fact.program} ${holder}${fact.inactive ? ' · inactive' : ''}`,
    });
    if (out.length >= LIMIT) break;
  }
  return out;
}

export const workspaceSymbolFeature: Feature = {
  name: 'workspaceSymbol',
  capabilities: { workspaceSymbolProvider: true },
  register(ctx) {
    ctx.connection.onWorkspaceSymbol(({ query }) => provideWorkspaceSymbols(ctx.engine, query));
  },
};
