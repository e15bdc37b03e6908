/** textDocument/references: every mention on the host that uses the port under the cursor. */
import type { Location } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import type { Feature } from './feature';
import { locationOf, offsetIn } from './lspLocations';
import { mentionAt, usesOf } from './portSockets';

export function provideReferences(engine: Engine, file: string, position: { line: number; character: number }, includeDeclaration = true): Location[] {
  const offset = offsetIn(engine, file, position);
  if (offset === undefined) return [];
  const fact = mentionAt(engine, file, offset);
  if (!fact) return [];
  const uses = usesOf(engine, fact).filter((f) => includeDeclaration || f !== fact);
  return uses.map((f) => locationOf(engine, f));
}

export const referencesFeature: Feature = {
  name: 'references',
  capabilities: { referencesProvider: true },
  register(ctx) {
    ctx.connection.onReferences(({ textDocument, position, context }) => {
      const file = ctx.pathOf(textDocument.uri);
      return file ? provideReferences(ctx.engine, file, position, context.includeDeclaration) : [];
    });
  },
};
