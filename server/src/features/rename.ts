/** textDocument/prepareRename and textDocument/rename: a port and every mention of its socket, across the host's files. */
import { ResponseError, type Range, type WorkspaceEdit } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import type { Feature } from './feature';
import { offsetIn, rangeOf } from './lspLocations';
import { prepareRename, renameEdits } from './portRename';

/** The range and placeholder to rename, or the reason a rename cannot start here. */
export function providePrepareRename(
  engine: Engine,
  file: string,
  position: { line: number; character: number },
): { range: Range; placeholder: string } | { error: string } {
  const offset = offsetIn(engine, file, position);
  if (offset === undefined) return { error: 'No port here.' };
  const check = prepareRename(engine, file, offset);
  if ('error' in check) return check;
  const { fact } = check.ok;
  return { range: rangeOf(engine, fact.file, fact.span), placeholder: String(fact.port) };
}

export function provideRename(engine: Engine, file: string, position: { line: number; character: number }, newName: string): WorkspaceEdit | { error: string } {
  const offset = offsetIn(engine, file, position);
  if (offset === undefined) return { error: 'No port here.' };
  const result = renameEdits(engine, file, offset, newName);
  if ('error' in result) return result;
  const changes: Record<string, { range: Range; newText: string }[]> = {};
  for (const edit of result.ok) (changes[URI.file(edit.file).toString()] ??= []).push({ range: rangeOf(engine, edit.file, edit.span), newText: edit.newText });
  return { changes };
}

export const renameFeature: Feature = {
  name: 'rename',
  capabilities: { renameProvider: { prepareProvider: true } },
  register(ctx) {
    ctx.connection.onPrepareRename(({ textDocument, position }) => {
      const file = ctx.pathOf(textDocument.uri);
      const result = file ? providePrepareRename(ctx.engine, file, position) : { error: 'No port here.' };
      if ('error' in result) throw new ResponseError(-32803, result.error);
      return result;
    });
    ctx.connection.onRenameRequest(({ textDocument, position, newName }) => {
      const file = ctx.pathOf(textDocument.uri);
      const result = file ? provideRename(ctx.engine, file, position, newName) : { error: 'No port here.' };
      if ('error' in result) throw new ResponseError(-32803, result.error);
      return result;
    });
  },
};
