/** textDocument/documentLink: an include/Include directive opens the file it reads (a glob: its first file, the tooltip counts them). */
import type { DocumentLink } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import type { Feature } from './feature';
import { rangeOf } from './lspLocations';

export function provideDocumentLinks(engine: Engine, file: string): DocumentLink[] {
  if (engine.text(file) === undefined) return [];
  return engine.includeTargets(file).map(({ span, targets }) => ({
    range: rangeOf(engine, file, span),
    target: URI.file(targets[0]).toString(),
    tooltip:
      targets.length > 1
        ? `Open ${engine.hosts.shownPath(targets[0])} (1 of ${targets.length} files it includes)`
        : `Open ${engine.hosts.shownPath(targets[0])}`,
  }));
}

export const documentLinkFeature: Feature = {
  name: 'documentLink',
  capabilities: { documentLinkProvider: { resolveProvider: false } },
  register(ctx) {
    ctx.connection.onDocumentLinks(({ textDocument }) => {
      const file = ctx.pathOf(textDocument.uri);
      return file ? provideDocumentLinks(ctx.engine, file) : [];
    });
  },
};
