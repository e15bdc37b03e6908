/** textDocument/hover */
import type { Hover } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import { LineIndex } from '../core/lineIndex';
import type { NamedRange } from '../core/portRanges';
import type { Feature } from './feature';
import { hoverAt, relativeTo } from './hoverText';

export function provideHover(
  engine: Engine,
  file: string,
  line: number,
  character: number,
  ephemeralRanges: NamedRange[],
  displayPath: (f: string) => string,
): Hover | null {
  const text = engine.text(file);
  if (text === undefined) return null;
  const index = new LineIndex(text);
  const result = hoverAt(engine, file, index.offset(line, character), ephemeralRanges, displayPath);
  if (!result) return null;
  return {
    contents: { kind: 'markdown', value: result.markdown },
    range: { start: index.position(result.span.start), end: index.position(result.span.end) },
  };
}

export const hoverFeature: Feature = {
  name: 'hover',
  capabilities: { hoverProvider: true },
  register(ctx) {
    ctx.connection.onHover(({ textDocument, position }) => {
      const file = ctx.pathOf(textDocument.uri);
      if (!file) return null;
      return provideHover(ctx.engine, file, position.line, position.character, ctx.settings().ephemeralRanges, relativeTo(ctx.folderOf(file)));
    });
  },
};
