/** Port facts as LSP locations and ranges (the features' common conversion). */
import type { Location, Range } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import type { Span } from '../core/types';

export function rangeOf(engine: Engine, file: string, span: Span): Range {
  const index = engine.lineIndex(file);
  return { start: index.position(span.start), end: index.position(span.end) };
}

export function locationOf(engine: Engine, f: { file: string; span: Span }): Location {
  return { uri: URI.file(f.file).toString(), range: rangeOf(engine, f.file, f.span) };
}

/** The offset of an LSP position in `file`, or undefined when the engine does not hold the file. */
export function offsetIn(engine: Engine, file: string, position: { line: number; character: number }): number | undefined {
  if (engine.text(file) === undefined) return undefined;
  return engine.lineIndex(file).offset(position.line, position.character);
}
