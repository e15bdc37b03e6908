/** textDocument/hover */
import type { Hover } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import { LineIndex } from '../core/lineIndex';
import type { NamedRange } from '../core/portRanges';
import { hoverAt } from './hoverText';

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
