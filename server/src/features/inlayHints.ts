/** textDocument/inlayHint: the service name after a bare port number (`Port 22 ‹ssh›`). Off by default (`portolan.inlayHints.enabled`). */
import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import type { Feature } from './feature';
import { onePerMention } from './portSockets';

export function provideInlayHints(engine: Engine, file: string, range: Range): InlayHint[] {
  const text = engine.text(file);
  if (text === undefined) return [];
  const index = engine.lineIndex(file);
  const from = index.offset(range.start.line, range.start.character);
  const to = index.offset(range.end.line, range.end.character);
  const facts = onePerMention((engine.analyze().factsByFile.get(file) ?? []).filter((f) => f.file === file && f.span.start >= from && f.span.end <= to));
  const hints: InlayHint[] = [];
  for (const f of facts) {
    if (f.implicit || f.port !== f.portEnd || !/^\d+$/.test(text.slice(f.span.start, f.span.end))) continue;
    const info = engine.registry.lookup(f.protocol, f.port);
    // The name the program's getservbyname() knows, else our own short name.
    const service = info?.iana?.service;
    const name = service && engine.registry.serviceToPort(service, f.protocol) === f.port ? service : info?.name;
    if (!name) continue;
    hints.push({ position: index.position(f.span.end), label: `‹${name}›`, kind: InlayHintKind.Type, paddingLeft: true, tooltip: info?.description });
  }
  return hints;
}

export const inlayHintFeature: Feature = {
  name: 'inlayHint',
  capabilities: { inlayHintProvider: true },
  register(ctx) {
    ctx.connection.languages.inlayHint.on(({ textDocument, range }) => {
      const file = ctx.pathOf(textDocument.uri);
      if (!file || !ctx.options().inlayHints) return [];
      return provideInlayHints(ctx.engine, file, range);
    });
  },
};
