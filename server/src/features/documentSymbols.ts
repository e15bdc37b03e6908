/**
 * textDocument/documentSymbol (Outline, breadcrumbs): the file's ports grouped by what holds them —
 * an nginx server block, a compose service, an iptables/nft chain, a firewalld zone, sshd's
 * ListenAddress — one child per written port.
 */
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import type { FactRole, PortFact } from '../core/types';
import type { Feature } from './feature';
import { onePerMention } from './portSockets';

const ROLE_WORD: Record<FactRole, string> = {
  listen: 'listen',
  publish: 'publish',
  container: 'container port',
  upstream: 'points at',
  firewall: 'rule',
  forward: 'forward to',
};

/** What holds a fact: its context without the rule's own line ("filter INPUT, line 3" is chain "filter INPUT"). */
export function holderOf(f: PortFact): string {
  return f.context.replace(/, line \d+$/, '').replace(/^\w+ in (?=\S)/, '');
}

function kindOf(holder: string, facts: PortFact[]): SymbolKind {
  if (/^service /.test(holder)) return SymbolKind.Module;
  if (facts.every((f) => f.role === 'firewall' || f.role === 'forward')) return SymbolKind.Namespace;
  return SymbolKind.Class;
}

export function provideDocumentSymbols(engine: Engine, file: string): DocumentSymbol[] {
  if (engine.text(file) === undefined) return [];
  const facts = onePerMention((engine.analyze().factsByFile.get(file) ?? []).filter((f) => f.file === file && f.span.end > f.span.start));
  const index = engine.lineIndex(file);
  const groups = new Map<string, PortFact[]>();
  for (const f of facts) {
    const list = groups.get(holderOf(f));
    if (list) list.push(f);
    else groups.set(holderOf(f), [f]);
  }
  const out: DocumentSymbol[] = [];
  for (const [holder, list] of groups) {
    list.sort((a, b) => a.span.start - b.span.start);
    const children: DocumentSymbol[] = list.map((f) => {
      const range = { start: index.position(f.span.start), end: index.position(f.span.end) };
      const info = engine.registry.lookup(f.protocol, f.port);
      const port = f.port === f.portEnd ? String(f.port) : `${f.port}-${f.portEnd}`;
      return {
        name: `${port}/${f.protocol}`,
        detail: `${ROLE_WORD[f.role]}${f.address ? ` ${f.address}` : ''}${info ? ` · ${info.name}` : ''}${f.inactive ? ' · inactive (binds nothing)' : ''}`,
        kind: f.role === 'firewall' || f.role === 'forward' ? SymbolKind.Event : SymbolKind.Number,
        range,
        selectionRange: range,
      };
    });
    // The holder spans from the line it names (a block "at line N") or its first port, to the end of its last port's line.
    const named = /\bline (\d+)\b/.exec(holder);
    const firstLine = Math.min(children[0].range.start.line, named ? Number(named[1]) - 1 : Infinity);
    const lastEnd = list[list.length - 1].span.end;
    const lineEnd = index.text.indexOf('\n', lastEnd);
    const range = { start: { line: firstLine, character: 0 }, end: index.position(lineEnd < 0 ? index.text.length : lineEnd) };
    out.push({ name: holder, detail: list[0].program, kind: kindOf(holder, list), range, selectionRange: children[0].range, children });
  }
  return out.sort((a, b) => a.range.start.line - b.range.start.line);
}

export const documentSymbolFeature: Feature = {
  name: 'documentSymbol',
  capabilities: { documentSymbolProvider: { label: 'Portolan ports' } },
  register(ctx) {
    ctx.connection.onDocumentSymbol(({ textDocument }) => {
      const file = ctx.pathOf(textDocument.uri);
      return file ? provideDocumentSymbols(ctx.engine, file) : [];
    });
  },
};
